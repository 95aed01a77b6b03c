// libFuzzer entry for the wire layer: the framer, the field reader with every typed read, and the
// capture decoder fed the same bytes in uneven chunks. Built by tools/fuzz/run.sh framer.
// Any crash, hang or sanitizer report is a bug; errors returned as values are the expected outcome.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEntry(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    // Both BodyLength recoveries: the capture one and the session one, picked by the first byte.
    let recovery: FIXFramer.BodyLengthRecovery = size > 0 && data[0] & 1 == 1 ? .declaredLength : .nextMessage
    let framer = FIXFramer(messageBytesMax: 4096, bodyLengthRecovery: recovery)
    // 1. Frame the buffer to the end, as a session would.
    var offset = 0
    var steps = 0
    while offset < size {
        steps += 1
        precondition(steps <= size + 1, "framer made no progress")
        let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
        switch framer.frame(rest) {
        case .message(let length):
            precondition(length > 0 && length <= rest.count)
            readEveryField(UnsafeRawBufferPointer(rebasing: rest[..<length]))
            offset += length
        case .needMoreBytes:
            offset = size
        case .invalid(_, let resume):
            precondition(resume >= 1 && resume <= rest.count, "resync point out of range")
            offset += resume
        }
    }
    // 2. Read the raw input as if it were a framed message (unchecked view on hostile bytes).
    readEveryField(bytes)
    // 3. The capture decoder, in chunks whose size the first byte picks.
    var decoder = CaptureDecoder(framer: framer)
    let chunk = size > 0 ? Int(data[0] % 17) + 1 : 1
    var start = 0
    while start < size {
        let end = min(size, start + chunk)
        decoder.append(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
        decoder.drain { event in
            if case .message(let m) = event { readEveryField(m.bytes) }
        }
        start = end
    }
    decoder.finish()
    decoder.drain { _ in }
    return 0
}

func readEveryField(_ message: UnsafeRawBufferPointer) {
    var iterator = FIXMessage(unchecked: message).makeIterator()
    var fields = 0
    while let field = iterator.next() {
        fields += 1
        precondition(fields <= message.count, "iterator made no progress")
        let v = field.value
        _ = v.int
        _ = v.decimal
        _ = v.timestamp
        _ = v.date
        _ = v.timeOnly
        _ = v.monthYear
        _ = v.bool
        _ = v.char
        if let d = v.decimal {
            _ = d.description
            _ = d.normalized
            _ = d.rounded(scale: 2)
        }
        if let t = v.timestamp { _ = t.description }
    }
}
