import BackOfficeStore
import FIXSession
import FIXSessionTestSupport
import FIXTagValue
import FIXTestSupport
import FIXTransport
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
import TradeBook

@testable import FIXBridgeCommands

/// `fixbridge run`: a real session on loopback feeding the book, the metrics endpoint over HTTP,
/// a graceful stop, and a restart that books what the log holds and nothing twice.
@Suite struct RunCommandTests {
    /// GET over loopback with Python's standard library (a client independent of the server's code).
    func httpGet(_ url: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())", url]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    func report(_ runtime: FIXSessionRuntime, exec: String, type: Character, status: Character, last: Int, cum: Int) {
        runtime.send(msgType: "8") { body in
            body.append(1, "ACC1")
            body.append(6, cum == 0 ? "0" : "250")
            body.append(11, "C1")
            body.append(14, cum)
            body.append(15, "USD")
            body.append(17, exec)
            if last > 0 {
                body.append(31, "250")
                body.append(32, last)
            }
            body.append(37, "V-1")
            body.append(38, 100)
            body.append(39, char: UInt8(ascii: String(status).unicodeScalars.first!))
            body.append(54, char: UInt8(ascii: "1"))
            body.append(55, "MSFT")
            body.append(60, WallClock.now().with(precision: .milliseconds))
            body.append(150, char: UInt8(ascii: String(type).unicodeScalars.first!))
            body.append(151, 100 - cum)
        }
    }

    @Test func booksWhatTheSessionReceivesServesMetricsAndStopsGracefully() async throws {
        let dir = try TemporaryDirectory(prefix: "fixbridge-run")
        let config = FIXSessionConfiguration(id: FIXSessionID(beginString: "FIX.4.4", senderCompID: "SIMX", targetCompID: "BRKR"),
                                             connectionType: .acceptor)
        let venue = FIXSessionRuntime(session: FIXSession(configuration: config), store: InMemoryMessageStore(),
                                      application: VenueSimulator(venueID: "SIMX", fillsPerOrder: 1))
        let server = try await FIXAcceptor(sessions: [venue]).bind(host: "127.0.0.1", port: 0,
                                                                    group: MultiThreadedEventLoopGroup.singleton)
        try Data("fix_account,client_account\nACC1,CLIENT1\n".utf8).write(to: URL(fileURLWithPath: dir.file("a.csv")))
        let db = dir.file("backoffice.sqlite")
        let setup = try await StoreLocation(db).open()
        try await BookStore(backend: setup).setAccounts([("ACC1", "CLIENT1")])
        try await setup.close()
        try Data("""
            [DEFAULT]
            ConnectionType=initiator
            SocketConnectHost=127.0.0.1
            SocketConnectPort=\(server.localAddress!.port!)
            HeartBtInt=30
            ReconnectInterval=1
            NonStopSession=Y
            FileStorePath=\(dir.file("store"))
            FileLogPath=\(dir.file("log"))
            BackOfficeDB=sqlite:\(db)
            MetricsPort=0
            [SESSION]
            BeginString=FIX.4.4
            SenderCompID=BRKR
            TargetCompID=SIMX
            """.utf8).write(to: URL(fileURLWithPath: dir.file("run.cfg")))
        let command = try RunCommand.parseAsRoot(["--config", dir.file("run.cfg"), "--book-interval-ms", "100"]) as! RunCommand

        let stop = NIOLockedValueBox(false)
        let daemon = try RunDaemon(command: command)
        let running = Task { try await daemon.run(stop: { stop.withLockedValue { $0 } }) }
        let deadline = ContinuousClock.now + .seconds(20)
        while !venue.isLoggedOn || daemon.metricsPort == nil {
            #expect(ContinuousClock.now < deadline, "the daemon did not log on")
            if ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        report(venue, exec: "X1", type: "0", status: "0", last: 0, cum: 0)
        report(venue, exec: "X2", type: "F", status: "1", last: 40, cum: 40)
        report(venue, exec: "X3", type: "F", status: "2", last: 60, cum: 100)

        var metrics = ""
        while ContinuousClock.now < deadline {
            metrics = try httpGet("http://127.0.0.1:\(daemon.metricsPort!)/metrics")
            if metrics.contains("fixbridge_fills_booked_total 2") { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(metrics.contains("fixbridge_fills_booked_total 2"))
        #expect(metrics.contains("fixbridge_session_up{session=\"FIX.4.4:BRKR->SIMX\"} 1"))
        #expect(metrics.contains("fixbridge_messages_total{session=\"FIX.4.4:BRKR->SIMX\",direction=\"in\"}"))
        #expect(metrics.contains("fixbridge_outbox_depth"))
        #expect(try httpGet("http://127.0.0.1:\(daemon.metricsPort!)/other").isEmpty)  // 404: urllib raises

        stop.withLockedValue { $0 = true }
        let summary = try await running.value
        #expect(summary.fillsBooked == 2 && summary.reports == 3)
        #expect(!venue.isLoggedOn)  // logged out on the way down

        // Received while the daemon was down (or before a crash let it commit): the log holds a
        // report the book does not. A restart books it, and nothing twice.
        let log = try FileManager.default.contentsOfDirectory(atPath: dir.file("log")).first { $0.hasSuffix("messages.current.log") }!
        let late = TestMessages.make("8=FIX.4.4|35=8|49=SIMX|56=BRKR|34=99|52=20240315-10:00:00.000|1=ACC1|6=250|11=C2|14=10|"
                                     + "15=USD|17=X9|31=250|32=10|37=V-2|38=10|39=2|54=1|55=MSFT|60=20240315-10:00:00.000|150=F|151=0|")
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dir.file("log/" + log)))
        handle.seekToEndOfFile()
        handle.write(Data("20240315-10:00:00.000 : ".utf8) + Data(late) + Data("\n".utf8))
        try handle.close()
        stop.withLockedValue { $0 = false }
        let again = try RunDaemon(command: command)
        let rerun = Task { try await again.run(stop: { stop.withLockedValue { $0 } }) }
        try await Task.sleep(for: .milliseconds(500))
        stop.withLockedValue { $0 = true }
        let second = try await rerun.value
        #expect(second.fillsBooked == 1)

        let store = BookStore(backend: try await StoreLocation(db).open())
        let fills = try await store.fills(BookFilter())
        #expect(fills.map(\.execID).sorted() == ["X2", "X3", "X9"])
        #expect(try await store.positions(BookFilter()).first?.quantity == FIXDecimal("110"))
        try await store.backend.close()
        try await server.close()
    }

    @Test func refusesASessionWithoutAMessageLog() throws {
        let dir = try TemporaryDirectory(prefix: "fixbridge-run")
        try Data("""
            [DEFAULT]
            ConnectionType=initiator
            SocketConnectHost=127.0.0.1
            SocketConnectPort=1
            HeartBtInt=30
            NonStopSession=Y
            [SESSION]
            BeginString=FIX.4.4
            SenderCompID=BRKR
            TargetCompID=SIMX
            """.utf8).write(to: URL(fileURLWithPath: dir.file("run.cfg")))
        let command = try RunCommand.parseAsRoot(["--config", dir.file("run.cfg")]) as! RunCommand
        #expect(throws: (any Error).self) { try RunDaemon(command: command) }
    }
}
