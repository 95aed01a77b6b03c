import ArgumentParser
import Foundation
import FIXSession
import FIXTransport
import NIOCore
import NIOPosix

/// `fixbridge venue --config FILE`: a simulated venue serving the acceptor sessions of a
/// settings file with `VenueSimulator` (acknowledgements, partial fills, fills, cancels,
/// replaces, rejects, and trade corrections or busts on request). Runs until SIGINT/SIGTERM.
public struct VenueCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "venue",
        abstract: "Run a simulated venue that answers orders with realistic execution reports.",
        discussion: "`fixbridge venue record` records a scripted trading day instead (see its --help).",
        subcommands: [VenueRecordCommand.self])

    @Option(name: .long, help: "Settings file with acceptor sessions (SocketAcceptPort).")
    var config: String?

    @Option(name: .long, help: "Executions per order: partial fills, the last one completing it.")
    var fillsPerOrder: Int = 2

    @Option(name: .long, help: "Venue identifier used in OrderID and ExecID.")
    var venueID: String = "SIMX"

    @Flag(name: .long, help: "Print every order and execution report.")
    var verbose = false

    public init() {}

    public func validate() throws {
        guard fillsPerOrder >= 1 else { throw ValidationError("--fills-per-order must be at least 1") }
    }

    public func run() async throws {
        guard let config else { throw ValidationError("give --config FILE (or use `fixbridge venue record`)") }
        let sessions = try SessionSettingsFile.load(config)
        StopSignal.install()
        let verbose = self.verbose
        let simulator = VenueSimulator(venueID: venueID, fillsPerOrder: fillsPerOrder, messageEvents: verbose) { line in
            if verbose || line.hasPrefix("LOGON") || line.hasPrefix("LOGOUT") { printLine(line) }
        }
        let group = MultiThreadedEventLoopGroup.singleton
        let host = SessionHost(group: group, eventLog: { line in if verbose { printLine(line) } })
        var runtimes: [(QuickFIXSettings.Session, FIXSessionRuntime)] = []
        for setup in sessions {
            guard setup.configuration.connectionType == .acceptor else {
                throw CommandError("\(setup.configuration.id): the venue serves acceptor sessions only")
            }
            runtimes.append((setup, try host.makeRuntime(setup, application: simulator)))
        }
        let servers = try await startAcceptors(runtimes, group: group)
        while StopSignal.received == 0 {
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        for (_, runtime) in runtimes { runtime.logout(text: "venue closing") }
        await waitUntilDisconnected(runtimes.map(\.1), seconds: sessions.map(\.configuration.logoutTimeoutSeconds).max() ?? 2)
        for server in servers { try? await server.close() }
    }
}

/// `fixbridge venue record --scenario FILE --out DIR`: records a trading day from a scenario:
/// the venue and the broker's order and drop-copy sessions over loopback TCP on a virtual clock,
/// so that the same scenario gives the same bytes on every run.
public struct VenueRecordCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record a scripted trading day: venue and broker sessions on loopback, on a virtual clock.",
        discussion: """
            Runs the scenario's venue (acceptor) and the broker's initiators (the order session and, \
            with a `drop-copy` line, the drop-copy session) with the real session engine, file store \
            and file log, over loopback TCP. Time is the scenario's: it moves from one event to the \
            next, and the sessions' heartbeats fall due on the way. Writes in --out the broker's logs \
            of the order session (venue-BROKER.fix) and of the drop copy (dropcopy-VENUE.fix), one \
            message per line, and the venue's end-of-day statement (statement-clearing.csv). The \
            scenario format is described in the README ("Recording a trading day").
            """)

    @Option(name: .long, help: "The scenario file.")
    var scenario: String

    @Option(name: .long, help: "Where the day's files are written (created when missing).")
    var out: String

    @Option(name: .long, help: ArgumentHelp(
        "Keep the sessions' stores and QuickFIX-layout logs here (must not exist); default: a temporary directory."))
    var work: String?

    @Flag(name: .long, help: "Print the sessions' events.")
    var verbose = false

    public init() {}

    public func run() async throws {
        let summary = try await record()
        print(summary.text)
    }

    func record() async throws -> DayRecorder.Summary {
        guard let data = FileManager.default.contents(atPath: scenario) else {
            throw CommandError("\(scenario): cannot read the scenario")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw CommandError("\(scenario): not UTF-8 text") }
        let parsed: DayScenario
        do {
            parsed = try DayScenario(text: text, file: scenario)
        } catch let error as DayScenario.ParseError {
            throw CommandError(error.description)
        }
        let workDirectory: String
        var temporary = false
        if let work {
            guard !FileManager.default.fileExists(atPath: work) else {
                throw CommandError("\(work) exists: give a new directory for the sessions' stores")
            }
            workDirectory = work
        } else {
            workDirectory = NSTemporaryDirectory() + "fixbridge-record-" + UUID().uuidString
            temporary = true
        }
        defer { if temporary { try? FileManager.default.removeItem(atPath: workDirectory) } }
        let verbose = self.verbose
        let recorder = DayRecorder(scenario: parsed, outDirectory: out, workDirectory: workDirectory,
                                   log: { line in if verbose { printLine(line) } })
        return try await recorder.run()
    }
}

extension VenueRecordCommand: AsyncRunnableCommand {
    public mutating func runAsync() async throws { try await run() }
}
