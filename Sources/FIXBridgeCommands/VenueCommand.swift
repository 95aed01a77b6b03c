import ArgumentParser
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
        abstract: "Run a simulated venue that answers orders with realistic execution reports.")

    @Option(name: .long, help: "Settings file with acceptor sessions (SocketAcceptPort).")
    var config: String

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
