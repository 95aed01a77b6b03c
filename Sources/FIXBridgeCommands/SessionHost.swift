#if canImport(Glibc)
import Glibc
#endif
import FIXDictionary
import FIXSession
import FIXSessionFileStore
import FIXTagValue
import FIXTransport
import NIOCore
import NIOPosix

/// One session read from a settings file, with what its edges need: where to connect or
/// listen, where to keep its store and logs, and how to validate.
public struct ConfiguredSession: Sendable {
    public var configuration: FIXSessionConfiguration
    public var connectEndpoints: [(host: String, port: Int)] = []
    public var acceptHost: String = "0.0.0.0"
    public var acceptPort: Int?
    public var reconnectIntervalSeconds = 30
    public var storePath: String?
    public var logPath: String?
    public var validate = true
    public var dataDictionary: String?
    public var transportDataDictionary: String?
    public var appDataDictionary: String?
    public var validationOptions = FIXValidationOptions()
    public var allowedAddresses: Set<String>?

    public init(configuration: FIXSessionConfiguration) {
        self.configuration = configuration
    }
}

/// Builds running sessions (store, logs, validator, transport) from configured ones. Shared by
/// `fixbridge session` and `fixbridge venue`.
struct SessionHost {
    let group: EventLoopGroup
    let eventLog: @Sendable (String) -> Void

    /// Loads a dictionary file, or the shipped one for the session's version.
    static func dictionary(_ path: String?, fallback file: String) throws -> FIXDictionary {
        if let path { return try FIXDictionary(contentsOfFile: path) }
        for folder in SpecsLocator.dictionaryFolders() {
            let candidate = folder + "/" + file
            if access(candidate, R_OK) == 0 { return try FIXDictionary(contentsOfFile: candidate) }
        }
        throw CommandError("no dictionary \(file) found; set DataDictionary in the settings or FIXBRIDGE_SPECS")
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

    func makeRuntime(_ setup: ConfiguredSession, application: FIXApplication) throws -> FIXSessionRuntime {
        let config = setup.configuration
        var validator: FIXValidator?
        if setup.validate {
            let id = config.id
            if id.beginString == "FIXT.1.1" {
                let transport = try Self.dictionary(setup.transportDataDictionary, fallback: "FIXT11.xml")
                let app = try Self.dictionary(setup.appDataDictionary ?? setup.dataDictionary,
                                              fallback: Self.standardFile(beginString: id.beginString, applVerID: config.defaultApplVerID))
                validator = FIXValidator(transport: transport, application: app, options: setup.validationOptions)
            } else {
                let dictionary = try Self.dictionary(setup.dataDictionary,
                                                     fallback: Self.standardFile(beginString: id.beginString, applVerID: nil))
                validator = FIXValidator(dictionary: dictionary, options: setup.validationOptions)
            }
        }
        let store: MessageStore
        if let path = setup.storePath {
            store = try FileMessageStore(directory: path, sessionID: config.id)
        } else {
            store = InMemoryMessageStore(creationTime: WallClock.now())
        }
        let log = try setup.logPath.map { try FileMessageLog(directory: $0, sessionID: config.id) }
        let events = eventLog
        let session = FIXSession(configuration: config, validator: validator,
                                 nextSenderSequence: store.nextSenderSequence, nextTargetSequence: store.nextTargetSequence)
        return FIXSessionRuntime(
            session: session, store: store, application: application,
            eventLog: { line in
                events(line)
                log?.event(line, at: WallClock.now())
            },
            messageLog: { direction, bytes in
                if direction == "in" { log?.incoming(bytes, at: WallClock.now()) } else { log?.outgoing(bytes, at: WallClock.now()) }
            })
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

/// Where the shipped specifications are: `FIXBRIDGE_SPECS`, then `Specs/` in the working
/// directory, then `Specs/` beside the executable's package.
enum SpecsLocator {
    static func dictionaryFolders() -> [String] {
        var folders: [String] = []
        if let env = getenv("FIXBRIDGE_SPECS") { folders.append(String(cString: env) + "/dictionaries") }
        folders.append("Specs/dictionaries")
        var path = CommandLine.arguments.first ?? ""
        for _ in 0..<4 {
            path = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
            if path.isEmpty { break }
            folders.append(path + "/Specs/dictionaries")
        }
        return folders
    }
}

/// SIGINT / SIGTERM as a flag the commands poll (no work in the signal handler itself).
enum StopSignal {
    nonisolated(unsafe) static var received: sig_atomic_t = 0

    static func install() {
        signal(SIGINT) { _ in StopSignal.received = 1 }
        signal(SIGTERM) { _ in StopSignal.received = 1 }
    }
}
