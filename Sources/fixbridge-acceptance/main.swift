// The acceptor the FIX session acceptance suite talks to (see README "Session acceptance"):
// every session of the suite's configuration on one port, validating against the QuickFIX
// dictionaries, with the small echo application the suite expects.
//
//   swift run fixbridge-acceptance --port 54321 [--specs DIR] [--log FILE]
#if canImport(Glibc)
import Glibc
#endif
import FIXDictionary
import FIXSession
import FIXTagValue
import FIXTransport
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

func argument(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

func fail(_ text: String) -> Never {
    var line = text + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(2)
}

let port = Int(argument("--port") ?? "54321") ?? 54321
let specs: String = argument("--specs") ?? {
    for candidate in ["../shared/specs/quickfix", "Specs/dictionaries"] where access(candidate + "/FIX44.xml", R_OK) == 0 {
        return candidate
    }
    fail("no dictionaries found: pass --specs DIR (a folder with FIX40.xml … FIX50SP2.xml, FIXT11.xml)")
}()
/// Appends event lines to the `--log` file (QuickFIX's event log line layout).
final class EventLogFile: @unchecked Sendable {
    private let lock = NIOLock()
    private let fd: Int32

    init?(path: String) {
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        if fd < 0 { return nil }
    }

    func write(_ line: String) {
        var text = WallClock.now().description + " : " + line + "\n"
        lock.withLock { text.withUTF8 { _ = Glibc.write(fd, $0.baseAddress, $0.count) } }
    }
}

let logSink = argument("--log").flatMap { EventLogFile(path: $0) }
let eventLog: @Sendable (String) -> Void = { line in logSink?.write(line) }

func load(_ file: String) -> FIXDictionary {
    do {
        return try FIXDictionary(contentsOfFile: specs + "/" + file)
    } catch {
        fail("\(specs)/\(file): \(error)")
    }
}

/// The suite's sessions: BeginString, the runner's CompID, dictionary files, DefaultApplVerID.
let table: [(begin: String, target: String, app: String, transport: String?, applVer: String?)] = [
    ("FIX.4.0", "TW40", "FIX40.xml", nil, nil),
    ("FIX.4.1", "TW41", "FIX41.xml", nil, nil),
    ("FIX.4.2", "TW42", "FIX42.xml", nil, nil),
    ("FIX.4.3", "TW43", "FIX43.xml", nil, nil),
    ("FIX.4.4", "TW44", "FIX44.xml", nil, nil),
    ("FIXT.1.1", "TW50", "FIX50.xml", "FIXT11.xml", "7"),
    ("FIXT.1.1", "TW50SP1", "FIX50SP1.xml", "FIXT11.xml", "8"),
    ("FIXT.1.1", "TW50SP2", "FIX50SP2.xml", "FIXT11.xml", "9"),
    ("FIX.4.4", "TW", "FIX44.xml", nil, nil),
    ("FIX.4.4", "NO_CHECK_FIELDS_HAVE_VALUES", "FIX44.xml", nil, nil),
]

let dictionaryFiles = Set(table.map(\.app) + table.compactMap(\.transport))
let dictionaries = Dictionary(uniqueKeysWithValues: dictionaryFiles.map { ($0, load($0)) })
func dictionary(_ file: String) -> FIXDictionary { dictionaries[file]! }

var runtimes: [FIXSessionRuntime] = []
for entry in table {
    var config = FIXSessionConfiguration(
        id: FIXSessionID(beginString: entry.begin, senderCompID: "ISLD", targetCompID: entry.target),
        connectionType: .acceptor)
    config.resetOnLogon = true
    config.defaultApplVerID = entry.applVer
    config.logonTimeoutSeconds = 30
    var options = FIXValidationOptions()
    if entry.target == "NO_CHECK_FIELDS_HAVE_VALUES" { options.validateFieldsHaveValues = false }
    options.checkLatency = false  // the session layer checks SendingTime itself
    let app = dictionary(entry.app)
    let validator = entry.transport.map {
        FIXValidator(transport: dictionary($0), application: app, options: options)
    } ?? FIXValidator(dictionary: app, options: options)
    var session = FIXSession(configuration: config, validator: validator)
    session.supportedApplicationTypes = entry.begin >= "FIX.4.2" ? ["D", "C", "d"] : ["D", "C"]
    let runtime = FIXSessionRuntime(session: session, store: InMemoryMessageStore(creationTime: WallClock.now()),
                                    application: EchoApplication(dictionary: app, headerDictionary: entry.transport.map(dictionary)),
                                    eventLog: eventLog)
    runtimes.append(runtime)
}

let acceptor = FIXAcceptor(sessions: runtimes, eventLog: eventLog)
let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
let server = try await acceptor.bind(host: "127.0.0.1", port: port, group: group)
var banner = "fixbridge-acceptance listening on 127.0.0.1:\(server.localAddress?.port ?? port) with \(runtimes.count) sessions\n"
banner.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
try await server.closeFuture.get()
