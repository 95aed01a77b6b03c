/// An error from loading templates, decoding, encoding or framing FAST data.
///
/// Every error carries a FAST error code (the standard static `S`, dynamic `D` and reportable `R`
/// codes of FAST 1.1 section 11, plus `U` codes for conditions the specification does not name,
/// such as truncated input or a bound of this implementation), a message, and as much location
/// as is known: the byte offset in the input, the template and the field.
///
/// ```swift
/// do {
///     _ = try decoder.decode(bytes, into: &message)
/// } catch {
///     print(error.code, error.offset ?? -1, error.template ?? "", error.field ?? "")
///     // D9 at 0: template id 7 is not in the template set
/// }
/// ```
public struct FASTError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A FAST error code, compared by value: `error.code == .d4`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate let kind: Kind
        fileprivate init(_ kind: Kind) { self.kind = kind }

        /// The code as the specification writes it, such as `D4`.
        public var description: String { kind.rawValue }

        /// S1: the template XML is not well formed or not a valid template definition.
        public static let s1 = Code(.s1)
        /// S2: an operator is specified for a field of a type it cannot be applied to.
        public static let s2 = Code(.s2)
        /// S3: an initial value cannot be converted to the field's type.
        public static let s3 = Code(.s3)
        /// S4: a constant operator has no initial value.
        public static let s4 = Code(.s4)
        /// S5: a default operator on a mandatory field has no initial value.
        public static let s5 = Code(.s5)
        /// D2: an integer in the stream does not fit the field's integer type.
        public static let d2 = Code(.d2)
        /// D3: a decimal value cannot be encoded (exponent outside -63...63).
        public static let d3 = Code(.d3)
        /// D4: a dictionary entry is used by fields of different types.
        public static let d4 = Code(.d4)
        /// D5: a mandatory field is absent, its previous value is undefined and it has no initial value.
        public static let d5 = Code(.d5)
        /// D6: a mandatory field is absent and its previous value is empty.
        public static let d6 = Code(.d6)
        /// D7: a delta subtraction length is longer than the base value.
        public static let d7 = Code(.d7)
        /// D8: a static template reference names an unknown template.
        public static let d8 = Code(.d8)
        /// D9: a template identifier in the stream is not in the template set.
        public static let d9 = Code(.d9)
        /// R1: a decimal exponent is outside -63...63.
        public static let r1 = Code(.r1)
        /// R4: a value does not fit the type it is converted to.
        public static let r4 = Code(.r4)
        /// R6: an integer appears in an overlong encoding.
        public static let r6 = Code(.r6)
        /// R7: a presence map is overlong.
        public static let r7 = Code(.r7)
        /// R9: a string appears in an overlong encoding.
        public static let r9 = Code(.r9)
        /// U1: the input ends inside a message.
        public static let u1 = Code(.u1)
        /// U2: a bound of this implementation is exceeded (message size, sequence length, nesting...).
        public static let u2 = Code(.u2)
        /// U3: a frame header or preamble is invalid.
        public static let u3 = Code(.u3)
        /// U4: a value handed to the encoder does not match the template.
        public static let u4 = Code(.u4)
        /// U5: a value is not valid for its type (for example a non-ASCII byte in an ASCII string).
        public static let u5 = Code(.u5)
    }

    fileprivate enum Kind: String, Sendable {
        case s1 = "S1", s2 = "S2", s3 = "S3", s4 = "S4", s5 = "S5"
        case d2 = "D2", d3 = "D3", d4 = "D4", d5 = "D5", d6 = "D6", d7 = "D7", d8 = "D8", d9 = "D9"
        case r1 = "R1", r4 = "R4", r6 = "R6", r7 = "R7", r9 = "R9"
        case u1 = "U1", u2 = "U2", u3 = "U3", u4 = "U4", u5 = "U5"
    }

    /// The FAST error code.
    public let code: Code
    /// What went wrong, in words.
    public let message: String
    /// The byte offset in the input where the problem was found, when decoding or framing.
    public internal(set) var offset: Int?
    /// The template being loaded, decoded or encoded, when known.
    public internal(set) var template: String?
    /// The field being loaded, decoded or encoded, when known.
    public internal(set) var field: String?

    init(_ code: Code, _ message: String, offset: Int? = nil, template: String? = nil, field: String? = nil) {
        self.code = code
        self.message = message
        self.offset = offset
        self.template = template
        self.field = field
    }

    public var description: String {
        var text = "FAST error \(code): \(message)"
        if let template { text += " [template \(template)" + (field.map { ", field \($0)" } ?? "") + "]" }
        else if let field { text += " [field \(field)]" }
        if let offset { text += " at byte \(offset)" }
        return text
    }
}
