#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import FIXSession
import FIXTagValue
import FIXTransport
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// `fixbridge session --config FILE`: runs the sessions of a QuickFIX-style settings file
/// (initiators connect and reconnect, acceptors listen) and logs what happens until SIGINT or
/// SIGTERM, when every session logs out. `--orders N` sends N test orders after the first
/// logon and exits once each is filled (interoperability checks and demos).
public struct SessionCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "session",
        abstract: "Run the FIX sessions of a QuickFIX-style settings file.")

    @Option(name: .long, help: "Settings file ([DEFAULT] and [SESSION] sections, QuickFIX keys).")
    var config: String

    @Option(name: .long, help: "Send this many NewOrderSingles after logon, wait for their fills, then log out and exit.")
    var orders: Int?

    @Option(name: .long, help: "Seconds to wait for --orders to complete.")
    var timeout: Int = 60

    @Option(name: .long, help: "Orders in flight at once with --orders (1 measures round-trip latency).")
    var window: Int = 1_000_000

    @Flag(name: .long, help: "Print every message in and out.")
    var verbose = false

    public init() {}

    public func run() async throws {
        let sessions = try SessionSettingsFile.load(config)
        StopSignal.install()
        let group = MultiThreadedEventLoopGroup.singleton
        let verbose = self.verbose
        let host = SessionHost(group: group, eventLog: { line in
            if verbose || line.contains("logged") || line.contains("disconnect") || line.contains("gap") { printLine(line) }
        })
        let sender = orders.map { OrderSender(count: $0, window: max(1, window)) }
        var initiators: [FIXInitiator] = []
        var acceptorRuntimes: [(QuickFIXSettings.Session, FIXSessionRuntime)] = []
        for setup in sessions {
            let application: FIXApplication = sender ?? LoggingApplication(verbose: verbose)
            let runtime = try host.makeRuntime(setup, application: application)
            if setup.configuration.connectionType == .initiator {
                let initiator = try SessionHost.makeInitiator(setup, runtime: runtime)
                initiator.start(group: group)
                initiators.append(initiator)
            } else {
                acceptorRuntimes.append((setup, runtime))
            }
        }
        let servers = try await startAcceptors(acceptorRuntimes, group: group)
        let deadline = WallClock.now().nanosecondsSinceEpoch + Int64(timeout) * 1_000_000_000
        var exitCode: Int32 = 0
        while StopSignal.received == 0 {
            if let sender {
                if sender.isComplete {
                    printLine("DONE orders=\(sender.count) fills=\(sender.filledCount)")
                    printLine(sender.summary())
                    break
                }
                if WallClock.now().nanosecondsSinceEpoch > deadline {
                    printLine("TIMEOUT orders=\(sender.count) sent=\(sender.sentCount) fills=\(sender.filledCount)")
                    exitCode = 1
                    break
                }
            }
            // The last fill wakes the command at once; otherwise it looks at the stop signal and
            // the deadline ten times a second (no polling beside the sessions' event loops).
            if let sender {
                await sender.waitForCompletion(upTo: .milliseconds(100))
            } else {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        for initiator in initiators { initiator.stop() }
        for (_, runtime) in acceptorRuntimes { runtime.logout() }
        await waitUntilDisconnected(initiators.map(\.runtime) + acceptorRuntimes.map(\.1),
                                    seconds: sessions.map(\.configuration.logoutTimeoutSeconds).max() ?? 2)
        for server in servers { try? await server.close() }
        if exitCode != 0 { throw ExitCode(exitCode) }
    }
}

/// Starts one listener per distinct accept port, serving every acceptor session on it.
func startAcceptors(_ sessions: [(QuickFIXSettings.Session, FIXSessionRuntime)], group: EventLoopGroup) async throws -> [Channel] {
    var byPort: [Int: [(QuickFIXSettings.Session, FIXSessionRuntime)]] = [:]
    for entry in sessions {
        guard let port = entry.0.endpoint.acceptPort else {
            throw CommandError("\(entry.1.id): acceptor without SocketAcceptPort")
        }
        byPort[port, default: []].append(entry)
    }
    var servers: [Channel] = []
    for (port, entries) in byPort.sorted(by: { $0.key < $1.key }) {
        let allowed = entries.compactMap(\.0.endpoint.allowedRemoteAddresses).reduce(into: Set<String>()) { $0.formUnion($1) }
        let acceptor = FIXAcceptor(sessions: entries.map(\.1), allowedAddresses: allowed.isEmpty ? nil : allowed,
                                   eventLog: { printLine($0) })
        let host = entries[0].0.endpoint.acceptAddress ?? "0.0.0.0"
        let server = try await acceptor.bind(host: host, port: port, group: group,
                                             tls: try tlsConfiguration(entries[0].0, server: true))
        printLine("listening on \(host):\(port) for \(entries.map { "\($0.1.id)" }.joined(separator: ", "))")
        servers.append(server)
    }
    return servers
}

/// TLS from the session's SSL settings, or nil when it has none.
func tlsConfiguration(_ setup: QuickFIXSettings.Session, server: Bool) throws -> FIXTLSConfiguration? {
    guard let tls = setup.endpoint.tls else { return nil }
    let verify = (tls.verifyLevel ?? 1) > 0
    if server {
        guard let certificate = tls.serverCertificateFile, let key = tls.serverCertificateKeyFile else {
            throw CommandError("\(setup.configuration.id): TLS acceptor needs ServerCertificateFile and ServerCertificateKeyFile")
        }
        return try FIXTLSConfiguration.server(certificateChainFile: certificate, privateKeyFile: key,
                                              trustRootsFile: tls.certificateAuthoritiesFile,
                                              requireClientCertificate: verify && tls.certificateAuthoritiesFile != nil)
    }
    return try FIXTLSConfiguration.client(trustRootsFile: tls.certificateAuthoritiesFile,
                                          certificateChainFile: tls.clientCertificateFile,
                                          privateKeyFile: tls.clientCertificateKeyFile, verifyHostname: verify)
}

/// Prints a line to standard output at once (logs interleave with other processes in tests).
func printLine(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
}

/// Logs application messages as they arrive.
final class LoggingApplication: FIXApplication, @unchecked Sendable {
    let verbose: Bool
    init(verbose: Bool) { self.verbose = verbose }
    func onLogon(_ session: FIXSessionRuntime) { printLine("LOGON \(session.id)") }
    func onLogout(_ session: FIXSessionRuntime) { printLine("LOGOUT \(session.id)") }
    func fromApp(_ message: [UInt8], session: FIXSessionRuntime) {
        printLine("\(session.id) in: " + String(decoding: message.map { $0 == 1 ? UInt8(ascii: "|") : $0 }, as: UTF8.self))
    }
}

/// Sends N test orders after the first logon, at most `window` unfilled at a time, and
/// measures each order's round trip to its fill.
final class OrderSender: FIXApplication, @unchecked Sendable {
    let count: Int
    let window: Int
    private let lock = NIOLock()
    private var started = false
    private var sent = 0
    private var filled: Set<String> = []
    private var sentAt: [Int64] = []
    private var roundTrips: [Int64] = []
    private var firstSent: Int64 = 0
    private var lastFilled: Int64 = 0

    init(count: Int, window: Int) {
        self.count = count
        self.window = window
        sentAt = [Int64](repeating: 0, count: count + 1)
    }

    var isComplete: Bool { lock.withLock { filled.count >= count } }

    /// The sleep of `waitForCompletion`, cut short by the fill that completes the orders.
    private var sleeper: Task<Void, Never>?  // guarded by lock

    /// Returns when every order is filled, or after `limit` at the latest.
    func waitForCompletion(upTo limit: Duration) async {
        let sleep = Task<Void, Never> { _ = try? await Task.sleep(for: limit) }
        let done: Bool = lock.withLock {
            if filled.count >= count { return true }
            sleeper = sleep
            return false
        }
        if done { sleep.cancel() }
        await sleep.value
        lock.withLock { sleeper = nil }
    }

    var filledCount: Int { lock.withLock { filled.count } }
    var sentCount: Int { lock.withLock { sent } }

    /// Round-trip percentiles and sustained rate, one line.
    func summary() -> String {
        lock.withLock {
            let sorted = roundTrips.sorted()
            func percentile(_ p: Double) -> Double {
                sorted.isEmpty ? 0 : Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) / 1000
            }
            let seconds = Double(max(1, lastFilled - firstSent)) / 1e9
            return "round trip order->fill: p50 \(Int(percentile(0.5))) us, p99 \(Int(percentile(0.99))) us; "
                + "\(Int(Double(filled.count) / seconds)) orders filled/s"
        }
    }

    func onLogon(_ session: FIXSessionRuntime) {
        printLine("LOGON \(session.id)")
        let first = lock.withLock { () -> Bool in
            defer { started = true }
            return !started
        }
        guard first else { return }
        sendNext(session, upTo: min(window, count))
    }

    /// Sends orders while fewer than `window` are unfilled.
    private func sendNext(_ session: FIXSessionRuntime, upTo limit: Int) {
        while true {
            let next: Int? = lock.withLock {
                guard sent < count, sent - filled.count < window else { return nil }
                sent += 1
                let now = WallClock.now().nanosecondsSinceEpoch
                if sent == 1 { firstSent = now }
                sentAt[sent] = now
                return sent
            }
            guard let i = next else { return }
            session.send(msgType: "D") { body in
                body.append(11, "FB-\(i)")
                body.append(21, char: UInt8(ascii: "1"))
                body.append(38, 100)
                body.append(40, char: UInt8(ascii: "2"))
                body.append(44, FIXDecimal(mantissa: 10025, exponent: -2))
                body.append(54, char: UInt8(ascii: "1"))
                body.append(55, "MSFT")
                body.append(60, WallClock.now().with(precision: .milliseconds))
            }
        }
    }

    func onLogout(_ session: FIXSessionRuntime) { printLine("LOGOUT \(session.id)") }

    func fromApp(_ message: [UInt8], session: FIXSessionRuntime) {
        let done: Bool = message.withUnsafeBytes { raw in
            let view = FIXMessage(unchecked: raw, lenient: true)
            guard view.msgType?.equals("8") == true, view.first(39)?.char == UInt8(ascii: "2"),
                  let clOrdID = view.first(11)?.string else { return false }
            let now = WallClock.now().nanosecondsSinceEpoch
            return lock.withLock {
                guard filled.insert(clOrdID).inserted else { return false }
                if filled.count == count { sleeper?.cancel() }
                if let i = Int(clOrdID.dropFirst(3)), i > 0, i <= count { roundTrips.append(now - sentAt[i]) }
                lastFilled = now
                return true
            }
        }
        if done { sendNext(session, upTo: window) }
    }
}
