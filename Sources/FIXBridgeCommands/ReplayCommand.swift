#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import BackOfficeStore
import ClientCRM
import FASTCodec
import FIXDictionary
import FIXSession
import FIXTagValue
import FIXTransport
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TradeBook

/// `fixbridge replay CAPTURE…`: captured logs through validation → book → CRM at full speed, then
/// what changed; or, with `--into-session`, the captures' application messages into a live
/// session at their original pace.
public struct ReplayCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay captured logs through validation, the book and the CRM (or into a live session).",
        discussion: """
            Every ExecutionReport(35=8) of the captures is validated against the dictionary of its \
            version, booked exactly once (same session and ExecID: never twice, so a second replay \
            changes nothing) and turned into CRM history in the same transaction. Invalid reports \
            are listed on standard error with file, line and byte offset and are not booked. At the \
            end it prints what changed: fills booked, orders, positions, exceptions, CRM entries. \
            SIGINT/SIGTERM stop it after committing what was read; running it again resumes.

            With --templates, the captures are FAST streams: each decoded message becomes a FIX \
            message (tags from the template field ids) and enters the same path (not validated: a \
            FAST message carries no FIX header).

            With --into-session CONFIG the application messages of the captures are sent in the \
            configured session instead (as initiator or acceptor, as the file says), their header \
            replaced by the session's, keeping the original spacing of SendingTime(52) divided by \
            --speed (max: no waiting).
            """
    )

    @OptionGroup var store: StoreOptions
    @OptionGroup var settings: BookSettingsOptions
    @OptionGroup var crm: CRMActivityOptions

    @Argument(help: "Captures (any format `fixbridge show` reads; FAST streams with --templates).")
    var captures: [String]

    @Option(name: .customLong("accounts"), help: "CSV of fix_account,client_account to add to the account map first.")
    var accountsFile: String?

    @Option(name: .long, help: "The captures are FAST streams decoded with these templates.")
    var templates: String?

    @Option(name: .long, help: "FAST framing with --templates: none, length-le32, moex, cme.")
    var framing: FASTFraming = .none

    @Option(name: .long, help: "Only messages sent at or after this time (SendingTime; 20240315-10:00:00 or 2024-03-15T10:00:00).")
    var from: String?

    @Option(name: .long, help: "Only messages sent at or before this time.")
    var until: String?

    @Option(name: .long, help: "Only these MsgTypes (repeatable or comma-separated; e.g. D,F,G with --into-session).")
    var type: [String] = []

    @Option(name: .long, help: "Only messages of this Account(1) (repeatable or comma-separated).")
    var account: [String] = []

    @Option(name: .long, help: "Only messages from this SenderCompID(49) (repeatable or comma-separated).")
    var sender: [String] = []

    @Flag(name: .customLong("no-validate"), help: "Book reports without checking them against the dictionaries.")
    var noValidate = false

    @Option(name: .customLong("batch"), help: "Reports per transaction (default \(BookLoader.batchReportsDefault)).")
    var batch = BookLoader.batchReportsDefault

    @Flag(name: .long, help: "No progress bar on standard error.")
    var quiet = false

    @Option(name: .customLong("into-session"), help: "Send the application messages in the session of this settings file instead of booking them.")
    var intoSession: String?

    @Option(name: .long, help: "With --into-session: the session to use, SENDER->TARGET (when the file has several).")
    var session: String?

    @Option(name: .long, help: "With --into-session: 1x keeps the original spacing, 10x is ten times faster, max sends at once.")
    var speed: ReplaySpeed = .factor(1)

    @Option(name: .long, help: "With --into-session: seconds to wait for the logon.")
    var timeout = 30

    @Option(name: .long, help: "With --into-session: seconds to wait for replies after the last message is sent.")
    var linger = 1.0

    public init() {}

    public func validate() throws {
        guard !captures.isEmpty else { throw ValidationError("give at least one capture") }
        guard (1...1_000_000).contains(batch) else { throw ValidationError("--batch \(batch): 1…1000000") }
        _ = try filter()
    }

    public func run() async throws {
        StopSignal.install()
        if let intoSession {
            let summary = try await replayIntoSession(intoSession, stop: { StopSignal.received != 0 })
            print(summary.text)
            return
        }
        let result = try await replayIntoBook(stop: { StopSignal.received != 0 })
        print(result.text, terminator: "")
        writeStandardError("replayed in \(String(format: "%.2f", result.seconds)) s"
                           + (result.seconds > 0 ? ", \(Int(Double(result.summary.messages) / result.seconds)) messages/s\n" : "\n"))
        if result.stopped {
            writeStandardError("stopped on request; everything read was committed; run again to continue\n")
            throw ExitCode(130)
        }
    }

    // MARK: Filters

    /// The message filter the options describe.
    func filter() throws -> ReplayFilter {
        func time(_ text: String?, _ name: String) throws -> FIXTimestamp? {
            guard let text else { return nil }
            guard let t = ReplayFilter.parseTime(text) else {
                throw ValidationError("--\(name) \(text): not a time (20240315-10:00:00, 2024-03-15T10:00:00 or 2024-03-15)")
            }
            return t
        }
        func list(_ values: [String]) -> Set<String> {
            Set(values.flatMap { $0.split(separator: ",").map { $0.trimmingSpaces } }.filter { !$0.isEmpty })
        }
        let f = ReplayFilter(from: try time(from, "from"), until: try time(until, "until"),
                             types: list(type), accounts: list(account), senders: list(sender))
        if let from = f.from, let until = f.until, until < from { throw ValidationError("--until is before --from") }
        return f
    }

    // MARK: Into the book

    /// What a replay into the book did.
    public struct BookResult: Sendable {
        public var summary: BookLoadSummary
        public var invalid: Int
        public var text: String
        public var seconds: Double
        public var stopped: Bool
    }

    /// Replays the captures into the book and CRM; `stop` is asked after each chunk.
    public func replayIntoBook(stop: @escaping () -> Bool = { false }) async throws -> BookResult {
        let filter = try filter()
        let backend = try await store.open()
        let bookStore = BookStore(backend: backend)
        if let accountsFile { try await bookStore.setAccounts(try readAccountMap(accountsFile)) }
        let before = try await StoreCounts.read(backend)
        let positionsBefore = try await bookStore.positions(BookFilter())
        var loader = try await BookLoader(
            store: bookStore, configuration: try settings.configuration(accounts: try await bookStore.accounts()),
            batchReports: batch)
        // CRM entries are dated by the capture's own clock, so a replay writes the same history
        // whenever it runs.
        let clock = CaptureClock()
        let activity = try await crm.activity(backend: backend, now: { clock.now })
        if let activity {
            loader.onBatch = { events in await activity.statements(for: events) }
        }
        var checker: MessageChecker?
        if !noValidate && templates == nil {
            do {
                checker = MessageChecker(locator: try DictionaryLocator(dictionaryFile: nil, overlays: []),
                                         options: FIXValidationOptions(), defaultApplVerID: nil)
            } catch {
                throw ValidationError("\(error)")
            }
        }
        var invalid = 0
        var reported = 0
        var currentFile = ""
        loader.include = { message, view in
            if let t = view.first(52)?.timestamp ?? message.logTime { clock.advance(to: t) }
            guard filter.accepts(message, view) else { return false }
            if checker != nil, let failure = checker!.check(message) {
                invalid += 1
                if reported < ReplayCommand.invalidReportedMax {
                    reported += 1
                    writeStandardError("invalid, not booked: " + MessageChecker.describe(
                        file: currentFile, offset: message.offset, line: message.line, seqNum: failure.seqNum,
                        msgType: failure.msgType, problem: failure.problem) + "\n")
                }
                return false
            }
            return true
        }
        loader.shouldStop = stop
        var total: Int64 = 0
        for path in captures {
            let file = try openCapture(path)
            total += file.size ?? 0
        }
        let fastTemplates = try templates.map { try loadFASTTemplates($0) }
        var progress = ReplayProgress(total: total, enabled: !quiet && isatty(2) != 0)
        let started = ContinuousClock.now
        var stopped = false
        var done: Int64 = 0
        for path in captures {
            currentFile = path
            checker?.startCapture()
            let input: BookInput
            if let fastTemplates {
                input = try fastInput(path, templates: fastTemplates)
            } else {
                // A filtered replay books part of the capture: it records no resume offset, so a
                // later replay with other filters still reads the whole capture (exactly once
                // holds by session and ExecID either way).
                input = filter.isEmpty ? BookInput.capture(try openCapture(path)) : BookInput.once(try openCapture(path))
            }
            do {
                let base = done
                try await loader.load(input) { bytes, _ in
                    progress.update(base + bytes)
                }
                done += input.size ?? 0
            } catch is BookLoadStopped {
                stopped = true
                break
            }
        }
        progress.finish()
        // The daily summaries cover what this replay booked: an interrupted replay leaves them
        // to the run that completes it.
        if !stopped { _ = try await activity?.finishLoad() }
        let after = try await StoreCounts.read(backend)
        let positionsAfter = try await bookStore.positions(BookFilter())
        try await backend.close()
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let text = ReplayReport.text(summary: loader.summary, invalid: invalid, captures: captures.count,
                                     before: before, after: after,
                                     positionsBefore: positionsBefore, positionsAfter: positionsAfter)
        return BookResult(summary: loader.summary, invalid: invalid, text: text, seconds: seconds, stopped: stopped)
    }

    /// At most this many invalid reports are listed one by one; the rest are counted.
    static let invalidReportedMax = 50

    func openCapture(_ path: String) throws -> CaptureFile {
        do {
            return try CaptureFile(path: path)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// A FAST stream as FIX messages: each decoded message becomes `8=FIXT.1.1|9=…|35=…|<fields>|10=…`.
    func fastInput(_ path: String, templates: FASTTemplates) throws -> BookInput {
        try Self.fastInput(path, templates: templates, framing: framing, rereadable: try filter().isEmpty)
    }

    /// The file is read in chunks of `chunkBytes`. A message's end is only known by decoding it
    /// (the framings other than length-le32), so a message is decoded only while at least
    /// `lookahead` bytes follow its start, or the file's end is in the buffer: no message can be
    /// longer than `FASTDecoder.messageBytesMax`, so none is ever cut by a chunk's end. Memory
    /// stays at about `chunkBytes + lookahead` whatever the file's size.
    static func fastInput(_ path: String, templates: FASTTemplates, framing: FASTFraming, rereadable: Bool,
                          chunkBytes: Int = 4 << 20,
                          lookahead: Int = FASTDecoder.messageBytesMax + 8) throws -> BookInput {
        guard let file = FileHandle(forReadingAtPath: path) else {
            throw ValidationError("cannot read \(path): no such file or no permission")
        }
        let size: Int64
        do {
            size = Int64(try file.seekToEnd())
            try file.seek(toOffset: 0)
        } catch {
            throw ValidationError("cannot read \(path): \(error.localizedDescription)")
        }
        return BookInput(source: path, size: size, isRereadable: rereadable) { _, handle, afterChunk in
            defer { try? file.close() }
            var stream = FASTStreamDecoder(templates: templates, framing: framing)
            var message = FASTMessage()
            var fields: [FASTFIXField] = []
            var writer = FIXWriter()
            var buffer: [UInt8] = []
            var base = 0        // file offset of buffer[0]
            var offset = 0      // next message, in the buffer
            var atEnd = false
            var count = 0
            decoding: while true {
                // Keep `lookahead` bytes ahead of the next message, or the end of the file.
                if !atEnd && buffer.count - offset < lookahead {
                    buffer.removeFirst(offset)
                    base += offset
                    offset = 0
                    let chunk: Data?
                    do {
                        chunk = try file.read(upToCount: max(chunkBytes, lookahead))
                    } catch {
                        throw ValidationError("\(path): read failed at byte \(base + buffer.count): \(error.localizedDescription)")
                    }
                    if let chunk, !chunk.isEmpty { buffer.append(contentsOf: chunk) } else { atEnd = true }
                    continue decoding
                }
                let result: FASTStreamResult
                do throws(FASTError) {
                    result = try stream.next(buffer, offset: &offset, into: &message)
                } catch {
                    // A FAST stream cannot be resynchronised after a bad message: the rest of the
                    // file is reported as one bad stretch.
                    let at = base + (error.offset ?? offset)
                    var reason = "FAST error \(error.code): \(error.message)"
                    if let template = error.template {
                        let field = error.field.map { ", field \($0)" } ?? ""
                        reason += " [template \(template)\(field)]"
                    }
                    writeStandardError("\(path): FAST message \(count + 1) at byte \(at): \(reason); the rest of the stream is skipped\n")
                    try handle(.error(CaptureError(error: FIXParseError(.garbage, offset: at), line: count + 1)))
                    break decoding
                }
                switch result {
                case .end:
                    break decoding
                case .needMoreBytes:
                    writeStandardError("\(path): the FAST stream ends inside a frame at byte \(base + offset)\n")
                    try handle(.error(CaptureError(error: FIXParseError(.truncated, offset: base + offset), line: count + 1)))
                    break decoding
                case .message(let frame):
                    count += 1
                    fields.removeAll(keepingCapacity: true)
                    message.appendFIXFields(in: templates, to: &fields)
                    guard let msgType = fields.first(where: { $0.tag == 35 })?.value else { continue }
                    writer.begin(beginString: "FIXT.1.1", msgType: msgType)
                    for field in fields where field.tag != 35 && field.tag != 8 && field.tag != 9 && field.tag != 10 {
                        writer.append(field.tag, field.value)
                    }
                    try writer.finish { raw in
                        try handle(.message(CaptureMessage(bytes: raw, offset: Int64(base + frame.offset), line: count)))
                    }
                    if count % 4096 == 0 { try await afterChunk(Int64(base + offset)) }
                }
            }
            try await afterChunk(size)
        }
    }

    // MARK: Into a live session

    /// What a replay into a session did.
    public struct SessionResult: Sendable {
        public var session: String
        public var sent: [String: Int]
        public var received: [String: Int]
        public var seconds: Double

        public var text: String {
            func list(_ counts: [String: Int]) -> String {
                counts.isEmpty ? "none" : counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            }
            return """
                session \(session): sent \(sent.values.reduce(0, +)) application messages (\(list(sent))) \
                in \(String(format: "%.2f", seconds)) s
                received \(received.values.reduce(0, +)) application messages (\(list(received)))
                """
        }
    }

    /// Sends the captures' application messages in the configured session.
    public func replayIntoSession(_ configPath: String, stop: @escaping @Sendable () -> Bool = { false }) async throws -> SessionResult {
        let filter = try filter()
        let sessions = try SessionSettingsFile.load(configPath)
        let setup: QuickFIXSettings.Session
        if let session {
            guard let match = sessions.first(where: {
                "\($0.configuration.id.senderCompID)->\($0.configuration.id.targetCompID)" == session
            }) else {
                throw ValidationError("--session \(session): no such session in \(configPath) (SENDER->TARGET)")
            }
            setup = match
        } else {
            guard sessions.count == 1 else {
                throw ValidationError("\(configPath) has \(sessions.count) sessions: name one with --session SENDER->TARGET")
            }
            setup = sessions[0]
        }
        let application = ReplayApplication()
        let host = SessionHost(group: MultiThreadedEventLoopGroup.singleton, eventLog: { line in
            if line.contains("logged") || line.contains("disconnect") || line.contains("gap") { printLine(line) }
        })
        let runtime = try host.makeRuntime(setup, application: application)
        var initiator: FIXInitiator?
        var servers: [Channel] = []
        if setup.configuration.connectionType == .initiator {
            let i = try SessionHost.makeInitiator(setup, runtime: runtime)
            i.start(group: MultiThreadedEventLoopGroup.singleton)
            initiator = i
        } else {
            servers = try await startAcceptors([(setup, runtime)], group: MultiThreadedEventLoopGroup.singleton)
        }
        defer {
            initiator?.stop()
        }
        let deadline = ContinuousClock.now + .seconds(timeout)
        while !runtime.isLoggedOn {
            if stop() { throw ExitCode(130) }
            guard ContinuousClock.now < deadline else {
                throw CommandError("\(setup.configuration.id): no logon within \(timeout) s")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let started = ContinuousClock.now
        var pacer = ReplayPacer(speed: speed)
        var sent: [String: Int] = [:]
        for path in captures {
            let file = try openCapture(path)
            var pending: [PendingMessage] = []
            try await file.read({ event in
                guard case .message(let m) = event else { return }
                let view = m.view()
                guard let msgType = view.msgType?.string, !ReplayCommand.adminTypes.contains(msgType),
                      filter.accepts(m, view) else { return }
                pending.append(PendingMessage(msgType: msgType, time: view.first(52)?.timestamp ?? m.logTime,
                                              bytes: Array(m.bytes)))
            }, afterChunk: { _ in
                for message in pending {
                    if stop() { break }
                    if let wait = pacer.delay(for: message.time) { try await Task.sleep(for: wait) }
                    while !runtime.isLoggedOn {
                        if stop() { return }
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    runtime.send(msgType: message.msgType) { body in
                        message.bytes.withUnsafeBytes { raw in
                            for field in FIXMessage(unchecked: raw) where !ReplayCommand.headerTags.contains(field.tag) {
                                body.append(field)
                            }
                        }
                    }
                    sent[message.msgType, default: 0] += 1
                }
                pending.removeAll(keepingCapacity: true)
            })
            if stop() { break }
        }
        let elapsed = ContinuousClock.now - started
        try await Task.sleep(for: .milliseconds(Int(linger * 1000)))
        runtime.logout(text: "replay done")
        await waitUntilDisconnected([runtime], seconds: setup.configuration.logoutTimeoutSeconds)
        for server in servers { try? await server.close() }
        return SessionResult(session: "\(setup.configuration.id)", sent: sent, received: application.received,
                             seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    /// Session-level messages, never replayed into a session (the session makes its own).
    static let adminTypes: Set<String> = ["0", "1", "2", "3", "4", "5", "A"]

    /// Standard header and trailer fields the live session writes itself.
    static let headerTags: Set<Int> = [8, 9, 10, 34, 35, 43, 49, 50, 52, 56, 57, 89, 90, 91, 93, 97, 115, 116, 122, 128,
                                       129, 142, 143, 144, 145, 212, 213, 347, 369, 627, 628, 629, 630, 1128, 1129, 1156]
}

/// One captured application message waiting for its time to be sent.
struct PendingMessage {
    let msgType: String
    let time: FIXTimestamp?
    let bytes: [UInt8]
}

/// `--speed`: a factor on the original spacing, or no waiting at all.
public enum ReplaySpeed: ExpressibleByArgument, Equatable, Sendable {
    case factor(Double)
    case max

    public init?(argument: String) {
        if argument == "max" {
            self = .max
            return
        }
        let number = argument.hasSuffix("x") ? String(argument.dropLast()) : argument
        guard let f = Double(number), f > 0, f.isFinite else { return nil }
        self = .factor(f)
    }
}

/// Keeps the captured spacing of messages, scaled by the speed, against the monotonic clock.
struct ReplayPacer {
    let speed: ReplaySpeed
    private var first: (captured: Int64, wall: ContinuousClock.Instant)?
    /// The longest wait for one message: a capture spanning a night is not replayed overnight.
    static let waitSecondsMax: Int64 = 60

    init(speed: ReplaySpeed) { self.speed = speed }

    /// How long to wait before sending a message captured at `time`; nil: send now.
    mutating func delay(for time: FIXTimestamp?) -> Duration? {
        guard case .factor(let factor) = speed, let time else { return nil }
        let now = ContinuousClock.now
        guard let first else {
            self.first = (time.nanosecondsSinceEpoch, now)
            return nil
        }
        let capturedNanos = max(0, time.nanosecondsSinceEpoch - first.captured)
        let due = first.wall + .nanoseconds(Int64(Double(capturedNanos) / factor))
        guard due > now else { return nil }
        let wait = due - now
        return min(wait, .seconds(Self.waitSecondsMax))
    }
}

/// Counts what the counterparty sends back during a replay into a session.
final class ReplayApplication: FIXApplication, @unchecked Sendable {
    private let lock = NIOLock()
    private var counts: [String: Int] = [:]

    var received: [String: Int] { lock.withLock { counts } }

    func onLogon(_ session: FIXSessionRuntime) { printLine("LOGON \(session.id)") }
    func onLogout(_ session: FIXSessionRuntime) { printLine("LOGOUT \(session.id)") }
    func fromApp(_ message: [UInt8], session: FIXSessionRuntime) {
        let type = message.withUnsafeBytes { FIXMessage(unchecked: $0, lenient: true).msgType?.string ?? "?" }
        lock.withLock { counts[type, default: 0] += 1 }
    }
}

/// Which captured messages a replay takes.
public struct ReplayFilter: Sendable {
    public var from: FIXTimestamp?
    public var until: FIXTimestamp?
    public var types: Set<String>
    public var accounts: Set<String>
    public var senders: Set<String>

    /// True when no filter is given.
    var isEmpty: Bool { from == nil && until == nil && types.isEmpty && accounts.isEmpty && senders.isEmpty }

    /// True when the message passes every filter given. A message without SendingTime(52) (nor
    /// a log time) is left out when a time window is given: it cannot be placed in it.
    func accepts(_ message: CaptureMessage, _ view: FIXMessage) -> Bool {
        if from != nil || until != nil {
            guard let t = view.first(52)?.timestamp ?? message.logTime else { return false }
            if let from, t < from { return false }
            if let until, until < t { return false }
        }
        if !types.isEmpty {
            guard let type = view.msgType?.string, types.contains(type) else { return false }
        }
        if !accounts.isEmpty {
            guard let account = view.first(1)?.string, accounts.contains(account) else { return false }
        }
        if !senders.isEmpty {
            guard let sender = view.first(49)?.string, senders.contains(sender) else { return false }
        }
        return true
    }

    /// `20240315-10:00:00[.sss]`, `2024-03-15T10:00:00[.sss][Z]` or a date alone (midnight UTC).
    static func parseTime(_ text: String) -> FIXTimestamp? {
        var t = text
        if t.hasSuffix("Z") { t.removeLast() }
        if t.count == 10, t.contains("-") { t += "T00:00:00" }
        if t.count == 8, t.allSatisfy(\.isNumber) { t += "-00:00:00" }
        let chars = Array(t)
        if chars.count >= 19, chars[4] == "-", chars[7] == "-", chars[10] == "T" {
            t = String(chars[0..<4]) + String(chars[5..<7]) + String(chars[8..<10]) + "-" + String(chars[11...])
        }
        return FIXTimestamp(t)
    }
}

/// The latest time seen in the captures: the clock CRM entries are dated by during a replay.
final class CaptureClock: @unchecked Sendable {
    private let lock = NIOLock()
    private var latest = FIXTimestamp(nanosecondsSinceEpoch: 0)

    var now: FIXTimestamp { lock.withLock { latest } }

    func advance(to t: FIXTimestamp) {
        lock.withLock { if latest < t { latest = t } }
    }
}

/// Row counts of the tables a replay changes.
struct StoreCounts: Equatable {
    var orders = 0
    var fills = 0
    var positions = 0
    var exceptions = 0
    var interactions = 0
    var outbox = 0

    static func read(_ backend: any SQLBackend) async throws -> StoreCounts {
        func count(_ table: String) async throws -> Int {
            Int(try await backend.query("SELECT COUNT(*) FROM \(table)", []).first?.first?.int ?? 0)
        }
        return StoreCounts(orders: try await count("orders"), fills: try await count("fills"),
                           positions: try await count("positions"), exceptions: try await count("exceptions"),
                           interactions: try await count("interactions"), outbox: try await count("outbox"))
    }
}

/// The text a replay prints: deterministic for the same captures and database, so it can be
/// compared with a golden file.
enum ReplayReport {
    /// Positions listed one by one up to this many; beyond, only counted.
    static let positionsListedMax = 40

    static func text(summary s: BookLoadSummary, invalid: Int, captures: Int, before: StoreCounts, after: StoreCounts,
                     positionsBefore: [Position], positionsAfter: [Position]) -> String {
        var out = ""
        func line(_ label: String, _ value: String) {
            out += label.padding(toLength: 21, withPad: " ", startingAt: 0) + value + "\n"
        }
        line("captures:", "\(captures), \(s.messages) messages, \(s.reports) execution reports booked or checked"
             + (s.filteredOut > 0 ? ", \(s.filteredOut) filtered out" : "")
             + (s.skippedAlreadyCommitted > 0 ? ", \(s.skippedAlreadyCommitted) already committed" : ""))
        line("invalid reports:", "\(invalid) (not booked)" + (s.badStretches > 0 ? "; bad stretches \(s.badStretches)" : ""))
        line("fills booked:", "\(after.fills - before.fills) (corrections \(s.corrections), busts \(s.busts); "
             + "duplicates skipped \(s.duplicates))")
        line("orders:", "\(before.orders) -> \(after.orders)")
        func key(_ p: Position) -> String { "\(p.clientAccount) \(p.instrument) \(p.currency)" }
        let old = Dictionary(positionsBefore.map { (key($0), $0) }, uniquingKeysWith: { a, _ in a })
        let changed = positionsAfter.filter { p in old[key(p)].map { $0 != p } ?? true }
            .sorted { key($0) < key($1) }
        line("positions:", "\(before.positions) -> \(after.positions) (\(changed.count) changed)")
        for p in changed.prefix(positionsListedMax) {
            let was = old[key(p)].map { "\($0.quantity)" } ?? "-"
            out += "  \(p.clientAccount.padding(toLength: 10, withPad: " ", startingAt: 0)) "
                + "\(p.instrument.padding(toLength: 8, withPad: " ", startingAt: 0)) \(p.currency)  "
                + "qty \(was) -> \(p.quantity)  avg \(p.averageCost)  realised \(p.realisedPnL)\n"
        }
        if changed.count > positionsListedMax { out += "  … \(changed.count - positionsListedMax) more\n" }
        line("book exceptions:", "\(before.exceptions) -> \(after.exceptions)")
        line("CRM entries written:", "\(after.interactions - before.interactions) "
             + "(outbox rows queued: \(after.outbox - before.outbox))")
        return out
    }
}

/// A progress bar on standard error for long replays: percentage, bytes and bytes per second.
struct ReplayProgress {
    let total: Int64
    let enabled: Bool
    private var lastShown = ContinuousClock.now
    private let started = ContinuousClock.now
    private var shown = false

    init(total: Int64, enabled: Bool) {
        self.total = total
        self.enabled = enabled
    }

    mutating func update(_ done: Int64) {
        guard enabled, total > 0 else { return }
        let now = ContinuousClock.now
        guard now - lastShown >= .milliseconds(250) else { return }
        lastShown = now
        shown = true
        let fraction = min(1, Double(done) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let elapsed = now - started
        let seconds = max(0.001, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        writeStandardError("\r[\(bar)] \(Int(fraction * 100))% \(done >> 20)/\(total >> 20) MiB, "
                           + "\(String(format: "%.1f", Double(done) / seconds / 1_048_576)) MiB/s")
    }

    func finish() {
        if shown { writeStandardError("\r\u{1B}[K") }
    }
}

/// Loads FAST templates, naming the file on failure.
func loadFASTTemplates(_ path: String) throws -> FASTTemplates {
    let bytes: [UInt8]
    do {
        bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    } catch {
        throw ValidationError("cannot read \(path): \(error.localizedDescription)")
    }
    do {
        return try FASTTemplates(xmlBytes: bytes)
    } catch {
        throw ValidationError("\(path): \(error)")
    }
}

extension ReplayCommand: AsyncRunnableCommand { public mutating func runAsync() async throws { try await run() } }
