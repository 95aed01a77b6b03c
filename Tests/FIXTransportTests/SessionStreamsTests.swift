import FIXSession
import FIXTagValue
import FIXTransport
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// The AsyncSequence API over loopback: a consumer that does not read stops the session reading,
/// the sender's `send` then waits for room, and once the consumer reads everything arrives, in
/// order, nothing dropped.
@Suite struct SessionStreamsTests {
    @Test func aSlowConsumerHoldsTheSenderBackAndLosesNothing() async throws {
        let streams = FIXSessionStreams(highWatermark: 8, lowWatermark: 2)
        let venue = makeRuntime(.acceptor, sender: "VENUE", target: "BRKR", app: streams)
        let broker = makeRuntime(.initiator, sender: "BRKR", target: "VENUE", app: RecordingApplication())
        let group = MultiThreadedEventLoopGroup.singleton
        let server = try await FIXAcceptor(sessions: [venue]).bind(host: "127.0.0.1", port: 0, group: group)
        let initiator = FIXInitiator(runtime: broker, endpoints: [("127.0.0.1", server.localAddress!.port!)])
        initiator.start(group: group)
        var events = streams.events.makeAsyncIterator()
        guard case .loggedOn(let id)? = await events.next() else {
            Issue.record("no logon event")
            return
        }
        #expect(id == venue.id)
        #expect(await eventually { broker.isLoggedOn })

        // Far more than the kernel's socket buffers hold: the sender must wait.
        let total = 40_000
        let padding = String(repeating: "x", count: 200)
        let sent = NIOLockedValueBox(0)
        let producer = Task {
            for i in 1...total {
                try await broker.send("D") { body in
                    body.append(11, "C\(i)")
                    body.append(55, "MSFT")
                    body.append(58, padding)
                }
                sent.withLockedValue { $0 = i }
            }
        }
        // Nobody reads yet: the sender stalls well short of the end.
        var last = -1
        while sent.withLockedValue({ $0 }) != last {
            last = sent.withLockedValue { $0 }
            try await Task.sleep(for: .milliseconds(300))
        }
        #expect(last < total, "the sender should wait while the receiver does not read")

        // A watchdog: should anything be lost, the sequence is ended and the test fails instead
        // of waiting for ever.
        let watchdog = Task {
            try await Task.sleep(for: .seconds(120))
            streams.finish()
        }
        var received = 0
        var inOrder = true
        for await message in streams.messages {
            received += 1
            let clOrdID = message.bytes.withUnsafeBytes { FIXMessage(unchecked: $0).first(11)?.string }
            if clOrdID != "C\(received)" { inOrder = false }
            #expect(message.msgType == "D")
            if received == total { break }
        }
        watchdog.cancel()
        #expect(received == total && inOrder)
        if received == total { try await producer.value } else { producer.cancel() }
        initiator.stop()
        #expect(await eventually { !venue.isLoggedOn })
        streams.finish()
        try await server.close()
    }

    @Test func sendingWhileLoggedOutIsAnError() async throws {
        let runtime = makeRuntime(.initiator, sender: "BRKR", target: "VENUE", app: FIXSessionStreams())
        await #expect(throws: FIXSessionSendError.self) {
            try await runtime.send("D") { $0.append(11, "X") }
        }
    }
}
