/// The field types of FAST 1.1 (section 6.2), as the compiled templates use them.
enum FieldType: UInt8, Sendable {
    case int32, uInt32, int64, uInt64, ascii, unicode, byteVector, decimal
    // A decimal with separate exponent and mantissa operators keeps two dictionary entries of
    // these types, so a template that reuses the key for a plain integer is still caught (D4).
    case decimalExponent, decimalMantissa

    var isInteger: Bool { rawValue <= FieldType.uInt64.rawValue }
    var isSigned: Bool { self == .int32 || self == .int64 }
    var isBytes: Bool { self == .ascii || self == .unicode || self == .byteVector }

    var xmlName: String {
        switch self {
        case .int32: "int32"
        case .uInt32: "uInt32"
        case .int64: "int64"
        case .uInt64: "uInt64"
        case .ascii: "string"
        case .unicode: "string (unicode)"
        case .byteVector: "byteVector"
        case .decimal: "decimal"
        case .decimalExponent: "decimal exponent"
        case .decimalMantissa: "decimal mantissa"
        }
    }
}

/// The field operators of FAST 1.1 (section 6.3).
enum Operator: UInt8, Sendable {
    case none, constant, `default`, copy, increment, delta, tail

    var usesDictionary: Bool { self == .copy || self == .increment || self == .delta || self == .tail }
}

enum InstructionKind: UInt8, Sendable {
    case field, group, sequence, length, dynamicReference
}

/// One compiled instruction. It is a trivial struct (no references), so the decoder can copy it
/// out of the instruction array without reference counting; names and constant bytes live in
/// side tables of the template set.
struct Instruction: Sendable {
    var kind: InstructionKind = .field
    var type: FieldType = .uInt32
    var op: Operator = .none
    var optional = false
    /// Whether this instruction takes a bit of the enclosing segment's presence map.
    var usesBit = false
    /// Dictionary entry index, or -1.
    var slot: Int32 = -1
    var hasInitial = false
    /// Integer initial value as a bit pattern, or the mantissa of a decimal initial value.
    var initialInt: UInt64 = 0
    var initialExponent: Int32 = 0
    /// Initial value bytes of strings and byte vectors, in `FASTTemplates.constantBytes`.
    var initialStart: Int32 = 0
    var initialCount: Int32 = 0

    // Decimal with individual operators: `op`, `slot`, `hasInitial` and `initialInt` describe
    // the exponent (an int32 field), the fields below the mantissa (a mandatory int64 field).
    var split = false
    var mantissaOp: Operator = .none
    var mantissaUsesBit = false
    var mantissaSlot: Int32 = -1
    var mantissaHasInitial = false
    var mantissaInitial: Int64 = 0

    /// For groups and sequences: one past the last instruction of the body.
    var end: Int32 = 0
    /// For groups and sequences: whether the body (each sequence entry) starts with a presence map.
    var bodyHasPresenceMap = false
    /// For sequences: whether the body is one or more fields and nothing else (no group,
    /// sequence or template reference), so each entry is one run of the decoder's field loop.
    var bodyIsFlat = false
    /// The field id (a FIX tag), or -1 when the template gives none.
    var id: Int32 = -1
    var name: Int32 = 0
    /// The template this instruction was compiled into (for error messages).
    var owner: Int32 = 0
    /// The decoder's specialised opcode (see `Opcode`), set when the template set is built.
    var code: UInt8 = Opcode.structure
    /// The field's own specialised opcode: equal to `code`, except where `code` is
    /// `Opcode.fixedRun` (the field starts a run of fixed fields, see ``FixedField``).
    var fieldCode: UInt8 = Opcode.structure
    /// This instruction's own index in the template set, so the decode loop can walk the
    /// instructions with a pointer alone.
    var index: Int32 = 0
}

/// What a field decodes to when it reads no input: a mandatory constant (no presence map bit),
/// or a field whose presence map bit is clear and whose value then is fixed by the template
/// (an optional constant is absent; a default operator gives its initial value or absent).
///
/// Consecutive such fields form a run that the decoder handles without a dispatch per field:
/// it counts the clear bits at the top of the presence map, copies the precomputed slots of the
/// run's fields up to the first field whose bit is set, and shifts the map once. The first field
/// of a run of two or more has the opcode `Opcode.fixedRun`; a field whose bit is set falls back
/// to its own opcode (`Instruction.fieldCode`).
struct FixedField {
    /// The slot the field decodes to when it reads no input.
    var slot: Slot
    /// Whether the field takes a presence map bit (which must be clear for `slot` to apply).
    var usesBit: Bool
    /// For a fixed field: how many fixed fields follow in the same segment, this one included.
    /// Zero for any other instruction.
    var run: UInt16

    static let none = FixedField(slot: Slot.absent(-1), usesBit: false, run: 0)

    /// The fixed slot of the instruction at `index`, or nil when the field may read input or
    /// the dictionary (or a split decimal's mantissa) even when its bit is clear.
    static func make(_ instruction: Instruction, index: Int32) -> (slot: Slot, usesBit: Bool)? {
        guard instruction.kind == .field, instruction.code != Opcode.structure,
              instruction.code != Opcode.general else { return nil }
        let absent = Slot.absent(index)
        let value: Slot
        switch instruction.type {
        case .int32, .uInt32, .int64, .uInt64:
            value = Slot(instruction: index, present: true, value: instruction.initialInt, exponent: 0, start: 0,
                         count: 0)
        case .decimal:
            value = Slot(instruction: index, present: true, value: instruction.initialInt,
                         exponent: instruction.initialExponent, start: 0, count: 0)
        case .ascii, .unicode, .byteVector:
            value = Slot(instruction: index, present: true, value: 0, exponent: 0, start: -1 - instruction.initialStart,
                         count: instruction.initialCount)
        case .decimalExponent, .decimalMantissa:
            return nil
        }
        switch instruction.op {
        case .constant:
            if instruction.optional { return (absent, true) }
            // A split decimal's present exponent is followed by its mantissa.
            return instruction.split ? nil : (value, false)
        case .default:
            if !instruction.hasInitial { return (absent, true) }
            return instruction.split ? nil : (value, true)
        default:
            return nil
        }
    }
}

/// Decoder opcodes: one per (field kind, operator, presence), so the decode loop dispatches once
/// per field to code in which type, operator and presence are constants, instead of switching on
/// each of them for every value.
enum Opcode {
    /// Groups, sequences, lengths and dynamic template references (decoded by the loop itself).
    static let structure: UInt8 = 0
    /// Any field without a specialised opcode (decoded by the general path).
    static let general: UInt8 = 255
    /// The first of two or more consecutive fixed fields (see ``FixedField``).
    static let fixedRun: UInt8 = 0x01

    // Each family spans 14 codes (operator << 1 | optional), from 2 up to 113, so the decode
    // loop's switch compiles to one dense jump table.
    static let uInt32: UInt8 = 2
    static let int32: UInt8 = 16
    static let uInt64: UInt8 = 30
    static let int64: UInt8 = 44
    static let decimal: UInt8 = 58
    static let splitDecimal: UInt8 = 72
    static let ascii: UInt8 = 86
    static let vector: UInt8 = 100

    static func make(_ instruction: Instruction) -> UInt8 {
        guard instruction.kind == .field else { return structure }
        let family: UInt8
        switch instruction.type {
        case .uInt32: family = uInt32
        case .int32: family = int32
        case .uInt64: family = uInt64
        case .int64: family = int64
        case .decimal: family = instruction.split ? splitDecimal : decimal
        case .ascii: family = ascii
        case .unicode, .byteVector: family = vector
        default: return general
        }
        return family + instruction.op.rawValue << 1 + (instruction.optional ? 1 : 0)
    }
}

/// A template as compiled: a range of instructions in the template set.
struct CompiledTemplate: Sendable {
    var name: String
    var id: UInt32?
    var start: Int
    var end: Int
    var hasPresenceMapBits: Bool
    var reset: Bool
}

/// A loaded, validated FAST template set, immutable and shareable between threads.
///
/// Load it once with ``FASTTemplates/init(xml:)`` and hand it to any number of decoders and
/// encoders; each of those keeps its own dictionaries.
///
/// ```swift
/// let templates = try FASTTemplates(xml: xmlText)
/// print(templates.templateNames)        // ["MDIncRefresh", ...]
/// var decoder = FASTDecoder(templates: templates)
/// ```
public final class FASTTemplates: Sendable {
    /// Most templates a set may hold.
    public static let templateCountMax = 4_096
    /// Most instructions in a set after static template references are expanded.
    public static let instructionCountMax = 1 << 20
    /// Deepest nesting of groups, sequences and template references.
    public static let nestingDepthMax = 32
    /// Template ids below this are looked up in an array instead of a hash table.
    static let denseIDMax: UInt32 = 65_536

    let instructions: [Instruction]
    let names: [String]
    let constantBytes: [UInt8]
    let templates: [CompiledTemplate]
    let dense: [Int32]
    let sparse: [UInt32: Int]
    let slotCount: Int
    let slotTypes: [FieldType]
    /// The instructions and constant bytes again as raw memory, for the decoder's hot loop.
    let raw: RawProgram

    init(instructions: [Instruction], names: [String], constantBytes: [UInt8], templates: [CompiledTemplate],
         slotTypes: [FieldType]) {
        var instructions = instructions.enumerated().map { index, instruction in
            var instruction = instruction
            instruction.code = Opcode.make(instruction)
            instruction.fieldCode = instruction.code
            instruction.index = Int32(index)
            return instruction
        }
        for i in instructions.indices where instructions[i].kind == .sequence {
            let body = i + 2 ..< Int(instructions[i].end)
            instructions[i].bodyIsFlat = !body.isEmpty && body.allSatisfy { instructions[$0].code != Opcode.structure }
        }
        let fixed = FASTTemplates.fixedFields(&instructions, templates: templates)
        self.instructions = instructions
        self.names = names
        self.constantBytes = constantBytes
        self.templates = templates
        self.slotCount = slotTypes.count
        self.slotTypes = slotTypes
        var dense = [Int32]()
        var sparse = [UInt32: Int]()
        for (index, template) in templates.enumerated() {
            guard let id = template.id else { continue }
            if id < FASTTemplates.denseIDMax {
                if dense.count <= Int(id) { dense.append(contentsOf: repeatElement(-1, count: Int(id) + 1 - dense.count)) }
                dense[Int(id)] = Int32(index)
            } else {
                sparse[id] = index
            }
        }
        self.dense = dense
        self.sparse = sparse
        self.raw = RawProgram(instructions: self.instructions, fixed: fixed, constants: constantBytes,
                              templates: templates, dense: dense)
    }

    /// The fixed slot of every instruction and the length of the fixed run each one starts;
    /// marks the first field of every run of two or more with `Opcode.fixedRun`. A run never
    /// crosses the end of a segment (a template, a group body, a sequence entry).
    static func fixedFields(_ instructions: inout [Instruction], templates: [CompiledTemplate]) -> [FixedField] {
        var segmentEnd = [Bool](repeating: false, count: instructions.count + 1)
        for template in templates { segmentEnd[template.end] = true }
        for instruction in instructions where instruction.kind == .group || instruction.kind == .sequence {
            segmentEnd[Int(instruction.end)] = true
        }
        var fixed = [FixedField](repeating: .none, count: instructions.count)
        var i = instructions.count - 1
        while i >= 0 {
            if let (slot, usesBit) = FixedField.make(instructions[i], index: Int32(i)) {
                let following = i + 1 < instructions.count && !segmentEnd[i + 1] ? Int(fixed[i + 1].run) : 0
                let run = UInt16(min(following + 1, Int(UInt16.max)))
                fixed[i] = FixedField(slot: slot, usesBit: usesBit, run: run)
                if run >= 2 { instructions[i].code = Opcode.fixedRun }
            }
            i -= 1
        }
        return fixed
    }

    /// Names of all templates, in document order.
    public var templateNames: [String] { templates.map(\.name) }

    /// Ids of the templates that have one, in document order.
    public var templateIDs: [UInt32] { templates.compactMap(\.id) }

    /// The name of the template with this id, or nil.
    public func templateName(id: UInt32) -> String? {
        templateIndex(id: id).map { templates[$0].name }
    }

    /// The id of the template with this name, or nil when there is none or it has no id.
    public func templateID(name: String) -> UInt32? {
        templates.first { $0.name == name }?.id
    }

    @inline(__always)
    func templateIndex(id: UInt32) -> Int? {
        if id < FASTTemplates.denseIDMax {
            let i = Int(id)
            guard i < dense.count else { return nil }
            let index = dense[i]
            return index < 0 ? nil : Int(index)
        }
        return sparse[id]
    }

    func name(_ instruction: Instruction) -> String { names[Int(instruction.name)] }
    func ownerName(_ instruction: Instruction) -> String { templates[Int(instruction.owner)].name }

    func initialBytes(_ instruction: Instruction) -> ArraySlice<UInt8> {
        let start = Int(instruction.initialStart)
        return constantBytes[start ..< start + Int(instruction.initialCount)]
    }
}

/// An immutable raw copy of a template set's instructions and constant bytes. The decoder holds
/// these pointers for a whole message instead of entering `withUnsafeBufferPointer` per message.
final class RawProgram: @unchecked Sendable {
    /// What the decoder needs of a template, without its name (no reference counting).
    struct Entry {
        var start: Int32
        var end: Int32
        var id: UInt32
        var reset: Bool
    }

    let instructions: UnsafeMutablePointer<Instruction>
    /// Per instruction: its fixed slot and fixed run (see ``FixedField``).
    let fixed: UnsafeMutablePointer<FixedField>
    let constants: UnsafeMutablePointer<UInt8>
    let templates: UnsafeMutablePointer<Entry>
    /// Template index by id for ids below `FASTTemplates.denseIDMax`; -1 where there is none.
    let dense: UnsafeMutablePointer<Int32>
    let denseCount: Int

    init(instructions: [Instruction], fixed: [FixedField], constants: [UInt8], templates: [CompiledTemplate],
         dense: [Int32]) {
        self.instructions = .allocate(capacity: max(instructions.count, 1))
        self.instructions.initialize(from: instructions, count: instructions.count)
        self.fixed = .allocate(capacity: max(fixed.count, 1))
        self.fixed.initialize(from: fixed, count: fixed.count)
        self.constants = .allocate(capacity: max(constants.count, 1))
        self.constants.initialize(from: constants, count: constants.count)
        self.templates = .allocate(capacity: max(templates.count, 1))
        for (i, template) in templates.enumerated() {
            (self.templates + i).initialize(to: Entry(start: Int32(template.start), end: Int32(template.end),
                                                      id: template.id ?? 0, reset: template.reset))
        }
        self.dense = .allocate(capacity: max(dense.count, 1))
        self.dense.initialize(from: dense, count: dense.count)
        denseCount = dense.count
    }

    deinit {
        instructions.deallocate()
        fixed.deallocate()
        constants.deallocate()
        templates.deallocate()
        dense.deallocate()
    }

    /// The template index of a dense id, or nil (ids at or above the dense bound are looked up in
    /// the template set's hash table).
    @inline(__always)
    func templateIndex(id: UInt32) -> Int? {
        guard Int(id) < denseCount else { return nil }
        let index = dense[Int(id)]
        return index < 0 ? nil : Int(index)
    }
}

/// A read-only view of one template field, for tools that generate or display messages.
///
/// ```swift
/// for field in templates.fieldDescriptions(templateID: 1) ?? [] {
///     print(field.name, field.kind, field.operatorName)   // MsgSeqNum uInt32 increment
/// }
/// ```
public struct FASTFieldDescription: Sendable {
    /// What kind of field or structure this is.
    public enum Kind: String, Sendable {
        case int32, uInt32, int64, uInt64, ascii, unicode, byteVector, decimal, group, sequence, templateRef
    }

    /// The field name (`@templateRef` for a dynamic template reference).
    public var name: String
    /// The field id (a FIX tag); for a sequence, its length field's id.
    public var id: Int?
    /// The field's kind.
    public var kind: Kind
    /// Whether the field may be absent.
    public var optional: Bool
    /// `none`, `constant`, `default`, `copy`, `increment`, `delta` or `tail` (a decimal with
    /// separate operators reports the exponent's).
    public var operatorName: String
    /// The operator's initial value, if any.
    public var initialValue: FASTValue?
    /// Fields of a group or of each sequence entry.
    public var children: [FASTFieldDescription]
}

extension FASTTemplates {
    /// The fields of the template with this id, static template references expanded.
    public func fieldDescriptions(templateID: UInt32) -> [FASTFieldDescription]? {
        guard let index = templateIndex(id: templateID) else { return nil }
        return describe(templates[index].start, templates[index].end)
    }

    private func describe(_ first: Int, _ last: Int) -> [FASTFieldDescription] {
        var out: [FASTFieldDescription] = []
        var i = first
        while i < last {
            let instruction = instructions[i]
            let id = instruction.id >= 0 ? Int(instruction.id) : nil
            var description = FASTFieldDescription(
                name: name(instruction), id: id, kind: .uInt32, optional: instruction.optional,
                operatorName: "\(instruction.op)", initialValue: nil, children: [])
            switch instruction.kind {
            case .field, .length:
                description.kind = switch instruction.type {
                case .int32, .decimalExponent: .int32
                case .uInt32: .uInt32
                case .int64, .decimalMantissa: .int64
                case .uInt64: .uInt64
                case .ascii: .ascii
                case .unicode: .unicode
                case .byteVector: .byteVector
                case .decimal: .decimal
                }
                if instruction.hasInitial {
                    description.initialValue = switch instruction.type {
                    case .uInt32, .uInt64: .uint(instruction.initialInt)
                    case .int32, .int64, .decimalExponent, .decimalMantissa: .int(Int64(bitPattern: instruction.initialInt))
                    case .decimal:
                        instruction.split ? nil
                            : .decimal(exponent: instruction.initialExponent, mantissa: Int64(bitPattern: instruction.initialInt))
                    case .ascii, .unicode: .string(String(decoding: initialBytes(instruction), as: UTF8.self))
                    case .byteVector: .bytes(Array(initialBytes(instruction)))
                    }
                }
                i += 1
            case .group:
                description.kind = .group
                description.operatorName = "none"
                description.children = describe(i + 1, Int(instruction.end))
                i = Int(instruction.end)
            case .sequence:
                description.kind = .sequence
                description.operatorName = "\(instructions[i + 1].op)"
                description.children = describe(i + 2, Int(instruction.end))
                i = Int(instruction.end)
            case .dynamicReference:
                description.kind = .templateRef
                i += 1
            }
            out.append(description)
        }
        return out
    }
}
