import FIXTagValue
import FIXTransport
import NIOConcurrencyHelpers
import NIOPosix
import Testing

/// `FIXVirtualClock`: time moves only when the driver says; timers come out in deadline order,
/// ties by owner, and a cancelled timer never runs.
@Suite struct VirtualClockTests {
    static func at(_ seconds: Int64) -> FIXTimestamp { FIXTimestamp(nanosecondsSinceEpoch: seconds * 1_000_000_000) }

    @Test func timersComeOutInDeadlineThenOwnerOrderAndMoveTheTime() async throws {
        let clock = FIXVirtualClock(start: Self.at(100))
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let ran = NIOLockedValueBox<[String]>([])
        func arm(_ seconds: Int64, _ owner: String) -> FIXClockTimer {
            clock.schedule(at: Self.at(seconds), owner: owner, on: loop) { ran.withLockedValue { $0.append(owner) } }
        }
        _ = arm(130, "b")
        _ = arm(130, "a")
        _ = arm(110, "c")
        let cancelled = arm(120, "d")
        _ = arm(200, "e")
        cancelled.cancel()
        #expect(clock.now() == Self.at(100))
        while let timer = clock.takeTimer(dueBy: Self.at(150)) {
            try await timer.run()
            #expect(clock.now() == timer.deadline)
        }
        #expect(ran.withLockedValue { $0 } == ["c", "a", "b"])
        #expect(clock.pendingTimerCount == 1)
        clock.advance(to: Self.at(150))
        clock.advance(to: Self.at(140))  // never back
        #expect(clock.now() == Self.at(150))
    }
}
