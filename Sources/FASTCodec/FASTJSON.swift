/// A minimal JSON value for the FAST value conventions (numbers kept as text, so uInt64 and
/// int64 values never pass through a floating-point type; object members keep their order).
enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])

    subscript(_ key: String) -> JSONValue? {
        if case .object(let members) = self { return members.first { $0.key == key }?.value }
        return nil
    }

    /// Semantic equality: object members compared regardless of order, numbers by value.
    func sameAs(_ other: JSONValue) -> Bool {
        switch (self, other) {
        case (.number(let a), .number(let b)):
            if let x = Int64(a), let y = Int64(b) { return x == y }
            if let x = UInt64(a), let y = UInt64(b) { return x == y }
            return a == b
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.sameAs($1) }
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            return a.allSatisfy { member in b.first { $0.key == member.key }.map { member.value.sameAs($0.value) } ?? false }
        default:
            return self == other
        }
    }
}

struct JSONMember: Equatable, Sendable {
    var key: String
    var value: JSONValue
}

/// JSON text <-> ``JSONValue``, bounded in depth and size.
enum JSON {
    /// Deep enough for every record the decoder can make: each of its `nestingDepthMax` levels
    /// (a sequence entry, a group, a dynamic template reference) takes at most two JSON levels
    /// (`"Seq":[{…}]`, `"@templateRef":{"fields":{…}}`), plus the record's own.
    static let depthMax = 2 * FASTTemplates.nestingDepthMax + 8
    static let textBytesMax = 64 << 20

    struct Failure: Error {
        var message: String
        var offset: Int
    }

    static func parse(_ text: String) throws(Failure) -> JSONValue {
        var parser = Parser(bytes: Array(text.utf8))
        guard parser.bytes.count <= textBytesMax else { throw Failure(message: "JSON text too large", offset: 0) }
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.index == parser.bytes.count else { throw Failure(message: "trailing characters", offset: parser.index) }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[index]) { index += 1 }
        }

        func fail(_ message: String) -> Failure { Failure(message: message, offset: index) }

        mutating func expect(_ literal: String) throws(Failure) {
            for byte in literal.utf8 {
                guard index < bytes.count, bytes[index] == byte else { throw fail("expected \(literal)") }
                index += 1
            }
        }

        mutating func value(depth: Int) throws(Failure) -> JSONValue {
            guard depth < JSON.depthMax else { throw fail("JSON nested too deeply") }
            guard index < bytes.count else { throw fail("unexpected end of JSON") }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                var members: [JSONMember] = []
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
                while true {
                    skipSpace()
                    let key = try string()
                    skipSpace()
                    try expect(":")
                    skipSpace()
                    members.append(JSONMember(key: key, value: try value(depth: depth + 1)))
                    skipSpace()
                    guard index < bytes.count else { throw fail("unexpected end of JSON") }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    try expect("}")
                    return .object(members)
                }
            case UInt8(ascii: "["):
                index += 1
                var elements: [JSONValue] = []
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(elements) }
                while true {
                    skipSpace()
                    elements.append(try value(depth: depth + 1))
                    skipSpace()
                    guard index < bytes.count else { throw fail("unexpected end of JSON") }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    try expect("]")
                    return .array(elements)
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            default:
                let start = index
                while index < bytes.count, "+-0123456789.eE".utf8.contains(bytes[index]) { index += 1 }
                guard index > start else { throw fail("unexpected character") }
                return .number(String(decoding: bytes[start ..< index], as: UTF8.self))
            }
        }

        mutating func hex4() throws(Failure) -> UInt32 {
            guard index + 4 <= bytes.count,
                  let value = UInt32(String(decoding: bytes[index ..< index + 4], as: UTF8.self), radix: 16) else {
                throw fail("bad \\u escape")
            }
            index += 4
            return value
        }

        mutating func string() throws(Failure) -> String {
            try expect("\"")
            var out: [UInt8] = []
            while true {
                guard index < bytes.count else { throw fail("unterminated string") }
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "\"") { break }
                if byte != UInt8(ascii: "\\") { out.append(byte); continue }
                guard index < bytes.count else { throw fail("unterminated escape") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "n"): out.append(0x0a)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0d)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0c)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xd800..<0xdc00).contains(scalar), index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"),
                       bytes[index + 1] == UInt8(ascii: "u") {
                        index += 2
                        let low = try hex4()
                        scalar = 0x10000 + ((scalar - 0xd800) << 10) + (low &- 0xdc00 & 0x3ff)
                    }
                    out.append(contentsOf: String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{fffd}").utf8)
                default: out.append(escape)
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    static func write(_ value: JSONValue, to out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): writeString(s, to: &out)
        case .array(let elements):
            out += "["
            for (i, element) in elements.enumerated() {
                if i > 0 { out += "," }
                write(element, to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, member) in members.enumerated() {
                if i > 0 { out += "," }
                writeString(member.key, to: &out)
                out += ":"
                write(member.value, to: &out)
            }
            out += "}"
        }
    }

    static func writeString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

extension FASTRecord {
    /// The record in the JSON value conventions of the FAST test vectors:
    /// `{"template_id":1,"template":"Name","fields":{...}}` with decimals as
    /// `{"exponent":e,"mantissa":m}`, byte vectors as `{"hex":"..."}`, absent fields as null,
    /// sequences as arrays, groups as objects and a dynamic template reference as
    /// `"@templateRef":{"template":name,"fields":{...}}`.
    public var jsonText: String {
        var out = ""
        JSON.write(jsonValue, to: &out)
        return out
    }

    var jsonValue: JSONValue {
        .object([
            JSONMember(key: "template_id", value: .number(String(templateID))),
            JSONMember(key: "template", value: .string(template)),
            JSONMember(key: "fields", value: Self.json(fields)),
        ])
    }

    static func json(_ fields: [FASTField]) -> JSONValue {
        .object(fields.map { JSONMember(key: $0.name, value: json($0.value)) })
    }

    static func json(_ value: FASTValue) -> JSONValue {
        switch value {
        case .int(let v): .number(String(v))
        case .uint(let v): .number(String(v))
        case .decimal(let e, let m):
            .object([JSONMember(key: "exponent", value: .number(String(e))),
                     JSONMember(key: "mantissa", value: .number(String(m)))])
        case .string(let s): .string(s)
        case .bytes(let b): .object([JSONMember(key: "hex", value: .string(Hex.encode(b)))])
        case .group(let fields): json(fields)
        case .sequence(let entries): .array(entries.map { json($0) })
        case .templateRef(let record):
            .object([JSONMember(key: "template", value: .string(record.template)),
                     JSONMember(key: "fields", value: json(record.fields))])
        case .absent: .null
        }
    }

    /// Reads a record from the JSON conventions of ``jsonText``, typed by the template: the
    /// template is found by `template_id` or, failing that, `template`. Fields missing from the
    /// JSON object are absent.
    ///
    /// ```swift
    /// let record = try FASTRecord(jsonText: line, templates: templates)
    /// try encoder.encode(record, into: &bytes)
    /// ```
    public init(jsonText: String, templates: FASTTemplates) throws(FASTError) {
        let value: JSONValue
        do {
            value = try JSON.parse(jsonText)
        } catch {
            throw FASTError(.u4, "invalid JSON: \(error.message)", offset: error.offset)
        }
        try self.init(json: value, templates: templates)
    }

    init(json: JSONValue, templates: FASTTemplates) throws(FASTError) {
        guard case .object = json else { throw FASTError(.u4, "a message must be a JSON object") }
        let index: Int
        if case .number(let text)? = json["template_id"], let id = UInt32(text) {
            guard let found = templates.templateIndex(id: id) else {
                throw FASTError(.d9, "template id \(id) is not in the template set")
            }
            index = found
        } else if case .string(let name)? = json["template"],
                  let found = templates.templates.firstIndex(where: { $0.name == name }) {
            index = found
        } else {
            throw FASTError(.u4, "the message names no known template (template_id or template)")
        }
        let template = templates.templates[index]
        let fields = json["fields"] ?? .object([])
        do {
            self.init(templateID: template.id ?? 0, template: template.name,
                      fields: try Self.fields(fields, templates, template.start, template.end))
        } catch {
            var error = error
            if error.template == nil { error.template = template.name }
            throw error
        }
    }

    private static func fields(_ json: JSONValue, _ templates: FASTTemplates, _ first: Int, _ last: Int)
        throws(FASTError) -> [FASTField] {
        guard case .object = json else { throw FASTError(.u4, "expected a JSON object of fields") }
        var out: [FASTField] = []
        var i = first
        while i < last {
            let instruction = templates.instructions[i]
            let name = templates.name(instruction)
            let member = json[name] ?? .null
            let fail = { (message: String) in
                FASTError(.u4, message, template: templates.ownerName(instruction), field: name)
            }
            switch instruction.kind {
            case .field, .length:
                out.append(FASTField(name, try value(member, instruction.type, fail)))
                i += 1
            case .group:
                let end = Int(instruction.end)
                if member == .null {
                    out.append(FASTField(name, .absent))
                } else {
                    out.append(FASTField(name, .group(try fields(member, templates, i + 1, end))))
                }
                i = end
            case .sequence:
                let end = Int(instruction.end)
                switch member {
                case .null: out.append(FASTField(name, .absent))
                case .array(let elements):
                    var entries: [[FASTField]] = []
                    for element in elements { entries.append(try fields(element, templates, i + 2, end)) }
                    out.append(FASTField(name, .sequence(entries)))
                default: throw fail("a sequence must be a JSON array or null")
                }
                i = end
            case .dynamicReference:
                out.append(FASTField(name, .templateRef(try FASTRecord(json: member, templates: templates))))
                i += 1
            }
        }
        return out
    }

    private static func value(_ json: JSONValue, _ type: FieldType, _ fail: (String) -> FASTError)
        throws(FASTError) -> FASTValue {
        if json == .null { return .absent }
        switch type {
        case .uInt32, .uInt64:
            guard case .number(let text) = json, let v = UInt64(text) else { throw fail("expected an unsigned integer") }
            return .uint(v)
        case .int32, .int64, .decimalExponent, .decimalMantissa:
            guard case .number(let text) = json, let v = Int64(text) else { throw fail("expected an integer") }
            return .int(v)
        case .decimal:
            if case .number(let text) = json, let (e, m) = DecimalText.parse(text) {
                return .decimal(exponent: e, mantissa: m)
            }
            guard case .number(let e)? = json["exponent"], case .number(let m)? = json["mantissa"],
                  let exponent = Int32(e), let mantissa = Int64(m) else {
                throw fail("expected a decimal {\"exponent\": e, \"mantissa\": m}")
            }
            return .decimal(exponent: exponent, mantissa: mantissa)
        case .ascii, .unicode:
            guard case .string(let s) = json else { throw fail("expected a string") }
            return .string(s)
        case .byteVector:
            guard case .string(let hex)? = json["hex"], let bytes = Hex.decode(hex) else {
                throw fail("expected a byte vector {\"hex\": \"...\"}")
            }
            return .bytes(bytes)
        }
    }
}
