/// A malformed message or field found while framing or reading FIX tag=value bytes.
///
/// Every error says what went wrong and where: the byte offset (relative to the buffer that was
/// being framed, or to the start of the message for field errors), the tag when one is known, and
/// for checksum and length problems the expected and found values.
///
/// ```swift
/// switch FIXFramer().frame(bytes) {
/// case .invalid(let error, let resume):
///     print("skipping bad message: \(error)")   // "bad CheckSum at byte 312: expected 103, found 104"
/// default: break
/// }
/// ```
public struct FIXParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Stable, numbered reasons. Numbers are never reused.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: Int
        public static let beginStringMissing = Code(rawValue: 1)
        public static let bodyLengthMissing = Code(rawValue: 2)
        public static let bodyLengthInvalid = Code(rawValue: 3)
        public static let bodyLengthMismatch = Code(rawValue: 4)
        public static let checkSumMissing = Code(rawValue: 5)
        public static let checkSumInvalid = Code(rawValue: 6)
        public static let checkSumMismatch = Code(rawValue: 7)
        public static let messageTooLarge = Code(rawValue: 8)
        public static let truncated = Code(rawValue: 9)
        public static let tagNotNumeric = Code(rawValue: 10)
        public static let equalsMissing = Code(rawValue: 11)
        public static let emptyValue = Code(rawValue: 12)
        public static let dataLengthInvalid = Code(rawValue: 13)
        public static let msgTypeMissing = Code(rawValue: 14)
        public static let garbage = Code(rawValue: 15)

        public var description: String {
            switch self {
            case .beginStringMissing: "BeginString(8) missing or not first"
            case .bodyLengthMissing: "BodyLength(9) missing or not second"
            case .bodyLengthInvalid: "BodyLength(9) not a valid length"
            case .bodyLengthMismatch: "BodyLength(9) does not match the body"
            case .checkSumMissing: "CheckSum(10) missing or not last"
            case .checkSumInvalid: "CheckSum(10) not three digits"
            case .checkSumMismatch: "bad CheckSum(10)"
            case .messageTooLarge: "message larger than the limit"
            case .truncated: "message truncated"
            case .tagNotNumeric: "tag not numeric"
            case .equalsMissing: "no '=' after tag"
            case .emptyValue: "empty value"
            case .dataLengthInvalid: "data field length invalid"
            case .msgTypeMissing: "MsgType(35) missing or not third"
            case .garbage: "bytes that are not a FIX message"
            default: "error \(rawValue)"
            }
        }
    }

    /// What went wrong.
    public let code: Code
    /// Byte offset of the problem (see the type's discussion for what it is relative to).
    public var offset: Int
    /// The tag at fault, when known.
    public let tag: Int?
    /// For CheckSum and BodyLength problems: the value the bytes call for.
    public let expected: Int?
    /// For CheckSum and BodyLength problems: the value the message carries.
    public let found: Int?

    public init(_ code: Code, offset: Int, tag: Int? = nil, expected: Int? = nil, found: Int? = nil) {
        self.code = code
        self.offset = offset
        self.tag = tag
        self.expected = expected
        self.found = found
    }

    /// The same error with its offset moved by `delta` (to report offsets within a whole file).
    public func shifted(by delta: Int) -> FIXParseError {
        var copy = self
        copy.offset += delta
        return copy
    }

    public var description: String {
        var text = "\(code) at byte \(offset)"
        if let tag { text += ", tag \(tag)" }
        if let expected, let found { text += ": expected \(expected), found \(found)" }
        return text
    }
}
