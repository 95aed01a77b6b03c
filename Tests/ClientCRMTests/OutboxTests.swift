import ClientCRM
import FIXTagValue
import Testing

@Suite struct OutboxTests {
    static func t(_ ms: Int64) -> FIXTimestamp { FIXTimestamp(nanosecondsSinceEpoch: ms * 1_000_000) }
    static func item(_ id: String, client: String, destination: String = "crm") -> OutboxItem {
        OutboxItem(key: OutboxKey(entryID: id, destination: destination), clientID: client, payload: Array(id.utf8))
    }

    @Test func backoffGrowsByTheFactorUpToTheCap() {
        let policy = RetryPolicy(baseMilliseconds: 100, factor: 3, capMilliseconds: 1_000, jitterPercent: 0,
                                 attemptsMax: 10)
        #expect((1...5).map { policy.backoffMilliseconds(attempt: $0) } == [100, 300, 900, 1_000, 1_000])
        let huge = RetryPolicy(baseMilliseconds: 1, factor: 1_000_000, capMilliseconds: Int64.max / 2,
                               jitterPercent: 100, attemptsMax: 1_000)
        #expect(huge.backoffMilliseconds(attempt: 1_000) == Int64.max / 2)
        #expect(huge.delayMilliseconds(attempt: 1_000, key: OutboxKey(entryID: "x", destination: "d")) >= 0)
    }

    @Test func jitterIsDeterministicAndWithinItsShare() {
        let policy = RetryPolicy(baseMilliseconds: 1_000, factor: 2, capMilliseconds: 60_000, jitterPercent: 20,
                                 attemptsMax: 10)
        var distinct: Set<Int64> = []
        for n in 0..<50 {
            let key = OutboxKey(entryID: "ix-\(n)", destination: "crm")
            let d = policy.delayMilliseconds(attempt: 2, key: key)
            #expect(d == policy.delayMilliseconds(attempt: 2, key: key))
            #expect((1_600...2_000).contains(d))
            distinct.insert(d)
        }
        #expect(distinct.count > 10)
    }

    @Test func failuresRetryThenDeadLetterAfterTheLimit() {
        let policy = RetryPolicy(baseMilliseconds: 100, factor: 2, capMilliseconds: 1_000, jitterPercent: 0,
                                 attemptsMax: 3)
        let key = OutboxKey(entryID: "a", destination: "crm")
        #expect(policy.afterFailure(attempt: 1, key: key, now: Self.t(1_000)) == .retry(at: Self.t(1_100)))
        #expect(policy.afterFailure(attempt: 2, key: key, now: Self.t(1_000)) == .retry(at: Self.t(1_200)))
        #expect(policy.afterFailure(attempt: 3, key: key, now: Self.t(1_000)) == .deadLetter)
    }

    /// Event/state table of one record.
    @Test func recordTransitions() throws {
        var r = OutboxRecord(sequence: 1, item: Self.item("a", client: "C1"))
        #expect(r.state == .pending(attempts: 0))
        #expect(throws: CRMError.self) { try r.markDelivered(at: Self.t(0)) }
        try r.claim(now: Self.t(0), leaseUntil: Self.t(50))
        #expect(r.state == .delivering(attempt: 1, leaseUntil: Self.t(50)))
        #expect(throws: CRMError.self) { try r.claim(now: Self.t(10), leaseUntil: Self.t(60)) }
        try r.markFailed(nextAttemptAt: Self.t(100), error: "HTTP 503")
        #expect(r.state == .failed(attempts: 1, nextAttemptAt: Self.t(100), lastError: "HTTP 503"))
        #expect(!r.state.isDue(at: Self.t(99)))
        #expect(throws: CRMError.self) { try r.claim(now: Self.t(99), leaseUntil: Self.t(150)) }
        try r.claim(now: Self.t(100), leaseUntil: Self.t(150))
        #expect(r.state.attempts == 2)
        // A lease that runs out makes the item due again (its worker died mid-send).
        #expect(r.state.isDue(at: Self.t(150)))
        try r.deadLetter(reason: "HTTP 404", at: Self.t(120))
        #expect(!r.state.blocksLaterItems)
        #expect(throws: CRMError.self) { try r.deadLetter(reason: "again", at: Self.t(130)) }
        try r.redrive()
        #expect(r.state == .pending(attempts: 0))
        try r.claim(now: Self.t(200), leaseUntil: Self.t(250))
        try r.markDelivered(at: Self.t(210))
        #expect(r.state == .delivered(attempts: 1, at: Self.t(210)))
        #expect(throws: CRMError.self) { try r.redrive() }
        #expect(throws: CRMError.self) { try r.markFailed(nextAttemptAt: Self.t(0), error: "x") }
    }

    @Test func longErrorsAreBounded() throws {
        var r = OutboxRecord(sequence: 1, item: Self.item("a", client: "C1"))
        try r.claim(now: Self.t(0), leaseUntil: Self.t(1))
        try r.markFailed(nextAttemptAt: Self.t(1), error: String(repeating: "é", count: 5_000))
        guard case .failed(_, _, let e) = r.state else { Issue.record("not failed"); return }
        #expect(e.utf8.count <= OutboxRecord.errorBytesMax)
    }

    @Test func aClientsLaterItemWaitsForTheEarlierOne() throws {
        var table = OutboxTable()
        #expect(try table.enqueue([Self.item("a1", client: "A"), Self.item("b1", client: "B"),
                                   Self.item("a2", client: "A"), Self.item("a1", client: "A")]) == 3)
        let first = table.fetchDue(limit: 10, now: Self.t(0), leaseUntil: Self.t(1_000))
        #expect(first.map(\.item.key.entryID) == ["a1", "b1"])
        #expect(table.fetchDue(limit: 10, now: Self.t(1), leaseUntil: Self.t(1_000)).isEmpty)
        try table.markFailed(OutboxKey(entryID: "a1", destination: "crm"), nextAttemptAt: Self.t(100), error: "503")
        try table.markDelivered(OutboxKey(entryID: "b1", destination: "crm"), at: Self.t(2))
        // a1 failed and is not due yet: a2 still waits.
        #expect(table.fetchDue(limit: 10, now: Self.t(50), leaseUntil: Self.t(1_000)).isEmpty)
        #expect(table.fetchDue(limit: 10, now: Self.t(100), leaseUntil: Self.t(1_000)).map(\.item.key.entryID)
            == ["a1"])
        try table.deadLetter(OutboxKey(entryID: "a1", destination: "crm"), reason: "404", at: Self.t(101))
        // A dead-lettered item no longer holds its client back.
        #expect(table.fetchDue(limit: 10, now: Self.t(102), leaseUntil: Self.t(1_000)).map(\.item.key.entryID)
            == ["a2"])
        try table.markDelivered(OutboxKey(entryID: "a2", destination: "crm"), at: Self.t(103))
        #expect(table.deadLettered(limit: 10).map(\.item.key.entryID) == ["a1"])
        #expect(try table.redrive([OutboxKey(entryID: "a1", destination: "crm"),
                                   OutboxKey(entryID: "a2", destination: "crm")]) == 1)
        let again = table.fetchDue(limit: 10, now: Self.t(104), leaseUntil: Self.t(1_000))
        #expect(again.map(\.item.key.entryID) == ["a1"])
        #expect(again.first?.state == .delivering(attempt: 1, leaseUntil: Self.t(1_000)))
        #expect(throws: CRMError.self) {
            try table.markDelivered(OutboxKey(entryID: "zz", destination: "crm"), at: Self.t(0))
        }
    }

    @Test func fetchRespectsTheLimitInSequenceOrderAndLanesPerDestination() throws {
        var table = OutboxTable()
        _ = try table.enqueue((0..<10).map { Self.item("e\($0)", client: "C\($0)") }
                              + [Self.item("e0", client: "C0", destination: "audit")])
        let batch = table.fetchDue(limit: 3, now: Self.t(0), leaseUntil: Self.t(10))
        #expect(batch.map(\.item.key.entryID) == ["e0", "e1", "e2"])
        let rest = table.fetchDue(limit: 100, now: Self.t(0), leaseUntil: Self.t(10))
        #expect(rest.count == 8)
        #expect(rest.last?.item.key == OutboxKey(entryID: "e0", destination: "audit"))
        // Leases run out: everything is due again.
        #expect(table.fetchDue(limit: 100, now: Self.t(10), leaseUntil: Self.t(20)).count == 11)
    }

    @Test func inMemoryStoreFollowsTheTable() async throws {
        let store: any OutboxStore = InMemoryOutboxStore()
        #expect(try await store.enqueue([Self.item("a", client: "C1")]) == 1)
        let due = try await store.fetchDue(limit: 5, now: Self.t(0), leaseUntil: Self.t(10))
        #expect(due.count == 1)
        try await store.deadLetter(due[0].item.key, reason: "HTTP 410", at: Self.t(1))
        #expect(try await store.deadLettered(limit: 5).count == 1)
        #expect(try await store.redrive([due[0].item.key]) == 1)
        #expect(try await store.record(due[0].item.key)?.state == .pending(attempts: 0))
        await #expect(throws: CRMError.self) {
            try await store.markFailed(OutboxKey(entryID: "nope", destination: "crm"), nextAttemptAt: Self.t(0),
                                       error: "")
        }
    }
}
