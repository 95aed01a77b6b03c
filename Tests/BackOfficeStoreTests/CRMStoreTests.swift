import BackOfficeStore
import ClientCRM
import FIXTagValue
import FIXTestSupport
import Foundation
import Testing
import TradeBook

@Suite struct CRMStoreTests {
    static func t(_ ms: Int64) -> FIXTimestamp { FIXTimestamp(nanosecondsSinceEpoch: 1_760_000_000_000 * 1_000_000 + ms * 1_000_000) }

    static func exampleCSV() throws -> String {
        try String(contentsOf: SharedData.project("Specs/crm/clients-example.csv"), encoding: .utf8)
    }

    static func entries(clients: [String], perClient: Int, rule: String = "test") -> [InteractionEntry] {
        var out: [InteractionEntry] = []
        for n in 0..<perClient {
            for client in clients {
                out.append(InteractionEntry(
                    id: StableID.make(rule, [client, String(n)]), clientID: client, accountID: "\(client)-MAIN",
                    time: t(Int64(n) * 1_000), channel: .trade, direction: .internal, severity: .warning, rule: rule,
                    summary: "entry \(n) of \(client)", details: "line one\nline \"two\"",
                    facts: ["quantity": "\(n)00", "currency": "EUR", "ünïcode": "✓"],
                    links: InteractionLinks(orders: ["S/O\(n)"], fills: ["S/E\(n)", "S/E\(n)b"]), author: "system"))
            }
        }
        return out
    }

    static func count(_ backend: any SQLBackend, _ table: String) async throws -> Int64 {
        try await backend.query("SELECT COUNT(*) FROM \(table)", []).first?.first?.int ?? -1
    }

    // MARK: Clients

    @Test(arguments: BackendKind.allCases)
    func importStoresClientsAndKeepsTheBookAccountMapInStep(_ kind: BackendKind) async throws {
        guard let test = try await TestBackends.open(kind) else { return }
        let store = CRMStore(backend: test.backend)
        let csv = try Self.exampleCSV()
        let report = try await store.importClients(csv: csv)
        #expect(report.problems.isEmpty)
        #expect(report.clientsImported == 4 && report.accountsImported == 5)

        var expected = ClientDirectory()
        _ = ClientCSV.import(csv, into: &expected)
        let stored = try await store.directory()
        #expect(stored.clients == expected.clients)
        #expect(stored.accounts == expected.accounts)
        let map = try await BookStore(backend: test.backend).accounts()
        #expect(map["ACC70049"] == "ACME-MAIN" && map["ACC70050"] == "ACME-MAIN" && map["ACC70051"] == "ACME-HEDGE")
        #expect(map["ACC1"] == "JSMITH")

        // Re-importing one client replaces it: ACME-MAIN loses ACC70050, gains ACC70052; a row
        // claiming another client's account is refused and writes nothing.
        let update = """
            id,name,kyc_status,accounts,documents
            C-1001,Acme Pension Fund plc,verified,ACME-MAIN=ACC70049|ACC70052;ACME-HEDGE=ACC70051,passport:P-2
            C-2000,Intruder,verified,X=ACC1,
            C-2001,New Client,pending,NEW=ACC5,
            """
        let second = try await store.importClients(csv: update)
        #expect(second.clientsImported == 2)
        #expect(second.problems.map(\.line) == [3])
        #expect(second.problems.first?.description.contains("ACC1") == true)
        let after = try await store.directory()
        #expect(after.clients["C-1001"]?.name == "Acme Pension Fund plc")
        #expect(after.clients["C-1001"]?.documents == [ClientDocument(kind: "passport", reference: "P-2")])
        #expect(after.account(named: "ACC70052")?.id == "ACME-MAIN")
        #expect(after.account(named: "ACC70050") == nil)
        #expect(after.clients["C-2000"] == nil && after.clients["C-2001"] != nil)
        let map2 = try await BookStore(backend: test.backend).accounts()
        #expect(map2["ACC70050"] == nil && map2["ACC70052"] == "ACME-MAIN" && map2["ACC5"] == "NEW")
        #expect(map2["ACC1"] == "JSMITH")
        try await test.backend.close()
    }

    // MARK: History

    @Test(arguments: BackendKind.allCases)
    func entryStatementsAreIdempotentAndTheTimelineIsNewestFirst(_ kind: BackendKind) async throws {
        guard let test = try await TestBackends.open(kind) else { return }
        let store = CRMStore(backend: test.backend)
        let entries = Self.entries(clients: ["C1", "C2"], perClient: 3)
        let plan = CRMStore.statements(for: entries, destinations: ["crm", "audit"])
        try await BookStore(backend: test.backend).commit(BookBatch(), extra: plan)
        #expect(try await Self.count(test.backend, "interactions") == 6)
        #expect(try await Self.count(test.backend, "outbox") == 12)
        // The same statements again (a replayed batch), and a batch overlapping it: nothing new.
        try await test.backend.write(plan)
        try await store.insert(Array(entries.prefix(2)), destinations: ["crm"])
        #expect(try await Self.count(test.backend, "interactions") == 6)
        #expect(try await Self.count(test.backend, "outbox") == 12)

        let timeline = try await store.timeline(clientID: "C1", limit: 10)
        let c1 = entries.filter { $0.clientID == "C1" }
        #expect(timeline == Array(c1.reversed()))
        #expect(try await store.timeline(clientID: "C1", limit: 2) == Array(c1.reversed().prefix(2)))
        #expect(try await store.timeline(clientID: "C1", before: c1[2].time, limit: 10) == Array(c1.prefix(2).reversed()))
        #expect(try await store.entry(id: entries[0].id) == entries[0])

        // The stored payload is the entry's webhook payload, byte for byte.
        let record = try await store.outbox.record(OutboxKey(entryID: entries[0].id, destination: "audit"))
        #expect(record?.item.payload == InteractionPayload.json(entries[0]))
        #expect(record?.state == .pending(attempts: 0))
        // The book's items store no payload of their own: it is the entry's, made again when read.
        let stored = try await test.backend.query("SELECT payload FROM outbox WHERE entry_id = ?", [.text(entries[0].id)])
        #expect(stored.count == 2 && stored.allSatisfy { $0.first == .text("") })
        // An item enqueued with its own payload keeps it.
        let own = OutboxItem(key: OutboxKey(entryID: "ix-own", destination: "crm"), clientID: "C1",
                             payload: Array(#"{"own":true}"#.utf8))
        #expect(try await store.outbox.enqueue([own]) == 1)
        #expect(try await store.outbox.record(own.key)?.item.payload == own.payload)
        // An item without a payload whose entry is gone cannot be sent: a data error naming it.
        try await test.backend.write([SQLStatement("DELETE FROM interactions WHERE id = ?", rows: [[.text(entries[1].id)]])])
        do {
            _ = try await store.outbox.record(OutboxKey(entryID: entries[1].id, destination: "crm"))
            Issue.record("an item without payload or entry was read")
        } catch let error as BackOfficeStoreError {
            #expect(error.description.contains(entries[1].id))
        }
        try await test.backend.close()
    }

    @Test(arguments: BackendKind.allCases)
    func notesNeedAKnownClientAndAreOneEntryPerInstant(_ kind: BackendKind) async throws {
        guard let test = try await TestBackends.open(kind) else { return }
        let store = CRMStore(backend: test.backend)
        _ = try await store.importClients(csv: try Self.exampleCSV())
        let note = try await store.addNote(clientID: "C-1002", text: "Called about the margin call", author: "desk",
                                           channel: .call, direction: .outbound, at: Self.t(5), destinations: ["crm"])
        _ = try await store.addNote(clientID: "C-1002", text: "Called about the margin call", author: "desk",
                                    channel: .call, direction: .outbound, at: Self.t(5), destinations: ["crm"])
        #expect(try await store.timeline(clientID: "C-1002") == [note])
        await #expect(throws: (any Error).self) {
            try await store.addNote(clientID: "C-9999", text: "x", author: "desk", at: Self.t(6), destinations: [])
        }
        try await test.backend.close()
    }

    @Test(arguments: BackendKind.allCases)
    func restoredActivityHistoryRaisesTheSameUnusualActivityAlert(_ kind: BackendKind) async throws {
        guard let test = try await TestBackends.open(kind) else { return }
        let store = CRMStore(backend: test.backend)
        _ = try await store.importClients(csv: try Self.exampleCSV())
        let directory = try await store.directory()
        var settings = ActivitySettings()
        settings.granularity = []
        settings.unusualActivity = UnusualActivitySettings(factor: 3, historyDaysMin: 3, trailingDays: 5)

        // Six quiet days of one fill each, booked through the book's tables.
        var book = TradeBook(configuration: BookConfiguration(accounts: try await BookStore(backend: test.backend).accounts()))
        var live = ActivityEngine(directory: directory, settings: settings)
        var batch = BookBatch()
        var n = 0
        func fill(day: Int, qty: Int) -> [BookEvent] {
            n += 1
            let date = "202603" + (day < 10 ? "0\(day)" : "\(day)")
            let stamp = "\(date)-10:00:00.000"
            let bytes = TestMessages.make(
                "8=FIX.4.4|35=8|49=BRKR|56=CLTA|34=\(n)|52=\(stamp)|37=O-\(n)|11=O\(n)|17=E\(n)|150=F|39=2|1=ACC70049|"
                + "55=AAPL|54=1|38=\(qty)|15=USD|32=\(qty)|31=10|151=0|14=\(qty)|6=10|75=\(date)|60=\(stamp)|")
            var events: [BookEvent] = []
            bytes.withUnsafeBytes { raw in
                book.apply(FIXMessage(unchecked: raw), source: SourcePosition(source: "test", offset: Int64(n)),
                           into: &events)
            }
            return events
        }
        for day in 2...7 {
            let events = fill(day: day, qty: 100)
            batch.add(events, book: book)
            _ = live.process(events, observedAt: Self.t(0))
        }
        try await BookStore(backend: test.backend).commit(batch)
        #expect(try await Self.count(test.backend, "fills") == 6)

        var restored = ActivityEngine(directory: directory, settings: settings)
        #expect(try await store.restoreActivityHistory(into: &restored) == 6)
        // The ninth is ten times the usual day: both engines raise the same alert.
        let events = fill(day: 9, qty: 1_000)
        let a = live.process(events, observedAt: Self.t(0)).map(\.id)
        let b = restored.process(events, observedAt: Self.t(0)).map(\.id)
        #expect(!a.isEmpty && a == b)
        #expect(a.contains(StableID.make(ActivityRule.unusualNotional, ["C-1001", "20260309"])))
        try await test.backend.close()
    }

    // MARK: Outbox

    /// The same operations on the in-memory outbox and the SQL one give the same answers and
    /// leave the same records: lanes, leases, backoff, dead letters and re-drives.
    @Test(arguments: BackendKind.allCases)
    func sqlOutboxBehavesLikeTheInMemoryOne(_ kind: BackendKind) async throws {
        guard let test = try await TestBackends.open(kind) else { return }
        let sql = SQLOutboxStore(backend: test.backend)
        let memory = InMemoryOutboxStore()
        let entries = Self.entries(clients: ["C1", "C2", "C3"], perClient: 3)
        let items = OutboxItem.items(for: entries, destinations: ["crm"])
        let policy = RetryPolicy(baseMilliseconds: 1_000, factor: 2, capMilliseconds: 8_000, jitterPercent: 20,
                                 attemptsMax: 3)
        func key(_ client: Int, _ n: Int) -> OutboxKey {
            OutboxKey(entryID: entries[n * 3 + client].id, destination: "crm")
        }

        struct Both {
            let sql: SQLOutboxStore
            let memory: InMemoryOutboxStore
            func fetch(_ now: FIXTimestamp, lease: Int64 = 10_000, limit: Int = 10) async throws -> [OutboxKey] {
                let until = FIXTimestamp(nanosecondsSinceEpoch: now.nanosecondsSinceEpoch + lease * 1_000_000)
                let a = try await sql.fetchDue(limit: limit, now: now, leaseUntil: until)
                let b = try await memory.fetchDue(limit: limit, now: now, leaseUntil: until)
                #expect(a == b)
                return a.map(\.item.key)
            }
            func apply(_ body: (any OutboxStore) async throws -> Void) async throws {
                try await body(sql)
                try await body(memory)
            }
        }
        let both = Both(sql: sql, memory: memory)

        #expect(try await sql.enqueue(items) == 9)
        #expect(try await memory.enqueue(items) == 9)
        #expect(try await sql.enqueue(items) == 0)

        // Lane heads only, in sequence order, each claimed once until its lease runs out.
        #expect(try await both.fetch(Self.t(0), limit: 2) == [key(0, 0), key(1, 0)])
        #expect(try await both.fetch(Self.t(0)) == [key(2, 0)])
        #expect(try await both.fetch(Self.t(1)) == [])

        // C1's head fails: backoff holds the lane until the retry is due.
        let failed = policy.afterFailure(attempt: 1, key: key(0, 0), now: Self.t(2))
        guard case .retry(let retryAt) = failed else { Issue.record("no retry"); return }
        #expect(retryAt >= Self.t(2 + 800) && retryAt <= Self.t(2 + 1_000))
        try await both.apply { try await $0.markFailed(key(0, 0), nextAttemptAt: retryAt, error: "HTTP 503") }
        // C2's head is delivered: its next item becomes due.
        try await both.apply { try await $0.markDelivered(key(1, 0), at: Self.t(3)) }
        #expect(try await both.fetch(Self.t(4)) == [key(1, 1)])
        #expect(try await both.fetch(retryAt) == [key(0, 0)])
        #expect(try await sql.record(key(0, 0))?.state.attempts == 2)

        // C3's head was never answered: after its lease it is claimed again.
        #expect(try await both.fetch(Self.t(10_001)) == [key(2, 0)])
        #expect(try await sql.record(key(2, 0))?.state.attempts == 2)

        // Dead-lettering C1's head unblocks C1's lane; re-driving puts it back first in line.
        try await both.apply { try await $0.deadLetter(key(0, 0), reason: "HTTP 404 refused", at: Self.t(10_002)) }
        #expect(try await both.fetch(Self.t(10_003)) == [key(0, 1)])
        #expect(try await sql.deadLettered(limit: 10).map(\.item.key) == [key(0, 0)])
        #expect(try await sql.deadLettered(limit: 10) == (await memory.deadLettered(limit: 10)))
        #expect(try await sql.redrive([key(0, 0), key(0, 1)]) == 1)
        #expect(try await memory.redrive([key(0, 0), key(0, 1)]) == 1)
        #expect(try await sql.record(key(0, 0))?.state == .pending(attempts: 0))
        #expect(try await both.fetch(Self.t(10_003)) == [key(0, 0)])

        // Refused transitions and unknown keys throw the same errors on both stores.
        for store in [sql as any OutboxStore, memory] {
            do {
                try await store.markDelivered(key(0, 2), at: Self.t(1))
                Issue.record("a pending item was marked delivered")
            } catch let e as CRMError {
                #expect(e.isInvalidTransition)
            }
            do {
                try await store.markDelivered(OutboxKey(entryID: "nope", destination: "crm"), at: Self.t(1))
                Issue.record("an unknown item was marked delivered")
            } catch let e as CRMError {
                #expect(e.isUnknownItem)
            }
            await #expect(throws: CRMError.self) { _ = try await store.redrive([OutboxKey(entryID: "nope", destination: "crm")]) }
        }

        // Every record ends the same on both stores.
        for item in items {
            #expect(try await sql.record(item.key) == (try await memory.record(item.key)), "\(item.key)")
        }
        try await test.backend.close()
    }

    /// Workers on separate connections never hold the same item, and each lane has at most one
    /// item in flight.
    @Test(arguments: BackendKind.allCases)
    func concurrentWorkersClaimEachItemOnce(_ kind: BackendKind) async throws {
        guard let test = try await TestBackends.open(kind) else { return }
        let entries = Self.entries(clients: (0..<8).map { "C\($0)" }, perClient: 10)
        let items = OutboxItem.items(for: entries, destinations: ["crm"])
        #expect(try await SQLOutboxStore(backend: test.backend).enqueue(items) == 80)
        var backends: [any SQLBackend] = [test.backend]
        for _ in 0..<2 { backends.append(try await test.location.open()) }
        let delivered = try await withThrowingTaskGroup(of: [OutboxKey].self) { group in
            for backend in backends {
                group.addTask {
                    let store = SQLOutboxStore(backend: backend)
                    var mine: [OutboxKey] = []
                    var idle = 0
                    while idle < 20 {
                        let now = WebhookClock.now()
                        let claimed = try await store.fetchDue(
                            limit: 3, now: now,
                            leaseUntil: FIXTimestamp(nanosecondsSinceEpoch: now.nanosecondsSinceEpoch + 60_000_000_000))
                        if claimed.isEmpty { idle += 1; try await Task.sleep(for: .milliseconds(5)); continue }
                        idle = 0
                        for r in claimed {
                            try await store.markDelivered(r.item.key, at: WebhookClock.now())
                            mine.append(r.item.key)
                        }
                    }
                    return mine
                }
            }
            var all: [OutboxKey] = []
            for try await keys in group { all += keys }
            return all
        }
        #expect(delivered.count == 80)
        #expect(Set(delivered).count == 80)
        for backend in backends.dropFirst() { try await backend.close() }
        // Delivery order within each lane is the enqueue order (sequence order of delivery time).
        let records = try await test.backend.query(
            "SELECT client_id, sequence, done_at_ns FROM outbox ORDER BY client_id, sequence", [])
        var lastDone: [String: Int64] = [:]
        for r in records {
            let client = r[0].text ?? ""
            let done = r[2].int ?? 0
            #expect(done >= lastDone[client, default: 0], "lane \(client) out of order")
            lastDone[client] = done
        }
        try await test.backend.close()
    }
}

/// The wall clock in the outbox's unit.
enum WebhookClock {
    static func now() -> FIXTimestamp {
        let ns = Int64(Date().timeIntervalSince1970 * 1_000_000_000)
        return FIXTimestamp(nanosecondsSinceEpoch: ns)
    }
}
