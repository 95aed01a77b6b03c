/// One FIX field produced from a decoded FAST message.
///
/// ```swift
/// let fields = message.fixFields(in: templates)
/// let text = fields.map { "\($0.tag)=\($0.value)" }.joined(separator: "|")
/// // 35=X|34=12|268=2|279=0|270=512.25|...
/// ```
public struct FASTFIXField: Equatable, Hashable, Sendable {
    /// The FIX tag: the template field's `id`.
    public var tag: Int
    /// The value as FIX text (see ``FASTValue/fixText``).
    public var value: String

    /// A tag and its text value.
    public init(tag: Int, value: String) {
        self.tag = tag
        self.value = value
    }
}

extension FASTMessage {
    /// The decoded message as a FIX field list, so FAST feeds enter the same pipeline as
    /// tag=value messages.
    ///
    /// Fields appear in template order with the template's field ids as tags. Absent fields and
    /// fields without a numeric id are left out; constant fields (such as MsgType 35) are
    /// included. A sequence becomes its length field (`NoXxx`, the `<length>` id) with the entry
    /// count, followed by each entry's fields; groups and dynamic template references add their
    /// fields in line. Decimals are rendered exactly from mantissa and exponent.
    public func fixFields(in templates: FASTTemplates) -> [FASTFIXField] {
        var out: [FASTFIXField] = []
        appendFIXFields(in: templates, to: &out)
        return out
    }

    /// Appends the FIX field list to `out` (see ``fixFields(in:)``), reusing its capacity.
    public func appendFIXFields(in templates: FASTTemplates, to out: inout [FASTFIXField]) {
        precondition(templateIndex >= 0, "the message holds no decoded message")
        let template = templates.templates[templateIndex]
        var cursor = 0
        appendFIX(templates, template.start, template.end, &cursor, &out)
    }

    private func appendFIX(_ templates: FASTTemplates, _ first: Int, _ last: Int, _ cursor: inout Int,
                           _ out: inout [FASTFIXField]) {
        var i = first
        while i < last, cursor < slots.count {
            let instruction = templates.instructions[i]
            let slot = slots[cursor]
            cursor += 1
            switch instruction.kind {
            case .field, .length:
                if slot.present && instruction.id >= 0 {
                    out.append(FASTFIXField(tag: Int(instruction.id), value: fixText(slot, instruction, templates)))
                }
                i += 1
            case .group:
                let end = Int(instruction.end)
                if slot.present { appendFIX(templates, i + 1, end, &cursor, &out) }
                i = end
            case .sequence:
                let end = Int(instruction.end)
                if slot.present {
                    if instruction.id >= 0 { out.append(FASTFIXField(tag: Int(instruction.id), value: String(slot.count))) }
                    for _ in 0 ..< Int(slot.count) { appendFIX(templates, i + 2, end, &cursor, &out) }
                }
                i = end
            case .dynamicReference:
                let target = templates.templates[Int(slot.start)]
                appendFIX(templates, target.start, target.end, &cursor, &out)
                i += 1
            }
        }
    }

    private func fixText(_ slot: Slot, _ instruction: Instruction, _ templates: FASTTemplates) -> String {
        switch instruction.type {
        case .uInt32, .uInt64: return String(slot.value)
        case .int32, .int64, .decimalExponent, .decimalMantissa: return String(Int64(bitPattern: slot.value))
        case .decimal: return DecimalText.format(exponent: slot.exponent, mantissa: Int64(bitPattern: slot.value))
        case .ascii, .unicode:
            return String(decoding: bytes(of: slot, in: templates), as: UTF8.self)
        case .byteVector:
            return Hex.encode(bytes(of: slot, in: templates))
        }
    }
}
