/// Decodes FAST 1.1 messages into a reusable ``FASTMessage`` buffer.
///
/// A decoder owns the dictionaries (previous values) of one stream; they persist from message to
/// message until ``reset()`` or a template with `reset="yes"`. Decoding is sans-IO: hand it the
/// bytes of one message (or the start of a stream) and it reports how many bytes it used.
///
/// ```swift
/// var decoder = FASTDecoder(templates: templates)
/// var message = FASTMessage()
/// var offset = 0
/// while offset < stream.count {
///     offset += try decoder.decode(stream[offset...], into: &message)
///     handle(message.fixFields(in: templates))
/// }
/// ```
public struct FASTDecoder: Sendable {
    /// Most bytes one message may occupy.
    public static let messageBytesMax = 1 << 20
    /// Most bytes of one presence map (7 bits each).
    public static let presenceMapBytesMax = 64
    /// Most bytes of one string or byte vector.
    public static let stringBytesMax = 1 << 16
    /// Most entries of one sequence.
    public static let sequenceLengthMax = 65_536
    /// Most values (fields, groups, sequence entries' fields) in one decoded message.
    public static let valueCountMax = 1 << 18
    /// Most bytes of decoded strings in one message (copy and delta operators can expand a short
    /// input into long values, so the input size alone does not bound this).
    public static let arenaBytesMax = 1 << 24

    /// The templates this decoder uses.
    public let templates: FASTTemplates
    var dictionary: DictionaryState

    /// Creates a decoder with undefined previous values.
    ///
    /// - Parameter templateIDInitial: the template id assumed before the first message carries
    ///   one (an initial value for the template identifier's copy operator). Some encoders, mFAST
    ///   among them, omit the template id of the first message when a set has one template;
    ///   nil, the FAST 1.1 default, makes such a message an error (D5).
    public init(templates: FASTTemplates, templateIDInitial: UInt32? = nil) {
        self.templates = templates
        self.dictionary = DictionaryState(count: templates.slotCount, templateIDInitial: templateIDInitial)
    }

    /// Resets all dictionaries to undefined previous values (FAST 1.1 section 6.3.1).
    public mutating func reset() {
        dictionary.reset()
    }

    /// Decodes one message from the start of `bytes` into `message` and returns the number of
    /// bytes it occupied. On error the message contents are unspecified and the dictionaries
    /// may be partly updated: reset before continuing a stream after an error.
    @discardableResult
    public mutating func decode<Bytes: Collection<UInt8>>(
        _ bytes: Bytes, into message: inout FASTMessage
    ) throws(FASTError) -> Int {
        let result: Result<Int, FASTError>? = bytes.withContiguousStorageIfAvailable { buffer in
            decodeBuffer(UnsafeRawBufferPointer(buffer), into: &message)
        }
        if let result { return try result.get() }
        let copy = Array(bytes)
        return try copy.withUnsafeBytes { buffer in decodeBuffer(buffer, into: &message) }.get()
    }

    /// Decodes one message from raw memory; see ``decode(_:into:)``.
    @discardableResult
    public mutating func decode(_ buffer: UnsafeRawBufferPointer, into message: inout FASTMessage) throws(FASTError) -> Int {
        try decodeBuffer(buffer, into: &message).get()
    }

    private mutating func decodeBuffer(_ buffer: UnsafeRawBufferPointer, into message: inout FASTMessage)
        -> Result<Int, FASTError> {
        message.clear()
        guard let base = buffer.baseAddress, buffer.count > 0 else {
            return .failure(FASTError(.u1, "no bytes to decode", offset: 0))
        }
        let count = min(buffer.count, FASTDecoder.messageBytesMax)
        if !isKnownUniquelyReferenced(&message.slots.storage) {
            message.slots.storage = message.slots.storage.copy(count: 0)
        }
        if !isKnownUniquelyReferenced(&message.arena.storage) {
            message.arena.storage = ByteStorage(capacity: message.arena.storage.capacity)
        }
        // The previous values move into local arrays so the run can hold raw pointers to them
        // for the whole message: no uniqueness or bounds check per dictionary access.
        var state: [UInt8] = []
        var ints: [UInt64] = []
        var exponents: [Int32] = []
        swap(&state, &dictionary.state)
        swap(&ints, &dictionary.ints)
        swap(&exponents, &dictionary.exponents)
        let templates = self.templates
        let result = state.withUnsafeMutableBufferPointer { state in
            ints.withUnsafeMutableBufferPointer { ints in
                exponents.withUnsafeMutableBufferPointer { exponents in
                    templates.instructions.withUnsafeBufferPointer { instructions in
                        templates.constantBytes.withUnsafeBufferPointer { constants in
                            var run = DecodeRun(
                                input: base.assumingMemoryBound(to: UInt8.self), end: count, templates: templates,
                                instructions: instructions, constants: constants, slots: message.slots.storage,
                                arena: message.arena.storage,
                                state: state.baseAddress!, ints: ints.baseAddress!, exponents: exponents.baseAddress!,
                                entryCount: state.count)
                            swap(&run.dictionary, &dictionary)
                            let result: Result<Int, FASTError>
                            do throws(FASTError) {
                                let index = try run.decodeMessage()
                                message.templateIndex = index
                                message.templateID = templates.templates[index].id ?? 0
                                message.byteCount = run.position
                                result = .success(run.position)
                            } catch {
                                result = .failure(error)
                            }
                            swap(&run.dictionary, &dictionary)
                            message.slots.count = run.slotCount
                            message.arena.count = run.arena.count
                            return result
                        }
                    }
                }
            }
        }
        swap(&state, &dictionary.state)
        swap(&ints, &dictionary.ints)
        swap(&exponents, &dictionary.exponents)
        return result
    }
}

/// A presence map being read: up to 63 bits in a register, refilled from the input.
struct PresenceMap {
    var bits: UInt64 = 0
    var left = 0
    var next = 0
    var end = 0

    static let none = PresenceMap()
}

/// The state of decoding one message. A struct whose arrays were moved in from the decoder and
/// the message, so every mutation is in place and the hot path neither allocates nor retains.
struct DecodeRun {
    let input: UnsafePointer<UInt8>
    let end: Int
    let templates: FASTTemplates
    let instructions: UnsafeBufferPointer<Instruction>
    let constants: UnsafeBufferPointer<UInt8>
    var position = 0
    /// Byte values of the previous values and the template id state; the integer parts are the
    /// raw pointers below.
    var dictionary = DictionaryState.placeholder
    let state: UnsafeMutablePointer<UInt8>
    let ints: UnsafeMutablePointer<UInt64>
    let exponents: UnsafeMutablePointer<Int32>
    let entryCount: Int
    var arena: ArenaWriter
    let slotStorage: SlotStorage
    var slotPointer: UnsafeMutablePointer<Slot>
    var slotCapacity: Int
    var slotCount = 0

    init(input: UnsafePointer<UInt8>, end: Int, templates: FASTTemplates,
         instructions: UnsafeBufferPointer<Instruction>, constants: UnsafeBufferPointer<UInt8>, slots: SlotStorage,
         arena: ByteStorage, state: UnsafeMutablePointer<UInt8>, ints: UnsafeMutablePointer<UInt64>,
         exponents: UnsafeMutablePointer<Int32>, entryCount: Int) {
        self.input = input
        self.end = end
        self.templates = templates
        self.instructions = instructions
        self.constants = constants
        self.slotStorage = slots
        self.arena = ArenaWriter(arena)
        self.slotPointer = slots.pointer
        self.slotCapacity = slots.capacity
        self.state = state
        self.ints = ints
        self.exponents = exponents
        self.entryCount = entryCount
    }

    // MARK: Errors

    func failure(_ code: FASTError.Code, _ message: String, at offset: Int? = nil) -> FASTError {
        FASTError(code, message, offset: offset ?? position)
    }

    func annotate(_ error: FASTError, _ instruction: Instruction) -> FASTError {
        var error = error
        if error.field == nil { error.field = templates.name(instruction) }
        if error.template == nil { error.template = templates.ownerName(instruction) }
        return error
    }

    // MARK: Primitives

    @inline(__always)
    mutating func readByte() throws(FASTError) -> UInt8 {
        guard position < end else { throw failure(.u1, "input ends inside a message") }
        let byte = input[position]
        position &+= 1
        return byte
    }

    mutating func readPresenceMap() throws(FASTError) -> PresenceMap {
        let start = position
        var stop = position
        while true {
            guard stop < end else { throw failure(.u1, "input ends inside a presence map") }
            let byte = input[stop]
            stop += 1
            if byte & 0x80 != 0 { break }
            guard stop - start < FASTDecoder.presenceMapBytesMax else {
                throw failure(.u2, "presence map longer than \(FASTDecoder.presenceMapBytesMax) bytes", at: start)
            }
        }
        if stop - start > 1 && input[stop - 1] == 0x80 {
            throw failure(.r7, "presence map is overlong", at: start)
        }
        position = stop
        var map = PresenceMap(bits: 0, left: 0, next: start, end: stop)
        refill(&map)
        return map
    }

    @inline(__always)
    func refill(_ map: inout PresenceMap) {
        var bits: UInt64 = 0
        var shift: UInt64 = 57
        var taken = 0
        while map.next < map.end && taken < 9 {
            bits |= UInt64(input[map.next] & 0x7f) << shift
            shift &-= 7
            map.next += 1
            taken += 1
        }
        map.bits = bits
        map.left = taken * 7
    }

    @inline(__always)
    func nextBit(_ map: inout PresenceMap) -> Bool {
        if map.left == 0 {
            if map.next >= map.end { return false }
            refill(&map)
        }
        let bit = map.bits >> 63 != 0
        map.bits <<= 1
        map.left &-= 1
        return bit
    }

    /// Reads a stop-bit unsigned integer; nil is NULL (nullable only). Detects overflow (D2) and
    /// overlong encodings (R6).
    @inline(__always)
    mutating func readUnsigned(nullable: Bool) throws(FASTError) -> UInt64? {
        let first = try readByte()
        if first & 0x80 != 0 {
            let value = UInt64(first & 0x7f)
            if nullable { return value == 0 ? nil : value &- 1 }
            return value
        }
        return try readUnsignedSlow(first, nullable: nullable)
    }

    mutating func readUnsignedSlow(_ first: UInt8, nullable: Bool) throws(FASTError) -> UInt64? {
        let start = position - 1
        if first == 0 { throw failure(.r6, "integer has an overlong encoding", at: start) }
        var value = UInt64(first)
        while true {
            let byte = try readByte()
            if value > UInt64.max >> 7 {
                // 2^64 is the nullable encoding of UInt64.max.
                if nullable && value == 1 << 57 && byte == 0x80 { return UInt64.max }
                throw failure(.d2, "integer does not fit 64 bits", at: start)
            }
            value = value << 7 | UInt64(byte & 0x7f)
            if byte & 0x80 != 0 { break }
        }
        if nullable { return value &- 1 }
        return value
    }

    /// Reads a stop-bit signed integer; nil is NULL (nullable only).
    @inline(__always)
    mutating func readSigned(nullable: Bool) throws(FASTError) -> Int64? {
        let first = try readByte()
        if first & 0x80 != 0 {
            var value = Int64(first & 0x7f)
            if first & 0x40 != 0 { value -= 0x80 }
            if nullable {
                if value == 0 { return nil }
                if value > 0 { return value - 1 }
            }
            return value
        }
        return try readSignedSlow(first, nullable: nullable)
    }

    mutating func readSignedSlow(_ first: UInt8, nullable: Bool) throws(FASTError) -> Int64? {
        let start = position - 1
        guard position < end else { throw failure(.u1, "input ends inside an integer") }
        let second = input[position]
        if (first == 0 && second & 0x40 == 0) || (first == 0x7f && second & 0x40 != 0) {
            throw failure(.r6, "integer has an overlong encoding", at: start)
        }
        var value: Int64 = first & 0x40 != 0 ? Int64(first) - 0x80 : Int64(first)
        while true {
            let byte = try readByte()
            if value > Int64.max >> 7 || value < Int64.min >> 7 {
                // 2^63 is the nullable encoding of Int64.max.
                if nullable && value == 1 << 56 && byte == 0x80 { return Int64.max }
                throw failure(.d2, "integer does not fit 64 bits", at: start)
            }
            value = value << 7 | Int64(byte & 0x7f)
            if byte & 0x80 != 0 { break }
        }
        if nullable && value > 0 { return value - 1 }
        return value
    }

    /// Reads an integer of the given type as a bit pattern, with the type's range check.
    @inline(__always)
    mutating func readInteger(_ type: FieldType, nullable: Bool) throws(FASTError) -> UInt64? {
        let start = position
        switch type {
        case .uInt32, .uInt64:
            guard let value = try readUnsigned(nullable: nullable) else { return nil }
            if type == .uInt32 && value > UInt64(UInt32.max) {
                throw failure(.d2, "value \(value) does not fit uInt32", at: start)
            }
            return value
        default:
            guard let value = try readSigned(nullable: nullable) else { return nil }
            if type == .int32 || type == .decimalExponent, value < Int64(Int32.min) || value > Int64(Int32.max) {
                throw failure(.d2, "value \(value) does not fit int32", at: start)
            }
            return UInt64(bitPattern: value)
        }
    }

    @inline(__always)
    mutating func reserveArena(_ count: Int) throws(FASTError) {
        guard arena.count + count <= FASTDecoder.arenaBytesMax else {
            throw failure(.u2, "decoded strings exceed \(FASTDecoder.arenaBytesMax) bytes")
        }
    }

    /// Reads an ASCII string into the arena; nil is NULL. Returns (start, count).
    mutating func readASCII(nullable: Bool) throws(FASTError) -> (Int32, Int32)? {
        let start = position
        var stop = position
        while true {
            guard stop < end else { throw failure(.u1, "input ends inside a string") }
            let byte = input[stop]
            stop += 1
            if byte & 0x80 != 0 { break }
            guard stop - start < FASTDecoder.stringBytesMax else {
                throw failure(.u2, "string longer than \(FASTDecoder.stringBytesMax) bytes", at: start)
            }
        }
        position = stop
        let length = stop - start
        let arenaStart = Int32(arena.count)
        if input[start] & 0x7f == 0 {
            // Section 10.6.3: 0x80 is "" (or NULL when nullable); a leading zero byte introduces
            // "" (nullable) or "\0"; anything else starting with a zero byte is overlong (R9).
            if length == 1 { return nullable ? nil : (arenaStart, 0) }
            if length == 2 && input[start + 1] == 0x80 {
                if nullable { return (arenaStart, 0) }
                try reserveArena(1)
                arena.append(0)
                return (arenaStart, 1)
            }
            if nullable && length == 3 && input[start + 1] == 0 && input[start + 2] == 0x80 {
                try reserveArena(1)
                arena.append(0)
                return (arenaStart, 1)
            }
            throw failure(.r9, "string has an overlong encoding", at: start)
        }
        try reserveArena(length)
        arena.append(contentsOf: UnsafeBufferPointer(start: input + start, count: length))
        arena[arena.count - 1] &= 0x7f
        return (arenaStart, Int32(length))
    }

    /// Reads a length-prefixed byte vector (also unicode strings) into the arena; nil is NULL.
    mutating func readByteVector(nullable: Bool) throws(FASTError) -> (Int32, Int32)? {
        let start = position
        guard let length = try readUnsigned(nullable: nullable) else { return nil }
        guard length <= UInt64(FASTDecoder.stringBytesMax) else {
            throw failure(.u2, "byte vector length \(length) exceeds \(FASTDecoder.stringBytesMax)", at: start)
        }
        let count = Int(length)
        guard count <= end - position else { throw failure(.u1, "input ends inside a byte vector") }
        try reserveArena(count)
        let arenaStart = Int32(arena.count)
        arena.append(contentsOf: UnsafeBufferPointer(start: input + position, count: count))
        position += count
        return (arenaStart, Int32(count))
    }

    @inline(__always)
    mutating func readBytes(_ type: FieldType, nullable: Bool) throws(FASTError) -> (Int32, Int32)? {
        type == .ascii ? try readASCII(nullable: nullable) : try readByteVector(nullable: nullable)
    }

    // MARK: Messages and segments

    mutating func decodeMessage() throws(FASTError) -> Int {
        var map = try readPresenceMap()
        let index = try decodeTemplateID(&map)
        let template = templates.templates[index]
        // reset="yes" resets every dictionary before the message body (the template id just
        // read stays the previous template id). It applies to a message's template, not to a
        // template reached through a dynamic reference.
        if template.reset { resetDictionary(keepingTemplateID: template.id ?? 0) }
        do {
            try decodeBody(template.start, template.end, &map, depth: 0)
        } catch {
            var error = error
            if error.template == nil { error.template = template.name }
            throw error
        }
        return index
    }

    mutating func decodeTemplateID(_ map: inout PresenceMap) throws(FASTError) -> Int {
        let start = position
        let id: UInt32
        if nextBit(&map) {
            guard let value = try readInteger(.uInt32, nullable: false) else { preconditionFailure() }
            id = UInt32(value)
            dictionary.templateIDState = DictionaryState.assigned
            dictionary.templateID = id
        } else if let previous = dictionary.previousTemplateID {
            id = previous
        } else {
            throw failure(.d5, "template id is absent and there is no previous template id", at: start)
        }
        guard let index = templates.templateIndex(id: id) else {
            throw failure(.d9, "template id \(id) is not in the template set", at: start)
        }
        return index
    }

    @inline(__always)
    mutating func appendSlot(_ slot: Slot) throws(FASTError) {
        if slotCount == slotCapacity { try growSlots() }
        slotPointer[slotCount] = slot
        slotCount &+= 1
    }

    mutating func growSlots(to needed: Int = 0) throws(FASTError) {
        guard slotCapacity < FASTDecoder.valueCountMax, needed <= FASTDecoder.valueCountMax else {
            throw failure(.u2, "message has more than \(FASTDecoder.valueCountMax) values")
        }
        let capacity = max(min(slotCapacity * 2, FASTDecoder.valueCountMax), needed)
        let pointer = UnsafeMutablePointer<Slot>.allocate(capacity: capacity)
        pointer.initialize(from: slotPointer, count: slotCount)
        slotPointer.deallocate()
        slotStorage.pointer = pointer
        slotStorage.capacity = capacity
        slotPointer = pointer
        slotCapacity = capacity
    }

    mutating func resetDictionary(keepingTemplateID id: UInt32) {
        for i in 0 ..< entryCount { state[i] = DictionaryState.undefined }
        dictionary.templateIDState = DictionaryState.assigned
        dictionary.templateID = id
    }

    /// Makes room for `count` more slots, so the loop can write fields without a capacity check.
    @inline(__always)
    mutating func reserveSlots(_ count: Int) throws(FASTError) {
        if slotCount &+ count > slotCapacity { try growSlots(to: slotCount + count) }
    }

    mutating func decodeBody(_ first: Int, _ last: Int, _ map: inout PresenceMap, depth: Int) throws(FASTError) {
        // Each instruction of this segment adds at most one slot at this level (nested segments
        // reserve their own, and the room is checked again after each of them).
        try reserveSlots(last - first)
        var i = first
        let instructionBase = instructions.baseAddress!
        while i < last {
            // Fields are decoded through a pointer to their instruction, straight into their slot.
            let pointer = instructionBase + i
            let code = pointer.pointee.code
            if code != Opcode.structure {
                let out = slotPointer + slotCount
                out.initialize(to: Slot(instruction: Int32(truncatingIfNeeded: i), present: false, value: 0,
                                        exponent: 0, start: 0, count: 0))
                do {
                    try decodeCoded(code, pointer, out, &map)
                } catch {
                    throw annotate(error, pointer.pointee)
                }
                slotCount &+= 1
                i &+= 1
                continue
            }
            let instruction = pointer.pointee
            switch instruction.kind {
            case .field, .length:
                var slot = Slot(instruction: Int32(i), present: false, value: 0, exponent: 0, start: 0, count: 0)
                do {
                    try decodeGeneral(pointer, &slot, &map)
                } catch {
                    throw annotate(error, instruction)
                }
                try appendSlot(slot)
                i += 1
            case .group:
                let bodyEnd = Int(instruction.end)
                let present = !instruction.optional || nextBit(&map)
                try appendSlot(Slot(instruction: Int32(i), present: present, value: 0, exponent: 0, start: 0, count: 0))
                if present {
                    guard depth < FASTTemplates.nestingDepthMax else {
                        throw annotate(failure(.u2, "nesting deeper than \(FASTTemplates.nestingDepthMax)"), instruction)
                    }
                    if instruction.bodyHasPresenceMap {
                        var inner = try readPresenceMap()
                        try decodeBody(i + 1, bodyEnd, &inner, depth: depth + 1)
                    } else {
                        var inner = PresenceMap.none
                        try decodeBody(i + 1, bodyEnd, &inner, depth: depth + 1)
                    }
                }
                i = bodyEnd
            case .sequence:
                let bodyEnd = Int(instruction.end)
                let lengthInstruction = instructions[i + 1]
                let lengthStart = position
                let length: UInt64?
                do {
                    length = try decodeInteger(
                        op: lengthInstruction.op, type: .uInt32, optional: lengthInstruction.optional,
                        slot: lengthInstruction.slot, hasInitial: lengthInstruction.hasInitial,
                        initial: lengthInstruction.initialInt, &map)
                } catch {
                    throw annotate(error, lengthInstruction)
                }
                guard let length else {
                    try appendSlot(Slot(instruction: Int32(i), present: false, value: 0, exponent: 0, start: 0, count: 0))
                    i = bodyEnd
                    try reserveSlots(last - i)
                    continue
                }
                guard length <= UInt64(FASTDecoder.sequenceLengthMax) else {
                    throw annotate(failure(.u2, "sequence length \(length) exceeds \(FASTDecoder.sequenceLengthMax)",
                                           at: lengthStart), instruction)
                }
                guard depth < FASTTemplates.nestingDepthMax else {
                    throw annotate(failure(.u2, "nesting deeper than \(FASTTemplates.nestingDepthMax)"), instruction)
                }
                try appendSlot(Slot(instruction: Int32(i), present: true, value: 0, exponent: 0, start: 0,
                                    count: Int32(length)))
                var entry: UInt64 = 0
                while entry < length {
                    if instruction.bodyHasPresenceMap {
                        var inner = try readPresenceMap()
                        try decodeBody(i + 2, bodyEnd, &inner, depth: depth + 1)
                    } else {
                        var inner = PresenceMap.none
                        try decodeBody(i + 2, bodyEnd, &inner, depth: depth + 1)
                    }
                    entry += 1
                }
                i = bodyEnd
            case .dynamicReference:
                guard depth < FASTTemplates.nestingDepthMax else {
                    throw annotate(failure(.u2, "nesting deeper than \(FASTTemplates.nestingDepthMax)"), instruction)
                }
                var inner = try readPresenceMap()
                let index = try decodeTemplateID(&inner)
                let template = templates.templates[index]
                try appendSlot(Slot(instruction: Int32(i), present: true, value: 0, exponent: 0,
                                    start: Int32(index), count: 0))
                do {
                    try decodeBody(template.start, template.end, &inner, depth: depth + 1)
                } catch {
                    var error = error
                    if error.template == nil { error.template = template.name }
                    throw error
                }
                i += 1
            }
            // A nested segment may have used the room reserved for this one.
            try reserveSlots(last - i)
        }
    }

    // MARK: Fields

    /// Decodes one field into its slot (already initialised as absent), with the code specialised
    /// for the field's type, operator and presence.
    @inline(__always)
    mutating func decodeCoded(_ code: UInt8, _ p: UnsafePointer<Instruction>, _ out: UnsafeMutablePointer<Slot>,
                              _ map: inout PresenceMap) throws(FASTError) {
        switch code {
        case 0x10: try integerField(p, &out.pointee, NoOperator.self, UInt32Type.self, MandatoryField.self, &map)
        case 0x11: try integerField(p, &out.pointee, NoOperator.self, UInt32Type.self, OptionalField.self, &map)
        case 0x12: try integerField(p, &out.pointee, ConstantOperator.self, UInt32Type.self, MandatoryField.self, &map)
        case 0x13: try integerField(p, &out.pointee, ConstantOperator.self, UInt32Type.self, OptionalField.self, &map)
        case 0x14: try integerField(p, &out.pointee, DefaultOperator.self, UInt32Type.self, MandatoryField.self, &map)
        case 0x15: try integerField(p, &out.pointee, DefaultOperator.self, UInt32Type.self, OptionalField.self, &map)
        case 0x16: try integerField(p, &out.pointee, CopyOperator.self, UInt32Type.self, MandatoryField.self, &map)
        case 0x17: try integerField(p, &out.pointee, CopyOperator.self, UInt32Type.self, OptionalField.self, &map)
        case 0x18: try integerField(p, &out.pointee, IncrementOperator.self, UInt32Type.self, MandatoryField.self, &map)
        case 0x19: try integerField(p, &out.pointee, IncrementOperator.self, UInt32Type.self, OptionalField.self, &map)
        case 0x1a: try integerField(p, &out.pointee, DeltaOperator.self, UInt32Type.self, MandatoryField.self, &map)
        case 0x1b: try integerField(p, &out.pointee, DeltaOperator.self, UInt32Type.self, OptionalField.self, &map)
        case 0x20: try integerField(p, &out.pointee, NoOperator.self, Int32Type.self, MandatoryField.self, &map)
        case 0x21: try integerField(p, &out.pointee, NoOperator.self, Int32Type.self, OptionalField.self, &map)
        case 0x22: try integerField(p, &out.pointee, ConstantOperator.self, Int32Type.self, MandatoryField.self, &map)
        case 0x23: try integerField(p, &out.pointee, ConstantOperator.self, Int32Type.self, OptionalField.self, &map)
        case 0x24: try integerField(p, &out.pointee, DefaultOperator.self, Int32Type.self, MandatoryField.self, &map)
        case 0x25: try integerField(p, &out.pointee, DefaultOperator.self, Int32Type.self, OptionalField.self, &map)
        case 0x26: try integerField(p, &out.pointee, CopyOperator.self, Int32Type.self, MandatoryField.self, &map)
        case 0x27: try integerField(p, &out.pointee, CopyOperator.self, Int32Type.self, OptionalField.self, &map)
        case 0x28: try integerField(p, &out.pointee, IncrementOperator.self, Int32Type.self, MandatoryField.self, &map)
        case 0x29: try integerField(p, &out.pointee, IncrementOperator.self, Int32Type.self, OptionalField.self, &map)
        case 0x2a: try integerField(p, &out.pointee, DeltaOperator.self, Int32Type.self, MandatoryField.self, &map)
        case 0x2b: try integerField(p, &out.pointee, DeltaOperator.self, Int32Type.self, OptionalField.self, &map)
        case 0x30: try integerField(p, &out.pointee, NoOperator.self, UInt64Type.self, MandatoryField.self, &map)
        case 0x31: try integerField(p, &out.pointee, NoOperator.self, UInt64Type.self, OptionalField.self, &map)
        case 0x32: try integerField(p, &out.pointee, ConstantOperator.self, UInt64Type.self, MandatoryField.self, &map)
        case 0x33: try integerField(p, &out.pointee, ConstantOperator.self, UInt64Type.self, OptionalField.self, &map)
        case 0x34: try integerField(p, &out.pointee, DefaultOperator.self, UInt64Type.self, MandatoryField.self, &map)
        case 0x35: try integerField(p, &out.pointee, DefaultOperator.self, UInt64Type.self, OptionalField.self, &map)
        case 0x36: try integerField(p, &out.pointee, CopyOperator.self, UInt64Type.self, MandatoryField.self, &map)
        case 0x37: try integerField(p, &out.pointee, CopyOperator.self, UInt64Type.self, OptionalField.self, &map)
        case 0x38: try integerField(p, &out.pointee, IncrementOperator.self, UInt64Type.self, MandatoryField.self, &map)
        case 0x39: try integerField(p, &out.pointee, IncrementOperator.self, UInt64Type.self, OptionalField.self, &map)
        case 0x3a: try integerField(p, &out.pointee, DeltaOperator.self, UInt64Type.self, MandatoryField.self, &map)
        case 0x3b: try integerField(p, &out.pointee, DeltaOperator.self, UInt64Type.self, OptionalField.self, &map)
        case 0x40: try integerField(p, &out.pointee, NoOperator.self, Int64Type.self, MandatoryField.self, &map)
        case 0x41: try integerField(p, &out.pointee, NoOperator.self, Int64Type.self, OptionalField.self, &map)
        case 0x42: try integerField(p, &out.pointee, ConstantOperator.self, Int64Type.self, MandatoryField.self, &map)
        case 0x43: try integerField(p, &out.pointee, ConstantOperator.self, Int64Type.self, OptionalField.self, &map)
        case 0x44: try integerField(p, &out.pointee, DefaultOperator.self, Int64Type.self, MandatoryField.self, &map)
        case 0x45: try integerField(p, &out.pointee, DefaultOperator.self, Int64Type.self, OptionalField.self, &map)
        case 0x46: try integerField(p, &out.pointee, CopyOperator.self, Int64Type.self, MandatoryField.self, &map)
        case 0x47: try integerField(p, &out.pointee, CopyOperator.self, Int64Type.self, OptionalField.self, &map)
        case 0x48: try integerField(p, &out.pointee, IncrementOperator.self, Int64Type.self, MandatoryField.self, &map)
        case 0x49: try integerField(p, &out.pointee, IncrementOperator.self, Int64Type.self, OptionalField.self, &map)
        case 0x4a: try integerField(p, &out.pointee, DeltaOperator.self, Int64Type.self, MandatoryField.self, &map)
        case 0x4b: try integerField(p, &out.pointee, DeltaOperator.self, Int64Type.self, OptionalField.self, &map)
        case 0x50: try decodeDecimal(p, &out.pointee, NoOperator.self, MandatoryField.self, &map)
        case 0x51: try decodeDecimal(p, &out.pointee, NoOperator.self, OptionalField.self, &map)
        case 0x52: try decodeDecimal(p, &out.pointee, ConstantOperator.self, MandatoryField.self, &map)
        case 0x53: try decodeDecimal(p, &out.pointee, ConstantOperator.self, OptionalField.self, &map)
        case 0x54: try decodeDecimal(p, &out.pointee, DefaultOperator.self, MandatoryField.self, &map)
        case 0x55: try decodeDecimal(p, &out.pointee, DefaultOperator.self, OptionalField.self, &map)
        case 0x56: try decodeDecimal(p, &out.pointee, CopyOperator.self, MandatoryField.self, &map)
        case 0x57: try decodeDecimal(p, &out.pointee, CopyOperator.self, OptionalField.self, &map)
        case 0x5a: try decodeDecimal(p, &out.pointee, DeltaOperator.self, MandatoryField.self, &map)
        case 0x5b: try decodeDecimal(p, &out.pointee, DeltaOperator.self, OptionalField.self, &map)
        case 0x60: try decodeSplitDecimal(p, &out.pointee, NoOperator.self, MandatoryField.self, &map)
        case 0x61: try decodeSplitDecimal(p, &out.pointee, NoOperator.self, OptionalField.self, &map)
        case 0x62: try decodeSplitDecimal(p, &out.pointee, ConstantOperator.self, MandatoryField.self, &map)
        case 0x63: try decodeSplitDecimal(p, &out.pointee, ConstantOperator.self, OptionalField.self, &map)
        case 0x64: try decodeSplitDecimal(p, &out.pointee, DefaultOperator.self, MandatoryField.self, &map)
        case 0x65: try decodeSplitDecimal(p, &out.pointee, DefaultOperator.self, OptionalField.self, &map)
        case 0x66: try decodeSplitDecimal(p, &out.pointee, CopyOperator.self, MandatoryField.self, &map)
        case 0x67: try decodeSplitDecimal(p, &out.pointee, CopyOperator.self, OptionalField.self, &map)
        case 0x68: try decodeSplitDecimal(p, &out.pointee, IncrementOperator.self, MandatoryField.self, &map)
        case 0x69: try decodeSplitDecimal(p, &out.pointee, IncrementOperator.self, OptionalField.self, &map)
        case 0x6a: try decodeSplitDecimal(p, &out.pointee, DeltaOperator.self, MandatoryField.self, &map)
        case 0x6b: try decodeSplitDecimal(p, &out.pointee, DeltaOperator.self, OptionalField.self, &map)
        case 0x70: try decodeBytesField(p, &out.pointee, NoOperator.self, ASCIIType.self, MandatoryField.self, &map)
        case 0x71: try decodeBytesField(p, &out.pointee, NoOperator.self, ASCIIType.self, OptionalField.self, &map)
        case 0x72: try decodeBytesField(p, &out.pointee, ConstantOperator.self, ASCIIType.self, MandatoryField.self, &map)
        case 0x73: try decodeBytesField(p, &out.pointee, ConstantOperator.self, ASCIIType.self, OptionalField.self, &map)
        case 0x74: try decodeBytesField(p, &out.pointee, DefaultOperator.self, ASCIIType.self, MandatoryField.self, &map)
        case 0x75: try decodeBytesField(p, &out.pointee, DefaultOperator.self, ASCIIType.self, OptionalField.self, &map)
        case 0x76: try decodeBytesField(p, &out.pointee, CopyOperator.self, ASCIIType.self, MandatoryField.self, &map)
        case 0x77: try decodeBytesField(p, &out.pointee, CopyOperator.self, ASCIIType.self, OptionalField.self, &map)
        case 0x7a: try decodeBytesField(p, &out.pointee, DeltaOperator.self, ASCIIType.self, MandatoryField.self, &map)
        case 0x7b: try decodeBytesField(p, &out.pointee, DeltaOperator.self, ASCIIType.self, OptionalField.self, &map)
        case 0x7c: try decodeBytesField(p, &out.pointee, TailOperator.self, ASCIIType.self, MandatoryField.self, &map)
        case 0x7d: try decodeBytesField(p, &out.pointee, TailOperator.self, ASCIIType.self, OptionalField.self, &map)
        case 0x80: try decodeBytesField(p, &out.pointee, NoOperator.self, VectorType.self, MandatoryField.self, &map)
        case 0x81: try decodeBytesField(p, &out.pointee, NoOperator.self, VectorType.self, OptionalField.self, &map)
        case 0x82: try decodeBytesField(p, &out.pointee, ConstantOperator.self, VectorType.self, MandatoryField.self, &map)
        case 0x83: try decodeBytesField(p, &out.pointee, ConstantOperator.self, VectorType.self, OptionalField.self, &map)
        case 0x84: try decodeBytesField(p, &out.pointee, DefaultOperator.self, VectorType.self, MandatoryField.self, &map)
        case 0x85: try decodeBytesField(p, &out.pointee, DefaultOperator.self, VectorType.self, OptionalField.self, &map)
        case 0x86: try decodeBytesField(p, &out.pointee, CopyOperator.self, VectorType.self, MandatoryField.self, &map)
        case 0x87: try decodeBytesField(p, &out.pointee, CopyOperator.self, VectorType.self, OptionalField.self, &map)
        case 0x8a: try decodeBytesField(p, &out.pointee, DeltaOperator.self, VectorType.self, MandatoryField.self, &map)
        case 0x8b: try decodeBytesField(p, &out.pointee, DeltaOperator.self, VectorType.self, OptionalField.self, &map)
        case 0x8c: try decodeBytesField(p, &out.pointee, TailOperator.self, VectorType.self, MandatoryField.self, &map)
        case 0x8d: try decodeBytesField(p, &out.pointee, TailOperator.self, VectorType.self, OptionalField.self, &map)
        default: try decodeGeneral(p, &out.pointee, &map)
        }
    }

    @inline(__always)
    mutating func integerField<O: OperatorTag, T: TypeTag, P: PresenceTag>(
        _ p: UnsafePointer<Instruction>, _ slot: inout Slot, _: O.Type, _: T.Type, _: P.Type, _ map: inout PresenceMap
    ) throws(FASTError) {
        if let value = try decodeInteger(O.self, T.self, P.self, slot: p.pointee.slot,
                                         hasInitial: p.pointee.hasInitial, initial: p.pointee.initialInt, &map) {
            slot.present = true
            slot.value = value
        }
    }

    /// The general path: any field, with type, operator and presence read from the instruction.
    mutating func decodeGeneral(_ instruction: UnsafePointer<Instruction>, _ slot: inout Slot,
                                _ map: inout PresenceMap) throws(FASTError) {
        switch instruction.pointee.type {
        case .int32, .uInt32, .int64, .uInt64, .decimalExponent, .decimalMantissa:
            if let value = try decodeInteger(
                op: instruction.pointee.op, type: instruction.pointee.type, optional: instruction.pointee.optional,
                slot: instruction.pointee.slot, hasInitial: instruction.pointee.hasInitial,
                initial: instruction.pointee.initialInt, &map) {
                slot.present = true
                slot.value = value
            }
        case .decimal, .ascii, .unicode, .byteVector:
            // Every valid operator on these types has an opcode.
            preconditionFailure("no opcode for a \(instruction.pointee.type.xmlName) field")
        }
    }

    /// A decimal with separate exponent and mantissa operators; `op` and `optional` are the exponent's.
    @inline(__always)
    mutating func decodeSplitDecimal<O: OperatorTag, P: PresenceTag>(
        _ instruction: UnsafePointer<Instruction>, _ slot: inout Slot, _: O.Type, _: P.Type, _ map: inout PresenceMap
    ) throws(FASTError) {
        if let exponent = try decodeInteger(
            O.self, ExponentType.self, P.self, slot: instruction.pointee.slot,
            hasInitial: instruction.pointee.hasInitial, initial: instruction.pointee.initialInt, &map) {
            let exponentValue = Int64(bitPattern: exponent)
            guard (-63...63).contains(exponentValue) else {
                throw failure(.r1, "decimal exponent \(exponentValue) outside -63...63")
            }
            let mantissa = try decodeMantissa(instruction, &map)
            slot.present = true
            slot.exponent = Int32(exponentValue)
            slot.value = mantissa ?? 0
        }
    }

    /// The mantissa of a split decimal (a mandatory int64), specialised for the common operators.
    @inline(__always)
    mutating func decodeMantissa(_ instruction: UnsafePointer<Instruction>, _ map: inout PresenceMap)
        throws(FASTError) -> UInt64? {
        let slot = instruction.pointee.mantissaSlot
        let hasInitial = instruction.pointee.mantissaHasInitial
        let initial = UInt64(bitPattern: instruction.pointee.mantissaInitial)
        switch instruction.pointee.mantissaOp {
        case .delta:
            return try decodeInteger(DeltaOperator.self, Int64Type.self, MandatoryField.self, slot: slot, hasInitial: hasInitial,
                                     initial: initial, &map)
        case .copy:
            return try decodeInteger(CopyOperator.self, Int64Type.self, MandatoryField.self, slot: slot, hasInitial: hasInitial,
                                     initial: initial, &map)
        case .none:
            return try decodeInteger(NoOperator.self, Int64Type.self, MandatoryField.self, slot: slot, hasInitial: hasInitial,
                                     initial: initial, &map)
        default:
            return try decodeIntegerGeneral(op: instruction.pointee.mantissaOp, type: .int64, optional: false,
                                            slot: slot, hasInitial: hasInitial, initial: initial, &map)
        }
    }

    mutating func decodeIntegerGeneral(op: Operator, type: FieldType, optional: Bool, slot: Int32, hasInitial: Bool,
                                       initial: UInt64, _ map: inout PresenceMap) throws(FASTError) -> UInt64? {
        try decodeInteger(op: op, type: type, optional: optional, slot: slot, hasInitial: hasInitial,
                          initial: initial, &map)
    }

    /// The integer operators of section 6.3, specialised per opcode: the same code as the dynamic
    /// form below, with operator, type and presence as constants of the tag types.
    @inline(__always)
    mutating func decodeInteger<O: OperatorTag, T: TypeTag, P: PresenceTag>(
        _: O.Type, _: T.Type, _: P.Type, slot: Int32, hasInitial: Bool, initial: UInt64, _ map: inout PresenceMap
    ) throws(FASTError) -> UInt64? {
        let op = O.op
        let type = T.type
        let optional = P.optional
        switch op {
        case .none:
            return try readInteger(type, nullable: optional)
        case .constant:
            if optional && !nextBit(&map) { return nil }
            return initial
        case .default:
            if nextBit(&map) { return try readInteger(type, nullable: optional) }
            return hasInitial ? initial : nil
        case .copy, .increment:
            let s = Int(slot)
            if nextBit(&map) {
                guard let value = try readInteger(type, nullable: optional) else {
                    state[s] = DictionaryState.empty
                    return nil
                }
                state[s] = DictionaryState.assigned
                ints[s] = value
                return value
            }
            switch state[s] {
            case DictionaryState.assigned:
                if op == .copy { return ints[s] }
                let value = Self.increment(ints[s], type)
                ints[s] = value
                return value
            case DictionaryState.undefined:
                if hasInitial {
                    state[s] = DictionaryState.assigned
                    ints[s] = initial
                    return initial
                }
                if optional {
                    state[s] = DictionaryState.empty
                    return nil
                }
                throw failure(.d5, "mandatory field is absent and has neither a previous nor an initial value")
            default:
                if optional { return nil }
                throw failure(.d6, "mandatory field is absent and its previous value is empty")
            }
        case .delta:
            let start = position
            guard let delta = try readSigned(nullable: optional) else { return nil }
            let s = Int(slot)
            let base: UInt64
            switch state[s] {
            case DictionaryState.assigned: base = ints[s]
            case DictionaryState.undefined: base = hasInitial ? initial : 0
            default: throw failure(.d6, "delta on an empty previous value", at: start)
            }
            guard let value = Self.add(base, delta, type) else {
                throw failure(.d2, "delta result does not fit \(type.xmlName)", at: start)
            }
            state[s] = DictionaryState.assigned
            ints[s] = value
            return value
        case .tail:
            preconditionFailure("the template compiler rejects tail on integers")
        }
    }

    /// The integer operators of section 6.3 for one integer field (also a decimal's exponent or
    /// mantissa, and a sequence length). Returns the bit pattern, or nil when the value is absent.
    @inline(__always)
    mutating func decodeInteger(op: Operator, type: FieldType, optional: Bool, slot: Int32, hasInitial: Bool,
                                initial: UInt64, _ map: inout PresenceMap) throws(FASTError) -> UInt64? {
        switch op {
        case .none:
            return try readInteger(type, nullable: optional)
        case .constant:
            if optional && !nextBit(&map) { return nil }
            return initial
        case .default:
            if nextBit(&map) { return try readInteger(type, nullable: optional) }
            return hasInitial ? initial : nil
        case .copy, .increment:
            let s = Int(slot)
            if nextBit(&map) {
                guard let value = try readInteger(type, nullable: optional) else {
                    state[s] = DictionaryState.empty
                    return nil
                }
                state[s] = DictionaryState.assigned
                ints[s] = value
                return value
            }
            switch state[s] {
            case DictionaryState.assigned:
                if op == .copy { return ints[s] }
                let value = Self.increment(ints[s], type)
                ints[s] = value
                return value
            case DictionaryState.undefined:
                if hasInitial {
                    state[s] = DictionaryState.assigned
                    ints[s] = initial
                    return initial
                }
                if optional {
                    state[s] = DictionaryState.empty
                    return nil
                }
                throw failure(.d5, "mandatory field is absent and has neither a previous nor an initial value")
            default:
                if optional { return nil }
                throw failure(.d6, "mandatory field is absent and its previous value is empty")
            }
        case .delta:
            let start = position
            guard let delta = try readSigned(nullable: optional) else { return nil }
            let s = Int(slot)
            let base: UInt64
            switch state[s] {
            case DictionaryState.assigned: base = ints[s]
            case DictionaryState.undefined: base = hasInitial ? initial : 0
            default: throw failure(.d6, "delta on an empty previous value", at: start)
            }
            guard let value = Self.add(base, delta, type) else {
                throw failure(.d2, "delta result does not fit \(type.xmlName)", at: start)
            }
            state[s] = DictionaryState.assigned
            ints[s] = value
            return value
        case .tail:
            preconditionFailure("the template compiler rejects tail on integers")
        }
    }

    static func increment(_ value: UInt64, _ type: FieldType) -> UInt64 {
        // Increment wraps within the type, as the previous value plus one modulo the type's range.
        switch type {
        case .uInt32: return UInt64(UInt32(truncatingIfNeeded: value) &+ 1)
        case .int32, .decimalExponent:
            return UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: Int64(bitPattern: value)) &+ 1))
        default: return value &+ 1
        }
    }

    static func add(_ base: UInt64, _ delta: Int64, _ type: FieldType) -> UInt64? {
        switch type {
        case .uInt32, .uInt64:
            let (sum, overflow) = delta >= 0
                ? base.addingReportingOverflow(UInt64(delta)) : base.subtractingReportingOverflow(delta.magnitude)
            if overflow || (type == .uInt32 && sum > UInt64(UInt32.max)) { return nil }
            return sum
        default:
            let (sum, overflow) = Int64(bitPattern: base).addingReportingOverflow(delta)
            if overflow { return nil }
            if type == .int32 || type == .decimalExponent, sum < Int64(Int32.min) || sum > Int64(Int32.max) {
                return nil
            }
            return UInt64(bitPattern: sum)
        }
    }

    /// Reads a whole decimal (exponent, then mantissa); nil is NULL.
    @inline(__always)
    mutating func readDecimal(nullable: Bool) throws(FASTError) -> (Int32, Int64)? {
        let start = position
        guard let exponent = try readSigned(nullable: nullable) else { return nil }
        guard (-63...63).contains(exponent) else {
            throw failure(.r1, "decimal exponent \(exponent) outside -63...63", at: start)
        }
        guard let mantissa = try readSigned(nullable: false) else { preconditionFailure() }
        return (Int32(exponent), mantissa)
    }

    @inline(__always)
    mutating func decodeDecimal<O: OperatorTag, P: PresenceTag>(
        _ instruction: UnsafePointer<Instruction>, _ slot: inout Slot, _: O.Type, _: P.Type, _ map: inout PresenceMap
    ) throws(FASTError) {
        let op = O.op
        let optional = P.optional
        func set(_ slot: inout Slot, _ value: (Int32, Int64)) {
            slot.present = true
            slot.exponent = value.0
            slot.value = UInt64(bitPattern: value.1)
        }
        let initial = (instruction.pointee.initialExponent, Int64(bitPattern: instruction.pointee.initialInt))
        switch op {
        case .none:
            if let value = try readDecimal(nullable: optional) { set(&slot, value) }
        case .constant:
            if !optional || nextBit(&map) { set(&slot, initial) }
        case .default:
            if nextBit(&map) {
                if let value = try readDecimal(nullable: optional) { set(&slot, value) }
            } else if instruction.pointee.hasInitial {
                set(&slot, initial)
            }
        case .copy:
            let s = Int(instruction.pointee.slot)
            if nextBit(&map) {
                if let value = try readDecimal(nullable: optional) {
                    state[s] = DictionaryState.assigned
                    exponents[s] = value.0
                    ints[s] = UInt64(bitPattern: value.1)
                    set(&slot, value)
                } else {
                    state[s] = DictionaryState.empty
                }
                return
            }
            switch state[s] {
            case DictionaryState.assigned:
                set(&slot, (exponents[s], Int64(bitPattern: ints[s])))
            case DictionaryState.undefined:
                if instruction.pointee.hasInitial {
                    state[s] = DictionaryState.assigned
                    exponents[s] = initial.0
                    ints[s] = UInt64(bitPattern: initial.1)
                    set(&slot, initial)
                } else if optional {
                    state[s] = DictionaryState.empty
                } else {
                    throw failure(.d5, "mandatory field is absent and has neither a previous nor an initial value")
                }
            default:
                if !optional {
                    throw failure(.d6, "mandatory field is absent and its previous value is empty")
                }
            }
        case .delta:
            let start = position
            guard let exponentDelta = try readSigned(nullable: optional) else { return }
            guard let mantissaDelta = try readSigned(nullable: false) else { preconditionFailure() }
            let s = Int(instruction.pointee.slot)
            let base: (Int32, Int64)
            switch state[s] {
            case DictionaryState.assigned: base = (exponents[s], Int64(bitPattern: ints[s]))
            case DictionaryState.undefined: base = instruction.pointee.hasInitial ? initial : (0, 0)
            default: throw failure(.d6, "delta on an empty previous value", at: start)
            }
            let (exponent, o1) = Int64(base.0).addingReportingOverflow(exponentDelta)
            let (mantissa, o2) = base.1.addingReportingOverflow(mantissaDelta)
            guard !o1, (-63...63).contains(exponent) else {
                throw failure(.r1, "decimal exponent outside -63...63 after delta", at: start)
            }
            guard !o2 else { throw failure(.d2, "decimal mantissa overflows after delta", at: start) }
            state[s] = DictionaryState.assigned
            exponents[s] = Int32(exponent)
            ints[s] = UInt64(bitPattern: mantissa)
            set(&slot, (Int32(exponent), mantissa))
        case .increment, .tail:
            preconditionFailure("the template compiler rejects this operator on decimals")
        }
    }

    // MARK: Strings and byte vectors

    mutating func appendConstant(_ instruction: UnsafePointer<Instruction>) throws(FASTError) -> (Int32, Int32) {
        let start = Int32(arena.count)
        let count = Int(instruction.pointee.initialCount)
        try reserveArena(count)
        if count > 0, let base = constants.baseAddress {
            arena.append(contentsOf: UnsafeBufferPointer(start: base + Int(instruction.pointee.initialStart), count: count))
        }
        return (start, Int32(count))
    }

    mutating func appendPrevious(_ s: Int) throws(FASTError) -> (Int32, Int32) {
        let start = Int32(arena.count)
        let count = dictionary.bytes[s].count
        try reserveArena(count)
        dictionary.bytes[s].withUnsafeBufferPointer { arena.append(contentsOf: $0) }
        return (start, Int32(count))
    }

    mutating func assign(_ s: Int, _ range: (Int32, Int32)) {
        state[s] = DictionaryState.assigned
        dictionary.bytes[s].removeAll(keepingCapacity: true)
        let start = Int(range.0)
        dictionary.bytes[s].append(contentsOf: UnsafeBufferPointer(start: arena.pointer + start, count: Int(range.1)))
    }

    /// Base value of delta and tail: the previous value, else the initial value, else empty.
    mutating func appendBase(_ instruction: UnsafePointer<Instruction>, _ s: Int) throws(FASTError) -> (Int32, Int32) {
        if state[s] == DictionaryState.assigned { return try appendPrevious(s) }
        if instruction.pointee.hasInitial { return try appendConstant(instruction) }
        return (Int32(arena.count), 0)
    }

    @inline(__always)
    mutating func decodeBytesField<O: OperatorTag, T: TypeTag, P: PresenceTag>(
        _ instruction: UnsafePointer<Instruction>, _ slot: inout Slot, _: O.Type, _: T.Type, _: P.Type,
        _ map: inout PresenceMap
    ) throws(FASTError) {
        let op = O.op
        let type = T.type
        let optional = P.optional
        func set(_ slot: inout Slot, _ range: (Int32, Int32)) {
            slot.present = true
            slot.start = range.0
            slot.count = range.1
        }
        switch op {
        case .none:
            if let range = try readBytes(type, nullable: optional) { set(&slot, range) }
        case .constant:
            if !optional || nextBit(&map) { set(&slot, try appendConstant(instruction)) }
        case .default:
            if nextBit(&map) {
                if let range = try readBytes(type, nullable: optional) { set(&slot, range) }
            } else if instruction.pointee.hasInitial {
                set(&slot, try appendConstant(instruction))
            }
        case .copy, .tail:
            let s = Int(instruction.pointee.slot)
            if nextBit(&map) {
                guard let read = try readBytes(type, nullable: optional) else {
                    state[s] = DictionaryState.empty
                    return
                }
                var range = read
                if op == .tail {
                    // Section 6.3.7.4: the tail replaces the end of the base value; a tail longer
                    // than the base replaces all of it.
                    let base = try appendBase(instruction, s)
                    let tailCount = Int(read.1)
                    if tailCount < Int(base.1) {
                        let keep = Int(base.1) - tailCount
                        let start = Int32(arena.count)
                        try reserveArena(keep + tailCount)
                        arena.appendCopy(from: Int(base.0), count: keep)
                        arena.appendCopy(from: Int(read.0), count: tailCount)
                        range = (start, Int32(keep + tailCount))
                    }
                }
                assign(s, range)
                set(&slot, range)
                return
            }
            switch state[s] {
            case DictionaryState.assigned:
                set(&slot, try appendPrevious(s))
            case DictionaryState.undefined:
                if instruction.pointee.hasInitial {
                    let range = try appendConstant(instruction)
                    assign(s, range)
                    set(&slot, range)
                } else if optional {
                    state[s] = DictionaryState.empty
                } else {
                    throw failure(.d5, "mandatory field is absent and has neither a previous nor an initial value")
                }
            default:
                if !optional {
                    throw failure(.d6, "mandatory field is absent and its previous value is empty")
                }
            }
        case .delta:
            let start = position
            guard let subtraction = try readSigned(nullable: optional) else { return }
            guard subtraction >= Int64(Int32.min), subtraction <= Int64(Int32.max) else {
                throw failure(.d2, "subtraction length does not fit int32", at: start)
            }
            guard let delta = try readBytes(type, nullable: false) else { preconditionFailure() }
            let s = Int(instruction.pointee.slot)
            if state[s] == DictionaryState.empty {
                throw failure(.d6, "delta on an empty previous value", at: start)
            }
            let base = try appendBase(instruction, s)
            // Section 6.3.7.3: a negative subtraction length removes from the front, in an
            // excess-1 encoding (-1 removes nothing from the front).
            let front = subtraction < 0
            let remove = front ? Int(-(subtraction + 1)) : Int(subtraction)
            guard remove <= Int(base.1) else {
                throw failure(.d7, "subtraction length \(remove) exceeds the base value length \(base.1)", at: start)
            }
            let keep = Int(base.1) - remove
            let deltaCount = Int(delta.1)
            let resultStart = Int32(arena.count)
            try reserveArena(keep + deltaCount)
            if front {
                arena.appendCopy(from: Int(delta.0), count: deltaCount)
                arena.appendCopy(from: Int(base.0) + remove, count: keep)
            } else {
                arena.appendCopy(from: Int(base.0), count: keep)
                arena.appendCopy(from: Int(delta.0), count: deltaCount)
            }
            let range = (resultStart, Int32(keep + deltaCount))
            assign(s, range)
            set(&slot, range)
        case .increment:
            preconditionFailure("the template compiler rejects increment on strings")
        }
    }
}

// MARK: Specialisation tags

/// Compile-time shapes of a field: the decoder's per-opcode functions are generic over these
/// tags, so each opcode gets its own specialised copy in which the operator, type and presence
/// are constants and their switches fold away.
protocol OperatorTag { static var op: Operator { get } }
protocol TypeTag { static var type: FieldType { get } }
protocol PresenceTag { static var optional: Bool { get } }

enum NoOperator: OperatorTag { static var op: Operator { .none } }
enum ConstantOperator: OperatorTag { static var op: Operator { .constant } }
enum DefaultOperator: OperatorTag { static var op: Operator { .default } }
enum CopyOperator: OperatorTag { static var op: Operator { .copy } }
enum IncrementOperator: OperatorTag { static var op: Operator { .increment } }
enum DeltaOperator: OperatorTag { static var op: Operator { .delta } }
enum TailOperator: OperatorTag { static var op: Operator { .tail } }
enum UInt32Type: TypeTag { static var type: FieldType { .uInt32 } }
enum Int32Type: TypeTag { static var type: FieldType { .int32 } }
enum UInt64Type: TypeTag { static var type: FieldType { .uInt64 } }
enum Int64Type: TypeTag { static var type: FieldType { .int64 } }
enum ExponentType: TypeTag { static var type: FieldType { .decimalExponent } }
enum ASCIIType: TypeTag { static var type: FieldType { .ascii } }
enum VectorType: TypeTag { static var type: FieldType { .byteVector } }
enum MandatoryField: PresenceTag { static var optional: Bool { false } }
enum OptionalField: PresenceTag { static var optional: Bool { true } }
