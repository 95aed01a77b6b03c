/// Encodes ``FASTRecord`` values as FAST 1.1 messages.
///
/// An encoder keeps its own dictionaries, mirroring a decoder's: encode a stream's messages in
/// order with one encoder, and a decoder with the same templates reproduces them. Where FAST
/// leaves the encoder a choice it takes the shortest form (omit a field whenever the operator
/// lets the decoder reproduce it), which is what other FAST encoders do, so
/// `encode(decode(bytes)) == bytes` for their output.
///
/// ```swift
/// var encoder = FASTEncoder(templates: templates)
/// var bytes: [UInt8] = []
/// try encoder.encode(record, into: &bytes)
/// ```
public struct FASTEncoder: Sendable {
    /// The templates this encoder uses.
    public let templates: FASTTemplates
    var dictionary: EncoderDictionary

    /// Creates an encoder with undefined previous values; `templateIDInitial` as in
    /// ``FASTDecoder/init(templates:templateIDInitial:)``: when set, a first message of that
    /// template omits its template id.
    public init(templates: FASTTemplates, templateIDInitial: UInt32? = nil) {
        self.templates = templates
        self.dictionary = EncoderDictionary(count: templates.slotCount, templateIDInitial: templateIDInitial)
    }

    /// Resets all dictionaries to undefined previous values.
    public mutating func reset() {
        dictionary.reset()
    }

    /// Appends the encoding of `record` to `output`. On error nothing is appended, but the
    /// dictionaries may be partly updated: reset before continuing a stream after an error.
    public mutating func encode(_ record: FASTRecord, into output: inout [UInt8]) throws(FASTError) {
        guard let index = templates.templateIndex(id: record.templateID) else {
            throw FASTError(.d9, "template id \(record.templateID) is not in the template set", template: record.template)
        }
        var segment = Segment()
        do {
            try encodeTemplate(index, record.fields, &segment, depth: 0)
        } catch {
            var error = error
            if error.template == nil { error.template = templates.templates[index].name }
            throw error
        }
        segment.write(to: &output, presenceMap: true)
    }

    /// A segment being encoded: its presence map bits and its body bytes.
    struct Segment {
        var bits: [Bool] = []
        var body: [UInt8] = []

        func write(to output: inout [UInt8], presenceMap: Bool) {
            if presenceMap {
                var count = (bits.count + 6) / 7
                // Trailing all-zero bytes are dropped (an overlong presence map is an error, R7).
                while count > 1 && !bits[(count - 1) * 7 ..< min(bits.count, count * 7)].contains(true) { count -= 1 }
                if count == 0 { count = 1 }
                for byteIndex in 0 ..< count {
                    var byte: UInt8 = byteIndex == count - 1 ? 0x80 : 0
                    for bit in 0 ..< 7 {
                        let i = byteIndex * 7 + bit
                        if i < bits.count && bits[i] { byte |= 1 << (6 - bit) }
                    }
                    output.append(byte)
                }
            }
            output.append(contentsOf: body)
        }
    }

    private mutating func encodeTemplate(_ index: Int, _ fields: [FASTField], _ segment: inout Segment,
                                         depth: Int) throws(FASTError) {
        let template = templates.templates[index]
        let id = template.id ?? 0
        if dictionary.previousTemplateID == id {
            segment.bits.append(false)
        } else {
            segment.bits.append(true)
            Primitive.writeUnsigned(UInt64(id), nullable: false, to: &segment.body)
        }
        dictionary.templateIDState = DictionaryState.assigned
        dictionary.templateID = id
        // A template's reset="yes" applies when it is a message's template, not when it is
        // reached through a dynamic template reference (the decoder does the same).
        if template.reset && depth == 0 {
            dictionary.reset()
            dictionary.templateIDState = DictionaryState.assigned
            dictionary.templateID = id
        }
        try encodeBody(template.start, template.end, fields, &segment, depth: depth)
    }

    private func lookup(_ fields: [FASTField], _ name: String) -> FASTValue {
        fields.first { $0.name == name }?.value ?? .absent
    }

    private mutating func encodeBody(_ first: Int, _ last: Int, _ fields: [FASTField], _ segment: inout Segment,
                                     depth: Int) throws(FASTError) {
        guard depth <= FASTTemplates.nestingDepthMax else {
            throw FASTError(.u2, "nesting deeper than \(FASTTemplates.nestingDepthMax)")
        }
        var i = first
        while i < last {
            let instruction = templates.instructions[i]
            let name = templates.name(instruction)
            let value = lookup(fields, name)
            do throws(FASTError) {
                switch instruction.kind {
                case .field, .length:
                    try encodeField(instruction, value, &segment)
                    i += 1
                case .group:
                    let end = Int(instruction.end)
                    let inner: [FASTField]?
                    switch value {
                    case .group(let f): inner = f
                    case .absent:
                        guard instruction.optional else { throw FASTError(.u4, "mandatory group is absent") }
                        inner = nil
                    default: throw FASTError(.u4, "expected a group value")
                    }
                    if instruction.optional { segment.bits.append(inner != nil) }
                    if let inner {
                        var child = Segment()
                        try encodeBody(i + 1, end, inner, &child, depth: depth + 1)
                        child.write(to: &segment.body, presenceMap: instruction.bodyHasPresenceMap)
                    }
                    i = end
                case .sequence:
                    let end = Int(instruction.end)
                    let entries: [[FASTField]]?
                    switch value {
                    case .sequence(let e): entries = e
                    case .absent:
                        guard instruction.optional else { throw FASTError(.u4, "mandatory sequence is absent") }
                        entries = nil
                    default: throw FASTError(.u4, "expected a sequence value")
                    }
                    let length = templates.instructions[i + 1]
                    try encodeInteger(op: length.op, type: .uInt32, optional: length.optional, slot: length.slot,
                                      hasInitial: length.hasInitial, initial: length.initialInt,
                                      value: entries.map { UInt64($0.count) }, &segment)
                    for entry in entries ?? [] {
                        var child = Segment()
                        try encodeBody(i + 2, end, entry, &child, depth: depth + 1)
                        child.write(to: &segment.body, presenceMap: instruction.bodyHasPresenceMap)
                    }
                    i = end
                case .dynamicReference:
                    guard case .templateRef(let record) = value else {
                        throw FASTError(.u4, "expected a dynamic template reference value")
                    }
                    guard let index = templates.templateIndex(id: record.templateID) else {
                        throw FASTError(.d9, "template id \(record.templateID) is not in the template set")
                    }
                    var child = Segment()
                    try encodeTemplate(index, record.fields, &child, depth: depth + 1)
                    child.write(to: &segment.body, presenceMap: true)
                    i += 1
                }
            } catch {
                var error = error
                if error.field == nil { error.field = name }
                if error.template == nil { error.template = templates.ownerName(instruction) }
                throw error
            }
        }
    }

    private mutating func encodeField(_ instruction: Instruction, _ value: FASTValue, _ segment: inout Segment)
        throws(FASTError) {
        if value == .absent && !instruction.optional && instruction.op != .constant {
            throw FASTError(.u4, "mandatory field is absent")
        }
        switch instruction.type {
        case .uInt32, .uInt64, .int32, .int64, .decimalExponent, .decimalMantissa:
            let bits: UInt64?
            switch value {
            case .absent: bits = nil
            case .uint(let v):
                guard !instruction.type.isSigned, instruction.type != .uInt32 || v <= UInt64(UInt32.max) else {
                    throw FASTError(.d2, "value \(v) does not fit \(instruction.type.xmlName)")
                }
                bits = v
            case .int(let v):
                if instruction.type.isSigned {
                    guard instruction.type != .int32 || Int64(Int32.min)...Int64(Int32.max) ~= v else {
                        throw FASTError(.d2, "value \(v) does not fit int32")
                    }
                    bits = UInt64(bitPattern: v)
                } else {
                    guard v >= 0, instruction.type != .uInt32 || v <= Int64(UInt32.max) else {
                        throw FASTError(.d2, "value \(v) does not fit \(instruction.type.xmlName)")
                    }
                    bits = UInt64(v)
                }
            default: throw FASTError(.u4, "expected an integer")
            }
            try encodeInteger(op: instruction.op, type: instruction.type, optional: instruction.optional,
                              slot: instruction.slot, hasInitial: instruction.hasInitial,
                              initial: instruction.initialInt, value: bits, &segment)
        case .decimal:
            let decimal: (Int32, Int64)?
            switch value {
            case .absent: decimal = nil
            case .decimal(let e, let m):
                guard (-63...63).contains(e) else { throw FASTError(.d3, "decimal exponent \(e) outside -63...63") }
                decimal = (e, m)
            default: throw FASTError(.u4, "expected a decimal")
            }
            if instruction.split {
                try encodeInteger(op: instruction.op, type: .decimalExponent, optional: instruction.optional,
                                  slot: instruction.slot, hasInitial: instruction.hasInitial,
                                  initial: instruction.initialInt,
                                  value: decimal.map { UInt64(bitPattern: Int64($0.0)) }, &segment)
                if let decimal {
                    try encodeInteger(op: instruction.mantissaOp, type: .int64, optional: false,
                                      slot: instruction.mantissaSlot, hasInitial: instruction.mantissaHasInitial,
                                      initial: UInt64(bitPattern: instruction.mantissaInitial),
                                      value: UInt64(bitPattern: decimal.1), &segment)
                }
            } else {
                try encodeDecimal(instruction, decimal, &segment)
            }
        case .ascii, .unicode, .byteVector:
            let bytes: [UInt8]?
            switch value {
            case .absent: bytes = nil
            case .string(let s) where instruction.type != .byteVector:
                bytes = Array(s.utf8)
                if instruction.type == .ascii, bytes!.contains(where: { $0 >= 0x80 }) {
                    throw FASTError(.u5, "ASCII string field holds non-ASCII characters")
                }
            case .bytes(let b) where instruction.type == .byteVector: bytes = b
            default: throw FASTError(.u4, "expected a \(instruction.type == .byteVector ? "byte vector" : "string")")
            }
            try encodeBytes(instruction, bytes, &segment)
        }
    }

    private func write(_ bits: UInt64?, _ type: FieldType, nullable: Bool, _ segment: inout Segment) {
        guard let bits else {
            segment.body.append(0x80)
            return
        }
        if type.isSigned || type == .decimalExponent || type == .decimalMantissa {
            Primitive.writeSigned(Int64(bitPattern: bits), nullable: nullable, to: &segment.body)
        } else {
            Primitive.writeUnsigned(bits, nullable: nullable, to: &segment.body)
        }
    }

    private mutating func encodeInteger(op: Operator, type: FieldType, optional: Bool, slot: Int32, hasInitial: Bool,
                                        initial: UInt64, value: UInt64?, _ segment: inout Segment) throws(FASTError) {
        switch op {
        case .none:
            write(value, type, nullable: optional, &segment)
        case .constant:
            if let value, value != initial { throw FASTError(.u4, "value differs from the constant") }
            if optional { segment.bits.append(value != nil) }
        case .default:
            if value == (hasInitial ? initial : nil) {
                segment.bits.append(false)
            } else {
                segment.bits.append(true)
                write(value, type, nullable: optional, &segment)
            }
        case .copy, .increment:
            let s = Int(slot)
            let state = dictionary.state[s]
            guard let value else {
                // Absent: omit when the decoder reaches "absent" on its own.
                if state == DictionaryState.empty || (state == DictionaryState.undefined && !hasInitial) {
                    segment.bits.append(false)
                } else {
                    segment.bits.append(true)
                    write(nil, type, nullable: true, &segment)
                }
                dictionary.state[s] = DictionaryState.empty
                return
            }
            let expected: UInt64? = switch state {
            case DictionaryState.assigned:
                op == .copy ? dictionary.ints[s] : Wire.increment(dictionary.ints[s], type)
            case DictionaryState.undefined: hasInitial ? initial : nil
            default: nil
            }
            if expected == value {
                segment.bits.append(false)
            } else {
                segment.bits.append(true)
                write(value, type, nullable: optional, &segment)
            }
            dictionary.state[s] = DictionaryState.assigned
            dictionary.ints[s] = value
        case .delta:
            guard let value else {
                segment.body.append(0x80)
                return
            }
            let s = Int(slot)
            let base = dictionary.state[s] == DictionaryState.assigned ? dictionary.ints[s] : (hasInitial ? initial : 0)
            let delta: Int64
            if type.isSigned || type == .decimalExponent || type == .decimalMantissa {
                let (d, overflow) = Int64(bitPattern: value).subtractingReportingOverflow(Int64(bitPattern: base))
                guard !overflow else { throw FASTError(.d2, "delta does not fit int64") }
                delta = d
            } else {
                if value >= base {
                    guard value - base <= UInt64(Int64.max) else { throw FASTError(.d2, "delta does not fit int64") }
                    delta = Int64(value - base)
                } else {
                    guard base - value <= UInt64(Int64.max) + 1 else { throw FASTError(.d2, "delta does not fit int64") }
                    delta = Int64(truncatingIfNeeded: 0 &- (base - value))
                }
            }
            Primitive.writeSigned(delta, nullable: optional, to: &segment.body)
            dictionary.state[s] = DictionaryState.assigned
            dictionary.ints[s] = value
        case .tail:
            preconditionFailure("the template compiler rejects tail on integers")
        }
    }

    private func writeDecimal(_ value: (Int32, Int64)?, nullable: Bool, _ segment: inout Segment) {
        guard let value else {
            segment.body.append(0x80)
            return
        }
        Primitive.writeSigned(Int64(value.0), nullable: nullable, to: &segment.body)
        Primitive.writeSigned(value.1, nullable: false, to: &segment.body)
    }

    private mutating func encodeDecimal(_ instruction: Instruction, _ value: (Int32, Int64)?,
                                        _ segment: inout Segment) throws(FASTError) {
        let initial = (instruction.initialExponent, Int64(bitPattern: instruction.initialInt))
        let optional = instruction.optional
        switch instruction.op {
        case .none:
            writeDecimal(value, nullable: optional, &segment)
        case .constant:
            if let value, value != initial { throw FASTError(.u4, "value differs from the constant") }
            if optional { segment.bits.append(value != nil) }
        case .default:
            let omitted: Bool
            if let value { omitted = instruction.hasInitial && value == initial } else { omitted = !instruction.hasInitial }
            segment.bits.append(!omitted)
            if !omitted { writeDecimal(value, nullable: optional, &segment) }
        case .copy:
            let s = Int(instruction.slot)
            let state = dictionary.state[s]
            guard let value else {
                if state == DictionaryState.empty || (state == DictionaryState.undefined && !instruction.hasInitial) {
                    segment.bits.append(false)
                } else {
                    segment.bits.append(true)
                    segment.body.append(0x80)
                }
                dictionary.state[s] = DictionaryState.empty
                return
            }
            let expected: (Int32, Int64)? = switch state {
            case DictionaryState.assigned: (dictionary.exponents[s], Int64(bitPattern: dictionary.ints[s]))
            case DictionaryState.undefined: instruction.hasInitial ? initial : nil
            default: nil
            }
            if let expected, expected == value {
                segment.bits.append(false)
            } else {
                segment.bits.append(true)
                writeDecimal(value, nullable: optional, &segment)
            }
            dictionary.state[s] = DictionaryState.assigned
            dictionary.exponents[s] = value.0
            dictionary.ints[s] = UInt64(bitPattern: value.1)
        case .delta:
            guard let value else {
                segment.body.append(0x80)
                return
            }
            let s = Int(instruction.slot)
            let base: (Int32, Int64) = dictionary.state[s] == DictionaryState.assigned
                ? (dictionary.exponents[s], Int64(bitPattern: dictionary.ints[s]))
                : (instruction.hasInitial ? initial : (0, 0))
            let (mantissaDelta, overflow) = value.1.subtractingReportingOverflow(base.1)
            guard !overflow else { throw FASTError(.d2, "mantissa delta does not fit int64") }
            Primitive.writeSigned(Int64(value.0) - Int64(base.0), nullable: optional, to: &segment.body)
            Primitive.writeSigned(mantissaDelta, nullable: false, to: &segment.body)
            dictionary.state[s] = DictionaryState.assigned
            dictionary.exponents[s] = value.0
            dictionary.ints[s] = UInt64(bitPattern: value.1)
        case .increment, .tail:
            preconditionFailure("the template compiler rejects this operator on decimals")
        }
    }

    private func writeBytes(_ bytes: [UInt8]?, _ type: FieldType, nullable: Bool, _ segment: inout Segment)
        throws(FASTError) {
        if type == .ascii {
            if let bytes, bytes.count > 1, bytes[0] == 0 {
                // Section 10.6.3 reserves a leading zero byte; such strings have no encoding.
                throw FASTError(.u5, "an ASCII string (or string delta) cannot start with a zero byte")
            }
            Primitive.writeASCII(bytes, nullable: nullable, to: &segment.body)
        } else if let bytes {
            Primitive.writeUnsigned(UInt64(bytes.count), nullable: nullable, to: &segment.body)
            segment.body.append(contentsOf: bytes)
        } else {
            segment.body.append(0x80)
        }
    }

    private mutating func encodeBytes(_ instruction: Instruction, _ value: [UInt8]?, _ segment: inout Segment)
        throws(FASTError) {
        let initial = Array(templates.initialBytes(instruction))
        let optional = instruction.optional
        let type = instruction.type
        switch instruction.op {
        case .none:
            try writeBytes(value, type, nullable: optional, &segment)
        case .constant:
            if let value, value != initial { throw FASTError(.u4, "value differs from the constant") }
            if optional { segment.bits.append(value != nil) }
        case .default:
            let omitted: Bool
            if let value { omitted = instruction.hasInitial && value == initial } else { omitted = !instruction.hasInitial }
            segment.bits.append(!omitted)
            if !omitted { try writeBytes(value, type, nullable: optional, &segment) }
        case .copy, .tail:
            let s = Int(instruction.slot)
            let state = dictionary.state[s]
            guard let value else {
                if state == DictionaryState.empty || (state == DictionaryState.undefined && !instruction.hasInitial) {
                    segment.bits.append(false)
                } else {
                    segment.bits.append(true)
                    segment.body.append(0x80)
                }
                dictionary.state[s] = DictionaryState.empty
                return
            }
            let expected: [UInt8]? = switch state {
            case DictionaryState.assigned: dictionary.bytes[s]
            case DictionaryState.undefined: instruction.hasInitial ? initial : nil
            default: nil
            }
            if expected == value {
                segment.bits.append(false)
            } else {
                segment.bits.append(true)
                if instruction.op == .copy {
                    try writeBytes(value, type, nullable: optional, &segment)
                } else {
                    let base = state == DictionaryState.assigned ? dictionary.bytes[s] : initial
                    let tail: ArraySlice<UInt8>
                    if value.count > base.count {
                        tail = value[...]
                    } else if value.count == base.count {
                        var common = 0
                        while common < value.count && value[common] == base[common] { common += 1 }
                        tail = value[common...]
                    } else {
                        throw FASTError(.u4, "the tail operator cannot make a value shorter than its base")
                    }
                    try writeBytes(Array(tail), type, nullable: optional, &segment)
                }
            }
            dictionary.state[s] = DictionaryState.assigned
            dictionary.bytes[s] = value
        case .delta:
            guard let value else {
                segment.body.append(0x80)
                return
            }
            let s = Int(instruction.slot)
            let base = dictionary.state[s] == DictionaryState.assigned ? dictionary.bytes[s] : initial
            var prefix = 0
            while prefix < min(base.count, value.count) && base[prefix] == value[prefix] { prefix += 1 }
            var suffix = 0
            while suffix < min(base.count, value.count) && base[base.count - 1 - suffix] == value[value.count - 1 - suffix] {
                suffix += 1
            }
            if prefix >= suffix {
                Primitive.writeSigned(Int64(base.count - prefix), nullable: optional, to: &segment.body)
                try writeBytes(Array(value[prefix...]), type, nullable: false, &segment)
            } else {
                // Removing from the front uses the excess-1 form: -1 removes nothing.
                Primitive.writeSigned(-Int64(base.count - suffix) - 1, nullable: optional, to: &segment.body)
                try writeBytes(Array(value[..<(value.count - suffix)]), type, nullable: false, &segment)
            }
            dictionary.state[s] = DictionaryState.assigned
            dictionary.bytes[s] = value
        case .increment:
            preconditionFailure("the template compiler rejects increment on strings")
        }
    }
}

/// Stop-bit encoding of the FAST primitives (section 10.6).
enum Primitive {
    static func writeUnsigned(_ value: UInt64, nullable: Bool, to out: inout [UInt8]) {
        if nullable && value == UInt64.max {
            // 2^64, the nullable form of UInt64.max, needs 65 bits.
            out.append(0x02)
            out.append(contentsOf: repeatElement(0, count: 8))
            out.append(0x80)
            return
        }
        let v = nullable ? value + 1 : value
        var groups = 1
        while groups < 10 && v >> (7 * UInt64(groups)) != 0 { groups += 1 }
        for g in stride(from: groups - 1, through: 0, by: -1) {
            var byte = UInt8(truncatingIfNeeded: v >> (7 * UInt64(g))) & 0x7f
            if g == 0 { byte |= 0x80 }
            out.append(byte)
        }
    }

    static func writeSigned(_ value: Int64, nullable: Bool, to out: inout [UInt8]) {
        if nullable && value == Int64.max {
            // 2^63, the nullable form of Int64.max.
            out.append(0x01)
            out.append(contentsOf: repeatElement(0, count: 8))
            out.append(0x80)
            return
        }
        let v = nullable && value >= 0 ? value + 1 : value
        // The fewest 7-bit groups whose two's complement range holds v.
        var groups = 1
        while groups < 10 {
            let bits = Int64(7 * groups)
            let low = -(Int64(1) << (bits - 1))
            let high = (Int64(1) << (bits - 1)) - 1
            if v >= low && v <= high { break }
            groups += 1
        }
        for g in stride(from: groups - 1, through: 0, by: -1) {
            var byte = UInt8(truncatingIfNeeded: v >> Int64(7 * g)) & 0x7f
            if g == 0 { byte |= 0x80 }
            out.append(byte)
        }
    }

    static func writeASCII(_ bytes: [UInt8]?, nullable: Bool, to out: inout [UInt8]) {
        guard let bytes else {
            out.append(0x80)
            return
        }
        if bytes.isEmpty {
            if nullable { out.append(0x00) }
            out.append(0x80)
            return
        }
        if bytes == [0] {
            // "\0" is escaped with a leading zero byte (section 10.6.3).
            if nullable { out.append(0x00) }
            out.append(0x00)
            out.append(0x80)
            return
        }
        out.append(contentsOf: bytes)
        out[out.count - 1] |= 0x80
    }
}
