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

    /// A small day: a cancel of a filled order is refused, a fill made while the broker is
    /// disconnected is stored by the venue's session and arrives in the resend after the
    /// reconnect (PossDupFlag Y), while the drop copy had it at once; heartbeats fall due on
    /// the virtual clock.
    @Test func aFillDuringTheOutageArrivesInTheResendAndHeartbeatsFollowTheVirtualClock() async throws {
        let dir = try TemporaryDirectory(prefix: "fixbridge-record-small")
        try Data("""
            day 2024-03-15
            venue V
            broker B
            drop-copy BDC
            heartbeat 30
            clordids C- 1
            orderids O- 1
            execids E 1
            commission 0.001 minimum 1.00
            instrument XYZ USD 10.00 2
            09:00:00.000 logon
            09:00:01.000 order A ACC1 buy 100 XYZ limit 10.00
            09:00:02.000 fill A 100 10.00
            09:00:03.000 cancel A
            09:00:04.000 order B ACC1 buy 50 XYZ limit 10.00
            09:00:05.000 drop
            09:00:06.000 fill B 50 10.02
            09:00:10.000 reconnect rewind 0
            09:01:00.000 logout
            """.utf8).write(to: URL(fileURLWithPath: dir.file("small.txt")))
        func record(_ out: String) async throws {
            let command = try FIXBridgeCommand.parseAsRoot(["venue", "record", "--scenario", dir.file("small.txt"),
                                                            "--out", dir.file(out)])
            _ = try await (command as! VenueRecordCommand).record()
        }
        try await record("a")
        try await record("b")
        for name in ["venue-B.fix", "dropcopy-V.fix", "statement-clearing.csv"] {
            #expect(try Data(contentsOf: URL(fileURLWithPath: dir.file("a/" + name)))
                    == Data(contentsOf: URL(fileURLWithPath: dir.file("b/" + name))), "\(name) differs between runs")
        }
        let log = try lines(dir.file("a/venue-B.fix")).map { $0.replacingOccurrences(of: "\u{1}", with: "|") }
        #expect(log.filter { $0.contains("|35=9|") && $0.contains("|41=C-1|") && $0.contains("|434=1|") }.count == 1)
        let outageFill = log.filter { $0.contains("|35=8|") && $0.contains("|17=E4|") }
        #expect(outageFill.count == 1 && outageFill.first?.contains("|43=Y|") == true)
        #expect(outageFill.first?.contains("|122=20240315-09:00:06.000|") == true)
        #expect(outageFill.first?.contains("|52=20240315-09:00:10.000|") == true)
        #expect(log.filter { $0.contains("|35=2|") }.count == 1)
        #expect(log.contains { $0.contains("|35=0|") && $0.contains("|49=V|") && $0.contains("|52=20240315-09:00:40.000|") })
        #expect(log.contains { $0.contains("|35=0|") && $0.contains("|49=B|") && $0.contains("|52=20240315-09:00:40.000|") })
        let copy = try lines(dir.file("a/dropcopy-V.fix")).map { $0.replacingOccurrences(of: "\u{1}", with: "|") }
        let copied = copy.filter { $0.contains("|17=E4|") }
        #expect(copied.count == 1 && copied.first?.contains("|52=20240315-09:00:06.000|") == true
                && copied.first?.contains("|43=Y|") == false && copied.first?.contains("|797=Y|") == true)
        let statement = try lines(dir.file("a/statement-clearing.csv"))
        #expect(statement == ["TradeDate,ExecId,OrderId,Account,Symbol,Side,Qty,Price,Currency,SettleDate,Fee",
                              "20240315,E2,O-1,ACC1,XYZ,B,100,10.00,USD,20240319,1.00",
                              "20240315,E4,O-2,ACC1,XYZ,B,50,10.02,USD,20240319,1.00"])
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
        #expect(error(head + "close 16:30:00 VOD.L\n09:00:00 logon\n09:01:00 logout\n")
                == "bad.txt:3: VOD.L: no `instrument` line for it")
        #expect(error(head + "close 4pm AAPL\n") == "bad.txt:3: 4pm: not a time (HH:MM:SS)")
        #expect(error(head + "09:00:00 logon\n09:01:00 order O1 ACC buy 10 AAPL market\n09:01:00 correct O1 1 5 1.0\n"
                      + "09:02:00 logout\n") == "bad.txt:5: O1 has no fill 1 before this line")
    }
}
