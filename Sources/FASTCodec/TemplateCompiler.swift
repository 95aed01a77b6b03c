/// An element of the template document, as the XML loader hands it over.
struct XMLNode: Sendable {
    static let elementCountMax = 200_000
    static let depthMax = 64

    var name: String
    var attributes: [String: String]
    var children: [XMLNode]
    var line: Int

    static func localName(_ name: String) -> String {
        if let colon = name.lastIndex(of: ":") { return String(name[name.index(after: colon)...]) }
        return name
    }

    subscript(_ attribute: String) -> String? { attributes[attribute] }
}

/// Turns the template document into flat instruction arrays: static template references are
/// expanded in place, dictionary keys are resolved to entry indexes once, so the decoder never
/// hashes a name.
struct TemplateCompiler {
    struct Output {
        var instructions: [Instruction]
        var names: [String]
        var constantBytes: [UInt8]
        var templates: [CompiledTemplate]
        var slotTypes: [FieldType]
    }

    private struct Context {
        var templateIndex: Int
        var templateName: String
        var dictionary: String
        var typeName: String
        var depth: Int
    }

    private var instructions: [Instruction] = []
    private var names: [String] = []
    private var nameIndex: [String: Int32] = [:]
    private var constantBytes: [UInt8] = []
    private var slotIndex: [String: Int32] = [:]
    private var slotTypes: [FieldType] = []
    private var slotUsers: [String] = []
    private var templateNodes: [XMLNode] = []
    private var templatesByName: [String: Int] = [:]
    private var rootDictionary = "global"

    mutating func compile(_ root: XMLNode) throws(FASTError) -> Output {
        if root.name == "template" {
            templateNodes = [root]
        } else if root.name == "templates" {
            templateNodes = root.children.filter { $0.name == "template" }
            rootDictionary = root["dictionary"] ?? "global"
        } else {
            throw FASTError(.s1, "the document element is <\(root.name)>, expected <templates>")
        }
        guard templateNodes.count <= FASTTemplates.templateCountMax else {
            throw FASTError(.u2, "more than \(FASTTemplates.templateCountMax) templates")
        }
        var seenIDs: [UInt32: String] = [:]
        for (index, node) in templateNodes.enumerated() {
            guard let name = node["name"], !name.isEmpty else {
                throw FASTError(.s1, "template on line \(node.line) has no name")
            }
            if templatesByName[name] != nil { throw FASTError(.s1, "duplicate template name", template: name) }
            templatesByName[name] = index
            if let idText = node["id"] {
                guard let id = UInt32(idText.trimmingSpaces) else {
                    throw FASTError(.s1, "template id '\(idText)' is not a uInt32", template: name)
                }
                if let other = seenIDs[id] {
                    throw FASTError(.s1, "template id \(id) is also used by template \(other)", template: name)
                }
                seenIDs[id] = name
            }
        }
        var compiled: [CompiledTemplate] = []
        for (index, node) in templateNodes.enumerated() {
            let name = node["name"]!
            let context = Context(templateIndex: index, templateName: name,
                                  dictionary: node["dictionary"] ?? rootDictionary,
                                  typeName: Self.typeName(of: node) ?? "", depth: 0)
            let start = instructions.count
            let usesBits = try compileBody(node.children, context)
            let reset = ["yes", "y", "true", "1"].contains((node["reset"] ?? "").lowercased())
            let id = node["id"].flatMap { UInt32($0.trimmingSpaces) }
            compiled.append(CompiledTemplate(name: name, id: id, start: start, end: instructions.count,
                                             hasPresenceMapBits: usesBits, reset: reset))
        }
        return Output(instructions: instructions, names: names, constantBytes: constantBytes,
                      templates: compiled, slotTypes: slotTypes)
    }

    private static func typeName(of node: XMLNode) -> String? {
        node.children.first { $0.name == "typeRef" }?["name"]
    }

    private mutating func intern(_ name: String) -> Int32 {
        if let index = nameIndex[name] { return index }
        let index = Int32(names.count)
        names.append(name)
        nameIndex[name] = index
        return index
    }

    /// Compiles instructions of one segment body; returns whether any of them takes a presence map bit.
    private mutating func compileBody(_ nodes: [XMLNode], _ context: Context) throws(FASTError) -> Bool {
        guard context.depth <= FASTTemplates.nestingDepthMax else {
            throw FASTError(.u2, "nesting deeper than \(FASTTemplates.nestingDepthMax) (a template reference cycle?)",
                            template: context.templateName)
        }
        var usesBits = false
        for node in nodes {
            guard instructions.count < FASTTemplates.instructionCountMax else {
                throw FASTError(.u2, "more than \(FASTTemplates.instructionCountMax) instructions",
                                template: context.templateName)
            }
            switch node.name {
            case "int32", "uInt32", "int64", "uInt64", "string", "byteVector", "decimal":
                let instruction = try compileField(node, context)
                usesBits = usesBits || instruction.usesBit || instruction.mantissaUsesBit
                instructions.append(instruction)
            case "group":
                usesBits = try compileGroup(node, context) || usesBits
            case "sequence":
                usesBits = try compileSequence(node, context) || usesBits
            case "templateRef":
                if let name = node["name"] {
                    guard let index = templatesByName[name] else {
                        throw FASTError(.d8, "static templateRef names unknown template '\(name)'",
                                        template: context.templateName)
                    }
                    let target = templateNodes[index]
                    var inner = context
                    inner.depth += 1
                    if let dictionary = target["dictionary"] { inner.dictionary = dictionary }
                    usesBits = try compileBody(target.children, inner) || usesBits
                } else {
                    var instruction = Instruction()
                    instruction.kind = .dynamicReference
                    instruction.name = intern("@templateRef")
                    instruction.owner = Int32(context.templateIndex)
                    instructions.append(instruction)
                }
            case "typeRef", "length":
                continue
            default:
                // Unknown elements (vendor extensions) are skipped, as other FAST tools do.
                continue
            }
        }
        return usesBits
    }

    private mutating func compileGroup(_ node: XMLNode, _ context: Context) throws(FASTError) -> Bool {
        let name = try requireName(node, context)
        var instruction = Instruction()
        instruction.kind = .group
        instruction.optional = node["presence"] == "optional"
        instruction.usesBit = instruction.optional
        instruction.name = intern(name)
        instruction.id = node["id"].flatMap { Int32($0.trimmingSpaces) } ?? -1
        instruction.owner = Int32(context.templateIndex)
        let index = instructions.count
        instructions.append(instruction)
        var inner = context
        inner.depth += 1
        if let dictionary = node["dictionary"] { inner.dictionary = dictionary }
        if let type = Self.typeName(of: node) { inner.typeName = type }
        let bodyBits = try compileBody(node.children, inner)
        instructions[index].bodyHasPresenceMap = bodyBits
        instructions[index].end = Int32(instructions.count)
        return instruction.usesBit
    }

    private mutating func compileSequence(_ node: XMLNode, _ context: Context) throws(FASTError) -> Bool {
        let name = try requireName(node, context)
        var instruction = Instruction()
        instruction.kind = .sequence
        instruction.optional = node["presence"] == "optional"
        instruction.name = intern(name)
        instruction.owner = Int32(context.templateIndex)
        let index = instructions.count
        instructions.append(instruction)
        var inner = context
        inner.depth += 1
        if let dictionary = node["dictionary"] { inner.dictionary = dictionary }
        if let type = Self.typeName(of: node) { inner.typeName = type }
        // The length field takes the sequence's presence; a sequence without <length> gets an
        // implicit one without operator, named after the sequence.
        var lengthNode = node.children.first { $0.name == "length" }
            ?? XMLNode(name: "length", attributes: ["name": name + "Length"], children: [], line: node.line)
        if lengthNode["name"] == nil { lengthNode.attributes["name"] = name + "Length" }
        lengthNode.attributes["presence"] = instruction.optional ? "optional" : "mandatory"
        var length = try compileField(lengthNode, inner, type: .uInt32)
        length.kind = .length
        instructions.append(length)
        let bodyBits = try compileBody(node.children, inner)
        instructions[index].bodyHasPresenceMap = bodyBits
        instructions[index].end = Int32(instructions.count)
        instructions[index].id = length.id
        return length.usesBit
    }

    private func requireName(_ node: XMLNode, _ context: Context) throws(FASTError) -> String {
        guard let name = node["name"], !name.isEmpty else {
            throw FASTError(.s1, "<\(node.name)> on line \(node.line) has no name", template: context.templateName)
        }
        return name
    }

    private static let operatorNames: [String: Operator] = [
        "constant": .constant, "default": .default, "copy": .copy, "increment": .increment,
        "delta": .delta, "tail": .tail,
    ]

    private static func needsBit(_ op: Operator, optional: Bool) -> Bool {
        switch op {
        case .none, .delta: false
        case .constant: optional
        case .default, .copy, .increment, .tail: true
        }
    }

    private mutating func compileField(_ node: XMLNode, _ context: Context,
                                       type forcedType: FieldType? = nil) throws(FASTError) -> Instruction {
        let name = try requireName(node, context)
        let fail = { (code: FASTError.Code, message: String) in
            FASTError(code, message, template: context.templateName, field: name)
        }
        let type: FieldType
        if let forcedType {
            type = forcedType
        } else {
            switch node.name {
            case "int32": type = .int32
            case "uInt32": type = .uInt32
            case "int64": type = .int64
            case "uInt64": type = .uInt64
            case "string": type = node["charset"] == "unicode" ? .unicode : .ascii
            case "byteVector": type = .byteVector
            default: type = .decimal
            }
        }
        var instruction = Instruction()
        instruction.type = type
        instruction.name = intern(name)
        instruction.owner = Int32(context.templateIndex)
        instruction.optional = node["presence"] == "optional"
        if let idText = node["id"] {
            // Non-numeric ids (some templates carry names there) are kept out of the FIX view.
            instruction.id = Int32(idText.trimmingSpaces) ?? -1
        }
        let exponentNode = node.children.first { $0.name == "exponent" }
        let mantissaNode = node.children.first { $0.name == "mantissa" }
        if type == .decimal, exponentNode != nil || mantissaNode != nil {
            instruction.split = true
            let exponentOp = exponentNode.flatMap { $0.children.first { Self.operatorNames[$0.name] != nil } }
            let mantissaOp = mantissaNode.flatMap { $0.children.first { Self.operatorNames[$0.name] != nil } }
            // The exponent is an int32 field with the decimal's presence.
            var exponent = Instruction()
            exponent.optional = instruction.optional
            try applyOperator(exponentOp, to: &exponent, valueType: .int32, slotType: .decimalExponent,
                              defaultKey: name + ".exponent", context, fail)
            if exponent.hasInitial {
                let value = Int64(bitPattern: exponent.initialInt)
                guard (-63...63).contains(value) else { throw fail(.s3, "exponent initial value outside -63...63") }
            }
            var mantissa = Instruction()
            try applyOperator(mantissaOp, to: &mantissa, valueType: .int64, slotType: .decimalMantissa,
                              defaultKey: name + ".mantissa", context, fail)
            instruction.op = exponent.op
            instruction.slot = exponent.slot
            instruction.hasInitial = exponent.hasInitial
            instruction.initialInt = exponent.initialInt
            instruction.usesBit = exponent.usesBit
            instruction.mantissaOp = mantissa.op
            instruction.mantissaSlot = mantissa.slot
            instruction.mantissaHasInitial = mantissa.hasInitial
            instruction.mantissaInitial = Int64(bitPattern: mantissa.initialInt)
            instruction.mantissaUsesBit = mantissa.usesBit
            return instruction
        }
        let opNode = node.children.first { Self.operatorNames[$0.name] != nil }
        try applyOperator(opNode, to: &instruction, valueType: type, slotType: type, defaultKey: name, context, fail)
        return instruction
    }

    private mutating func applyOperator(
        _ opNode: XMLNode?, to instruction: inout Instruction, valueType: FieldType, slotType: FieldType,
        defaultKey: String, _ context: Context, _ fail: (FASTError.Code, String) -> FASTError
    ) throws(FASTError) {
        let op = opNode.flatMap { Self.operatorNames[$0.name] } ?? .none
        instruction.op = op
        instruction.usesBit = Self.needsBit(op, optional: instruction.optional)
        switch op {
        case .increment where !valueType.isInteger:
            throw fail(.s2, "increment operator on a \(valueType.xmlName) field")
        case .tail where !valueType.isBytes:
            throw fail(.s2, "tail operator on a \(valueType.xmlName) field")
        default:
            break
        }
        if let value = opNode?["value"] {
            try setInitial(value, on: &instruction, type: valueType, fail)
        }
        if op == .constant && !instruction.hasInitial { throw fail(.s4, "constant operator without a value") }
        if op == .default && !instruction.optional && !instruction.hasInitial {
            throw fail(.s5, "default operator on a mandatory field without a value")
        }
        guard op.usesDictionary else { return }
        let dictionary = opNode?["dictionary"] ?? context.dictionary
        let key = opNode?["key"] ?? defaultKey
        let scope: String
        switch dictionary {
        case "global": scope = "g"
        case "template": scope = "t:" + context.templateName
        case "type": scope = "y:" + context.typeName
        default: scope = "c:" + dictionary
        }
        let fullKey = scope + "\u{0}" + key
        let user = "template \(context.templateName), field \(defaultKey)"
        if let slot = slotIndex[fullKey] {
            let previous = slotTypes[Int(slot)]
            guard previous == slotType else {
                throw fail(.d4, "dictionary '\(dictionary)' key '\(key)' holds a \(slotType.xmlName) here "
                    + "but a \(previous.xmlName) in \(slotUsers[Int(slot)])")
            }
            instruction.slot = slot
        } else {
            let slot = Int32(slotTypes.count)
            slotIndex[fullKey] = slot
            slotTypes.append(slotType)
            slotUsers.append(user)
            instruction.slot = slot
        }
    }

    private mutating func setInitial(_ text: String, on instruction: inout Instruction, type: FieldType,
                                     _ fail: (FASTError.Code, String) -> FASTError) throws(FASTError) {
        let trimmed = text.trimmingSpaces
        switch type {
        case .int32, .int64, .decimalExponent, .decimalMantissa:
            guard let value = Int64(trimmed),
                  type != .int32 || (Int64(Int32.min)...Int64(Int32.max)).contains(value) else {
                throw fail(.s3, "initial value '\(text)' is not a \(type.xmlName)")
            }
            instruction.initialInt = UInt64(bitPattern: value)
        case .uInt32, .uInt64:
            guard let value = UInt64(trimmed), type != .uInt32 || value <= UInt64(UInt32.max) else {
                throw fail(.s3, "initial value '\(text)' is not a \(type.xmlName)")
            }
            instruction.initialInt = value
        case .decimal:
            guard let (exponent, mantissa) = DecimalText.parse(trimmed) else {
                throw fail(.s3, "initial value '\(text)' is not a decimal")
            }
            instruction.initialExponent = exponent
            instruction.initialInt = UInt64(bitPattern: mantissa)
        case .ascii, .unicode:
            let bytes = Array(text.utf8)
            if type == .ascii && bytes.contains(where: { $0 >= 0x80 }) {
                throw fail(.s3, "initial value of an ASCII string has non-ASCII characters")
            }
            instruction.initialStart = Int32(constantBytes.count)
            instruction.initialCount = Int32(bytes.count)
            constantBytes.append(contentsOf: bytes)
        case .byteVector:
            // FAST 1.1 writes byte vector initial values in hexadecimal; some published
            // templates (QuickFAST's) give plain text instead, which is taken as its UTF-8 bytes.
            let bytes = Hex.decode(trimmed.filter { !$0.isWhitespace }) ?? Array(text.utf8)
            instruction.initialStart = Int32(constantBytes.count)
            instruction.initialCount = Int32(bytes.count)
            constantBytes.append(contentsOf: bytes)
        }
        instruction.hasInitial = true
    }
}

extension String {
    var trimmingSpaces: String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}

/// Decimal text <-> exponent and mantissa, exactly (never through floating point).
enum DecimalText {
    /// Parses `-12.5`, `12000`, `1e3`, `0.001`. The mantissa is normalised to have no trailing
    /// zeros (12000 becomes 12 x 10^3), which is how FAST 1.1 reads a decimal initial value.
    static func parse(_ text: String) -> (Int32, Int64)? {
        var digits: [UInt8] = []
        var negative = false
        var exponent = 0
        var seenPoint = false
        var seenDigit = false
        var bytes = Array(text.utf8)[...]
        if let e = bytes.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            guard let power = Int(String(decoding: bytes[(e + 1)...], as: UTF8.self)), abs(power) < 1000 else {
                return nil
            }
            exponent = power
            bytes = bytes[..<e]
        }
        for (i, byte) in bytes.enumerated() {
            switch byte {
            case UInt8(ascii: "-") where i == 0: negative = true
            case UInt8(ascii: "+") where i == 0: continue
            case UInt8(ascii: ".") where !seenPoint: seenPoint = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                seenDigit = true
                digits.append(byte - UInt8(ascii: "0"))
                if seenPoint { exponent -= 1 }
            default: return nil
            }
        }
        guard seenDigit else { return nil }
        while digits.count > 1, digits.first == 0 { digits.removeFirst() }
        while digits.count > 1, digits.last == 0 {
            digits.removeLast()
            exponent += 1
        }
        if digits == [0] { return (0, 0) }
        // Accumulate with the final sign so that Int64.min is reachable.
        var mantissa: Int64 = 0
        for digit in digits {
            let (m1, o1) = mantissa.multipliedReportingOverflow(by: 10)
            let (m2, o2) = negative ? m1.subtractingReportingOverflow(Int64(digit)) : m1.addingReportingOverflow(Int64(digit))
            guard !o1, !o2 else { return nil }
            mantissa = m2
        }
        guard (-63...63).contains(exponent) else { return nil }
        return (Int32(exponent), mantissa)
    }

    /// Plain decimal notation: (−2, 12345) is `123.45`, (3, 12) is `12000`.
    static func format(exponent: Int32, mantissa: Int64) -> String {
        let negative = mantissa < 0
        var digits = String(mantissa.magnitude)
        if exponent >= 0 {
            if mantissa != 0 { digits += String(repeating: "0", count: Int(exponent)) }
        } else {
            let places = Int(-exponent)
            if digits.count <= places { digits = String(repeating: "0", count: places - digits.count + 1) + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -places))
        }
        return negative ? "-" + digits : digits
    }
}

/// Hexadecimal text for byte vectors.
enum Hex {
    static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let high = nibble(chars[i]), let low = nibble(chars[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
