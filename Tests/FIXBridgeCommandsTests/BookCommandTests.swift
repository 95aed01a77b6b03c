import BackOfficeStore
import FIXSessionTestSupport
import FIXTagValue
import FIXTestSupport
import Foundation
import Testing
import TradeBook

@testable import FIXBridgeCommands

/// `book load` and the listings, on SQLite files in a temporary directory.
@Suite struct BookCommandTests {
    /// A capture of a small day: two orders, fills, a PossDup resend of a fill, a correction.
    static func capture() -> [UInt8] {
        var out: [UInt8] = []
        var seq = 0
        func report(_ body: String, possDup: Bool = false) {
            seq += 1
            let dup = possDup ? "43=Y|122=20240315-10:00:00.000|" : ""
            out += TestMessages.make("8=FIX.4.4|35=8|49=VENUE|56=BRKR|34=\(seq)|\(dup)52=20240315-10:00:00.000|" + body)
            out += Array("\n".utf8)
        }
        let a = "1=ACC1|55=AAPL|54=1|38=100|15=USD|60=20240315-10:00:00.000|"
        report("37=O1|11=A|17=E1|150=0|39=0|\(a)151=100|14=0|6=0|")
        report("37=O1|11=A|17=E2|150=F|39=1|\(a)32=40|31=100|151=60|14=40|6=100|")
        report("37=O1|11=A|17=E2|150=F|39=1|\(a)32=40|31=100|151=60|14=40|6=100|", possDup: true)
        report("37=O1|11=A|17=E3|150=F|39=2|\(a)32=60|31=101|151=0|14=100|6=100.6|")
        let b = "1=ACC1|55=AAPL|54=2|38=50|15=USD|60=20240315-11:00:00.000|"
        report("37=O2|11=B|17=E4|150=0|39=0|\(b)151=50|14=0|6=0|")
        report("37=O2|11=B|17=E5|150=F|39=2|\(b)32=50|31=110|151=0|14=50|6=110|")
        report("37=O2|11=B|17=E6|19=E5|150=G|39=2|\(b)32=50|31=109|151=0|14=50|6=109|")
        report("37=O3|11=C|17=E7|150=F|39=2|1=ACC9|55=MSFT|54=1|38=10|15=USD|32=10|31=400|151=0|14=10|6=400|")
        return out
    }

    func setUp() throws -> (TemporaryDirectory, String, String) {
        let dir = try TemporaryDirectory(prefix: "fixbridge-book")
        let capture = dir.file("day.fix")
        try Data(Self.capture()).write(to: URL(fileURLWithPath: capture))
        try Data("fix_account,client_account\nACC1,CLIENT1\n".utf8).write(to: URL(fileURLWithPath: dir.file("accounts.csv")))
        return (dir, capture, "sqlite:" + dir.file("book.sqlite"))
    }

    @Test func loadBooksOnceAndListsTheBook() async throws {
        let (dir, capture, db) = try setUp()
        var load = try BookLoadCommand.parseAsRoot(["--db", db, "--accounts", dir.file("accounts.csv"), "--batch", "2", capture])
            as! BookLoadCommand
        try await load.runAsync()

        let store = BookStore(backend: try await StoreLocation(String(db.dropFirst(7))).open())
        var positions = try await store.positions(BookFilter())
        #expect(positions.count == 1)
        // Bought 40 @ 100 + 60 @ 101 (avg 100.6), sold 50 corrected to 109: P&L 50 × 8.4 = 420.
        #expect(positions.first?.quantity == FIXDecimal("50"))
        #expect(positions.first?.realisedPnL == FIXDecimal("420"))
        #expect(try await store.fills(BookFilter()).count == 4)
        // Order C was never acknowledged and its account is unknown: two exceptions, fill kept.
        #expect(Set(try await store.exceptions(BookFilter()).map(\.code)) == [.accountUnknown, .orderUnknown])

        // Loading again, and a copy of the same capture under another name: nothing changes.
        try await load.runAsync()
        try FileManager.default.copyItem(atPath: capture, toPath: dir.file("copy.fix"))
        var copy = try BookLoadCommand.parseAsRoot(["--db", db, dir.file("copy.fix")]) as! BookLoadCommand
        try await copy.runAsync()
        positions = try await store.positions(BookFilter())
        #expect(positions.first?.quantity == FIXDecimal("50"))
        #expect(try await store.fills(BookFilter()).count == 4)
        #expect(try await store.exceptions(BookFilter()).count == 2)
        try await store.backend.close()
    }

    @Test func listingsRenderAsTableCSVAndJSON() async throws {
        let (dir, capture, db) = try setUp()
        let backend = try await StoreLocation(String(db.dropFirst(7))).open()
        let store = BookStore(backend: backend)
        try await store.setAccounts(try readAccountMap(dir.file("accounts.csv")))
        var loader = try await BookLoader(store: store, configuration: BookConfiguration(accounts: try await store.accounts()))
        try await loader.load(capture)
        #expect(loader.summary.duplicates == 1)
        #expect(loader.summary.corrections == 1)

        var l = Listing(columns: ["account", "quantity"], numeric: ["quantity"])
        for p in try await store.positions(BookFilter(clientAccount: "CLIENT1")) { l.add([p.clientAccount, "\(p.quantity)"]) }
        #expect(l.render(.csv) == "account,quantity\nCLIENT1,50\n")
        #expect(l.render(.json) == "[\n  {\"account\": \"CLIENT1\", \"quantity\": 50}\n]\n")
        #expect(l.render(.table) == "account  quantity\n-------  --------\nCLIENT1        50\n")
        #expect(try await store.fills(BookFilter(clientAccount: "CLIENT1", tradeDate: FIXDate("20240315"))).count == 3)
        try await backend.close()
    }

    /// A capture handed over one message per chunk, so that a small batch size gives many
    /// batches (a capture file is read in 1 MB chunks and commits only at chunk ends).
    static func messageByMessage(_ bytes: [UInt8], source: String) -> BookInput {
        BookInput(source: source, size: Int64(bytes.count), isRereadable: true) { _, handle, afterChunk in
            var decoder = CaptureDecoder()
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
                end = min(end + 1, bytes.count)
                bytes[start..<end].withUnsafeBytes { decoder.append($0) }
                try decoder.drain(handle)
                try await afterChunk(Int64(end))
                start = end
            }
            decoder.finish()
            try decoder.drain(handle)
        }
    }

    /// Commits of a pipelined load run in the background; when one fails, the load fails, the
    /// store holds whole batches only, and loading again completes the book exactly once.
    @Test func aFailedPipelinedCommitLosesAndDuplicatesNothing() async throws {
        let (dir, _, _) = try setUp()
        let accounts = ["ACC1": "CLIENT1"]
        let bytes = Self.capture()

        // The reference: one clean load.
        let clean = BookStore(backend: try await StoreLocation.sqlite(path: dir.file("clean.sqlite")).open())
        var reference = try await BookLoader(store: clean, configuration: BookConfiguration(accounts: accounts), batchReports: 2)
        try await reference.load(Self.messageByMessage(bytes, source: "day.fix"))
        #expect(reference.summary.batches == 4)

        let location = StoreLocation.sqlite(path: dir.file("crash.sqlite"))
        let failing = FailingBackend(try await location.open(), failAtWrite: 3)
        var loader = try await BookLoader(store: BookStore(backend: failing), configuration: BookConfiguration(accounts: accounts),
                                          batchReports: 2)
        await #expect(throws: BackOfficeStoreError.self) {
            try await loader.load(Self.messageByMessage(bytes, source: "day.fix"))
        }
        try await failing.close()

        // Two batches (four reports, one a duplicate) made it; the failed one left nothing.
        let store = BookStore(backend: try await location.open())
        let offset = try await store.committedOffset(source: "day.fix")
        #expect(offset > 0 && offset < Int64(bytes.count))
        // Applied reports: those that booked a fill are kept by their fill row.
        #expect(try await store.backend.query("SELECT (SELECT COUNT(*) FROM executions) + (SELECT COUNT(*) FROM fills)", [])
            .first?.first?.int == 3)

        // Restart: resume after the last committed batch.
        var again = try await BookLoader(store: store, configuration: BookConfiguration(accounts: accounts), batchReports: 2)
        try await again.load(Self.messageByMessage(bytes, source: "day.fix"))
        #expect(again.summary.skippedAlreadyCommitted == 4)
        #expect(again.book.snapshot == reference.book.snapshot)
        let (snapshot, cleanSnapshot) = (try await store.snapshot(), try await clean.snapshot())
        #expect(snapshot == cleanSnapshot)
        let positions = try await store.positions(BookFilter())
        let cleanPositions = try await clean.positions(BookFilter())
        #expect(positions == cleanPositions)
        let (cash, cleanCash) = (try await store.cash(BookFilter()), try await clean.cash(BookFilter()))
        #expect(cash == cleanCash)
        try await store.backend.close()
        try await clean.backend.close()
    }

    @Test func badOptionsAreRefusedWithTheirName() async throws {
        #expect(throws: (any Error).self) { try StoreOptions.parse(["--db", "mysql://x@y/z"]).location() }
        #expect(throws: (any Error).self) { try parseBusinessDate("2024-13-01") }
        #expect(try parseBusinessDate("2024-03-15") == FIXDate("20240315"))
    }
}

/// A backend whose `failAtWrite`-th write fails (before touching the database), as a crash or a
/// lost connection in the middle of a load would.
final class FailingBackend: SQLBackend, @unchecked Sendable {
    let base: any SQLBackend
    let failAtWrite: Int
    private let lock = NSLock()
    private var writes = 0

    init(_ base: any SQLBackend, failAtWrite: Int) {
        self.base = base
        self.failAtWrite = failAtWrite
    }

    var dialect: SQLDialect { base.dialect }

    func write(_ plan: [SQLStatement]) async throws {
        let n = lock.withLock {
            writes += 1
            return writes
        }
        if n >= failAtWrite {
            // A statement that cannot run makes the backend fail the way a real failure does.
            try await base.write(plan + [SQLStatement("INSERT INTO no_such_table VALUES (1)")])
        }
        try await base.write(plan)
    }

    func query(_ sql: String, _ values: [SQLValue]) async throws -> [SQLRow] { try await base.query(sql, values) }
    func close() async throws { try await base.close() }
}
