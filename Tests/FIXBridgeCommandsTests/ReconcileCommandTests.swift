import ArgumentParser
import BackOfficeStore
import FIXTagValue
import FIXTestSupport
import Foundation
import Testing

@testable import FIXBridgeCommands

/// A scratch folder with a SQLite database, a capture of three fills and a venue statement.
private struct ReconcileScenario {
    let directory: URL
    var db: String { "sqlite:" + directory.appendingPathComponent("book.sqlite").path }
    var capture: String { directory.appendingPathComponent("orders.fix").path }
    var accounts: String { directory.appendingPathComponent("accounts.csv").path }
    var statement: String { directory.appendingPathComponent("venue-20260105.csv").path }
    var html: String { directory.appendingPathComponent("breaks.html").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("fixbridge-reconcile-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // Three fills of FIX account F1 (client ACC1) on 2026-01-05, commission 0.35 each.
        var seq = 0
        func fill(_ order: String, exec: String, symbol: String, qty: String, px: String) -> [UInt8] {
            seq += 1
            return TestMessages.make(
                "8=FIX.4.4|35=8|49=BRKR|56=CLTA|34=\(seq)|52=20260105-14:00:00.000|37=O-\(order)|11=\(order)|17=\(exec)|"
                    + "150=F|39=2|1=F1|55=\(symbol)|54=1|38=\(qty)|15=USD|32=\(qty)|31=\(px)|151=0|14=\(qty)|6=\(px)|"
                    + "12=0.35|13=3|75=20260105|64=20260106|60=20260105-14:00:00.000|")
        }
        let capture = fill("A", exec: "X1", symbol: "AAPL", qty: "100", px: "191.10")
            + fill("B", exec: "X2", symbol: "MSFT", qty: "50", px: "10")
            + fill("C", exec: "X3", symbol: "AAPL", qty: "10", px: "5")
        try Data(capture).write(to: URL(fileURLWithPath: self.capture))
        try "fix_account,client_account\nF1,ACC1\n".write(toFile: accounts, atomically: true, encoding: .utf8)
        // X1 agrees, X2 differs in quantity, X3 is not reported, X9 is not in the book, line 5
        // cannot be read.
        try """
            TradeDate,ExecId,OrderId,Account,Symbol,Side,Qty,Price,Currency,SettleDate,Fee
            20260105,X1,O-A,ACC1,AAPL,B,100,191.10,USD,20260106,0.35
            20260105,X2,O-B,ACC1,MSFT,B,40,10,USD,20260106,0.35
            20260105,X9,O-Z,ACC1,AAPL,S,5,190,USD,20260106,0
            20260105,X10,O-Z,ACC1,AAPL,S,abc,190,USD,20260106,0

            """.write(toFile: statement, atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    /// Parses `fixbridge ARGS` and runs the leaf on the asynchronous path, as `main` does.
    func fixbridge(_ arguments: [String]) async throws {
        var command = try FIXBridgeCommand.parseAsRoot(arguments + ["--db", db])
        guard var runnable = command as? AsyncRunnableCommand else {
            try command.run()
            return
        }
        try await runnable.runAsync()
    }

    func reconcile(_ extra: [String] = []) throws -> ReconcileCommand {
        let parsed = try FIXBridgeCommand.parseAsRoot(
            ["reconcile", "--date", "2026-01-05", "--statement", statement, "--mapping", "venue-daily-trades",
             "--actor", "eod", "--db", db] + extra)
        return try #require(parsed as? ReconcileCommand)
    }
}

@Suite(.serialized) struct ReconcileCommandTests {
    @Test func reconcilesALoadedBookAgainstAStatementAndWritesTheHTMLReport() async throws {
        let s = try ReconcileScenario()
        defer { s.remove() }
        try await s.fixbridge(["book", "load", s.capture, "--accounts", s.accounts, "--quiet"])

        let command = try s.reconcile(["--format", "html", "--out", s.html, "--max-open", "10"])
        let outcome = try await command.reconcile()
        #expect(outcome.runs.count == 1)
        #expect(outcome.runs.first?.source == "venue-daily-trades")
        #expect(outcome.issues == 1)
        #expect(outcome.runs.first?.issues == 1)
        #expect(outcome.results.first?.statistics.bookTrades == 3)
        #expect(outcome.results.first?.statistics.externalTrades == 3)
        let codes = outcome.cases.map(\.latest.code.number).sorted()
        #expect(codes == [1, 2, 3])
        #expect(outcome.openBreaks == 3)
        #expect(outcome.summary.contains("breaks: 3"))
        #expect(outcome.summary.contains("unreadable lines or messages 1"))
        #expect(outcome.summary.contains("open breaks: 3"))

        let html = try String(contentsOfFile: s.html, encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("3 breaks, 3 open"))
        #expect(html.contains("missing at venue"))
        #expect(html.contains("missing in book"))
        #expect(html.contains("X9"))

        // The same run again keeps the same ids and adds no breaks; more open breaks than
        // --max-open ends with status 2.
        let strict = try s.reconcile(["--max-open", "2"])
        do {
            try await strict.run()
            Issue.record("more open breaks than --max-open did not fail")
        } catch let error as ExitCode {
            #expect(error.rawValue == 2)
        }
        let again = try await s.reconcile().reconcile()
        #expect(Set(again.cases.map(\.id)) == Set(outcome.cases.map(\.id)))
        #expect(again.runs.first?.newBreaks == 0)
        #expect(again.openBreaks == 3)
    }

    @Test func breaksCommandsWorkTheLifecycleWithMakerChecker() async throws {
        let s = try ReconcileScenario()
        defer { s.remove() }
        try await s.fixbridge(["book", "load", s.capture, "--accounts", s.accounts, "--quiet"])
        let first = try await s.reconcile().reconcile()
        let missing = try #require(first.cases.first { $0.latest.code.number == 1 }).id
        let quantity = try #require(first.cases.first { $0.latest.code.number == 3 }).id

        try await s.fixbridge(["breaks", "settings", "--maker-checker", "on"])
        try await s.fixbridge(["breaks", "assign", missing, "--to", "ops-1", "--by", "lead"])
        try await s.fixbridge(["breaks", "comment", missing, "venue confirms late booking", "--by", "ops-1"])
        try await s.fixbridge(["breaks", "resolve", missing, "--reason", "booked late", "--by", "ops-1"])
        await #expect(throws: BreakCommandError.self) {
            try await s.fixbridge(["breaks", "approve", missing, "--by", "ops-1"])
        }
        try await s.fixbridge(["breaks", "approve", missing, "--by", "lead"])
        try await s.fixbridge(["breaks", "list", "--state", "resolved", "--format", "json"])
        try await s.fixbridge(["breaks", "show", missing])
        try await s.fixbridge(["breaks", "close", quantity, "--reason", "x", "--by", "ops-2"])
        // Closing an already resolved break is refused.
        await #expect(throws: BreakCommandError.self) {
            try await s.fixbridge(["breaks", "close", missing, "--reason", "again", "--by", "ops-2"])
        }

        // The next run finds the resolved break again and reopens it; the quantity break awaits
        // approval of its close.
        let second = try await s.reconcile(["--format", "csv", "--out", s.directory.appendingPathComponent("b.csv").path])
            .reconcile()
        #expect(second.runs.first?.reopened == 1)
        let reopened = try #require(second.cases.first { $0.id == missing })
        #expect(reopened.state == .open)
        #expect(reopened.trail.last?.action == .reopen(reason: "present again on 20260105"))
        let pending = try #require(second.cases.first { $0.id == quantity })
        #expect(pending.state == .pendingApproval(.forceClose(reason: "x"), requestedBy: "ops-2", previous: .open))
        let csv = try String(contentsOfFile: s.directory.appendingPathComponent("b.csv").path, encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 4)
    }

    @Test func reconcilesADropCopyAndAPositionStatementAsTwoSources() async throws {
        let s = try ReconcileScenario()
        defer { s.remove() }
        try await s.fixbridge(["book", "load", s.capture, "--accounts", s.accounts, "--quiet"])
        // The venue's drop copy reports X1 and X2 but not X3.
        var seq = 0
        func report(_ order: String, exec: String, symbol: String, qty: String, px: String) -> [UInt8] {
            seq += 1
            return TestMessages.make(
                "8=FIX.4.4|35=8|49=VENUE|56=DROP|34=\(seq)|52=20260105-14:00:01.000|37=O-\(order)|11=\(order)|"
                    + "17=\(exec)|150=F|39=2|1=ACC1|55=\(symbol)|54=1|38=\(qty)|15=USD|32=\(qty)|31=\(px)|151=0|"
                    + "14=\(qty)|6=\(px)|12=0.35|13=3|75=20260105|64=20260106|797=Y|")
        }
        let dropCopy = s.directory.appendingPathComponent("drop.fix").path
        try Data(report("A", exec: "X1", symbol: "AAPL", qty: "100", px: "191.10")
                 + report("B", exec: "X2", symbol: "MSFT", qty: "50", px: "10")).write(to: URL(fileURLWithPath: dropCopy))
        // The clearing broker holds 100 AAPL (the book 110) and 50 MSFT.
        let positions = s.directory.appendingPathComponent("positions.txt").path
        try "ACC-0001|US0378331005|100|0\nACC-0001|US5949181045|50|0\n"
            .write(toFile: positions, atomically: true, encoding: .utf8)

        let parsed = try FIXBridgeCommand.parseAsRoot(
            ["reconcile", "--date", "20260105", "--statement", positions, "--mapping", "clearing-broker-positions",
             "--drop-copy", dropCopy, "--format", "json", "--out", s.directory.appendingPathComponent("b.json").path,
             "--db", s.db])
        let outcome = try await #require(parsed as? ReconcileCommand).reconcile()
        #expect(outcome.runs.map(\.source) == ["clearing-broker-positions", "drop-copy"])
        #expect(outcome.runs.map(\.breaks) == [1, 1])
        #expect(outcome.issues == 0)
        let bySource = Dictionary(grouping: outcome.cases, by: \.latest.source)
        #expect(bySource["clearing-broker-positions"]?.map(\.latest.code.number) == [9])
        #expect(bySource["drop-copy"]?.map(\.latest.code.number) == [1])
        #expect(bySource["drop-copy"]?.first?.latest.book.first?.key == "X3")
        let json = try String(contentsOfFile: s.directory.appendingPathComponent("b.json").path, encoding: .utf8)
        #expect(json.contains("\"code\":9"))
        #expect(json.contains("\"code\":1"))
    }

    @Test func dropCopyFIXAccountsGoThroughTheBooksAccountMap() async throws {
        let s = try ReconcileScenario()
        defer { s.remove() }
        // The book maps FIX account F1 to client account ACC1; the names differ.
        try await s.fixbridge(["book", "load", s.capture, "--accounts", s.accounts, "--quiet"])
        var seq = 0
        func report(exec: String, account: String, symbol: String, qty: String, px: String) -> [UInt8] {
            seq += 1
            return TestMessages.make(
                "8=FIX.4.4|35=8|49=VENUE|56=DROP|34=\(seq)|52=20260105-14:00:01.000|37=O-\(seq)|11=C\(seq)|"
                    + "17=\(exec)|150=F|39=2|1=\(account)|55=\(symbol)|54=1|38=\(qty)|15=USD|32=\(qty)|31=\(px)|151=0|"
                    + "14=\(qty)|6=\(px)|12=0.35|13=3|75=20260105|64=20260106|797=Y|")
        }
        // The venue reports the FIX account the orders went out under; F9 is in no account map.
        let dropCopy = s.directory.appendingPathComponent("drop.fix").path
        try Data(report(exec: "X1", account: "F1", symbol: "AAPL", qty: "100", px: "191.10")
                 + report(exec: "X2", account: "F1", symbol: "MSFT", qty: "50", px: "10")
                 + report(exec: "X3", account: "F1", symbol: "AAPL", qty: "10", px: "5")
                 + report(exec: "X7", account: "F9", symbol: "AAPL", qty: "1", px: "5"))
            .write(to: URL(fileURLWithPath: dropCopy))
        let parsed = try FIXBridgeCommand.parseAsRoot(
            ["reconcile", "--date", "20260105", "--drop-copy", dropCopy, "--db", s.db])
        let outcome = try await #require(parsed as? ReconcileCommand).reconcile()
        let result = try #require(outcome.results.first)
        #expect(result.statistics.matchedByKey == 3)
        #expect(result.breaks.map(\.code.number) == [11])
        #expect(result.breaks.first?.account == "F9")
        #expect(result.breaks.first?.external.first?.key == "X7")
    }

    @Test func reportsAndListingCarryStateAssigneeAndAge() async throws {
        let s = try ReconcileScenario()
        defer { s.remove() }
        try await s.fixbridge(["book", "load", s.capture, "--accounts", s.accounts, "--quiet"])
        let first = try await s.reconcile().reconcile()
        let missing = try #require(first.cases.first { $0.latest.code.number == 1 }).id
        try await s.fixbridge(["breaks", "assign", missing, "--to", "ops-1", "--by", "lead"])

        // Two business days later (Wednesday) the breaks are still open and have aged.
        let csvPath = s.directory.appendingPathComponent("later.csv").path
        let later = try FIXBridgeCommand.parseAsRoot(
            ["reconcile", "--date", "2026-01-07", "--statement", s.statement, "--mapping", "venue-daily-trades",
             "--format", "csv", "--out", csvPath, "--db", s.db])
        _ = try await #require(later as? ReconcileCommand).reconcile()
        let csv = try String(contentsOfFile: csvPath, encoding: .utf8)
        let lines = csv.split(separator: "\n")
        #expect(lines.first?.hasSuffix(",state,assignee,age_business_days,first_seen,last_seen") == true)
        let assignedLine = try #require(lines.first { $0.hasPrefix(missing) })
        #expect(assignedLine.hasSuffix(",assigned,ops-1,2,20260105,20260105"))
        #expect(lines.filter { $0.contains(",open,,2,20260105,") }.count == 2)

        let jsonPath = s.directory.appendingPathComponent("later.json").path
        let json = try FIXBridgeCommand.parseAsRoot(
            ["reconcile", "--date", "2026-01-07", "--statement", s.statement, "--mapping", "venue-daily-trades",
             "--format", "json", "--out", jsonPath, "--db", s.db])
        _ = try await #require(json as? ReconcileCommand).reconcile()
        let text = try String(contentsOfFile: jsonPath, encoding: .utf8)
        #expect(text.contains("\"state\":\"assigned\",\"assignee\":\"ops-1\",\"ageBusinessDays\":2,"))

        // `breaks list` ages as of --date.
        let stored = try await withBreakStore(StoreOptions.parse(["--db", s.db])) { try await $0.list(BreakFilter()) }
        let listing = BreaksListCommand.listing(stored, asOf: FIXDate(year: 2026, month: 1, day: 8)!)
        let rendered = listing.render(.csv)
        #expect(rendered.hasPrefix("id,code,type,source,date,first_seen,last_seen,state,assignee,age,"))
        let row = try #require(rendered.split(separator: "\n").first { $0.hasPrefix(missing) })
        #expect(row.contains(",assigned,ops-1,3,ACC1,"))
    }

    @Test func rejectsMismatchedStatementsAndMappingsAndBadTolerances() throws {
        #expect(throws: (any Error).self) {
            _ = try FIXBridgeCommand.parseAsRoot(["reconcile", "--date", "2026-01-05", "--statement", "a.csv",
                                                  "--statement", "b.csv", "--mapping", "m1", "--mapping", "m2",
                                                  "--mapping", "m3"])
        }
        #expect(throws: (any Error).self) {
            _ = try FIXBridgeCommand.parseAsRoot(["reconcile", "--date", "2026-01-05"])
        }
        let relative = try ReconcileCommand.tolerance("0.5%", option: "--tolerance-price")
        #expect(relative.relative == FIXDecimal("0.005")!)
        #expect(try ReconcileCommand.tolerance("0.01", option: "--tolerance-price").absolute == FIXDecimal("0.01")!)
        #expect(throws: ValidationError.self) { try ReconcileCommand.tolerance("-1", option: "--tolerance-price") }
    }
}
