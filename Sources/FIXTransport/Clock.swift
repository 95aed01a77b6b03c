import FIXTagValue
import NIOConcurrencyHelpers
import NIOCore

/// Where a session runtime reads the time and arms its timer. The default is the real time
/// (`FIXSystemClock`); a recording or a test gives a `FIXVirtualClock`, which moves only when
/// its driver says, so that every SendingTime and every heartbeat is the same on each run.
public protocol FIXRuntimeClock: Sendable {
    func now() -> FIXTimestamp
    /// Runs `task` on `loop` at `deadline` (at once when it has passed); `owner` names the timer's
    /// session, so that a virtual clock can order timers that fall due at the same instant.
    func schedule(at deadline: FIXTimestamp, owner: String, on loop: EventLoop,
                  _ task: @escaping @Sendable () -> Void) -> FIXClockTimer
}

/// A timer armed on a `FIXRuntimeClock`; `cancel` stops it if it has not run.
public struct FIXClockTimer: Sendable {
    let cancelAction: @Sendable () -> Void

    public init(cancel: @escaping @Sendable () -> Void) { cancelAction = cancel }

    public func cancel() { cancelAction() }
}

/// The real time, with timers on the event loop.
public struct FIXSystemClock: FIXRuntimeClock {
    public init() {}

    public func now() -> FIXTimestamp { WallClock.now() }

    public func schedule(at deadline: FIXTimestamp, owner: String, on loop: EventLoop,
                         _ task: @escaping @Sendable () -> Void) -> FIXClockTimer {
        let scheduled = loop.scheduleTask(in: WallClock.delay(until: deadline)) { task() }
        return FIXClockTimer(cancel: { scheduled.cancel() })
    }
}

/// A clock that stands still until its driver moves it. Timers do not fire by themselves: the
/// driver takes the next one that is due (`takeTimer(dueBy:)`), which also sets the time to its
/// deadline, and runs it. Timers due at the same instant come in the order of their owners'
/// names, then of arming, so that two sessions on two threads always fire in the same order.
///
/// ```swift
/// let clock = FIXVirtualClock(start: FIXTimestamp(nanosecondsSinceEpoch: 1_710_489_600_000_000_000))
/// while let timer = clock.takeTimer(dueBy: until) { try await timer.run() }
/// clock.advance(to: until)
/// ```
public final class FIXVirtualClock: FIXRuntimeClock, @unchecked Sendable {
    /// A timer taken from the clock, to be run on its event loop.
    public struct DueTimer: Sendable {
        public let deadline: FIXTimestamp
        public let owner: String
        let loop: EventLoop
        let task: @Sendable () -> Void

        /// Runs the timer's task on its event loop and returns when it has run.
        public func run() async throws {
            try await loop.submit { task() }.get()
        }
    }

    private struct Entry {
        var deadline: FIXTimestamp
        var owner: String
        var arming: Int
        var loop: EventLoop
        var task: @Sendable () -> Void
    }

    private let lock = NIOLock()
    private var current: FIXTimestamp  // guarded by lock
    private var entries: [Int: Entry] = [:]  // guarded by lock
    private var armings = 0  // guarded by lock

    public init(start: FIXTimestamp) {
        current = start
    }

    public func now() -> FIXTimestamp { lock.withLock { current } }

    /// Timers armed and neither run nor cancelled.
    public var pendingTimerCount: Int { lock.withLock { entries.count } }

    public func schedule(at deadline: FIXTimestamp, owner: String, on loop: EventLoop,
                         _ task: @escaping @Sendable () -> Void) -> FIXClockTimer {
        let id: Int = lock.withLock {
            armings += 1
            entries[armings] = Entry(deadline: deadline, owner: owner, arming: armings, loop: loop, task: task)
            return armings
        }
        return FIXClockTimer(cancel: { [weak self] in
            guard let self else { return }
            _ = self.lock.withLock { self.entries.removeValue(forKey: id) }
        })
    }

    /// Moves the time forward to `time` (never back), without running timers.
    public func advance(to time: FIXTimestamp) {
        lock.withLock { if time > current { current = time } }
    }

    /// The earliest timer due at or before `limit`, removed from the clock, with the time moved
    /// to its deadline (when that is later than now); nil when none is due by then.
    public func takeTimer(dueBy limit: FIXTimestamp) -> DueTimer? {
        lock.withLock {
            let due = entries.filter { $0.value.deadline <= limit }
            guard let (id, entry) = due.min(by: { a, b in
                (a.value.deadline, a.value.owner, a.value.arming) < (b.value.deadline, b.value.owner, b.value.arming)
            }) else { return nil }
            entries.removeValue(forKey: id)
            if entry.deadline > current { current = entry.deadline }
            return DueTimer(deadline: entry.deadline, owner: entry.owner, loop: entry.loop, task: entry.task)
        }
    }
}
