import FIXTagValue

/// Builds wire messages for tests from readable text: fields separated by `|`, with BodyLength
/// and CheckSum computed unless the text carries its own (so tests can also build bad ones).
public enum TestMessages {
    /// `"8=FIX.4.4|35=0|49=A|56=B|34=1|"` → the framed bytes with 9= and 10= filled in.
    public static func make(_ text: String) -> [UInt8] {
        var fields = text.split(separator: "|", omittingEmptySubsequences: true).map(String.init)
        precondition(fields.first?.hasPrefix("8=") == true, "test message must start with 8=")
        let begin = fields.removeFirst()
        let hasLength = fields.first?.hasPrefix("9=") == true
        let declaredLength = hasLength ? fields.removeFirst() : nil
        let declaredSum = fields.last?.hasPrefix("10=") == true ? fields.removeLast() : nil
        var body: [UInt8] = []
        for field in fields { body += Array(field.utf8) + [1] }
        var out = Array(begin.utf8) + [1]
        out += Array((declaredLength ?? "9=\(body.count)").utf8) + [1]
        out += body
        if let declaredSum {
            out += Array(declaredSum.utf8) + [1]
        } else {
            let sum = out.reduce(0) { ($0 + Int($1)) % 256 }
            out += Array("10=\(threeDigits(sum))".utf8) + [1]
        }
        return out
    }

    /// Readable form of wire bytes: SOH shown as `|`.
    public static func show(_ bytes: some Sequence<UInt8>) -> String {
        String(decoding: bytes.map { $0 == 1 ? UInt8(ascii: "|") : $0 }, as: UTF8.self)
    }
}

func threeDigits(_ value: Int) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, 3 - digits.count)) + digits
}
