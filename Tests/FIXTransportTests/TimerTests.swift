import FIXSession
import FIXTagValue
@testable import FIXTransport
import NIOPosix
import Testing

@Suite(.serialized) struct RuntimeTimerTests {
    /// Every message moves the heartbeat deadline later; the runtime keeps the timer it armed
    /// (which then fires early and is armed again) instead of re-arming it per message.
    @Test func aStreamOfMessagesDoesNotRearmTheTimerPerMessage() async throws {
        let venueApp = RecordingApplication()
        let venue = makeRuntime(.acceptor, sender: "VENUE", target: "BRKR", app: venueApp)
        let broker = makeRuntime(.initiator, sender: "BRKR", target: "VENUE", app: RecordingApplication())
        let pair = try await LoopbackPair.start(venue: venue, broker: broker)
        let venueBefore = venue.timerArmingCount
        let brokerBefore = broker.timerArmingCount
        for i in 1...200 {
            broker.send(msgType: "D") { $0.append(11, "ORD-\(i)"); $0.append(55, "MSFT") }
        }
        #expect(await eventually { venueApp.messages.count == 200 })
        // HeartBtInt is 30 s: no timer is due during the exchange, so none needs arming.
        #expect(venue.timerArmingCount - venueBefore <= 1)
        #expect(broker.timerArmingCount - brokerBefore <= 1)
        #expect(venue.timerArmingCount >= 1 && broker.timerArmingCount >= 1)
        try await pair.stop()
    }
}
