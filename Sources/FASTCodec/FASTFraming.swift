/// How FAST messages are delimited in a byte stream or capture file.
///
/// - `none`: messages back to back; each message's end is found by decoding it.
/// - `lengthLE32`: a 4-byte little-endian length before each message (the length counts the
///   message bytes only).
/// - `moex`: the Moscow Exchange UDP packet preamble, a 4-byte little-endian `MsgSeqNum`, before
///   each message.
/// - `cme`: the 5-byte packet preamble of CME's FAST market data (also used by CQG): a 4-byte
///   big-endian packet sequence number, then a 1-byte sub-channel id, before each message.
///
/// ```swift
/// let framing = FASTFraming(rawValue: "length-le32")!   // .lengthLE32
/// ```
public enum FASTFraming: String, Sendable, CaseIterable {
    case none
    case lengthLE32 = "length-le32"
    case moex
    case cme

    /// Bytes before each message.
    public var headerBytes: Int {
        switch self {
        case .none: 0
        case .lengthLE32, .moex: 4
        case .cme: 5
        }
    }

    /// Writes the frame header for a message of `messageBytes` bytes (the sequence number and
    /// channel are used by `moex` and `cme`).
    public func writeHeader(messageBytes: Int, sequenceNumber: UInt32 = 0, channel: UInt8 = 0,
                            to out: inout [UInt8]) {
        switch self {
        case .none: break
        case .lengthLE32:
            let length = UInt32(truncatingIfNeeded: messageBytes)
            for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: length >> UInt32(shift))) }
        case .moex:
            for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: sequenceNumber >> UInt32(shift))) }
        case .cme:
            for shift in stride(from: 24, through: 0, by: -8) {
                out.append(UInt8(truncatingIfNeeded: sequenceNumber >> UInt32(shift)))
            }
            out.append(channel)
        }
    }
}

/// Where one framed message was found.
public struct FASTFrameInfo: Equatable, Sendable {
    /// Offset of the frame (its header) in the input.
    public var offset: Int
    /// Offset of the first message byte.
    public var messageOffset: Int
    /// Bytes of the whole frame, header included.
    public var frameBytes: Int
    /// The preamble's sequence number (`moex`, `cme`).
    public var sequenceNumber: UInt32?
    /// The preamble's sub-channel (`cme`).
    public var channel: UInt8?
}

/// The result of asking a ``FASTStreamDecoder`` for the next message.
public enum FASTStreamResult: Equatable, Sendable {
    /// A message was decoded into the message buffer.
    case message(FASTFrameInfo)
    /// The input ends inside a frame header or a length-framed message: call again with more bytes.
    case needMoreBytes
    /// The input ends exactly at a frame boundary.
    case end
}

/// Splits a FAST stream into messages and decodes them: framing plus a ``FASTDecoder``.
///
/// Sans-IO: it holds no input, the caller passes the bytes and an offset it advances. With
/// `lengthLE32` a short read is reported as ``FASTStreamResult/needMoreBytes`` before any
/// dictionary changes; with the other framings a message's end is only known by decoding it,
/// so pass whole messages (a capture file, a UDP datagram) and a short one is an error (U1).
///
/// ```swift
/// var stream = FASTStreamDecoder(templates: templates, framing: .moex)
/// var message = FASTMessage()
/// var offset = 0
/// while case .message(let frame) = try stream.next(bytes, offset: &offset, into: &message) {
///     print(frame.sequenceNumber ?? 0, message.record(in: templates).text)
/// }
/// ```
public struct FASTStreamDecoder: Sendable {
    /// The decoder whose dictionaries carry across messages.
    public var decoder: FASTDecoder
    /// The framing of the input.
    public let framing: FASTFraming
    /// Reset the dictionaries before every message (for feeds whose packets are independent).
    public var resetEachMessage: Bool

    /// A stream decoder; dictionaries start undefined (reset once at stream start).
    public init(templates: FASTTemplates, framing: FASTFraming, resetEachMessage: Bool = false,
                templateIDInitial: UInt32? = nil) {
        self.decoder = FASTDecoder(templates: templates, templateIDInitial: templateIDInitial)
        self.framing = framing
        self.resetEachMessage = resetEachMessage
    }

    /// Decodes the message at `offset` and advances `offset` past it. Errors carry the absolute
    /// byte offset in `bytes`.
    public mutating func next(_ bytes: [UInt8], offset: inout Int, into message: inout FASTMessage)
        throws(FASTError) -> FASTStreamResult {
        let result: Result<FASTStreamResult, FASTError> = bytes.withUnsafeBytes { buffer in
            do throws(FASTError) {
                return .success(try next(buffer, offset: &offset, into: &message))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Raw-memory variant of ``next(_:offset:into:)-([UInt8],_,_)``.
    public mutating func next(_ buffer: UnsafeRawBufferPointer, offset: inout Int, into message: inout FASTMessage)
        throws(FASTError) -> FASTStreamResult {
        let start = offset
        guard start >= 0, start <= buffer.count else { preconditionFailure("offset outside the input") }
        if start == buffer.count { return .end }
        let available = buffer.count - start
        guard available >= framing.headerBytes else { return .needMoreBytes }
        var info = FASTFrameInfo(offset: start, messageOffset: start + framing.headerBytes, frameBytes: 0)
        var messageEnd = buffer.count
        switch framing {
        case .none:
            break
        case .lengthLE32:
            var length: UInt32 = 0
            for i in 0 ..< 4 { length |= UInt32(buffer[start + i]) << UInt32(8 * i) }
            guard length > 0, Int(length) <= FASTDecoder.messageBytesMax else {
                throw FASTError(.u3, "frame length \(length) is zero or exceeds \(FASTDecoder.messageBytesMax)",
                                offset: start)
            }
            guard Int(length) <= available - 4 else { return .needMoreBytes }
            messageEnd = start + 4 + Int(length)
        case .moex:
            var sequence: UInt32 = 0
            for i in 0 ..< 4 { sequence |= UInt32(buffer[start + i]) << UInt32(8 * i) }
            info.sequenceNumber = sequence
        case .cme:
            var sequence: UInt32 = 0
            for i in 0 ..< 4 { sequence = sequence << 8 | UInt32(buffer[start + i]) }
            info.sequenceNumber = sequence
            info.channel = buffer[start + 4]
        }
        if resetEachMessage { decoder.reset() }
        let body = UnsafeRawBufferPointer(rebasing: buffer[info.messageOffset ..< messageEnd])
        guard !body.isEmpty else {
            throw FASTError(.u1, "frame header without a message", offset: info.messageOffset)
        }
        let used: Int
        do {
            used = try decoder.decode(body, into: &message)
        } catch {
            var error = error
            error.offset = (error.offset ?? 0) + info.messageOffset
            throw error
        }
        if framing == .lengthLE32 && info.messageOffset + used != messageEnd {
            throw FASTError(.u3, "message uses \(used) of the \(messageEnd - info.messageOffset) bytes its frame gives",
                            offset: info.messageOffset + used)
        }
        info.frameBytes = framing.headerBytes + used
        offset = start + info.frameBytes
        return .message(info)
    }
}
