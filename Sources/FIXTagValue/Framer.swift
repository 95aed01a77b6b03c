/// ASCII bytes the wire layer looks for.
@usableFromInline enum ASCII {
    @usableFromInline static let soh: UInt8 = 0x01
    @usableFromInline static let equals: UInt8 = 0x3D  // =
    @usableFromInline static let zero: UInt8 = 0x30
    @usableFromInline static let minus: UInt8 = 0x2D  // -
    @usableFromInline static let dot: UInt8 = 0x2E
    @usableFromInline static let colon: UInt8 = 0x3A
    @usableFromInline static let eight: UInt8 = 0x38
    @usableFromInline static let nine: UInt8 = 0x39
}

/// Named bounds of the wire layer.
public enum FIXLimits {
    /// Default largest message the framer accepts, in bytes (BeginString through CheckSum).
    public static let messageBytesMaxDefault = 1 << 20
    /// Longest BeginString value looked at before the framer gives up ("FIXT.1.1" is 8).
    public static let beginStringBytesMax = 16
    /// Most digits in a BodyLength value.
    public static let bodyLengthDigitsMax = 9
    /// Most digits in a tag number.
    public static let tagDigitsMax = 9
}

/// The outcome of looking for one message at the start of a byte buffer.
public enum FIXFrame: Hashable, Sendable {
    /// A complete message occupies the first `length` bytes; BodyLength and CheckSum are verified.
    case message(length: Int)
    /// The bytes so far are a valid beginning; call again when more have arrived.
    case needMoreBytes
    /// The bytes at the start are not a valid message. Drop the first `resumeAt` bytes (always at
    /// least one) and frame again from there: that is the next place a message could begin.
    case invalid(FIXParseError, resumeAt: Int)
}

/// Finds message boundaries in a byte stream that arrives in arbitrary chunks.
///
/// The framer is stateless: give it the unconsumed bytes each time. It checks that BeginString(8)
/// is first, BodyLength(9) second and equal to the real body length, MsgType(35) third, and that
/// CheckSum(10) is last and correct. It reads the body only to sum it, so data fields holding SOH
/// are framed correctly.
///
/// ```swift
/// var framer = FIXFramer(messageBytesMax: 64 * 1024)
/// bytes.withUnsafeBytes { buffer in
///     var rest = buffer[...]
///     while !rest.isEmpty {
///         switch framer.frame(UnsafeRawBufferPointer(rebasing: rest)) {
///         case .message(let length): handle(rest.prefix(length)); rest = rest.dropFirst(length)
///         case .needMoreBytes: return                                   // keep `rest` for later
///         case .invalid(let error, let resume): log(error); rest = rest.dropFirst(resume)
///         }
///     }
/// }
/// ```
public struct FIXFramer: Sendable {
    /// What to skip when BodyLength does not match the body.
    public enum BodyLengthRecovery: Sendable {
        /// Skip to the next `8=FIX`: nothing after the bad message is lost (captures, replays).
        case nextMessage
        /// Skip through the first CheckSum field at or after the declared end, as QuickFIX and
        /// the session acceptance suite expect of a live session: the bytes the peer declared
        /// belong to the garbled message, and the session recovers them by ResendRequest.
        case declaredLength
    }

    /// Largest message accepted; a longer one is invalid (`messageTooLarge`) and skipped.
    public var messageBytesMax: Int
    public var bodyLengthRecovery: BodyLengthRecovery

    public init(messageBytesMax: Int = FIXLimits.messageBytesMaxDefault) {
        self.init(messageBytesMax: messageBytesMax, bodyLengthRecovery: .nextMessage)
    }

    public init(messageBytesMax: Int, bodyLengthRecovery: BodyLengthRecovery) {
        precondition(messageBytesMax >= 32, "messageBytesMax too small to hold any FIX message")
        self.messageBytesMax = messageBytesMax
        self.bodyLengthRecovery = bodyLengthRecovery
    }

    /// Looks for one message at the start of `bytes`.
    @inlinable
    public func frame(_ bytes: UnsafeRawBufferPointer) -> FIXFrame {
        let n = bytes.count
        guard n > 0, let p = bytes.baseAddress else { return .needMoreBytes }
        // "8=FIX" opens every message; anything else is garbage up to the next candidate.
        let prefix: StaticString = "8=FIX"
        let matched = min(n, 5)
        for i in 0..<matched where p.load(fromByteOffset: i, as: UInt8.self) != prefix.utf8Start[i] {
            let error = FIXParseError(i == 0 ? .garbage : .beginStringMissing, offset: 0, tag: i == 0 ? nil : 8)
            return .invalid(error, resumeAt: Self.resyncPoint(bytes, from: 1))
        }
        if n < 5 { return .needMoreBytes }
        // BeginString value ends at the first SOH.
        var i = 5
        let beginLimit = min(n, 2 + FIXLimits.beginStringBytesMax)
        while i < beginLimit && p.load(fromByteOffset: i, as: UInt8.self) != ASCII.soh { i += 1 }
        if i == beginLimit {
            if n < 2 + FIXLimits.beginStringBytesMax { return .needMoreBytes }
            return .invalid(FIXParseError(.beginStringMissing, offset: 0, tag: 8),
                            resumeAt: Self.resyncPoint(bytes, from: 1))
        }
        i += 1
        // "9=" digits SOH
        if n < i + 2 { return .needMoreBytes }
        if p.load(fromByteOffset: i, as: UInt8.self) != ASCII.nine
            || p.load(fromByteOffset: i + 1, as: UInt8.self) != ASCII.equals {
            return .invalid(FIXParseError(.bodyLengthMissing, offset: i, tag: 9),
                            resumeAt: Self.resyncPoint(bytes, from: 1))
        }
        let lengthStart = i + 2
        var j = lengthStart
        var bodyLength = 0
        while true {
            if j >= n { return .needMoreBytes }
            let c = p.load(fromByteOffset: j, as: UInt8.self)
            if c == ASCII.soh { break }
            let digit = c &- ASCII.zero
            if digit > 9 || j - lengthStart >= FIXLimits.bodyLengthDigitsMax {
                return .invalid(FIXParseError(.bodyLengthInvalid, offset: lengthStart, tag: 9),
                                resumeAt: Self.resyncPoint(bytes, from: 1))
            }
            bodyLength = bodyLength &* 10 &+ Int(digit)
            j += 1
        }
        if j == lengthStart {
            return .invalid(FIXParseError(.bodyLengthInvalid, offset: lengthStart, tag: 9),
                            resumeAt: Self.resyncPoint(bytes, from: 1))
        }
        let bodyStart = j + 1
        let bodyEnd = bodyStart + bodyLength
        let total = bodyEnd + 7  // "10=ddd" SOH
        if total > messageBytesMax {
            return .invalid(FIXParseError(.messageTooLarge, offset: 0, tag: 9, expected: messageBytesMax, found: total),
                            resumeAt: Self.resyncPoint(bytes, from: 1))
        }
        // MsgType must open the body; checking it early rejects a bad stream before waiting for a
        // large declared body.
        if n >= bodyStart + 3 {
            if p.load(fromByteOffset: bodyStart, as: UInt8.self) != 0x33
                || p.load(fromByteOffset: bodyStart + 1, as: UInt8.self) != 0x35
                || p.load(fromByteOffset: bodyStart + 2, as: UInt8.self) != ASCII.equals {
                return .invalid(FIXParseError(.msgTypeMissing, offset: bodyStart, tag: 35),
                                resumeAt: Self.resyncPoint(bytes, from: 1))
            }
        }
        if n < total {
            // A wrong BodyLength that claims more than is there would stall the stream until the
            // next message arrives; that is what the peer asked for, and the checksum field will
            // then be found in the wrong place and reported below.
            return .needMoreBytes
        }
        // CheckSum(10) must follow the body exactly: "SOH 10=ddd SOH".
        let checkSumThere = bodyLength >= 4
            && p.load(fromByteOffset: bodyEnd - 1, as: UInt8.self) == ASCII.soh
            && p.load(fromByteOffset: bodyEnd, as: UInt8.self) == 0x31
            && p.load(fromByteOffset: bodyEnd + 1, as: UInt8.self) == ASCII.zero
            && p.load(fromByteOffset: bodyEnd + 2, as: UInt8.self) == ASCII.equals
        var declared = 0
        var digitsValid = checkSumThere && p.load(fromByteOffset: bodyEnd + 6, as: UInt8.self) == ASCII.soh
        for k in 0..<3 where digitsValid {
            let digit = p.load(fromByteOffset: bodyEnd + 3 + k, as: UInt8.self) &- ASCII.zero
            if digit > 9 { digitsValid = false }
            declared = declared * 10 + Int(digit)
        }
        if !digitsValid {
            // With `.declaredLength` the bad message runs from here through the first CheckSum
            // field at or after the end it declares (as QuickFIX discards it), so a BodyLength
            // too long swallows what it covers rather than half of it.
            let error = checkSumThere
                ? FIXParseError(.checkSumInvalid, offset: bodyEnd + 3, tag: 10)
                : FIXParseError(.bodyLengthMismatch, offset: lengthStart, tag: 9,
                                expected: Self.findCheckSumField(bytes, from: bodyStart).map { $0 - bodyStart },
                                found: bodyLength)
            if !checkSumThere && bodyLengthRecovery == .nextMessage {
                return .invalid(error, resumeAt: Self.resyncPoint(bytes, from: 1))
            }
            guard let discardEnd = Self.endOfCheckSumField(bytes, from: max(bodyStart, bodyEnd - 1)) else {
                if n < messageBytesMax { return .needMoreBytes }
                return .invalid(error, resumeAt: Self.resyncPoint(bytes, from: 1))
            }
            return .invalid(error, resumeAt: discardEnd)
        }
        let computed = Int(FIXCheckSum.compute(UnsafeRawBufferPointer(start: p, count: bodyEnd)))
        if computed != declared {
            return .invalid(FIXParseError(.checkSumMismatch, offset: bodyEnd + 3, tag: 10, expected: computed, found: declared),
                            resumeAt: total)
        }
        return .message(length: total)
    }

    /// Says why bytes that end before a message is complete cannot become one (at the end of a
    /// capture): a BodyLength that overshoots a CheckSum field that is there, or plain truncation.
    public static func diagnoseIncomplete(_ bytes: UnsafeRawBufferPointer) -> FIXParseError {
        var i = 0
        var sohs = 0
        while i < bytes.count && sohs < 2 {
            if bytes[i] == ASCII.soh { sohs += 1 }
            i += 1
        }
        // `i` is where the body starts when the first two fields are BeginString and BodyLength.
        if sohs == 2, let checkSumAt = findCheckSumField(bytes, from: i),
           let lengthAt = bodyLengthOffset(bytes), let declared = declaredBodyLength(bytes) {
            return FIXParseError(.bodyLengthMismatch, offset: lengthAt, tag: 9, expected: checkSumAt - i, found: declared)
        }
        return FIXParseError(.truncated, offset: 0, found: bytes.count)
    }

    /// Where the BodyLength value starts, after "8=…SOH9=".
    static func bodyLengthOffset(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard let soh = bytes.firstIndex(of: ASCII.soh), soh + 2 < bytes.count,
              bytes[soh + 1] == ASCII.nine, bytes[soh + 2] == ASCII.equals else { return nil }
        return soh + 3
    }

    static func declaredBodyLength(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard let start = bodyLengthOffset(bytes) else { return nil }
        var end = start
        while end < bytes.count && bytes[end] != ASCII.soh { end += 1 }
        return FIXValue.parseInt(bytes.baseAddress! + start, end - start)
    }

    /// The next index at or after `from` where "8=FIX" starts, or where a prefix of it runs to the
    /// end of the buffer; `bytes.count` when there is none.
    @usableFromInline
    static func resyncPoint(_ bytes: UnsafeRawBufferPointer, from: Int) -> Int {
        let prefix: StaticString = "8=FIX"
        var i = from
        let n = bytes.count
        outer: while i < n {
            if bytes[i] == ASCII.eight {
                var k = 1
                while k < 5 && i + k < n {
                    if bytes[i + k] != prefix.utf8Start[k] { i += 1; continue outer }
                    k += 1
                }
                return i
            }
            i += 1
        }
        return n
    }

    /// The index just past the SOH that ends the first "SOH 10=" field at or after `from`
    /// (whatever its value), or nil when the buffer holds none yet.
    @usableFromInline
    static func endOfCheckSumField(_ bytes: UnsafeRawBufferPointer, from: Int) -> Int? {
        var i = max(from, 0)
        let n = bytes.count
        while i + 4 <= n {
            if bytes[i] == ASCII.soh && bytes[i + 1] == 0x31 && bytes[i + 2] == ASCII.zero && bytes[i + 3] == ASCII.equals {
                var j = i + 4
                while j < n && bytes[j] != ASCII.soh { j += 1 }
                return j < n ? j + 1 : nil
            }
            i += 1
        }
        return nil
    }

    /// Finds where a well-formed "SOH 10=ddd SOH" begins (the index just after the SOH), used to
    /// say what BodyLength should have been.
    @usableFromInline
    static func findCheckSumField(_ bytes: UnsafeRawBufferPointer, from: Int) -> Int? {
        var i = max(from, 1)
        let n = bytes.count
        while i + 7 <= n {
            if bytes[i - 1] == ASCII.soh && bytes[i] == 0x31 && bytes[i + 1] == ASCII.zero && bytes[i + 2] == ASCII.equals
                && (bytes[i + 3] &- ASCII.zero) <= 9 && (bytes[i + 4] &- ASCII.zero) <= 9
                && (bytes[i + 5] &- ASCII.zero) <= 9 && bytes[i + 6] == ASCII.soh {
                return i
            }
            i += 1
        }
        return nil
    }
}

/// The FIX CheckSum: the sum of all bytes up to the CheckSum field, modulo 256.
public enum FIXCheckSum {
    @inlinable
    public static func compute(_ bytes: UnsafeRawBufferPointer) -> UInt8 {
        // Only the sum modulo 256 matters, so a wrapping byte sum is exact; the compiler turns
        // this loop into vector additions of 16 bytes at a time.
        var sum: UInt8 = 0
        for b in bytes { sum &+= b }
        return sum
    }
}
