#if canImport(Glibc)
import Glibc
#endif
import FIXDictionary
import FIXSession
import FIXSessionFileStore
import FIXTagValue
import FIXTransport
import Foundation
import NIOCore
import NIOPosix

/// Reads a QuickFIX-style settings file; warnings (unknown keys) go to standard error.
enum SessionSettingsFile {
    static func load(_ path: String) throws -> [QuickFIXSettings.Session] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandError("\(path): cannot read the settings file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CommandError("\(path): the settings file is not UTF-8 text")
        }
        let settings = try QuickFIXSettings.parse(text, file: path)
        for warning in settings.warnings { warn("warning: \(warning)") }
        guard !settings.sessions.isEmpty else { throw CommandError("\(path): no [SESSION] section") }
        return settings.sessions
    }
}

/// Builds running sessions (store, logs, validator, transport) from configured ones. Shared by
/// `fixbridge session` and `fixbridge venue`.
struct SessionHost {
    let group: EventLoopGroup
    let eventLog: @Sendable (String) -> Void
    /// Told of every message in ("in") and out ("out") of each session (metrics).
    var messageObserver: (@Sendable (FIXSessionID, String) -> Void)? = nil
    /// The sessions' time: the real time, or a virtual clock for a recording.
    var clock: any FIXRuntimeClock = FIXSystemClock()

    /// Loads a dictionary file, or the shipped one for the session's version.
    static func dictionary(_ path: String?, fallback file: String) throws -> FIXDictionary {
        if let path { return try FIXDictionary(contentsOfFile: path) }
        guard let folder = DictionaryLocator.findDictionariesDirectory() else {
            throw CommandError("no dictionary \(file) found; set DataDictionary in the settings or FIXBRIDGE_SPECS")
        }
        return try FIXDictionary(contentsOfFile: folder + "/" + file)
    }

    /// The shipped dictionary file for a BeginString / DefaultApplVerID.
    static func standardFile(beginString: String, applVerID: String?) -> String {
        switch beginString {
        case "FIXT.1.1":
            switch applVerID {
            case "7": return "FIX50.xml"
            case "8": return "FIX50SP1.xml"
            default: return "FIX50SP2.xml"
            }
        default:
            return beginString.replacingDots() + ".xml"
        }
    }

    /// The initiator of an initiator session (failover addresses, reconnect interval, TLS); not
    /// started.
    static func makeInitiator(_ setup: QuickFIXSettings.Session, runtime: FIXSessionRuntime) throws -> FIXInitiator {
        guard !setup.endpoint.connectAddresses.isEmpty else {
            throw CommandError("\(setup.configuration.id): initiator without SocketConnectHost/SocketConnectPort")
        }
        return FIXInitiator(runtime: runtime, endpoints: setup.endpoint.connectAddresses.map { ($0.host, $0.port) },
                            reconnectIntervalSeconds: setup.endpoint.reconnectIntervalSeconds,
                            tls: try tlsConfiguration(setup, server: false))
    }

    func makeRuntime(_ setup: QuickFIXSettings.Session, application: FIXApplication) throws -> FIXSessionRuntime {
        try makeRuntimeAndStore(setup, application: application).runtime
    }

    /// The runtime and its file store (nil with the in-memory store), for a driver that must
    /// release the store's lock when it stops (a daemon restarted in the same process).
    func makeRuntimeAndStore(_ setup: QuickFIXSettings.Session, application: FIXApplication) throws
        -> (runtime: FIXSessionRuntime, fileStore: FileMessageStore?)
    {
        let config = setup.configuration
        let endpoint = setup.endpoint
        var validator: FIXValidator?
        if endpoint.useDataDictionary {
            var options = FIXValidationOptions()
            options.validateFieldsOutOfOrder = endpoint.validateFieldsOutOfOrder
            options.validateFieldsHaveValues = endpoint.validateFieldsHaveValues
            options.validateUserDefinedFields = endpoint.validateUserDefinedFields
            options.allowUnknownMsgFields = endpoint.allowUnknownMessageFields
            options.checkLatency = false  // the session checks SendingTime itself (CheckLatency/MaxLatency)
            let id = config.id
            if id.beginString == "FIXT.1.1" {
                let transport = try Self.dictionary(endpoint.transportDataDictionary, fallback: "FIXT11.xml")
                let app = try Self.dictionary(endpoint.appDataDictionary ?? endpoint.dataDictionary,
                                              fallback: Self.standardFile(beginString: id.beginString, applVerID: config.defaultApplVerID))
                validator = FIXValidator(transport: transport, application: app, options: options)
            } else {
                let dictionary = try Self.dictionary(endpoint.dataDictionary,
                                                     fallback: Self.standardFile(beginString: id.beginString, applVerID: nil))
                validator = FIXValidator(dictionary: dictionary, options: options)
            }
        }
        let store: MessageStore
        var fileStore: FileMessageStore?
        if let path = endpoint.fileStorePath {
            let opened = try FileMessageStore(directory: path, sessionID: config.id,
                                              sync: endpoint.fileStoreSync ? .everyMessage : .everyBatch,
                                              newStoreCreationTime: clock.now())
            fileStore = opened
            store = opened
        } else {
            store = InMemoryMessageStore(creationTime: clock.now())
        }
        let log = try endpoint.fileLogPath.map { try FileMessageLog(directory: $0, sessionID: config.id) }
        let events = eventLog
        let clock = self.clock
        var session = FIXSession(configuration: config, validator: validator,
                                 nextSenderSequence: store.nextSenderSequence, nextTargetSequence: store.nextTargetSequence,
                                 storeCreationTime: store.creationTime)
        // The schedule's time zone, resolved here at the edge (the core reads no time-zone data).
        if let identifier = config.schedule?.timeZoneIdentifier {
            guard let zone = identifier == "localtime" ? TimeZone.current : TimeZone(identifier: identifier) else {
                throw CommandError("\(config.id): unknown TimeZone \(identifier)")
            }
            session.utcOffset = { time in
                zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(time.nanosecondsSinceEpoch) / 1e9))
            }
        }
        let runtime = FIXSessionRuntime(
            session: session, store: store, application: application,
            eventLog: { line in
                events(line)
                log?.event(line, at: clock.now())
            },
            messageLog: { [messageObserver] direction, bytes in
                messageObserver?(config.id, direction)
                if direction == "in" { log?.incoming(bytes, at: clock.now()) } else { log?.outgoing(bytes, at: clock.now()) }
            },
            clock: clock)
        return (runtime, fileStore)
    }
}

extension String {
    /// "FIX.4.4" → "FIX44".
    func replacingDots() -> String { String(filter { $0 != "." }) }
}

/// An error from a command with a message for the operator.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// SIGINT / SIGTERM as a flag the commands poll (no work in the signal handler itself).
enum StopSignal {
    nonisolated(unsafe) static var received: sig_atomic_t = 0

    static func install() {
        signal(SIGINT) { _ in StopSignal.received = 1 }
        signal(SIGTERM) { _ in StopSignal.received = 1 }
    }
}

/// Waits until none of `runtimes` holds a connection any more (their logout handshakes are
/// done, or the counterparty hung up), for at most `seconds`. Stopping commands call it after
/// asking their sessions to log out, instead of sleeping a fixed time.
func waitUntilDisconnected(_ runtimes: [FIXSessionRuntime], seconds: Int) async {
    let deadline = ContinuousClock.now + .seconds(max(1, seconds))
    while ContinuousClock.now < deadline, runtimes.contains(where: \.isConnected) {
        try? await Task.sleep(for: .milliseconds(5))
    }
}
