import BackOfficeStore
import ClientCRM
import FIXTagValue
import FIXTestSupport
import Foundation
import Testing
import TradeBook

@testable import FIXBridgeCommands

/// A fresh SQLite database in a temporary directory, removed at the end of the test.
private struct CRMTestDatabase {
    let directory: URL
    var path: String { directory.appendingPathComponent("crm.sqlite").path }
    var url: String { "sqlite:" + path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fixbridge-crm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    func write(_ name: String, _ text: String) throws -> String {
        let file = directory.appendingPathComponent(name)
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }
}

private func jsonObject(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

@Suite(.serialized) struct CRMCommandTests {
    static let example = SharedData.project("Specs/crm/clients-example.csv").path
    static func t(_ s: Int64) -> FIXTimestamp { FIXTimestamp(nanosecondsSinceEpoch: 1_767_000_000_000_000_000 + s * 1_000_000_000) }

    @Test func importsTheExampleAndReportsBadRowsWithTheirLines() async throws {
        let db = try CRMTestDatabase()
        defer { db.remove() }
        let ok = try await CRMImportCommand.parse(["--db", db.url, Self.example]).perform()
        #expect(ok.text == "imported 4 clients, 5 accounts\n")
        #expect(ok.diagnostics.isEmpty && !ok.failed)

        let bad = try db.write("bad.csv", """
            id,name,kyc_status,accounts
            C-7,Good Row,verified,G7=ACC77
            C-8,Bad Status,sleepy,B8
            C-9,Stolen,verified,ACME-MAIN
            """)
        let out = try await CRMImportCommand.parse(["--db", db.url, bad]).perform()
        #expect(out.failed)
        #expect(out.text == "imported 1 clients, 1 accounts; 2 rows refused\n")
        #expect(out.diagnostics.count == 2)
        #expect(out.diagnostics[0].hasPrefix("\(bad): line 3, column kyc_status: unknown status 'sleepy'"))
        #expect(out.diagnostics[1].hasPrefix("\(bad): line 4, column accounts:"))

        // The accounts are now in the book's map.
        let backend = try await StoreLocation(db.url).open()
        let map = try await BookStore(backend: backend).accounts()
        try await backend.close()
        #expect(map["ACC70049"] == "ACME-MAIN" && map["ACC77"] == "G7")
    }

    @Test func notesAppearInTheClientTimelineNewestFirst() async throws {
        let db = try CRMTestDatabase()
        defer { db.remove() }
        _ = try await CRMImportCommand.parse(["--db", db.url, Self.example]).perform()
        let first = try await CRMNoteCommand.parse(["--db", db.url, "C-1001", "Onboarding call", "--author", "desk",
                                                    "--channel", "call", "--direction", "outbound"]).perform(at: Self.t(1))
        let second = try await CRMNoteCommand.parse(["--db", db.url, "C-1001", "Sent the \"fee\" schedule",
                                                     "--author", "desk", "--channel", "email"]).perform(at: Self.t(2))
        #expect(first.text.hasPrefix("ix-") && second.text.hasPrefix("ix-") && first.text != second.text)
        await #expect(throws: (any Error).self) {
            try await CRMNoteCommand.parse(["--db", db.url, "C-404", "who?"]).perform()
        }
        #expect(throws: (any Error).self) { try CRMNoteCommand.parse(["--db", db.url, "C-1001", "x", "--channel", "trade"]) }

        let out = try await CRMClientCommand.parse(["--db", db.url, "C-1001", "--json"]).perform()
        let json = try jsonObject(out.text)
        let client = try #require(json["client"] as? [String: Any])
        #expect(client["id"] as? String == "C-1001")
        #expect(client["name"] as? String == "Acme Pension Fund")
        #expect((client["kyc"] as? [String: Any])?["status"] as? String == "verified")
        #expect((client["kyc"] as? [String: Any])?["expiresOn"] as? String == "2027-06-30")
        let accounts = try #require(json["accounts"] as? [[String: Any]])
        #expect(accounts.map { $0["id"] as? String } == ["ACME-HEDGE", "ACME-MAIN"])
        #expect(accounts[1]["fixAccounts"] as? [String] == ["ACC70049", "ACC70050"])
        let timeline = try #require(json["timeline"] as? [[String: Any]])
        #expect(timeline.map { $0["summary"] as? String } == ["Sent the \"fee\" schedule", "Onboarding call"])
        #expect(timeline.map { $0["entryId"] as? String }
                == [second.text, first.text].map { $0.trimmingCharacters(in: .newlines) })
        #expect(timeline[1]["channel"] as? String == "call" && timeline[1]["direction"] as? String == "outbound")
        #expect(timeline[1]["author"] as? String == "desk")

        let limited = try await CRMClientCommand.parse(["--db", db.url, "C-1001", "--json", "--limit", "1"]).perform()
        #expect((try jsonObject(limited.text)["timeline"] as? [Any])?.count == 1)
        let text = try await CRMClientCommand.parse(["--db", db.url, "C-1001"]).perform().text
        #expect(text.contains("KYC verified until 2027-06-30"))
        #expect(text.contains("ACME-MAIN (ACC70049, ACC70050)"))
        await #expect(throws: (any Error).self) { try await CRMClientCommand.parse(["--db", db.url, "C-404"]).perform() }
    }

    /// The outbox drains through a receiver that goes away for a while: every item arrives once,
    /// signed, in each client's order; a refused item is dead-lettered, listed, re-driven and
    /// delivered.
    @Test func outboxDeliversThroughAReceiverOutageAndRedrivesDeadLetters() async throws {
        let db = try CRMTestDatabase()
        defer { db.remove() }
        _ = try await CRMImportCommand.parse(["--db", db.url, Self.example]).perform()
        let backend = try await StoreLocation(db.url).open()
        let store = CRMStore(backend: backend)
        var notes: [InteractionEntry] = []
        for n in 0..<8 {
            for client in ["C-1001", "C-1002", "C-1003"] {
                notes.append(try await store.addNote(clientID: client, text: "note \(n)", author: "desk",
                                                     at: Self.t(Int64(n)), destinations: ["crm"]))
            }
        }
        try await backend.close()
        let listed = try await CRMOutboxCommand.parse(["--db", db.url]).perform().text
        #expect(listed.hasPrefix("pending 24, delivering 0, failed 0, delivered 0, dead-lettered 0\n"))

        let secret = "s3cret"
        let receiver = WebhookReceiver(secret: Array(secret.utf8))
        let port = try await receiver.start()
        let refused = notes[4].id   // C-1002's second note
        receiver.script(refused, [404])
        receiver.stop(after: 5)
        // The outage refuses connections, so attempts fail fast without the timeout; the timeout
        // is generous so that on a loaded machine an answer that comes late is not taken for a
        // failure and sent again (delivery is at least once; this test checks the exactly-once
        // path of a receiver that answers).
        let deliver = try CRMOutboxCommand.parse([
            "--db", db.url, "--deliver", "--once", "--webhook", "http://127.0.0.1:\(port)/hook", "--secret", secret,
            "--timeout-ms", "5000", "--retry-base-ms", "10", "--retry-cap-ms", "80", "--attempts-max", "1000",
        ])
        let run = Task { try await deliver.perform() }
        #expect(await Self.waitUntil { !receiver.isRunning })
        try await Task.sleep(for: .milliseconds(500))
        try await receiver.start(port: port)
        let summary = try await run.value.text
        #expect(summary == "crm: delivered 23, dead-lettered 1, left 0\n")

        let dead = try await CRMOutboxCommand.parse(["--db", db.url, "--dead", "--format", "json"]).perform().text
        let deadItems = try #require(try JSONSerialization.jsonObject(with: Data(dead.utf8)) as? [[String: Any]])
        #expect(deadItems.map { $0["key"] as? String } == ["\(refused)@crm"])
        #expect((deadItems.first?["error"] as? String)?.contains("404") == true)
        #expect(try await CRMOutboxCommand.parse(["--db", db.url, "--redrive", refused]).perform().text
                == "re-driven 1 items\n")
        let again = try await CRMOutboxCommand.parse([
            "--db", db.url, "--deliver", "--once", "--webhook", "http://127.0.0.1:\(port)/hook", "--secret", secret,
            "--retry-base-ms", "10",
        ]).perform().text
        #expect(again == "crm: delivered 1, dead-lettered 0, left 0\n")
        await receiver.shutdown()

        let deliveries = receiver.deliveries
        #expect(deliveries.allSatisfy { $0.signatureValid })
        let accepted = deliveries.filter { $0.status == 200 }
        #expect(Set(accepted.map(\.key)) == Set(notes.map(\.id)))
        #expect(accepted.count == notes.count, "each item is accepted once")
        for client in ["C-1001", "C-1003"] {
            let expected = notes.filter { $0.clientID == client }.map(\.id)
            #expect(accepted.filter { $0.clientID == client }.map(\.key) == expected, "order of \(client)")
        }
        let final = try await CRMOutboxCommand.parse(["--db", db.url]).perform().text
        #expect(final.hasPrefix("pending 0, delivering 0, failed 0, delivered 24, dead-lettered 0\n"))
    }

    /// The glue the book loader calls: each batch's statements commit with the batch, the end of
    /// the load writes the daily summaries, and replaying the same events writes nothing new.
    @Test func activityStatementsCommitWithTheBookBatchAndReplayWritesNothingNew() async throws {
        let db = try CRMTestDatabase()
        defer { db.remove() }
        _ = try await CRMImportCommand.parse(["--db", db.url, Self.example]).perform()
        let backend = try await StoreLocation(db.url).open()
        let bookStore = BookStore(backend: backend)
        let options = try CRMActivityOptions.parse(["--crm-granularity", "fill,order,daily", "--crm-destination", "crm",
                                                    "--crm-large-trade", "5000"])

        func load() async throws -> Int {
            var book = TradeBook(configuration: BookConfiguration(accounts: try await bookStore.accounts()))
            let crm = try #require(try await options.activity(backend: backend))
            var seq = 0
            for (account, clOrdID, qty) in [("ACC70049", "A1", 100), ("ACC70050", "A2", 200), ("ACC1", "J1", 10)] {
                seq += 1
                try await Self.bookFill(&book, store: bookStore, crm: crm, seq: seq, account: account, clOrdID: clOrdID,
                                        quantity: qty, date: "20260302")
            }
            return try await crm.finishLoad()
        }

        #expect(try await load() == 2)   // daily summaries of ACME-MAIN and JSMITH
        let rules = try await backend.query("SELECT rule, client_id FROM interactions ORDER BY rule, client_id", [])
            .map { "\($0[0].text ?? "")/\($0[1].text ?? "")" }
        #expect(rules == [
            "daily-summary/C-1001", "daily-summary/C-1002", "fill/C-1001", "fill/C-1001", "fill/C-1002",
            "kyc-expired-date/C-1002", "large-trade/C-1001", "large-trade/C-1001", "order-ended/C-1001", "order-ended/C-1001",
            "order-ended/C-1002",
        ])
        #expect(try await backend.query("SELECT COUNT(*) FROM outbox", []).first?.first?.int == 11)
        _ = try await load()
        #expect(try await backend.query("SELECT COUNT(*) FROM interactions", []).first?.first?.int == 11)
        #expect(try await backend.query("SELECT COUNT(*) FROM outbox", []).first?.first?.int == 11)
        try await backend.close()
    }

    /// The daemon's day roll: the first fill of a later trade date brings the earlier days'
    /// summaries into its batch; the current day stays open.
    @Test func aLaterTradeDateClosesTheEarlierDaysWhenRolling() async throws {
        let db = try CRMTestDatabase()
        defer { db.remove() }
        _ = try await CRMImportCommand.parse(["--db", db.url, Self.example]).perform()
        let backend = try await StoreLocation(db.url).open()
        let bookStore = BookStore(backend: backend)
        let options = try CRMActivityOptions.parse(["--crm-granularity", "daily", "--crm-destination", "crm"])
        var book = TradeBook(configuration: BookConfiguration(accounts: try await bookStore.accounts()))
        let crm = try #require(try await options.activity(backend: backend))
        await crm.setClosesDaysOnRoll(true)
        func summaries() async throws -> [String] {
            try await backend.query("SELECT client_id FROM interactions WHERE rule = 'daily-summary' ORDER BY client_id", [])
                .map { $0[0].text ?? "" }
        }
        var seq = 0
        for (account, date) in [("ACC70049", "20260302"), ("ACC1", "20260302"), ("ACC70050", "20260302"),
                                ("ACC70049", "20260303")] {
            seq += 1
            try await Self.bookFill(&book, store: bookStore, crm: crm, seq: seq, account: account, clOrdID: "R\(seq)",
                                    quantity: 10, date: date)
            if seq == 3 { #expect(try await summaries().isEmpty, "the day is still open") }
        }
        // The 2 March summaries of both clients, none yet for 3 March.
        #expect(try await summaries() == ["C-1001", "C-1002"])
        let texts = try await backend.query("SELECT summary FROM interactions WHERE rule = 'daily-summary'", [])
            .compactMap { $0[0].text }
        #expect(texts.allSatisfy { $0.hasPrefix("20260302:") }, "\(texts)")
        try await backend.close()
    }

    /// Books one complete fill (MsgSeqNum and ExecID from `seq`) and commits it with its CRM
    /// statements, as the book loader does with a batch.
    static func bookFill(_ book: inout TradeBook, store: BookStore, crm: CRMActivity, seq: Int, account: String,
                         clOrdID: String, quantity: Int, date: String) async throws {
        let stamp = "\(date)-10:00:0\(seq).000"
        let bytes = TestMessages.make(
            "8=FIX.4.4|35=8|49=BRKR|56=CLTA|34=\(seq)|52=\(stamp)|37=O-\(clOrdID)|11=\(clOrdID)|17=E\(seq)|"
            + "150=F|39=2|1=\(account)|55=AAPL|54=1|38=\(quantity)|15=USD|32=\(quantity)|31=50|151=0|14=\(quantity)|6=50|"
            + "75=\(date)|60=\(stamp)|")
        var events: [BookEvent] = []
        bytes.withUnsafeBytes { raw in
            book.apply(FIXMessage(unchecked: raw), source: SourcePosition(source: "t", offset: Int64(seq)), into: &events)
        }
        var batch = BookBatch()
        batch.add(events, book: book)
        try await store.commit(batch, extra: await crm.statements(for: events))
    }

    @Test func outboxModesAreExclusive() {
        #expect(throws: (any Error).self) { try CRMOutboxCommand.parse(["--dead", "--redrive", "--all"]) }
        #expect(throws: (any Error).self) { try CRMOutboxCommand.parse(["--redrive"]) }
        #expect(throws: (any Error).self) { try CRMOutboxCommand.parse(["--redrive", "--all", "ix-1"]) }
        #expect(throws: (any Error).self) { try CRMOutboxCommand.parse(["--once"]) }
        #expect(throws: (any Error).self) { try CRMOutboxCommand.parse(["ix-1"]) }
    }

    static func waitUntil(seconds: Int = 20, _ condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}
