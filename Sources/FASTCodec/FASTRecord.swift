/// A FAST value as a tree, for the edges (tests, the command line, JSON) and for encoding.
///
/// ```swift
/// let record = FASTRecord(templateID: 1, template: "Quote", fields: [
///     FASTField("Symbol", .string("ESM6")),
///     FASTField("Price", .decimal(exponent: -2, mantissa: 512_525)),
/// ])
/// ```
public indirect enum FASTValue: Equatable, Sendable {
    /// int32 and int64 fields.
    case int(Int64)
    /// uInt32 and uInt64 fields.
    case uint(UInt64)
    /// Decimal fields, exactly: mantissa x 10^exponent.
    case decimal(exponent: Int32, mantissa: Int64)
    /// ASCII and unicode string fields.
    case string(String)
    /// Byte vector fields.
    case bytes([UInt8])
    /// A present group.
    case group([FASTField])
    /// A present sequence: one field list per entry (the length is the entry count).
    case sequence([[FASTField]])
    /// A dynamic template reference: the referenced template's message.
    case templateRef(FASTRecord)
    /// An absent optional field, group or sequence.
    case absent
}

/// A named field of a ``FASTRecord``, group or sequence entry.
public struct FASTField: Equatable, Sendable {
    /// The field's name in the template.
    public var name: String
    /// The field's value.
    public var value: FASTValue

    /// A named value; a dynamic template reference is named `@templateRef`.
    public init(_ name: String, _ value: FASTValue) {
        self.name = name
        self.value = value
    }
}

/// One FAST message as a tree of named values.
///
/// ```swift
/// let record = message.record(in: templates)
/// print(record.template, record["MsgSeqNum"] ?? .absent)
/// print(record.jsonText)   // {"template_id":1,"template":"Quote","fields":{...}}
/// ```
public struct FASTRecord: Equatable, Sendable {
    /// The template id.
    public var templateID: UInt32
    /// The template name.
    public var template: String
    /// The fields in template order (static template references expanded in line).
    public var fields: [FASTField]

    /// A record of the given template.
    public init(templateID: UInt32, template: String, fields: [FASTField]) {
        self.templateID = templateID
        self.template = template
        self.fields = fields
    }

    /// The value of the first top-level field with this name.
    public subscript(_ name: String) -> FASTValue? {
        fields.first { $0.name == name }?.value
    }
}

extension FASTMessage {
    /// The decoded message as a value tree (allocates; for the edges, not the hot path).
    public func record(in templates: FASTTemplates) -> FASTRecord {
        precondition(templateIndex >= 0, "the message holds no decoded message")
        let template = templates.templates[templateIndex]
        var cursor = 0
        let fields = buildFields(templates, template.start, template.end, &cursor)
        return FASTRecord(templateID: template.id ?? 0, template: template.name, fields: fields)
    }

    private func buildFields(_ templates: FASTTemplates, _ first: Int, _ last: Int, _ cursor: inout Int) -> [FASTField] {
        var fields: [FASTField] = []
        var i = first
        while i < last, cursor < slots.count {
            let instruction = templates.instructions[i]
            let slot = slots[cursor]
            cursor += 1
            let name = templates.name(instruction)
            switch instruction.kind {
            case .field, .length:
                fields.append(FASTField(name, slot.present ? value(of: slot, instruction, templates) : .absent))
                i += 1
            case .group:
                let end = Int(instruction.end)
                fields.append(FASTField(name, slot.present ? .group(buildFields(templates, i + 1, end, &cursor)) : .absent))
                i = end
            case .sequence:
                let end = Int(instruction.end)
                if slot.present {
                    var entries: [[FASTField]] = []
                    for _ in 0 ..< Int(slot.count) { entries.append(buildFields(templates, i + 2, end, &cursor)) }
                    fields.append(FASTField(name, .sequence(entries)))
                } else {
                    fields.append(FASTField(name, .absent))
                }
                i = end
            case .dynamicReference:
                let target = templates.templates[Int(slot.start)]
                let inner = buildFields(templates, target.start, target.end, &cursor)
                fields.append(FASTField(name, .templateRef(
                    FASTRecord(templateID: target.id ?? 0, template: target.name, fields: inner))))
                i += 1
            }
        }
        return fields
    }

    private func value(of slot: Slot, _ instruction: Instruction, _ templates: FASTTemplates) -> FASTValue {
        switch instruction.type {
        case .uInt32, .uInt64: return .uint(slot.value)
        case .int32, .int64, .decimalExponent, .decimalMantissa: return .int(Int64(bitPattern: slot.value))
        case .decimal: return .decimal(exponent: slot.exponent, mantissa: Int64(bitPattern: slot.value))
        case .ascii, .unicode:
            return .string(String(decoding: bytes(of: slot, in: templates), as: UTF8.self))
        case .byteVector:
            return .bytes(Array(bytes(of: slot, in: templates)))
        }
    }
}

extension FASTValue {
    /// The value as FIX tag=value text: integers in decimal, decimals in plain decimal notation
    /// computed exactly from mantissa and exponent, byte vectors as lowercase hex.
    /// Nil for absent values and containers.
    public var fixText: String? {
        switch self {
        case .int(let v): String(v)
        case .uint(let v): String(v)
        case .decimal(let e, let m): DecimalText.format(exponent: e, mantissa: m)
        case .string(let s): s
        case .bytes(let b): Hex.encode(b)
        case .group, .sequence, .templateRef, .absent: nil
        }
    }
}

extension FASTRecord {
    /// A readable one-line form: `Template=<Field=value|Seq=<entry fields><entry fields>|...>`.
    /// Absent fields are left out and decimals are plain decimal text.
    public var text: String {
        "\(template)=<" + Self.text(fields) + ">"
    }

    static func text(_ fields: [FASTField]) -> String {
        var parts: [String] = []
        for field in fields {
            switch field.value {
            case .absent: continue
            case .group(let inner): parts.append("\(field.name)=<" + text(inner) + ">")
            case .sequence(let entries):
                parts.append("\(field.name)=" + entries.map { "<" + text($0) + ">" }.joined())
            case .templateRef(let record): parts.append(record.text)
            default: parts.append("\(field.name)=" + (field.value.fixText ?? ""))
            }
        }
        return parts.joined(separator: "|")
    }
}
