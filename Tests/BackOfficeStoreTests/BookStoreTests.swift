import BackOfficeStore
import FIXTagValue
import FIXTestSupport
import Testing
import TradeBook

/// A small trading day as execution reports: two accounts (one unknown), partial fills, a
/// correction, a bust, fees and a commission.
struct Day {
    static let accounts = ["ACC1": "C1", "ACC2": "C2"]

    static func reports(orders: Int = 3) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var seq = 0
        var exec = 0
        func report(_ body: String) {
            seq += 1
            out.append(TestMessages.make("8=FIX.4.4|35=8|49=VENUE|56=BRKR|34=\(seq)|52=20240315-10:00:00.000|" + body))
        }
        for o in 0..<orders {
            let account = o % 3 == 2 ? "NOPE" : (o % 2 == 0 ? "ACC1" : "ACC2")
            let side = o % 2 == 0 ? "1" : "2"
            let common = "1=\(account)|55=SYM\(o % 2)|54=\(side)|38=100|15=USD|60=20240315-10:00:00.000|"
            exec += 1
            report("37=O\(o)|11=C\(o)|17=X\(exec)|150=0|39=0|\(common)151=100|14=0|6=0|")
            exec += 1
            report("37=O\(o)|11=C\(o)|17=X\(exec)|150=F|39=1|\(common)32=40|31=10.5|151=60|14=40|6=10.5|12=1.25|13=3|136=1|137=0.10|138=USD|139=4|")
            exec += 1
            report("37=O\(o)|11=C\(o)|17=X\(exec)|150=F|39=2|\(common)32=60|31=10.75|151=0|14=100|6=10.65|")
        }
        // Correct the first partial fill of order 0 to 30 @ 10.40, bust order 1's last fill.
        exec += 1
        report("37=O0|11=C0|17=X\(exec)|19=X2|150=G|39=1|1=ACC1|55=SYM0|54=1|38=100|15=USD|32=30|31=10.40|151=10|14=90|6=10.5|")
        exec += 1
        report("37=O1|11=C1|17=X\(exec)|19=X6|150=H|39=1|1=ACC2|55=SYM1|54=2|38=100|15=USD|151=60|14=40|6=10.5|")
        return out
    }
}

/// Applies reports to a book, collecting one batch.
func apply(_ reports: [[UInt8]], to book: inout TradeBook, batch: inout BookBatch, source: String = "day.fix") {
    var events: [BookEvent] = []
    var offset: Int64 = 0
    for r in reports {
        events.removeAll()
        r.withUnsafeBytes { bytes in
            book.apply(FIXMessage(unchecked: bytes), source: SourcePosition(source: source, offset: offset), into: &events)
        }
        batch.add(events, book: book)
        offset += Int64(r.count)
    }
}

func count(_ backend: any SQLBackend, _ table: String) async throws -> Int64 {
    try await backend.query("SELECT COUNT(*) FROM \(table)", []).first?.first?.int ?? -1
}

@Suite struct BookStoreTests {
    @Test(arguments: BackendKind.allCases)
    func aCommittedBatchRebuildsTheSameBook(kind: BackendKind) async throws {
        guard let t = try await TestBackends.open(kind) else { return }
        let store = BookStore(backend: t.backend)
        try await store.setAccounts(Day.accounts.map { ($0.key, $0.value) })
        var book = TradeBook(configuration: BookConfiguration(accounts: try await store.accounts()))
        var batch = BookBatch()
        apply(Day.reports(), to: &book, batch: &batch)
        try await store.commit(batch)

        let rebuilt = TradeBook(configuration: BookConfiguration(accounts: Day.accounts), restoring: try await store.snapshot())
        #expect(rebuilt.snapshot == book.snapshot)
        #expect(Set(rebuilt.positions) == Set(book.positions))
        #expect(Set(rebuilt.cash) == Set(book.cash))
        // The stored position and cash rows are the book's.
        #expect(Set(try await store.positions(BookFilter())) == Set(book.positions))
        #expect(Set(try await store.cash(BookFilter())) == Set(book.cash))
        // The correction and the bust are stored on their fills.
        let fills = try await store.fills(BookFilter(clientAccount: "C1"))
        #expect(fills.contains { $0.execID == "X2" && $0.state == .corrected(by: "X10") && $0.quantity == FIXDecimal("30")! })
        let busted = try await store.fills(BookFilter(clientAccount: "C2"))
        #expect(busted.contains { $0.execID == "X6" && $0.state == .busted(by: "X11") })
        // The unknown account's fills are exceptions, not dropped.
        let exceptions = try await store.exceptions(BookFilter())
        #expect(exceptions.contains { $0.code == .accountUnknown })
        #expect(try await store.fills(BookFilter()).count == book.fills.count)
        try await t.backend.close()
    }

    @Test(arguments: BackendKind.allCases)
    func committingTwiceOrReplayingChangesNothing(kind: BackendKind) async throws {
        guard let t = try await TestBackends.open(kind) else { return }
        let store = BookStore(backend: t.backend)
        var book = TradeBook(configuration: BookConfiguration(accounts: Day.accounts))
        var batch = BookBatch()
        apply(Day.reports(), to: &book, batch: &batch)
        try await store.commit(batch)
        var counts: [Int64] = []
        for table in ["orders", "fills", "executions", "exceptions", "positions", "cash"] {
            counts.append(try await count(t.backend, table))
        }
        // The same batch again (a crash after commit, before the caller knew) …
        try await store.commit(batch)
        // … and the same capture replayed into the rebuilt book: no events at all.
        var rebuilt = TradeBook(configuration: BookConfiguration(accounts: Day.accounts), restoring: try await store.snapshot())
        var again = BookBatch()
        apply(Day.reports(), to: &rebuilt, batch: &again)
        #expect(again.eventCount == 0)
        try await store.commit(again)
        var after: [Int64] = []
        for table in ["orders", "fills", "executions", "exceptions", "positions", "cash"] {
            after.append(try await count(t.backend, table))
        }
        #expect(after == counts)
        #expect(rebuilt.snapshot == book.snapshot)
        try await t.backend.close()
    }

    /// A crash in the middle of a batch's transaction: nothing of the batch is stored, and the
    /// batch applied again stores everything once.
    @Test(arguments: BackendKind.allCases)
    func aBatchThatFailsMidwayLeavesNothing(kind: BackendKind) async throws {
        guard let t = try await TestBackends.open(kind) else { return }
        let store = BookStore(backend: t.backend)
        var book = TradeBook(configuration: BookConfiguration(accounts: Day.accounts))
        var first = BookBatch()
        apply(Array(Day.reports().prefix(3)), to: &book, batch: &first)
        try await store.commit(first)
        var second = BookBatch()
        apply(Array(Day.reports().dropFirst(3)), to: &book, batch: &second)
        second.markProgress(source: "day.fix", offset: 999, reports: 8)
        await #expect(throws: BackOfficeStoreError.self) {
            try await store.commit(second, extra: [SQLStatement("INSERT INTO no_such_table VALUES (1)")])
        }
        #expect(try await count(t.backend, "fills") == 2)
        #expect(try await store.committedOffset(source: "day.fix") == 0)
        // Restart: the book comes back from the store as it was after the first batch.
        var restarted = TradeBook(configuration: BookConfiguration(accounts: Day.accounts), restoring: try await store.snapshot())
        var redo = BookBatch()
        apply(Array(Day.reports().dropFirst(3)), to: &restarted, batch: &redo)
        redo.markProgress(source: "day.fix", offset: 999, reports: 8)
        try await store.commit(redo)
        #expect(restarted.snapshot == book.snapshot)
        #expect(try await count(t.backend, "fills") == Int64(book.fills.count))
        #expect(try await store.committedOffset(source: "day.fix") == 999)
        try await t.backend.close()
    }

    /// Thousands of rows in one statement: PostgreSQL's multi-row inserts are chunked.
    @Test(arguments: BackendKind.allCases)
    func largeBatchesCommit(kind: BackendKind) async throws {
        guard let t = try await TestBackends.open(kind) else { return }
        let store = BookStore(backend: t.backend)
        var book = TradeBook(configuration: BookConfiguration(accounts: Day.accounts))
        var batch = BookBatch()
        apply(Day.reports(orders: 1_200), to: &book, batch: &batch)
        try await store.commit(batch)
        #expect(try await count(t.backend, "orders") == 1_200)
        // Every report is applied: fill reports through their fill rows, the others in executions.
        #expect(try await count(t.backend, "executions") + count(t.backend, "fills") == 3_602)
        let rebuilt = TradeBook(configuration: BookConfiguration(accounts: Day.accounts), restoring: try await store.snapshot())
        #expect(rebuilt.snapshot == book.snapshot)
        #expect(try await store.orders(BookFilter(clientAccount: "C2")).count == 400)
        #expect(try await store.fills(BookFilter(tradeDate: FIXDate("20240315"))).count == book.fills.count)
        #expect(try await store.fills(BookFilter(tradeDate: FIXDate("20240316"))).isEmpty)
        try await t.backend.close()
    }

    @Test(arguments: BackendKind.allCases)
    func migrationsRunOnceAndRefuseANewerSchema(kind: BackendKind) async throws {
        guard let t = try await TestBackends.open(kind) else { return }
        #expect(try await Schema.migrate(t.backend).isEmpty)
        try await t.backend.write([SQLStatement("INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                                                rows: [[.int(9_999), .text("from the future")]])])
        await #expect(throws: BackOfficeStoreError.self) { try await Schema.migrate(t.backend) }
        try await t.backend.close()
    }

    @Test(arguments: BackendKind.allCases)
    func guardedStatementsDetectConcurrentChanges(kind: BackendKind) async throws {
        guard let t = try await TestBackends.open(kind) else { return }
        let store = BookStore(backend: t.backend)
        try await store.setAccounts([("A", "C")])
        let update = "UPDATE accounts SET client_account = ? WHERE fix_account = ? AND client_account = ? RETURNING 1"
        try await t.backend.write([SQLStatement(update, rows: [[.text("D"), .text("A"), .text("C")]], changesRequired: 1)])
        do {
            try await t.backend.write([SQLStatement(update, rows: [[.text("E"), .text("A"), .text("C")]], changesRequired: 1)])
            Issue.record("a stale guarded update must fail")
        } catch let e as BackOfficeStoreError {
            #expect(e.isConflict)
        }
        #expect(try await store.accounts() == ["A": "D"])
        try await t.backend.close()
    }

    @Test func locationsParse() throws {
        #expect(try StoreLocation("sqlite:/tmp/x.sqlite") == .sqlite(path: "/tmp/x.sqlite"))
        #expect(try StoreLocation("book.sqlite") == .sqlite(path: "book.sqlite"))
        #expect(try StoreLocation("postgres://u:p%40ss@h:5433/db") == .postgres(url: "postgres://u:p%40ss@h:5433/db"))
        #expect("\(try StoreLocation("postgres://u:secret@h:5433/db"))" == "postgres://u@h:5433/db")
        #expect(throws: BackOfficeStoreError.self) { try StoreLocation("postgres://nohost") }
        #expect(throws: BackOfficeStoreError.self) { try StoreLocation("mysql://u@h/db") }
        #expect(throws: BackOfficeStoreError.self) { try StoreLocation("sqlite:") }
    }
}
