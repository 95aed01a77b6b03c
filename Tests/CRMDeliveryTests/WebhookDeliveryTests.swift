import AsyncHTTPClient
import ClientCRM
@testable import CRMDelivery
import FIXTagValue
import Testing

@Suite struct WebhookDeliveryTests {
    static let secret = Array("test-secret".utf8)

    static func entries(clients: [String], perClient: Int) -> [InteractionEntry] {
        var out: [InteractionEntry] = []
        for n in 0..<perClient {
            for client in clients {
                let time = FIXTimestamp(nanosecondsSinceEpoch: 1_710_000_000_000_000_000 + Int64(n) * 1_000_000)
                out.append(InteractionEntry(
                    id: StableID.make("test", [client, String(n)]), clientID: client, time: time, channel: .note,
                    direction: .internal, rule: "test", summary: "entry \(n) of \(client)", author: "system"))
            }
        }
        return out
    }

    static func settings(port: Int, timeoutMilliseconds: Int64 = 2_000) -> DeliverySettings {
        var s = DeliverySettings(endpoints: [
            WebhookEndpoint(name: "crm", url: "http://127.0.0.1:\(port)/hook", secret: secret,
                            timeoutMilliseconds: timeoutMilliseconds),
        ])
        s.concurrencyMax = 4
        s.idleMilliseconds = 5
        s.retry = RetryPolicy(baseMilliseconds: 10, factor: 2, capMilliseconds: 80, jitterPercent: 20,
                              attemptsMax: 1_000)
        return s
    }

    static func waitUntil(seconds: Int = 20, _ condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    @Test func receiverOutageLosesNothingDuplicatesNothingAndKeepsClientOrder() async throws {
        let receiver = WebhookReceiver(secret: Self.secret)
        let port = try await receiver.start()
        let store = InMemoryOutboxStore()
        let entries = Self.entries(clients: ["C1", "C2", "C3"], perClient: 10)
        #expect(try await store.enqueue(OutboxItem.items(for: entries, destinations: ["crm"])) == 30)

        receiver.stop(after: 7)
        // A client that does not retry a refused connection inside one request, so every attempt
        // during the outage fails at once and the outbox's retry path is what brings the items
        // through. The request timeout stays generous: on a loaded machine an answer that came
        // after the timeout would be sent again (at least once is the contract; this test checks
        // that the quiet path delivers exactly once).
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let worker = WebhookDeliveryWorker(store: store, settings: Self.settings(port: port, timeoutMilliseconds: 15_000),
                                           httpClient: client)
        let run = Task { await worker.run() }

        #expect(await Self.waitUntil { !receiver.isRunning })
        let seenDuringOutage = receiver.deliveries.count
        #expect(seenDuringOutage == 7)
        try await Task.sleep(for: .milliseconds(500))
        #expect(receiver.deliveries.count == seenDuringOutage)
        try await receiver.start(port: port)

        let allDelivered = await Self.waitUntil {
            await store.all().allSatisfy { if case .delivered = $0.state { true } else { false } }
        }
        #expect(allDelivered)
        worker.stop()
        await run.value
        try await client.shutdown()
        await receiver.shutdown()
        let retried = await store.all().filter { $0.state.attempts >= 2 }
        #expect(!retried.isEmpty)

        let deliveries = receiver.deliveries
        #expect(deliveries.allSatisfy { $0.signatureValid })
        var perKey: [String: Int] = [:]
        for d in deliveries { perKey[d.key, default: 0] += 1 }
        #expect(Set(perKey.keys) == Set(entries.map(\.id)))
        #expect(perKey.values.allSatisfy { $0 == 1 }, "deliveries per key: \(perKey.filter { $0.value != 1 })")
        for client in ["C1", "C2", "C3"] {
            let expected = entries.filter { $0.clientID == client }.map(\.id)
            var order: [String] = []
            for d in deliveries where d.clientID == client && !order.contains(d.key) { order.append(d.key) }
            #expect(order == expected, "order of \(client)")
        }
    }

    @Test func statusesDecideBetweenDeliveredRetriedAndDeadLettered() async throws {
        let receiver = WebhookReceiver(secret: Self.secret)
        let port = try await receiver.start()
        let store = InMemoryOutboxStore()
        let entries = Self.entries(clients: ["C1", "C2"], perClient: 2)   // C1#0, C2#0, C1#1, C2#1
        receiver.script(entries[0].id, [404])
        receiver.script(entries[1].id, [503, 429, 408])
        _ = try await store.enqueue(OutboxItem.items(for: entries, destinations: ["crm", "nowhere"]))
        let worker = WebhookDeliveryWorker(store: store, settings: Self.settings(port: port), httpClient: .shared)

        let settled = await Self.waitUntil {
            await worker.drainOnce()
            return await store.all().allSatisfy { !$0.state.blocksLaterItems }
        }
        #expect(settled)
        await receiver.shutdown()

        func state(_ i: Int, _ destination: String = "crm") async -> OutboxState? {
            await store.record(OutboxKey(entryID: entries[i].id, destination: destination))?.state
        }
        guard case .deadLettered(1, let reason, _) = await state(0) else { Issue.record("404 not dead-lettered"); return }
        #expect(reason.contains("404"))
        guard case .delivered(4, _) = await state(1) else { Issue.record("503/429/408 not retried"); return }
        guard case .delivered = await state(2) else { Issue.record("C1's next item held back"); return }
        guard case .deadLettered(_, let why, _) = await state(3, "nowhere") else { Issue.record("no endpoint"); return }
        #expect(why.contains("no webhook endpoint named nowhere"))
        #expect(receiver.deliveries.filter { $0.key == entries[1].id }.map(\.status) == [503, 429, 408, 200])
    }

    @Test func gracefulStopReturnsFromRun() async throws {
        let store = InMemoryOutboxStore()
        let worker = WebhookDeliveryWorker(store: store, settings: Self.settings(port: 1), httpClient: .shared)
        let run = Task { await worker.run() }
        try await Task.sleep(for: .milliseconds(20))
        worker.stop()
        await run.value
    }

    @Test(arguments: [(200, "delivered"), (204, "delivered"), (400, "dead"), (401, "dead"), (404, "dead"),
                      (408, "retry"), (409, "dead"), (429, "retry"), (500, "retry"), (503, "retry"), (301, "retry")])
    func statusClassification(status: Int, expected: String) {
        switch DeliveryOutcome.classify(status: status) {
        case .delivered: #expect(expected == "delivered")
        case .deadLetter: #expect(expected == "dead")
        case .retry: #expect(expected == "retry")
        }
    }

    @Test func signatureCoversTimestampAndBody() {
        let body = Array(#"{"a":1}"#.utf8)
        let header = WebhookSignature.sign(secret: Self.secret, timestamp: 1_700_000_000, body: body)
        #expect(header.hasPrefix("sha256="))
        #expect(header.utf8.count == 7 + 64)
        #expect(WebhookSignature.verify(header: header, secret: Self.secret, timestamp: 1_700_000_000, body: body))
        #expect(!WebhookSignature.verify(header: header, secret: Self.secret, timestamp: 1_700_000_001, body: body))
        #expect(!WebhookSignature.verify(header: header, secret: Array("other".utf8), timestamp: 1_700_000_000,
                                         body: body))
        #expect(!WebhookSignature.verify(header: header, secret: Self.secret, timestamp: 1_700_000_000,
                                         body: body + [0x20]))
    }
}
