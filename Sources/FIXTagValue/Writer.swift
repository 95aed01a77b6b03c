/// Builds FIX messages into one reusable buffer: BeginString, BodyLength and CheckSum are filled
/// in by `finish`, and after the first few messages the buffer's capacity suffices, so building
/// a message allocates nothing.
///
/// ```swift
/// var writer = FIXWriter()
/// writer.begin(beginString: "FIX.4.4", msgType: "D")
/// writer.appendStandardHeader(sender: "BRKR", target: "XNAS", seqNum: 42, sendingTime: now)
/// writer.append(11, "ORD-1")
/// writer.append(44, FIXDecimal("191.10")!)
/// writer.finish { bytes in socket.write(bytes) }   // 8=FIX.4.4|9=..|35=D|34=42|49=BRKR|…|10=xyz|
/// ```
public struct FIXWriter: Sendable {
    /// Room kept in front of MsgType for "8=<BeginString> SOH 9=<length> SOH".
    public static let headerReserveBytes = 32

    @usableFromInline var buffer: [UInt8]
    @usableFromInline var messageStart = 0
    @usableFromInline var beginString: [UInt8] = []
    @usableFromInline var finished = false

    public init(capacity: Int = 4096) {
        buffer = []
        buffer.reserveCapacity(capacity)
    }

    /// Starts a message: clears the buffer (keeping its capacity) and writes MsgType(35).
    public mutating func begin(beginString: String, msgType: String) {
        precondition(beginString.utf8.count <= Self.headerReserveBytes - 16, "BeginString too long")
        precondition(!msgType.isEmpty, "MsgType must not be empty")
        buffer.removeAll(keepingCapacity: true)
        self.beginString.removeAll(keepingCapacity: true)
        self.beginString.append(contentsOf: beginString.utf8)
        for _ in 0..<Self.headerReserveBytes { buffer.append(0) }
        finished = false
        append(35, msgType)
    }

    /// Writes MsgSeqNum(34), SenderCompID(49), SendingTime(52) and TargetCompID(56) in the
    /// ascending tag order counterparties expect; optional header fields go between, by tag, when
    /// the caller appends them in order.
    public mutating func appendStandardHeader(sender: String, target: String, seqNum: Int, sendingTime: FIXTimestamp) {
        append(34, seqNum)
        append(49, sender)
        append(52, sendingTime)
        append(56, target)
    }

    @inlinable
    mutating func appendTag(_ tag: Int) {
        precondition(!finished, "append after finish: call begin first")
        if tag < 0 { buffer.append(ASCII.minus) }  // only when echoing a leniently read field
        appendUnsigned(UInt64(tag.magnitude))
        buffer.append(ASCII.equals)
    }

    @inlinable
    mutating func appendUnsigned(_ value: UInt64) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var v = value
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[19 - n] = ASCII.zero &+ UInt8(truncatingIfNeeded: v % 10)
                v /= 10
                n += 1
            } while v != 0
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: d[(20 - n)...]))
        }
    }

    /// Appends tag=value for a string value (UTF-8). An empty value is a programming error: FIX
    /// forbids it.
    public mutating func append(_ tag: Int, _ value: String) {
        precondition(!value.isEmpty, "FIX field \(tag) must not be empty")
        appendTag(tag)
        buffer.append(contentsOf: value.utf8)
        buffer.append(ASCII.soh)
    }

    /// Appends tag=value for raw bytes (copied as they are).
    public mutating func append(_ tag: Int, bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count > 0, "FIX field \(tag) must not be empty")
        appendTag(tag)
        buffer.append(contentsOf: bytes)
        buffer.append(ASCII.soh)
    }

    /// Appends `tag` with a value read from another message, unchanged (even when empty).
    public mutating func append(_ tag: Int, _ value: FIXValue) {
        appendTag(tag)
        buffer.append(contentsOf: value.bytes)
        buffer.append(ASCII.soh)
    }

    /// Appends a field read from another message, unchanged (an empty value read leniently
    /// stays empty: echoing it is the caller's decision).
    public mutating func append(_ field: FIXField) {
        appendTag(field.tag)
        buffer.append(contentsOf: field.value.bytes)
        buffer.append(ASCII.soh)
    }

    /// Appends a length field and its data field; the data may contain SOH.
    public mutating func appendData(lengthTag: Int, dataTag: Int, _ data: [UInt8]) {
        append(lengthTag, data.count)
        appendTag(dataTag)
        buffer.append(contentsOf: data)
        buffer.append(ASCII.soh)
    }

    public mutating func append(_ tag: Int, _ value: Int) {
        appendTag(tag)
        if value < 0 { buffer.append(ASCII.minus) }
        appendUnsigned(value.magnitude.toUInt64)
        buffer.append(ASCII.soh)
    }

    /// A FIX char.
    public mutating func append(_ tag: Int, char: UInt8) {
        appendTag(tag)
        buffer.append(char)
        buffer.append(ASCII.soh)
    }

    /// A FIX Boolean, "Y" or "N".
    public mutating func append(_ tag: Int, _ value: Bool) {
        append(tag, char: value ? 0x59 : 0x4E)
    }

    public mutating func append(_ tag: Int, _ value: FIXDecimal) {
        appendTag(tag)
        if value.mantissa < 0 { buffer.append(ASCII.minus) }
        let magnitude = value.mantissa.magnitude
        if value.exponent >= 0 {
            appendUnsigned(magnitude)
            for _ in 0..<value.exponent { buffer.append(ASCII.zero) }
        } else {
            let fraction = Int(-value.exponent)
            var divisor: UInt64 = 1
            var digits = 0
            while digits < fraction && divisor <= UInt64.max / 10 { divisor *= 10; digits += 1 }
            if digits == fraction {
                appendUnsigned(magnitude / divisor)
                buffer.append(ASCII.dot)
                var rest = magnitude % divisor
                for _ in 0..<fraction {
                    divisor /= 10
                    buffer.append(ASCII.zero &+ UInt8(rest / divisor))
                    rest %= divisor
                }
            } else {
                // More fractional digits than UInt64 can scale: fall back to the text form.
                buffer.append(contentsOf: value.description.utf8.drop { $0 == ASCII.minus })
            }
        }
        buffer.append(ASCII.soh)
    }

    public mutating func append(_ tag: Int, _ value: FIXTimestamp) {
        appendTag(tag)
        value.write(to: &buffer)
        buffer.append(ASCII.soh)
    }

    public mutating func append(_ tag: Int, _ value: FIXDate) {
        appendTag(tag)
        value.write(to: &buffer)
        buffer.append(ASCII.soh)
    }

    public mutating func append(_ tag: Int, _ value: FIXTimeOnly) {
        appendTag(tag)
        value.write(to: &buffer)
        buffer.append(ASCII.soh)
    }

    public mutating func append(_ tag: Int, _ value: FIXMonthYear) {
        append(tag, value.description)
    }

    /// Completes the message (BeginString, BodyLength, CheckSum) and lends its bytes to `body`.
    /// The bytes stay valid until the next `begin`; `withMessage` lends them again.
    @discardableResult
    public mutating func finish<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if !finished { complete() }
        return try withMessage(body)
    }

    /// Completes the message and returns a copy of its bytes (allocates; for tests and tools).
    public mutating func finish() -> [UInt8] {
        finish { Array($0) }
    }

    /// The finished message's bytes.
    public func withMessage<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        precondition(finished, "withMessage before finish")
        return try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[messageStart...])) }
    }

    @usableFromInline
    mutating func complete() {
        precondition(buffer.count > Self.headerReserveBytes, "finish before begin")
        let bodyLength = buffer.count - Self.headerReserveBytes
        // Header "8=<bs> SOH 9=<len> SOH", written right-aligned just before MsgType.
        var lengthDigits = 1
        var scale = 10
        while bodyLength >= scale { scale *= 10; lengthDigits += 1 }
        let headerBytes = 2 + beginString.count + 1 + 2 + lengthDigits + 1
        messageStart = Self.headerReserveBytes - headerBytes
        buffer.withUnsafeMutableBytes { out in
            var i = messageStart
            func put(_ b: UInt8) { out[i] = b; i += 1 }
            put(ASCII.eight); put(ASCII.equals)
            for b in beginString { put(b) }
            put(ASCII.soh)
            put(ASCII.nine); put(ASCII.equals)
            var divisor = scale / 10
            var rest = bodyLength
            while divisor > 0 {
                put(ASCII.zero &+ UInt8(rest / divisor))
                rest %= divisor
                divisor /= 10
            }
            put(ASCII.soh)
        }
        let sum = buffer.withUnsafeBytes {
            FIXCheckSum.compute(UnsafeRawBufferPointer(rebasing: $0[messageStart...]))
        }
        buffer.append(0x31)
        buffer.append(ASCII.zero)
        buffer.append(ASCII.equals)
        buffer.append(ASCII.zero &+ sum / 100)
        buffer.append(ASCII.zero &+ sum / 10 % 10)
        buffer.append(ASCII.zero &+ sum % 10)
        buffer.append(ASCII.soh)
        finished = true
    }
}

extension UInt {
    @usableFromInline var toUInt64: UInt64 { UInt64(self) }
}
