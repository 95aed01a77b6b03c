/// One message found in a capture.
public struct CaptureMessage: @unchecked Sendable {
    /// The message as it goes on the wire (SOH-delimited), borrowed for the callback's duration.
    public let bytes: UnsafeRawBufferPointer
    /// Byte offset in the capture where the message (not its log prefix) starts.
    public let offset: Int64
    /// 1-based line in the capture where the message starts.
    public let line: Int
    /// The time a QuickFIX-style log wrote before the message (`YYYYMMDD-HH:MM:SS.sss : `).
    public let logTime: FIXTimestamp?

    /// A message found elsewhere than by a `CaptureDecoder` (a FAST stream turned into FIX, say).
    public init(bytes: UnsafeRawBufferPointer, offset: Int64, line: Int, logTime: FIXTimestamp? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.line = line
        self.logTime = logTime
    }

    /// A borrowed view of the message's fields.
    public func view(dataFields: FIXDataFields = .standard) -> FIXMessage {
        FIXMessage(unchecked: bytes, dataFields: dataFields)
    }
}

/// A stretch of a capture that is not a valid message, with where it is.
public struct CaptureError: Error, Sendable, CustomStringConvertible {
    /// What is wrong; its offset is absolute within the capture.
    public let error: FIXParseError
    /// 1-based line where the bad stretch starts.
    public let line: Int

    public init(error: FIXParseError, line: Int) {
        self.error = error
        self.line = line
    }

    public var description: String { "line \(line): \(error)" }
}

/// What the decoder found next.
public enum CaptureEvent: @unchecked Sendable {
    case message(CaptureMessage)
    case error(CaptureError)
}

/// Splits a capture into messages, whatever its layout, reading it in chunks so that a file of
/// any size streams through bounded memory.
///
/// Layouts recognised, also mixed within one capture:
/// - raw SOH-delimited messages, back to back or one per line;
/// - text with `|` or `^A` as the field delimiter, one message per line;
/// - QuickFIX message logs (`YYYYMMDD-HH:MM:SS.sss : 8=FIX…`), whose time is kept;
/// - any other printable prefix on the line before `8=FIX` is skipped silently.
///
/// Bytes that belong to no message are reported as `.error` events with their offset and line,
/// and decoding goes on.
///
/// ```swift
/// var decoder = CaptureDecoder()
/// while let chunk = try file.read(1 << 20) {
///     chunk.withUnsafeBytes { decoder.append($0) }
///     decoder.drain { event in … }
/// }
/// decoder.finish()
/// decoder.drain { event in … }
/// ```
public struct CaptureDecoder: Sendable {
    public let framer: FIXFramer
    private var storage: [UInt8] = []
    private var head = 0
    private var baseOffset: Int64 = 0
    private var line = 1
    private var scratch: [UInt8] = []
    private var atEnd = false

    public init(framer: FIXFramer = FIXFramer()) {
        self.framer = framer
    }

    /// A decoder for a capture read from `offset` on (a resumed or tailed file): offsets it
    /// reports are absolute; lines count from 1 at `offset`.
    public init(framer: FIXFramer = FIXFramer(), startingAt offset: Int64) {
        self.framer = framer
        self.baseOffset = offset
    }

    /// Bytes held but not yet decoded.
    public var pendingBytes: Int { storage.count - head }

    /// Adds the next chunk of the capture.
    public mutating func append(_ chunk: UnsafeRawBufferPointer) {
        precondition(!atEnd, "append after finish")
        if head > 0 {
            storage.removeSubrange(0..<head)
            baseOffset += Int64(head)
            head = 0
        }
        storage.append(contentsOf: chunk)
    }

    /// Says that the capture has ended: the next `drain` reports whatever is left as errors.
    public mutating func finish() {
        atEnd = true
    }

    /// Calls `handle` for every message and error that the bytes so far allow, in order.
    public mutating func drain(_ handle: (CaptureEvent) throws -> Void) rethrows {
        var position = head
        var line = self.line
        var scratch = self.scratch
        self.scratch = []
        defer {
            self.head = position
            self.line = line
            self.scratch = scratch
        }
        let end = atEnd
        let framer = self.framer
        let baseOffset = self.baseOffset
        try storage.withUnsafeBytes { all in
            let n = all.count
            // Moves `position` to `to`, counting the newlines passed.
            func advance(to target: Int) {
                line += countNewlines(UnsafeRawBufferPointer(rebasing: all[position..<target]))
                position = target
            }
            func report(_ error: FIXParseError) throws {
                try handle(.error(CaptureError(error: error.shifted(by: Int(baseOffset)), line: line)))
            }
            while position < n {
                // Blank space between messages is layout, not an error.
                let c = all[position]
                if c == 0x0A || c == 0x0D || c == 0x20 || c == 0x09 {
                    advance(to: position + 1)
                    continue
                }
                let rest = UnsafeRawBufferPointer(rebasing: all[position...])
                if c != ASCII.eight || (rest.count >= 2 && rest[1] != ASCII.equals) {
                    // Something before the next message: a log prefix on the same line, or junk.
                    let next = position + FIXFramer.resyncPoint(rest, from: 0)
                    if next == n && !end && n - position <= framer.messageBytesMax { return }
                    let region = UnsafeRawBufferPointer(rebasing: all[position..<next])
                    if next < n && isLogPrefix(region) {
                        // The prefix holds no line feed, so `position` may stay on it until the
                        // message is complete: a retry after more bytes then sees the prefix again.
                        if try !emitAt(all: all, start: next, logTime: logPrefixTime(region)) { return }
                        continue
                    }
                    try report(FIXParseError(.garbage, offset: position, expected: nil, found: next - position))
                    advance(to: next)
                    continue
                }
                if try !emitAt(all: all, start: position, logTime: nil) { return }
            }

            /// Decodes the message starting at `start` (== position); false when more bytes are needed.
            func emitAt(all: UnsafeRawBufferPointer, start: Int, logTime: FIXTimestamp?) throws -> Bool {
                let rest = UnsafeRawBufferPointer(rebasing: all[start...])
                // The byte after the BeginString value tells the layout.
                var k = 2
                let limit = min(rest.count, 2 + FIXLimits.beginStringBytesMax)
                while k < limit && rest[k] != ASCII.soh && rest[k] != 0x7C && rest[k] != 0x5E && rest[k] != 0x0A { k += 1 }
                if k == limit && rest.count < 2 + FIXLimits.beginStringBytesMax && !end { return false }
                let delimiter = k < rest.count ? rest[k] : ASCII.soh
                if delimiter == 0x7C || delimiter == 0x5E {
                    return try emitTextLine(all: all, start: start, delimiter: delimiter, logTime: logTime)
                }
                switch framer.frame(rest) {
                case .message(let length):
                    let message = CaptureMessage(bytes: UnsafeRawBufferPointer(rebasing: rest[..<length]),
                                                 offset: baseOffset + Int64(start), line: line, logTime: logTime)
                    try handle(.message(message))
                    advance(to: start + length)
                case .needMoreBytes:
                    if !end { return false }
                    try report(FIXFramer.diagnoseIncomplete(rest).shifted(by: start))
                    advance(to: start + FIXFramer.resyncPoint(rest, from: 1))
                case .invalid(let error, let resume):
                    try report(error.shifted(by: start))
                    advance(to: start + resume)
                }
                return true
            }

            /// A text line with `|` or `^A` delimiters: translated into `scratch`, then framed.
            func emitTextLine(all: UnsafeRawBufferPointer, start: Int, delimiter: UInt8, logTime: FIXTimestamp?) throws -> Bool {
                var eol = start
                while eol < n && all[eol] != 0x0A { eol += 1 }
                if eol == n && !end {
                    if n - start <= framer.messageBytesMax * 2 { return false }
                }
                scratch.removeAll(keepingCapacity: true)
                var i = start
                // Source offset of each translated byte is needed only for errors; the caret form
                // shifts offsets, so errors in such lines are reported at the line start.
                while i < eol {
                    let b = all[i]
                    if delimiter == 0x5E && b == 0x5E && i + 1 < eol && all[i + 1] == 0x41 {
                        scratch.append(ASCII.soh)
                        i += 2
                    } else if delimiter == 0x7C && b == 0x7C {
                        scratch.append(ASCII.soh)
                        i += 1
                    } else {
                        scratch.append(b)
                        i += 1
                    }
                }
                while let last = scratch.last, last == 0x0D || last == 0x20 { scratch.removeLast() }
                try scratch.withUnsafeBytes { text in
                    var at = 0
                    while at < text.count {
                        if text[at] == 0x20 || text[at] == 0x09 { at += 1; continue }
                        let piece = UnsafeRawBufferPointer(rebasing: text[at...])
                        let errorOffset = delimiter == 0x7C ? start + at : start
                        switch framer.frame(piece) {
                        case .message(let length):
                            let message = CaptureMessage(bytes: UnsafeRawBufferPointer(rebasing: piece[..<length]),
                                                         offset: baseOffset + Int64(start + (delimiter == 0x7C ? at : 0)),
                                                         line: line, logTime: logTime)
                            try handle(.message(message))
                            at += length
                        case .needMoreBytes:
                            try report(FIXFramer.diagnoseIncomplete(piece).shifted(by: errorOffset))
                            at = text.count
                        case .invalid(let error, let resume):
                            try report(delimiter == 0x7C ? error.shifted(by: errorOffset) : FIXParseError(
                                error.code, offset: start, tag: error.tag, expected: error.expected, found: error.found))
                            at += resume
                        }
                    }
                }
                advance(to: eol)
                return true
            }
        }
    }
}

/// Counts line feeds (a simple loop the compiler vectorizes).
@usableFromInline
func countNewlines(_ bytes: UnsafeRawBufferPointer) -> Int {
    var count = 0
    for b in bytes where b == 0x0A { count += 1 }
    return count
}

/// A log prefix: printable text on the same line as the message that follows it.
func isLogPrefix(_ region: UnsafeRawBufferPointer) -> Bool {
    for b in region where b < 0x20 && b != 0x09 || b == 0x7F { return false }
    return true
}

/// The time in a QuickFIX message log prefix (`20240315-08:00:00.020 : `), if it is one.
func logPrefixTime(_ region: UnsafeRawBufferPointer) -> FIXTimestamp? {
    var end = region.count
    while end > 0 && (region[end - 1] == 0x20 || region[end - 1] == ASCII.colon) { end -= 1 }
    return FIXTimestamp(ascii: UnsafeRawBufferPointer(rebasing: region[..<end]))
}
