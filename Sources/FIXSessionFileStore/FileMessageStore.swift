#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import FIXSession
import FIXTagValue

/// A durable `MessageStore` in QuickFIX's FileStore layout, so that a QuickFIX user can point
/// FIXBridge at an existing store directory (and back).
///
/// Four files per session in `directory`, named after the session
/// (`FIX.4.4-BRKR-VENUE[-Qualifier]`):
///
/// | file | content |
/// | --- | --- |
/// | `.body` | the stored outbound messages, raw, one after another (append-only) |
/// | `.header` | the index: `seqnum,offset,size` and a newline per saved message (append-only) |
/// | `.seqnums` | `NNNNNNNNNN : NNNNNNNNNN`, next sender and next target, overwritten in place |
/// | `.session` | the creation time, `YYYYMMDD-HH:MM:SS` |
///
/// The index is read into memory on open, so a resend reads only the messages it needs. A
/// crash (even `kill -9` in the middle of a write) leaves at worst a torn tail — a partial last
/// index entry, or body bytes no entry points to, or an entry pointing past the end of the
/// body — which the next open cuts away, reporting what it did in `recoveryNotes`. Anything
/// else that is wrong (garbage in the middle of the index, unreadable sequence numbers) is a
/// `FileStoreError` naming the file, the offset and the reason, never a crash.
///
/// ```swift
/// let id = FIXSessionID(beginString: "FIX.4.4", senderCompID: "BRKR", targetCompID: "VENUE")
/// let store = try FileMessageStore(directory: "store", sessionID: id, sync: .everyBatch)
/// try store.save(sequence: store.nextSenderSequence, message: bytes)
/// try store.setSequences(nextSender: store.nextSenderSequence + 1, nextTarget: store.nextTargetSequence)
/// try store.sync()                                   // end of the batch: now durable
/// let resend = try store.messages(from: 1, through: 10)
/// ```
///
/// One process at a time: the store takes an exclusive `flock` on its body file and a second
/// open (in any process) fails with a `FileStoreError` until the first is closed.
public final class FileMessageStore: MessageStore {
    /// When the store forces its writes to disk (`fsync`).
    public enum SyncPolicy: Sendable, Hashable {
        /// After every `save` and `setSequences`: nothing acknowledged is ever lost, at the
        /// cost of one or two disk flushes per message. QuickFIX's `FileStoreSync=Y`.
        case everyMessage
        /// Only when `sync()` is called, which the driver does at the end of each batch of
        /// messages it handled: a power loss can lose the last batch, a process crash nothing
        /// that was sent. Writes are buffered and handed to the kernel by `flush()` (a few
        /// system calls per batch instead of several per message).
        case everyBatch
        /// Never: the operating system writes back when it likes. Writes are buffered as with
        /// `everyBatch`; once flushed, a process crash loses nothing (the data is in the
        /// kernel's page cache), a power loss can lose seconds.
        case none

        /// The policy for QuickFIX's `FileStoreSync` setting (`FIXSessionEndpoint.fileStoreSync`):
        /// Y syncs every message, N once per batch.
        public init(fileStoreSync: Bool) {
            self = fileStoreSync ? .everyMessage : .everyBatch
        }
    }

    /// The largest message the store accepts (a bound, not a FIX rule).
    public static let messageBytesMax = 16 * 1024 * 1024
    /// The largest sequence number the fixed-width `.seqnums` file can hold.
    public static let sequenceMax = 9_999_999_999
    /// The largest index file read on open (about 25 million messages).
    public static let indexBytesMax = 1 << 30
    /// Buffered writes are flushed on their own once this many body bytes wait.
    public static let bufferBytesMax = 1 << 20

    /// The paths of a session's store files in `directory`.
    public struct Paths: Sendable, Hashable {
        public var body: String
        public var header: String
        public var seqnums: String
        public var session: String

        public init(directory: String, sessionID: FIXSessionID) {
            let prefix = (directory.isEmpty ? "." : directory) + "/" + quickFIXFileStem(sessionID) + "."
            body = prefix + "body"
            header = prefix + "header"
            seqnums = prefix + "seqnums"
            session = prefix + "session"
        }
    }

    public let directory: String
    public let sessionID: FIXSessionID
    public let syncPolicy: SyncPolicy
    public let paths: Paths
    /// What opening had to repair (torn tails cut away), for the session's event log; empty
    /// after a clean shutdown.
    public private(set) var recoveryNotes: [String] = []

    public private(set) var nextSenderSequence = 1
    public private(set) var nextTargetSequence = 1
    public private(set) var creationTime: FIXTimestamp

    private var body: PosixFile
    private var header: PosixFile
    private var seqnums: PosixFile
    private var index: [Int: (offset: Int, size: Int)] = [:]
    /// Logical ends, counting what is still buffered.
    private var bodyEnd = 0
    private var headerEnd = 0
    /// Buffered writes (`everyBatch` and `none`): body bytes from `bodyWritten`, index entries
    /// from `headerWritten`, and the newest sequence numbers, written in that order by `flush()`.
    private var pendingBody: [UInt8] = []
    private var pendingHeader: [UInt8] = []
    private var pendingSequences: (sender: Int, target: Int)?
    private var bodyWritten = 0
    private var headerWritten = 0
    private var unsynced = false
    private var closed = false
    /// Held by `syncFlushed` (which may run on another thread) and by `close`.
    private let descriptorsLock = PosixMutex()

    /// Opens (creating when absent) the store of `sessionID` in `directory`, which is created
    /// with its parents when missing. A new store's creation time is `newStoreCreationTime`,
    /// or the system clock's time when nil.
    public init(directory: String, sessionID: FIXSessionID, sync: SyncPolicy = .everyMessage,
                newStoreCreationTime: FIXTimestamp? = nil) throws {
        let clock = { newStoreCreationTime ?? SystemClock.now() }
        self.directory = directory.isEmpty ? "." : directory
        self.sessionID = sessionID
        self.syncPolicy = sync
        self.paths = Paths(directory: directory, sessionID: sessionID)
        try PosixPath.makeDirectories(self.directory)

        var body = try PosixFile(path: paths.body)
        do {
            try body.lockExclusively()
        } catch {
            body.close()
            throw error
        }
        var header: PosixFile
        do {
            header = try PosixFile(path: paths.header)
        } catch {
            body.close()
            throw error
        }
        self.body = body
        self.header = header
        var notes: [String] = []

        // The session file first: a store whose sequence file exists but whose session file
        // does not is still a valid store (QuickFIX creates them in this order too).
        do {
            creationTime = try Self.openSessionFile(paths.session, directory: self.directory, clock: clock,
                                                    notes: &notes)
            let sequences = try Self.openSequenceFile(paths.seqnums, directory: self.directory, notes: &notes)
            nextSenderSequence = sequences.sender
            nextTargetSequence = sequences.target
            seqnums = try PosixFile(path: paths.seqnums, flags: O_RDWR)
        } catch {
            self.body.close()
            self.header.close()
            throw error
        }
        do {
            try loadIndex(notes: &notes)
        } catch {
            close()
            throw error
        }
        recoveryNotes = notes
    }

    deinit { close() }

    /// Releases the files and the lock; later calls throw. Closing twice is harmless.
    public func close() {
        guard !closed else { return }
        try? flush()
        descriptorsLock.withLock {
            closed = true
            if unsynced && syncPolicy != .none { try? syncFiles() }
            body.close()
            header.close()
            seqnums.close()
        }
    }

    // MARK: MessageStore

    public func setSequences(nextSender: Int, nextTarget: Int) throws {
        try checkOpen()
        try Self.checkSequence(nextSender)
        try Self.checkSequence(nextTarget)
        if syncPolicy == .everyMessage {
            try seqnums.write(Self.sequenceText(sender: nextSender, target: nextTarget), at: 0)
            try seqnums.sync()
        } else {
            pendingSequences = (nextSender, nextTarget)
            unsynced = true
        }
        nextSenderSequence = nextSender
        nextTargetSequence = nextTarget
    }

    public func save(sequence: Int, message: [UInt8]) throws {
        try checkOpen()
        try Self.checkSequence(sequence)
        guard message.count <= Self.messageBytesMax else {
            throw FileStoreError(.messageTooLarge(sequence: sequence, bytes: message.count, max: Self.messageBytesMax))
        }
        let offset = bodyEnd
        guard syncPolicy == .everyMessage else {
            pendingBody += message
            let headerStart = pendingHeader.count
            Self.appendEntry(sequence: sequence, offset: offset, size: message.count, to: &pendingHeader)
            bodyEnd = offset + message.count
            headerEnd += pendingHeader.count - headerStart
            index[sequence] = (offset, message.count)
            unsynced = true
            if pendingBody.count >= Self.bufferBytesMax { try flush() }
            return
        }
        var entry: [UInt8] = []
        Self.appendEntry(sequence: sequence, offset: offset, size: message.count, to: &entry)
        // Body first, index second: a crash between the two leaves body bytes that no entry
        // points to, which the next open cuts away; the index never points at missing bytes.
        // The body is synced before its entry is written, so that this order holds on disk
        // after a power loss too, not only in the page cache.
        do {
            try body.write(message, at: offset)
            try body.sync()
        } catch {
            try? body.truncate(to: bodyEnd)
            throw error
        }
        do {
            try header.write(entry, at: headerEnd)
            try header.sync()
        } catch {
            try? header.truncate(to: headerEnd)
            try? body.truncate(to: bodyEnd)
            throw error
        }
        bodyEnd = offset + message.count
        headerEnd += entry.count
        bodyWritten = bodyEnd
        headerWritten = headerEnd
        index[sequence] = (offset, message.count)
    }

    /// Writes what is buffered: body, then index, then sequence numbers, so that a crash part
    /// way leaves at worst body bytes no entry points to (cut away on open) or stored messages
    /// past the sequence numbers (never sent: the driver sends only after the flush).
    /// A failed write leaves the files as they were before the flush began and throws; the
    /// buffered writes stay, for a retry.
    public func flush() throws {
        try checkOpen()
        if !pendingBody.isEmpty || !pendingHeader.isEmpty {
            do {
                try body.write(pendingBody, at: bodyWritten)
            } catch {
                try? body.truncate(to: bodyWritten)
                throw error
            }
            do {
                try header.write(pendingHeader, at: headerWritten)
            } catch {
                try? header.truncate(to: headerWritten)
                try? body.truncate(to: bodyWritten)
                throw error
            }
            bodyWritten = bodyEnd
            headerWritten = headerEnd
            pendingBody.removeAll(keepingCapacity: true)
            pendingHeader.removeAll(keepingCapacity: true)
        }
        if let pending = pendingSequences {
            try seqnums.write(Self.sequenceText(sender: pending.sender, target: pending.target), at: 0)
            pendingSequences = nil
        }
    }

    public func messages(from: Int, through: Int) throws -> [(sequence: Int, message: [UInt8])] {
        try checkOpen()
        guard from <= through, !index.isEmpty else { return [] }
        try flush()
        let (span, overflow) = through.subtractingReportingOverflow(from)
        let sequences: [Int]
        if !overflow && span < index.count {
            sequences = (from...through).filter { index[$0] != nil }
        } else {
            sequences = index.keys.filter { $0 >= from && $0 <= through }.sorted()
        }
        return try sequences.map { sequence in
            let entry = index[sequence]!
            return (sequence, try body.read(at: entry.offset, count: entry.size))
        }
    }

    public func reset(creationTime: FIXTimestamp) throws {
        try checkOpen()
        let time = Self.wholeSeconds(creationTime)
        // Creation time first, then the messages, then the sequence numbers: a crash part way
        // leaves a store that is already reset or one that still opens with its old numbers
        // and fewer messages (answered by gap fills), never numbers without their messages.
        try PosixPath.replaceAtomically(paths.session, with: Array(time.description.utf8), directory: directory)
        pendingBody.removeAll()
        pendingHeader.removeAll()
        pendingSequences = nil
        try header.truncate(to: 0)
        try body.truncate(to: 0)
        try seqnums.write(Self.sequenceText(sender: 1, target: 1), at: 0)
        index.removeAll()
        bodyEnd = 0
        headerEnd = 0
        bodyWritten = 0
        headerWritten = 0
        nextSenderSequence = 1
        nextTargetSequence = 1
        self.creationTime = time
        if syncPolicy != .none { try syncFiles() }
    }

    public func sync() throws {
        try flush()
        guard syncPolicy == .everyBatch, unsynced else { return }
        try syncFiles()
    }

    /// fsyncs the three files (in `everyBatch` mode) and nothing else: their descriptors stay
    /// the same from open to close, so this may run on another thread beside `save` and
    /// `flush`.
    public func syncFlushed() throws {
        guard syncPolicy == .everyBatch else { return }
        try descriptorsLock.withLock {
            // A store closed meanwhile has synced in `close()`.
            guard !closed else { return }
            try body.sync()
            try header.sync()
            try seqnums.sync()
        }
    }

    // MARK: Internals

    private func syncFiles() throws {
        try body.sync()
        try header.sync()
        try seqnums.sync()
        unsynced = false
    }

    private func checkOpen() throws {
        if closed { throw FileStoreError(.closed(path: paths.body)) }
    }

    private static func checkSequence(_ value: Int) throws {
        guard value >= 1 && value <= sequenceMax else {
            throw FileStoreError(.sequenceOutOfRange(value: value, max: sequenceMax))
        }
    }

    /// QuickFIX writes `%010d : %010d`; always 25 bytes, so an overwrite in place replaces the
    /// whole content with one small write that a process crash cannot tear.
    static func sequenceText(sender: Int, target: Int) -> [UInt8] {
        var text: [UInt8] = []
        text.reserveCapacity(23)
        appendPadded(sender, to: &text)
        text += [0x20, UInt8(ascii: ":"), 0x20]
        appendPadded(target, to: &text)
        return text
    }

    /// Appends `value` (0…sequenceMax) as ten digits, zero-padded.
    private static func appendPadded(_ value: Int, to out: inout [UInt8]) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (48, 48, 48, 48, 48, 48, 48, 48, 48, 48)
        var v = value
        withUnsafeMutableBytes(of: &digits) { raw in
            var i = 9
            while v > 0 && i >= 0 {
                raw[i] = UInt8(48 + v % 10)
                v /= 10
                i -= 1
            }
            out.append(contentsOf: raw)
        }
    }

    /// An index entry: `sequence,offset,size` and a newline.
    private static func appendEntry(sequence: Int, offset: Int, size: Int, to out: inout [UInt8]) {
        appendDecimal(sequence, to: &out)
        out.append(UInt8(ascii: ","))
        appendDecimal(offset, to: &out)
        out.append(UInt8(ascii: ","))
        appendDecimal(size, to: &out)
        out.append(0x0A)
    }

    /// Appends `value` (non-negative) in decimal.
    private static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value >= 10 { appendDecimal(value / 10, to: &out) }
        out.append(UInt8(48 + value % 10))
    }

    static func wholeSeconds(_ time: FIXTimestamp) -> FIXTimestamp {
        let ns = time.nanosecondsSinceEpoch
        let second = FIXTimestamp.nanosecondsPerSecond
        let floor = ns >= 0 ? ns / second : -((-ns + second - 1) / second)
        return FIXTimestamp(nanosecondsSinceEpoch: floor * second, precision: .seconds)
    }

    private static func openSessionFile(_ path: String, directory: String, clock: () -> FIXTimestamp,
                                        notes: inout [String]) throws -> FIXTimestamp {
        if PosixPath.exists(path) {
            var file = try PosixFile(path: path, flags: O_RDONLY)
            defer { file.close() }
            let bytes = try file.readAll(max: 64)
            let text = String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
            if !text.isEmpty {
                guard let time = FIXTimestamp(text) else {
                    let reason = "creation time \"\(text)\" is not YYYYMMDD-HH:MM:SS"
                    throw FileStoreError(.corruptFile(path: path, reason: reason))
                }
                return wholeSeconds(time)
            }
            notes.append("\(path): empty (interrupted creation); creation time set to now")
        }
        let time = wholeSeconds(clock())
        try PosixPath.replaceAtomically(path, with: Array(time.description.utf8), directory: directory)
        return time
    }

    private static func openSequenceFile(_ path: String, directory: String,
                                         notes: inout [String]) throws -> (sender: Int, target: Int) {
        var sequences = (sender: 1, target: 1)
        var rewrite = true
        if PosixPath.exists(path) {
            var file = try PosixFile(path: path, flags: O_RDONLY)
            defer { file.close() }
            let bytes = try file.readAll(max: 256)
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
                notes.append("\(path): empty (interrupted creation); sequence numbers start at 1")
            } else {
                guard let parsed = parseSequences(bytes) else {
                    let shown = String(decoding: bytes.prefix(40), as: UTF8.self)
                    let reason = "expected \"NNNNNNNNNN : NNNNNNNNNN\" (next sender : next target), found \"\(shown)\""
                    throw FileStoreError(.corruptFile(path: path, reason: reason))
                }
                sequences = parsed
                // A file in another width (hand-edited, or a trailing newline) is rewritten once,
                // so that later in-place overwrites replace all of it.
                rewrite = bytes != sequenceText(sender: parsed.sender, target: parsed.target)
            }
        }
        if rewrite {
            let text = sequenceText(sender: sequences.sender, target: sequences.target)
            try PosixPath.replaceAtomically(path, with: text, directory: directory)
        }
        return sequences
    }

    /// `sender : target`, spaces optional, each a positive number of at most 10 digits.
    static func parseSequences(_ bytes: [UInt8]) -> (sender: Int, target: Int)? {
        var scanner = ByteScanner(bytes: bytes)
        scanner.skipSpaces()
        guard let sender = scanner.number(maxDigits: 10) else { return nil }
        scanner.skipSpaces()
        guard scanner.take(UInt8(ascii: ":")) else { return nil }
        scanner.skipSpaces()
        guard let target = scanner.number(maxDigits: 10) else { return nil }
        scanner.skipSpaces()
        guard scanner.atEnd, sender >= 1, target >= 1 else { return nil }
        return (sender, target)
    }

    /// Reads the index, checks every entry against the body, and cuts a torn tail away.
    private func loadIndex(notes: inout [String]) throws {
        let bytes = try header.readAll(max: Self.indexBytesMax)
        let bodySize = try body.size()
        var scanner = ByteScanner(bytes: bytes)
        var validEnd = 0
        var maxBodyEnd = 0
        while true {
            scanner.skipSpaces()
            if scanner.atEnd {
                validEnd = bytes.count
                break
            }
            let start = scanner.position
            switch Self.parseEntry(&scanner, bodySize: bodySize) {
            case .entry(let sequence, let offset, let size):
                index[sequence] = (offset, size)
                maxBodyEnd = max(maxBodyEnd, offset + size)
                validEnd = scanner.position
            case .invalid(let reason):
                // A tail is torn when nothing valid follows the bad entry: that is what a crash
                // part way through an append leaves. A valid entry after it means the damage is
                // in the middle, and cutting there would silently drop stored messages.
                if Self.containsValidEntry(bytes, from: start + 1, bodySize: bodySize) {
                    throw FileStoreError(.corruptIndex(path: paths.header, offset: start, reason: reason))
                }
                notes.append(
                    "\(paths.header): offset \(start): \(reason); torn tail of \(bytes.count - start) bytes cut away")
                try header.truncate(to: start)
                validEnd = start
            }
            if validEnd == start { break }
        }
        headerEnd = validEnd
        if bodySize > maxBodyEnd {
            let extra = bodySize - maxBodyEnd
            notes.append("\(paths.body): offset \(maxBodyEnd): \(extra) bytes no index entry points to; cut away")
            try body.truncate(to: maxBodyEnd)
        }
        bodyEnd = maxBodyEnd
        bodyWritten = bodyEnd
        headerWritten = headerEnd
        if !notes.isEmpty && syncPolicy != .none {
            try body.sync()
            try header.sync()
        }
    }

    enum ParsedEntry {
        case entry(sequence: Int, offset: Int, size: Int)
        case invalid(String)
    }

    /// One `seqnum,offset,size` entry, which must end in whitespace (an entry cut short by a
    /// crash has none, and its last number may be missing digits).
    static func parseEntry(_ scanner: inout ByteScanner, bodySize: Int) -> ParsedEntry {
        guard let sequence = scanner.number(maxDigits: 18), scanner.take(UInt8(ascii: ",")),
              let offset = scanner.number(maxDigits: 18), scanner.take(UInt8(ascii: ",")),
              let size = scanner.number(maxDigits: 18)
        else { return .invalid("index entry is not \"seqnum,offset,size\"") }
        guard scanner.takeSpace() else {
            return .invalid("index entry \(sequence),\(offset),\(size) is not terminated")
        }
        guard sequence >= 1 && sequence <= sequenceMax else {
            return .invalid("index entry has sequence number \(sequence), outside 1...\(sequenceMax)")
        }
        guard size <= messageBytesMax else {
            return .invalid("index entry \(sequence) has size \(size), more than messageBytesMax (\(messageBytesMax))")
        }
        guard offset + size <= bodySize else {
            return .invalid("index entry \(sequence) points past the end of the body (\(offset)+\(size) > \(bodySize))")
        }
        return .entry(sequence: sequence, offset: offset, size: size)
    }

    private static func containsValidEntry(_ bytes: [UInt8], from start: Int, bodySize: Int) -> Bool {
        var position = start
        while position < bytes.count {
            // Entries start after whitespace; try each such place.
            guard let space = bytes[position...].firstIndex(where: { $0 == 0x20 || $0 == 0x0A }) else { return false }
            var scanner = ByteScanner(bytes: bytes, position: space)
            scanner.skipSpaces()
            if scanner.atEnd { return false }
            if case .entry = parseEntry(&scanner, bodySize: bodySize) { return true }
            position = space + 1
        }
        return false
    }
}

/// A cursor over bytes for the store's small text formats.
struct ByteScanner {
    let bytes: [UInt8]
    var position: Int

    init(bytes: [UInt8], position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    var atEnd: Bool { position >= bytes.count }

    mutating func skipSpaces() {
        while position < bytes.count, isSpace(bytes[position]) { position += 1 }
    }

    mutating func takeSpace() -> Bool {
        guard position < bytes.count, isSpace(bytes[position]) else { return false }
        position += 1
        return true
    }

    mutating func take(_ byte: UInt8) -> Bool {
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    /// A decimal number of 1 to `maxDigits` digits (bounded so it cannot overflow).
    mutating func number(maxDigits: Int) -> Int? {
        var value = 0
        var digits = 0
        while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 {
            guard digits < maxDigits else { return nil }
            value = value * 10 + Int(bytes[position] - 0x30)
            digits += 1
            position += 1
        }
        return digits > 0 ? value : nil
    }

    private func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }
}

extension String {
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
