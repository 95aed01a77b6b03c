#if canImport(Glibc)
import Glibc
#endif
import BackOfficeStore
import FASTCodec
import FIXSession
import FIXSessionTestSupport
import FIXTagValue
import FIXTestSupport
import FIXTransport
import Foundation
import NIOCore
import NIOPosix
import Testing
import TradeBook

@testable import FIXBridgeCommands

/// `fixbridge replay`: the shipped day against its golden output, reruns, filters, validation,
/// FAST input, a real SIGTERM in the middle, and replay into a live session.
@Suite struct ReplayCommandTests {
    static let day = SharedData.project("Captures/day-20240315")

    /// A fresh SQLite database with the shipped day's clients (and so its account map).
    func dayDatabase(_ dir: TemporaryDirectory) async throws -> String {
        let db = "sqlite:" + dir.file("backoffice.sqlite")
        var crm = try CRMImportCommand.parseAsRoot(["--db", db, Self.day.appendingPathComponent("clients.csv").path])
            as! CRMImportCommand
        try await crm.runAsync()
        return db
    }

    func replay(_ arguments: [String], stop: @escaping () -> Bool = { false }) async throws -> ReplayCommand.BookResult {
        let command = try ReplayCommand.parseAsRoot(["--quiet"] + arguments) as! ReplayCommand
        return try await command.replayIntoBook(stop: stop)
    }

    @Test func theShippedDayReproducesItsGoldenOutputAndASecondReplayChangesNothing() async throws {
        let dir = try TemporaryDirectory(prefix: "fixbridge-replay")
        let db = try await dayDatabase(dir)
        let capture = Self.day.appendingPathComponent("venue-BRKR.fix").path
        let golden = try String(contentsOf: SharedData.project("Captures/golden/day-20240315-replay.txt"), encoding: .utf8)

        let first = try await replay(["--db", db, capture])
        #expect(first.text == golden)
        #expect(first.summary.fillsBooked == 62 && first.summary.duplicates == 2 && first.invalid == 0)

        let second = try await replay(["--db", db, capture])
        #expect(second.summary.fillsBooked == 0)
        #expect(second.text.contains("fills booked:        0 "))
        #expect(second.text.contains("positions:           24 -> 24 (0 changed)"))
        #expect(second.text.contains("CRM entries written: 0 "))

        // The same day under another file name (a copy of the log) books nothing either: fills
        // are identified by session and ExecID, not by file.
        try FileManager.default.copyItem(atPath: capture, toPath: dir.file("copy.fix"))
        let third = try await replay(["--db", db, dir.file("copy.fix")])
        #expect(third.summary.fillsBooked == 0 && third.summary.duplicates == 108)
        #expect(third.text.contains("CRM entries written: 0 "))
    }

    @Test func filtersChooseByAccountTimeAndType() async throws {
        let dir = try TemporaryDirectory(prefix: "fixbridge-replay")
        let db = try await dayDatabase(dir)
        let capture = Self.day.appendingPathComponent("venue-BRKR.fix").path
        let one = try await replay(["--db", db, "--account", "LFO-MAIN", "--from", "2024-03-15T00:00:00",
                                    "--until", "20240315-23:59:59", capture])
        #expect(one.summary.fillsBooked == 8)  // the expired-KYC client: 5 orders, 8 fills
        let store = BookStore(backend: try await StoreLocation(dir.file("backoffice.sqlite")).open())
        #expect(Set(try await store.fills(BookFilter()).compactMap(\.clientAccount)) == ["LFO-MAIN"])
        try await store.backend.close()

        // A window before the day, and a type that is not an ExecutionReport: nothing more.
        let none = try await replay(["--db", db, "--until", "2024-03-14", capture])
        #expect(none.summary.reports == 0 && none.summary.filteredOut > 0)
        let orders = try await replay(["--db", db, "--type", "D", capture])
        #expect(orders.summary.reports == 0)

        #expect(throws: (any Error).self) { try ReplayCommand.parseAsRoot(["--from", "yesterday", capture]) }
        #expect(throws: (any Error).self) {
            try ReplayCommand.parseAsRoot(["--from", "2024-03-16", "--until", "2024-03-15", capture])
        }
    }

    @Test func invalidReportsAreListedAndNotBooked() async throws {
        let dir = try TemporaryDirectory(prefix: "fixbridge-replay")
        var bytes: [UInt8] = []
        let head = "8=FIX.4.4|35=8|49=VENUE|56=BRKR|52=20240315-10:00:00.000|"
        let order = "1=ACC1|55=AAPL|54=1|38=100|60=20240315-10:00:00.000|"
        bytes += TestMessages.make(head + "34=1|37=O1|11=A|17=E1|150=0|39=0|\(order)151=100|14=0|6=0|") + [10]
        bytes += TestMessages.make(head + "34=2|37=O1|11=A|17=E2|150=F|39=2|\(order)32=100|31=10|151=0|14=100|6=10|") + [10]
        // Side(54)=Z is not a value of the field: invalid, so not booked.
        bytes += TestMessages.make(head + "34=3|37=O2|11=B|17=E3|150=F|39=2|1=ACC1|55=AAPL|54=Z|38=5|"
                                   + "60=20240315-10:00:00.000|32=5|31=10|151=0|14=5|6=10|") + [10]
        try Data(bytes).write(to: URL(fileURLWithPath: dir.file("day.fix")))
        let db = "sqlite:" + dir.file("book.sqlite")
        let result = try await replay(["--db", db, dir.file("day.fix")])
        #expect(result.invalid == 1)
        #expect(result.summary.fillsBooked == 1)
        #expect(result.text.contains("invalid reports:     1 (not booked)"))
        let unchecked = try await replay(["--db", db, "--no-validate", dir.file("day.fix")])
        #expect(unchecked.invalid == 0)
    }

    @Test func fastStreamsEnterTheBookAsFIXMessages() async throws {
        let dir = try TemporaryDirectory(prefix: "fixbridge-replay")
        let xml = """
            <templates xmlns="http://www.fixprotocol.org/ns/fast/td/1.1">
              <template id="7" name="ExecutionReport">
                <string id="35" name="MsgType"><constant value="8"/></string>
                <string id="49" name="SenderCompID"><copy/></string>
                <string id="56" name="TargetCompID"><copy/></string>
                <string id="1" name="Account"><copy/></string>
                <string id="11" name="ClOrdID"/>
                <string id="37" name="OrderID"/>
                <string id="17" name="ExecID"/>
                <string id="150" name="ExecType"/>
                <string id="39" name="OrdStatus"/>
                <string id="55" name="Symbol"><copy/></string>
                <string id="54" name="Side"/>
                <decimal id="38" name="OrderQty"/>
                <decimal id="32" name="LastQty" presence="optional"/>
                <decimal id="31" name="LastPx" presence="optional"/>
                <decimal id="151" name="LeavesQty"/>
                <decimal id="14" name="CumQty"/>
                <decimal id="6" name="AvgPx"/>
                <string id="60" name="TransactTime"/>
              </template>
            </templates>
            """
        try Data(xml.utf8).write(to: URL(fileURLWithPath: dir.file("t.xml")))
        let templates = try FASTTemplates(xmlBytes: Array(xml.utf8))
        var encoder = FASTEncoder(templates: templates)
        var stream: [UInt8] = []
        func report(_ exec: String, _ type: String, _ status: String, last: Int?, leaves: Int, cum: Int) throws {
            func dec(_ v: Int) -> String { "{\"exponent\":0,\"mantissa\":\(v)}" }
            let json = """
                {"template_id":7,"template":"ExecutionReport","fields":{"MsgType":"8","SenderCompID":"FASTV",\
                "TargetCompID":"BRKR","Account":"ACC1","ClOrdID":"A","OrderID":"O1","ExecID":"\(exec)",\
                "ExecType":"\(type)","OrdStatus":"\(status)","Symbol":"MSFT","Side":"1","OrderQty":\(dec(100)),\
                "LastQty":\(last.map(dec) ?? "null"),"LastPx":\(last == nil ? "null" : dec(400)),\
                "LeavesQty":\(dec(leaves)),"CumQty":\(dec(cum)),"AvgPx":\(dec(cum == 0 ? 0 : 400)),\
                "TransactTime":"20240315-10:00:00.000"}}
                """
            try encoder.encode(try FASTRecord(jsonText: json, templates: templates), into: &stream)
        }
        try report("E1", "0", "0", last: nil, leaves: 100, cum: 0)
        try report("E2", "F", "1", last: 30, leaves: 70, cum: 30)
        try report("E3", "F", "2", last: 70, leaves: 0, cum: 100)
        try Data(stream).write(to: URL(fileURLWithPath: dir.file("feed.fast")))
        try Data("fix_account,client_account\nACC1,CLIENT1\n".utf8).write(to: URL(fileURLWithPath: dir.file("a.csv")))
        let db = "sqlite:" + dir.file("book.sqlite")
        let result = try await replay(["--db", db, "--accounts", dir.file("a.csv"), "--templates", dir.file("t.xml"),
                                       dir.file("feed.fast")])
        #expect(result.summary.reports == 3 && result.summary.fillsBooked == 2)
        let store = BookStore(backend: try await StoreLocation(dir.file("book.sqlite")).open())
        let positions = try await store.positions(BookFilter())
        #expect(positions.count == 1 && positions.first?.quantity == FIXDecimal("100"))
        try await store.backend.close()
        // A damaged stream is reported as a bad stretch; what came before it is booked.
        try Data(stream.prefix(stream.count - 3)).write(to: URL(fileURLWithPath: dir.file("cut.fast")))
        let cut = try await replay(["--db", "sqlite:" + dir.file("cut.sqlite"), "--templates", dir.file("t.xml"),
                                    dir.file("cut.fast")])
        #expect(cut.summary.badStretches == 1 && cut.summary.reports == 2)

        // The file is read in chunks with a look-ahead: tiny chunks give the same messages at
        // the same offsets as one read of the whole file.
        func decoded(chunk: Int, lookahead: Int) async throws -> [String] {
            let input = try ReplayCommand.fastInput(dir.file("feed.fast"), templates: templates, framing: .none,
                                                    rereadable: true, chunkBytes: chunk, lookahead: lookahead)
            var out: [String] = []
            try await input.read(0, { event in
                if case .message(let m) = event { out.append("\(m.offset) \(String(decoding: m.bytes, as: UTF8.self))") }
            }, { _ in })
            return out
        }
        let whole = try await decoded(chunk: 1 << 20, lookahead: 1 << 20)
        #expect(whole.count == 3)
        #expect(try await decoded(chunk: 1, lookahead: stream.count / 2) == whole)
    }

    @Test func speedKeepsTheCapturedSpacingScaled() {
        var pacer = ReplayPacer(speed: .factor(10))
        let t0 = FIXTimestamp(nanosecondsSinceEpoch: 1_710_496_800_000_000_000)
        #expect(pacer.delay(for: t0) == nil)
        let wait = pacer.delay(for: FIXTimestamp(nanosecondsSinceEpoch: t0.nanosecondsSinceEpoch + 10_000_000_000))
        #expect(wait.map { $0 > .milliseconds(900) && $0 <= .seconds(1) } == true)
        // Out of order (earlier than the first message) and no time at all: sent at once.
        #expect(pacer.delay(for: FIXTimestamp(nanosecondsSinceEpoch: t0.nanosecondsSinceEpoch - 1)) == nil)
        #expect(pacer.delay(for: nil) == nil)
        var fast = ReplayPacer(speed: .max)
        #expect(fast.delay(for: t0) == nil)
        #expect(ReplaySpeed(argument: "10x") == .factor(10) && ReplaySpeed(argument: "max") == .max)
        #expect(ReplaySpeed(argument: "0x") == nil && ReplaySpeed(argument: "fast") == nil)
    }

    /// The real binary, stopped by SIGTERM after its first committed batch, then run again: the
    /// book ends the same as after one uninterrupted replay.
    @Test func sigtermMidReplayThenRestartEndsInTheSameBook() async throws {
        let binary = SharedData.project(".build/debug/fixbridge").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            Issue.record("\(binary) is missing: build it first (swift build --build-tests builds it)")
            return
        }
        let dir = try TemporaryDirectory(prefix: "fixbridge-replay-sigterm")
        // Large enough (about 16 chunks of 1 MiB) that the replay is still running when the
        // signal arrives, however fast the machine.
        let capture = dir.file("corpus.fix")
        let generate = Process()
        generate.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        generate.arguments = ["python3", SharedData.shared("bench/gen_fix_corpus.py").path, "--count", "40000",
                              "--seed", "11", "--version", "4.4", "-o", capture]
        try generate.run()
        generate.waitUntilExit()
        #expect(generate.terminationStatus == 0)

        func run(_ db: String, signalAfterFirstCommit: Bool) async throws -> Int32 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: binary)
            p.arguments = ["replay", "--quiet", "--batch", "500", "--db", "sqlite:" + db, capture]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            if signalAfterFirstCommit {
                // Wait for the first committed batch (its resume offset, read without touching the
                // schema), then SIGTERM.
                while p.isRunning, try committedOffset(db) == 0 {
                    try await Task.sleep(for: .milliseconds(20))
                }
                kill(p.processIdentifier, SIGTERM)
            }
            while p.isRunning { try await Task.sleep(for: .milliseconds(20)) }
            return p.terminationStatus
        }
        /// The committed offset, read by Python's sqlite3 in read-only mode (opening the database
        /// through the store would migrate it under the running replay).
        func committedOffset(_ db: String) throws -> Int {
            guard FileManager.default.fileExists(atPath: db) else { return 0 }
            let q = Process()
            q.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            q.arguments = ["python3", "-c", """
                import sqlite3, sys
                try:
                    c = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True, timeout=5)
                    print(c.execute('SELECT COALESCE(MAX(committed_offset), 0) FROM load_progress').fetchone()[0])
                except sqlite3.Error:
                    print(0)
                """, db]
            let pipe = Pipe()
            q.standardOutput = pipe
            try q.run()
            q.waitUntilExit()
            let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            return Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
        let whole = dir.file("whole.sqlite")
        let parts = dir.file("parts.sqlite")
        #expect(try await run(whole, signalAfterFirstCommit: false) == 0)
        let stopped = try await run(parts, signalAfterFirstCommit: true)
        #expect(stopped == 130, "the first run should have been stopped mid-replay")
        let partial = BookStore(backend: try await StoreLocation(parts).open())
        let partialFills = try await partial.fills(BookFilter()).count
        try await partial.backend.close()
        #expect(try await run(parts, signalAfterFirstCommit: false) == 0)

        let a = BookStore(backend: try await StoreLocation(whole).open())
        let b = BookStore(backend: try await StoreLocation(parts).open())
        let fillsA = try await a.fills(BookFilter())
        let fillsB = try await b.fills(BookFilter())
        #expect(partialFills > 0 && partialFills < fillsA.count)
        #expect(fillsA.count == fillsB.count)
        #expect(fillsA.map(\.execID).sorted() == fillsB.map(\.execID).sorted())
        #expect(try await a.orders(BookFilter()).map(\.status) == (try await b.orders(BookFilter()).map(\.status)))
        #expect(try await a.positions(BookFilter()) == (try await b.positions(BookFilter())))
        #expect(try await a.cash(BookFilter()) == (try await b.cash(BookFilter())))
        #expect(try await a.exceptions(BookFilter()).count == (try await b.exceptions(BookFilter()).count))
        try await a.backend.close()
        try await b.backend.close()
    }

    /// Orders from a capture, replayed at full speed into a session with the simulated venue on
    /// loopback: each is acknowledged and filled.
    @Test func replaysApplicationMessagesIntoALiveSession() async throws {
        let dir = try TemporaryDirectory(prefix: "fixbridge-replay-session")
        let venue = VenueSimulator(venueID: "SIMX", fillsPerOrder: 1)
        let config = FIXSessionConfiguration(id: FIXSessionID(beginString: "FIX.4.4", senderCompID: "SIMX", targetCompID: "BRKR"),
                                             connectionType: .acceptor)
        let runtime = FIXSessionRuntime(session: FIXSession(configuration: config), store: InMemoryMessageStore(),
                                        application: venue)
        let group = MultiThreadedEventLoopGroup.singleton
        let server = try await FIXAcceptor(sessions: [runtime]).bind(host: "127.0.0.1", port: 0, group: group)
        let port = server.localAddress!.port!
        try Data("""
            [DEFAULT]
            ConnectionType=initiator
            SocketConnectHost=127.0.0.1
            SocketConnectPort=\(port)
            HeartBtInt=30
            ReconnectInterval=1
            NonStopSession=Y
            [SESSION]
            BeginString=FIX.4.4
            SenderCompID=BRKR
            TargetCompID=SIMX
            """.utf8).write(to: URL(fileURLWithPath: dir.file("broker.cfg")))
        var capture: [UInt8] = []
        for i in 1...3 {
            capture += TestMessages.make("8=FIX.4.4|35=D|49=BRKR|56=SIMX|34=\(i)|52=20240315-10:00:0\(i).000|11=R\(i)|1=ACC1|"
                                         + "55=MSFT|54=1|38=10|40=2|44=400|60=20240315-10:00:0\(i).000|") + [10]
            capture += TestMessages.make("8=FIX.4.4|35=0|49=BRKR|56=SIMX|34=\(i + 10)|52=20240315-10:00:0\(i).500|") + [10]
        }
        try Data(capture).write(to: URL(fileURLWithPath: dir.file("orders.fix")))
        let command = try ReplayCommand.parseAsRoot(["--into-session", dir.file("broker.cfg"), "--speed", "max",
                                                     "--linger", "1.5", dir.file("orders.fix")]) as! ReplayCommand
        let result = try await command.replayIntoSession(dir.file("broker.cfg"))
        try await server.close()
        #expect(result.sent == ["D": 3])
        #expect(result.received["8"] == 6)  // an acknowledgement and a fill per order
    }
}
