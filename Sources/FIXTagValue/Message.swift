/// One field of a message: its tag, a borrowed view of its value, and where it starts.
public struct FIXField: Sendable {
    /// The tag number.
    public let tag: Int
    /// The value's bytes, borrowed from the message buffer.
    public let value: FIXValue
    /// Byte offset of the field's first tag digit within the message.
    public let offset: Int

    @inlinable
    init(tag: Int, value: FIXValue, offset: Int) {
        self.tag = tag
        self.value = value
        self.offset = offset
    }
}

/// A borrowed, read-only view of one framed FIX message.
///
/// The view points into a buffer it does not own: use it only while that buffer is alive and
/// unchanged (inside the `withUnsafeBytes` or framing callback that produced it). Iterating the
/// fields copies nothing and allocates nothing.
///
/// ```swift
/// message.withUnsafeBytes { bytes in
///     let view = FIXMessage(unchecked: bytes)
///     for field in view where field.tag == 31 {
///         print(field.value.decimal!)           // exact: 191.1 stays 191.1
///     }
///     let clOrdID = view.first(11)?.string
/// }
/// ```
public struct FIXMessage: Sequence, @unchecked Sendable {
    /// The message bytes, from "8=" through the CheckSum field's SOH.
    public let bytes: UnsafeRawBufferPointer
    /// Which tags announce length-prefixed data fields.
    public let dataFields: FIXDataFields
    /// Lenient reading yields fields that a strict reader calls errors but a session layer must
    /// answer field by field: an empty value (`112=`) and a negative tag (`-1=x`).
    public let lenient: Bool

    /// A view of bytes that the framer (or the caller) has already checked to be one message.
    @inlinable
    public init(unchecked bytes: UnsafeRawBufferPointer, dataFields: FIXDataFields = .standard, lenient: Bool = false) {
        self.bytes = bytes
        self.dataFields = dataFields
        self.lenient = lenient
    }

    @inlinable
    public func makeIterator() -> FIXFieldIterator {
        FIXFieldIterator(bytes: bytes, dataFields: dataFields, lenient: lenient)
    }

    /// The value of the first field with `tag`, or nil (also nil when the message is malformed
    /// before that field).
    @inlinable
    public func first(_ tag: Int) -> FIXValue? {
        var iterator = makeIterator()
        while let field = iterator.next() {
            if field.tag == tag { return field.value }
        }
        return nil
    }

    /// The MsgType(35) value, the third field.
    public var msgType: FIXValue? {
        var iterator = makeIterator()
        _ = iterator.next()
        _ = iterator.next()
        guard let field = iterator.next(), field.tag == 35 else { return nil }
        return field.value
    }

    /// Checks every field's syntax; returns the first problem, or nil.
    public func validateSyntax() -> FIXParseError? {
        var iterator = makeIterator()
        do {
            while try iterator.nextField() != nil {}
        } catch {
            return error
        }
        return nil
    }
}

/// Walks the fields of a message in order.
///
/// `next()` stops at the end of the message or at the first malformed field; `error` then says
/// which. `nextField()` throws the error instead.
public struct FIXFieldIterator: IteratorProtocol, @unchecked Sendable {
    @usableFromInline let base: UnsafeRawPointer?
    /// Bytes up to and including the last SOH: every scan stops at an SOH before this, so the
    /// hot loops need no bounds checks per byte.
    @usableFromInline let end: Int
    /// Fields starting before this have eight readable bytes: the fast path's condition.
    @usableFromInline let fastEnd: Int
    /// The whole view's length; bytes after `end` are a truncated field reported last.
    @usableFromInline let count: Int
    @usableFromInline let dataFields: FIXDataFields
    @usableFromInline let lengthTagBits: UnsafePointer<UInt64>
    @usableFromInline var position: Int = 0
    /// The length announced by the previous field, when it was a data length field.
    @usableFromInline var pendingDataLength: Int = -1
    @usableFromInline var storedError: FIXParseError?
    @usableFromInline let lenient: Bool

    /// The first malformed field met, after `next()` returned nil because of it.
    public var error: FIXParseError? { storedError }

    @inlinable
    init(bytes: UnsafeRawBufferPointer, dataFields: FIXDataFields, lenient: Bool = false) {
        self.lenient = lenient
        self.base = bytes.baseAddress
        self.count = bytes.count
        self.dataFields = dataFields
        self.lengthTagBits = dataFields.lengthTagBits
        var end = bytes.count
        while end > 0 && bytes[end - 1] != ASCII.soh { end -= 1 }
        self.end = end
        self.fastEnd = end &- 7
    }

    /// Byte offset of the next field to be read.
    public var offset: Int { position }

    @inlinable @inline(__always)
    public mutating func next() -> FIXField? {
        do {
            return try nextField()
        } catch {
            self.storedError = error
            position = count
            return nil
        }
    }

    /// The next field, nil at the end, or the syntax error at the current position.
    ///
    /// The fast path parses the tag one digit at a time (tags are short) and finds the closing
    /// SOH eight bytes at a time. It needs eight readable bytes at the field start; the last few
    /// bytes of a message, a malformed field or a data field go to the byte-by-byte path, which
    /// gives the same results and the precise error.
    @inlinable @inline(__always)
    public mutating func nextField() throws(FIXParseError) -> FIXField? {
        let start = position
        if _fastPath(start < fastEnd && pendingDataLength < 0) {
            let p = base.unsafelyUnwrapped  // fastEnd > 0 only for a non-empty buffer
            var i = start
            var tag = 0
            var digit = p.load(fromByteOffset: i, as: UInt8.self) &- ASCII.zero
            // The last byte before `end` is SOH, which stops the loop: no bounds check needed.
            while digit <= 9 {
                tag = tag &* 10 &+ Int(digit)
                i = i &+ 1
                digit = p.load(fromByteOffset: i, as: UInt8.self) &- ASCII.zero
            }
            let valueStart = i &+ 1
            // One unsigned compare checks 1...tagDigitsMax digits.
            if _fastPath(digit == ASCII.equals &- ASCII.zero && UInt(bitPattern: i &- start &- 1) < UInt(FIXLimits.tagDigitsMax)) {
                let valueEnd = Self.findSOH(p, from: valueStart, count: end)
                if _fastPath(valueEnd != valueStart) {
                    position = valueEnd &+ 1
                    let value = FIXValue(base: p + valueStart, count: valueEnd &- valueStart)
                    if _slowPath(tag < FIXDataFields.tagLimit
                        && lengthTagBits[tag &>> 6] & (1 &<< UInt64(tag & 63)) != 0) {
                        try announceDataLength(value, tag: tag, at: valueStart)
                    }
                    return FIXField(tag: tag, value: value, offset: start)
                }
            }
        }
        return try nextFieldBytewise()
    }

    /// Bytes of `word` that are zero, marked by their high bit; the lowest mark is exact.
    @inlinable @inline(__always)
    static func zeroBytes(_ word: UInt64) -> UInt64 {
        (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080
    }

    /// The general path: one byte at a time, with every check and the precise error.
    @usableFromInline @inline(never)
    mutating func nextFieldBytewise() throws(FIXParseError) -> FIXField? {
        let start = position
        guard start < end, let p = base else {
            if start < count { throw truncatedField(at: start) }
            return nil
        }
        // Tag digits up to '='. The last byte before `end` is SOH, which stops the loop.
        var i = start
        var tag = 0
        let negative = lenient && p.load(fromByteOffset: i, as: UInt8.self) == ASCII.minus
        if negative { i = i &+ 1 }
        let digitsStart = i
        var digit = p.load(fromByteOffset: i, as: UInt8.self) &- ASCII.zero
        while digit <= 9 {
            tag = tag &* 10 &+ Int(digit)
            i = i &+ 1
            digit = p.load(fromByteOffset: i, as: UInt8.self) &- ASCII.zero
        }
        if digit != ASCII.equals &- ASCII.zero || i == digitsStart || i &- digitsStart > FIXLimits.tagDigitsMax {
            throw badTag(at: start, stop: i, tag: tag)
        }
        if negative { tag = -tag }
        let valueStart = i &+ 1
        let valueEnd: Int
        if pendingDataLength < 0 {
            valueEnd = Self.findSOH(p, from: valueStart, count: end)
        } else {
            valueEnd = try dataFieldEnd(valueStart: valueStart, tag: tag)
        }
        if valueEnd == valueStart && !lenient { throw FIXParseError(.emptyValue, offset: start, tag: tag) }
        position = valueEnd &+ 1
        let value = FIXValue(base: p + valueStart, count: valueEnd &- valueStart)
        if tag >= 0 && tag < FIXDataFields.tagLimit && lengthTagBits[tag &>> 6] & (1 &<< UInt64(tag & 63)) != 0 {
            try announceDataLength(value, tag: tag, at: valueStart)
        }
        return FIXField(tag: tag, value: value, offset: start)
    }

    /// The end of a data field whose length the previous field announced: its bytes may hold SOH.
    @usableFromInline @inline(never)
    mutating func dataFieldEnd(valueStart: Int, tag: Int) throws(FIXParseError) -> Int {
        let valueEnd = valueStart + pendingDataLength
        pendingDataLength = -1
        if valueEnd >= end || base!.load(fromByteOffset: valueEnd, as: UInt8.self) != ASCII.soh {
            throw FIXParseError(.dataLengthInvalid, offset: valueStart, tag: tag)
        }
        return valueEnd
    }

    @usableFromInline @inline(never)
    mutating func announceDataLength(_ value: FIXValue, tag: Int, at offset: Int) throws(FIXParseError) {
        guard let length = value.int, length >= 0 else {
            throw FIXParseError(.dataLengthInvalid, offset: offset, tag: tag)
        }
        pendingDataLength = length
    }

    /// Classifies a tag that did not end in '=' (kept out of line: the hot path never calls it).
    @usableFromInline @inline(never)
    func badTag(at start: Int, stop: Int, tag: Int) -> FIXParseError {
        let c = base!.load(fromByteOffset: stop, as: UInt8.self)
        if c == ASCII.soh && stop > start && stop - start <= FIXLimits.tagDigitsMax {
            return FIXParseError(.equalsMissing, offset: start, tag: tag)
        }
        return FIXParseError(.tagNotNumeric, offset: start)
    }

    /// The bytes after the last SOH: a field cut short.
    @usableFromInline @inline(never)
    func truncatedField(at start: Int) -> FIXParseError {
        var i = start
        var tag = 0
        while i < count, let digit = Optional(base!.load(fromByteOffset: i, as: UInt8.self) &- ASCII.zero), digit <= 9 {
            tag = tag &* 10 &+ Int(digit)
            i += 1
        }
        if i < count && base!.load(fromByteOffset: i, as: UInt8.self) == ASCII.equals && i > start {
            return FIXParseError(.truncated, offset: start, tag: tag)
        }
        return FIXParseError(i == count && i > start ? .equalsMissing : .tagNotNumeric, offset: start)
    }

    /// Index of the first SOH at or after `from`, or `count` when there is none. Eight bytes at a
    /// time while a whole word fits, using the classic zero-byte test on the word XORed with SOH.
    @inlinable @inline(__always)
    static func findSOH(_ p: UnsafeRawPointer, from: Int, count: Int) -> Int {
        var i = from
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let wordsEnd = count &- 8
        while i <= wordsEnd {
            let w = p.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ ones
            let found = (w &- ones) & ~w & highs
            if found != 0 { return i &+ found.trailingZeroBitCount &>> 3 }
            i = i &+ 8
        }
        while i < count && p.load(fromByteOffset: i, as: UInt8.self) != ASCII.soh { i = i &+ 1 }
        return i
    }
}
