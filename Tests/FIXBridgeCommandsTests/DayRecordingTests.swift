import FIXSessionTestSupport
import FIXTagValue
import FIXTestSupport
import Foundation
import Testing

@testable import FIXBridgeCommands

/// `fixbridge venue record`: the shipped day's scenario recorded over loopback on the virtual
/// clock gives the same bytes every time (and the shipped files), and the recording replays into
/// the book the day describes; malformed scenarios are refused with file and line.
@Suite struct DayRecordingTests {
    static let scenario = SharedData.project("Specs/scenarios/day-20240315.txt").path
    static let day = SharedData.project("Captures/day-20240315")
    static let files = ["venue-BRKR.fix", "dropcopy-SIMX.fix", "statement-clearing.csv"]

    func record(into out: String) async throws -> DayRecorder.Summary {
        let command = try FIXBridgeCommand.parseAsRoot(["venue", "record", "--scenario", Self.scenario, "--out", out])
        let record = try #require(command as? VenueRecordCommand)
        return try await record.record()
    }

    func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    @Test func recordingTwiceGivesTheSameBytesAsTheShippedDay() async throws {
        let dir = try TemporaryDirectory(prefix: "fixbridge-record")
        let first = try await record(into: dir.file("a"))
        let second = try await record(into: dir.file("b"))
        #expect(first.brokerMessages == second.brokerMessages && first.brokerMessages > 0)
        for name in Self.files {
            let a = try Data(contentsOf: URL(fileURLWithPath: dir.file("a/" + name)))
            let b = try Data(contentsOf: URL(fileURLWithPath: dir.file("b/" + name)))
            let shipped = try Data(contentsOf: Self.day.appendingPathComponent(name))
            #expect(a == b, "\(name) differs between two recordings")
            #expect(a == shipped, "\(name) differs from the shipped day: record it again")
        }
    }

    @Test func theRecordedDayHasTheResendTheDropCopyAndTheBrokersOrders() async throws {
        let log = try lines(Self.day.appendingPathComponent("venue-BRKR.fix").path)
        func count(_ needles: String...) -> Int {
            log.filter { line in needles.allSatisfy { line.contains($0.replacingOccurrences(of: "|", with: "\u{1}")) } }.count
        }
        // The broker's own orders, cancels and replaces are on the wire, and the venue's answers.
        #expect(count("|35=D|", "|49=BRKR|") == 37)
        #expect(count("|35=F|", "|49=BRKR|") == 2)
        #expect(count("|35=G|", "|49=BRKR|") == 1)
        #expect(count("|35=8|", "|49=SIMX|") == 108)
        #expect(count("|35=8|", "|43=Y|", "|122=") == 2)
        #expect(count("|150=G|", "|19=SIMX-E-") == 1 && count("|150=H|", "|19=SIMX-E-") == 1)
        #expect(count("|150=C|") == 1 && count("|150=6|") == 1 && count("|150=5|") == 1 && count("|150=8|") == 2)
        #expect(count("|35=2|", "|49=BRKR|", "|16=0|") == 1)
        #expect(count("|35=4|", "|123=Y|", "|49=SIMX|") >= 1)
        #expect(count("|35=A|") == 4 && count("|35=5|") == 2)
        // Every fill carries its charges and settlement date.
        #expect(count("|150=F|") == count("|150=F|", "|12=", "|13=3|", "|64=2024031"))
        #expect(count("|150=F|", "|136=") > 0)

        let copy = try lines(Self.day.appendingPathComponent("dropcopy-SIMX.fix").path)
        let copies = copy.filter { $0.contains("\u{1}35=8\u{1}") }
        #expect(copies.count == 108)  // 106 of the session plus the desk order's two
        #expect(copies.allSatisfy { $0.contains("\u{1}797=Y\u{1}") && !$0.contains("\u{1}12=") })
        #expect(copies.filter { $0.contains("\u{1}11=SIMX-DESK-7731\u{1}") }.count == 2)
    }

    @Test func theRecordedDayReplaysIntoTheExpectedBook() async throws {
        let dir = try TemporaryDirectory(prefix: "fixbridge-record-book")
        _ = try await record(into: dir.path)
        let db = "sqlite:" + dir.file("book.sqlite")
        var crm = try CRMImportCommand.parseAsRoot(["--db", db, Self.day.appendingPathComponent("clients.csv").path])
            as! CRMImportCommand
        try await crm.runAsync()
        let replay = try ReplayCommand.parseAsRoot(["--quiet", "--db", db, dir.file("venue-BRKR.fix")]) as! ReplayCommand
        let result = try await replay.replayIntoBook(stop: { false })
        #expect(result.invalid == 0)
        #expect(result.summary.reports == 108)
        #expect(result.summary.fillsBooked == 62)
        #expect(result.summary.corrections == 1 && result.summary.busts == 1)
        #expect(result.summary.duplicates == 2)  // the resent copies, booked once
        #expect(result.summary.exceptions == 1)  // HPT-EQ03 belongs to no client
        #expect(result.text.contains("orders:              0 -> 37"))
    }

    @Test func malformedScenariosAreRefusedWithFileAndLine() {
        func error(_ text: String) -> String {
            do {
                _ = try DayScenario(text: text, file: "bad.txt")
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        let head = "day 2024-03-15\ninstrument AAPL USD 172.60 2\n"
        #expect(error(head + "09:00:00 logon\n09:01:00 order O1 ACC buy 10 AAPL limit abc\n09:02:00 logout\n")
                == "bad.txt:4: abc: not a number (a limit price)")
        #expect(error(head + "09:00:00 logon\n08:00:00 logout\n") == "bad.txt:4: 08:00:00 is earlier than the event before it")
        #expect(error(head + "09:00:00 logon\n09:01:00 fill O9 10 1.00\n09:02:00 logout\n")
                == "bad.txt:4: O9: no such order before this line")
        #expect(error(head + "09:00:00 logon\n09:01:00 order O1 ACC buy 10 MSFT market\n09:02:00 logout\n")
                == "bad.txt:4: MSFT: no `instrument` line for it")
        #expect(error(head + "09:00:00 jump\n") == "bad.txt:3: jump: not an event (logon, order, desk, cancel, cancelled, "
                + "replace, fill, correct, bust, expire, drop, reconnect, logout)")
        #expect(error(head + "09:00:00 logon\n") == "bad.txt:3: the day ends without `logout`")
        #expect(error("09:00:00 logon\n") == "bad.txt:1: an event before the `day` line")
        #expect(error(head + "colour blue\n") == "bad.txt:3: colour: not a setting or a time")
        #expect(error(head + "09:00:00 logon\n09:01:00 order O1 ACC buy 10 AAPL market\n09:01:00 correct O1 1 5 1.0\n"
                      + "09:02:00 logout\n") == "bad.txt:5: O1 has no fill 1 before this line")
    }
}
