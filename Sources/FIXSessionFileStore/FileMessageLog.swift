#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import FIXSession
import FIXTagValue
import Synchronization

/// A session's message and event logs in QuickFIX's FileLog layout, in `directory`:
///
/// - `FIX.4.4-BRKR-VENUE.messages.current.log`: every message in and out, one per line,
///   `YYYYMMDD-HH:MM:SS.sss : 8=FIX.4.4␁9=…` (the capture reader reads these files).
/// - `FIX.4.4-BRKR-VENUE.event.current.log`: `YYYYMMDD-HH:MM:SS.sss : <text>`.
///
/// Both files are opened for appending, so a restart continues them. Logging never throws:
/// a session must not stop because its log disk is full. The first failure is kept in
/// `firstError` and failures are counted in `failureCount`, for the driver to report.
///
/// A log may be shared between threads: each line is one `write` on an `O_APPEND`
/// descriptor, so lines never interleave, and the failure record is behind a mutex.
///
/// ```swift
/// let log = try FileMessageLog(directory: "log", sessionID: id)
/// log.incoming(bytes, at: now)
/// log.event("Logon received", at: now)
/// ```
public final class FileMessageLog: Sendable {
    /// The longest event text written; longer text is cut (a bound, not a format rule).
    public static let eventBytesMax = 64 * 1024

    public let messagesPath: String
    public let eventPath: String
    /// When true, every line is followed by `fsync` (slow; for audits that require it).
    public let syncEveryLine: Bool
    private let failures = Mutex<(first: FileStoreError?, count: Int)>((nil, 0))
    private let messages: PosixFile
    private let events: PosixFile

    /// The first write that failed, if any.
    public var firstError: FileStoreError? { failures.withLock { $0.first } }
    /// How many lines could not be written.
    public var failureCount: Int { failures.withLock { $0.count } }

    /// The path of the messages log of `sessionID` in `directory` (for readers of the log).
    public static func messagesPath(directory: String, sessionID: FIXSessionID) -> String {
        (directory.isEmpty ? "." : directory) + "/" + quickFIXFileStem(sessionID) + ".messages.current.log"
    }

    /// Opens (creating when absent, with its parents) the logs of `sessionID` in `directory`.
    public init(directory: String, sessionID: FIXSessionID, syncEveryLine: Bool = false) throws {
        let folder = directory.isEmpty ? "." : directory
        try PosixPath.makeDirectories(folder)
        let prefix = folder + "/" + quickFIXFileStem(sessionID) + "."
        messagesPath = prefix + "messages.current.log"
        eventPath = prefix + "event.current.log"
        self.syncEveryLine = syncEveryLine
        var messages = try PosixFile(path: messagesPath, flags: O_WRONLY | O_CREAT | O_APPEND)
        do {
            events = try PosixFile(path: eventPath, flags: O_WRONLY | O_CREAT | O_APPEND)
        } catch {
            messages.close()
            throw error
        }
        self.messages = messages
    }

    deinit {
        var messages = messages, events = events
        messages.close()
        events.close()
    }

    /// A message received from the counterparty.
    public func incoming(_ bytes: [UInt8], at time: FIXTimestamp) {
        write(line(bytes, at: time), to: messages)
    }

    /// A message sent to the counterparty.
    public func outgoing(_ bytes: [UInt8], at time: FIXTimestamp) {
        write(line(bytes, at: time), to: messages)
    }

    /// A session event (logon, logout, resend, disconnect, errors).
    public func event(_ text: String, at time: FIXTimestamp) {
        var bytes = Array(text.utf8.prefix(Self.eventBytesMax))
        // One event per line: a newline inside the text would look like a second entry.
        for i in bytes.indices where bytes[i] == 0x0A || bytes[i] == 0x0D { bytes[i] = 0x20 }
        write(line(bytes, at: time), to: events)
    }

    /// Forces both logs to disk.
    public func sync() throws {
        try messages.sync()
        try events.sync()
    }

    private func line(_ bytes: [UInt8], at time: FIXTimestamp) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 28)
        time.with(precision: .milliseconds).write(to: &out)
        out += Array(" : ".utf8)
        out += bytes
        out.append(0x0A)
        return out
    }

    private func write(_ line: [UInt8], to file: PosixFile) {
        do {
            // One write per line on an O_APPEND descriptor: lines from one process never
            // interleave, and a crash leaves at most the last line partial.
            try file.append(line)
            if syncEveryLine { try file.sync() }
        } catch {
            failures.withLock { record in
                record.count += 1
                if record.first == nil { record.first = error as? FileStoreError }
            }
        }
    }
}
