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
        dictionary.makeUnique()
        // The run holds raw pointers to the dictionaries, the instructions and the message's
        // buffers for the whole message: no uniqueness or bounds check per field. The decoder
        // (templates, dictionaries) and the message (buffers) own those objects for the whole
        // run, so the run holds them unretained.
        var run = DecodeRun(input: base.assumingMemoryBound(to: UInt8.self), end: count, templates: templates,
                            slots: message.slots.storage, arena: message.arena.storage, dictionary: dictionary.storage)
        let result: Result<Int, FASTError>
        do throws(FASTError) {
            let index = try run.decodeMessage()
            message.templateIndex = index
            message.templateID = templates.raw.templates[index].id
            message.byteCount = run.position
            result = .success(run.position)
        } catch {
            result = .failure(error)
        }
        message.slots.count = run.slotCount
        message.arena.count = run.arena.count
        return result
    }
}

/// A presence map being read: up to 63 bits in a register, refilled from the input.
///
/// The unread bits sit at the top of `bits`, followed by one sentinel 1 bit; when only the
/// sentinel is left (`bits == PresenceMap.drained`) the next bits are loaded. A map with no bytes
/// left yields zero bits, as FAST 1.1 requires of bits beyond a map's end.
struct PresenceMap {
    static let drained: UInt64 = 1 << 63
    /// A zero bit, then the sentinel: what an exhausted map holds.
    static let exhausted: UInt64 = 1 << 62

    var bits: UInt64 = PresenceMap.exhausted
    var next = 0
    var end = 0

    static let none = PresenceMap()
}

/// The state of decoding one message: raw pointers to the input, the instructions, the
/// dictionaries and the message's buffers, so every access in the hot path is a plain load or
/// store and nothing is allocated or retained per field.
struct DecodeRun {
    let input: UnsafePointer<UInt8>
    let end: Int
    // The decoder and the message own these objects for the whole run (`decodeBuffer` keeps
    // them alive), so the run holds them without reference counting.
    unowned(unsafe) let templates: FASTTemplates
    unowned(unsafe) let program: RawProgram
    let instructions: UnsafePointer<Instruction>
    let fixed: UnsafePointer<FixedField>
    let constants: UnsafePointer<UInt8>
    var position = 0
    unowned(unsafe) let dictionary: DictionaryStorage
    let entries: UnsafeMutablePointer<DictionaryEntry>
    let entryCount: Int
    var arena: ArenaWriter
    unowned(unsafe) let slotStorage: SlotStorage
    var slotPointer: UnsafeMutablePointer<Slot>
    var slotCapacity: Int
    var slotCount = 0

    init(input: UnsafePointer<UInt8>, end: Int, templates: FASTTemplates, slots: SlotStorage, arena: ByteStorage,
         dictionary: DictionaryStorage) {
        self.input = input
        self.end = end
        self.templates = templates
        self.program = templates.raw
        self.instructions = UnsafePointer(templates.raw.instructions)
        self.fixed = UnsafePointer(templates.raw.fixed)
        self.constants = UnsafePointer(templates.raw.constants)
        self.slotStorage = slots
        self.arena = ArenaWriter(arena)
        self.slotPointer = slots.pointer
        self.slotCapacity = slots.capacity
        self.dictionary = dictionary
        self.entries = dictionary.entries
        self.entryCount = dictionary.count
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

    var wire: Wire { Wire(input: input, end: end, entries: entries) }

    // MARK: Presence maps

    /// Reads a presence map, taking its first 63 bits into a register in the same pass.
    @inline(__always)
    mutating func readPresenceMap() throws(FASTError) -> PresenceMap {
        let start = position
        if end &- start >= 8 {
            // Most maps are a few bytes: with eight input bytes at hand, find the stop bit in
            // one word and gather the 7-bit groups without a loop.
            let word = UInt64(littleEndian: UnsafeRawPointer(input + start).loadUnaligned(as: UInt64.self))
            let stops = word & 0x8080_8080_8080_8080
            if stops != 0 {
                let count = stops.trailingZeroBitCount &>> 3 &+ 1
                if count > 1 && (word &>> UInt64((count &- 1) &* 8)) & 0xff == 0x80 {
                    throw failure(.r7, "presence map is overlong", at: start)
                }
                position = start &+ count
                return PresenceMap(bits: Self.gatherMap(word, count: count), next: position, end: position)
            }
        }
        return try readLongPresenceMap()
    }

    /// The bits of a map of `count` bytes (1...8) that are the low bytes of `word` (the map's
    /// first byte lowest), in the register layout of ``PresenceMap``: the first byte's seven
    /// bits at the top, then the sentinel bit.
    @inline(__always)
    static func gatherMap(_ word: UInt64, count: Int) -> UInt64 {
        // Maps of one or two bytes (up to fourteen bits) are put together directly.
        if count == 1 { return (word & 0x7f) &<< 57 | 1 &<< 56 }
        if count == 2 { return (word & 0x7f) &<< 57 | (word & 0x7f00) &<< 42 | 1 &<< 49 }
        // Keep the map's bytes, first byte at the top, without their stop bits.
        let kept = count == 8 ? word : word & ((1 &<< UInt64(count &* 8)) &- 1)
        var x = kept.byteSwapped & 0x7f7f_7f7f_7f7f_7f7f
        // Close the gaps left by the stop bits: pairs of bytes into 14 bits, then 28, then 56.
        x = (x & 0x007f_007f_007f_007f) | ((x & 0x7f00_7f00_7f00_7f00) &>> 1)
        x = (x & 0x0000_3fff_0000_3fff) | ((x & 0x3fff_0000_3fff_0000) &>> 2)
        x = (x & 0x0000_0000_0fff_ffff) | ((x & 0x0fff_ffff_0000_0000) &>> 4)
        return x &<< 8 | 1 &<< UInt64(63 &- count &* 7)
    }

    /// ``readPresenceMap()`` for a map of more than eight bytes or near the end of the input.
    @inline(never)
    mutating func readLongPresenceMap() throws(FASTError) -> PresenceMap {
        let start = position
        var stop = start
        var bits: UInt64 = 0
        var shift: UInt64 = 57
        while true {
            guard stop < end else { throw failure(.u1, "input ends inside a presence map") }
            let byte = input[stop]
            stop &+= 1
            if stop &- start <= 9 {
                bits |= UInt64(byte & 0x7f) << shift
                shift &-= 7
            }
            if byte & 0x80 != 0 { break }
            guard stop - start < FASTDecoder.presenceMapBytesMax else {
                throw failure(.u2, "presence map longer than \(FASTDecoder.presenceMapBytesMax) bytes", at: start)
            }
        }
        if stop - start > 1 && input[stop - 1] == 0x80 {
            throw failure(.r7, "presence map is overlong", at: start)
        }
        position = stop
        let taken = min(stop - start, 9)
        return PresenceMap(bits: bits | 1 << UInt64(63 - taken * 7), next: start + taken, end: stop)
    }

    // MARK: Messages and segments

    mutating func decodeMessage() throws(FASTError) -> Int {
        var map = try readPresenceMap()
        let index = try decodeTemplateID(&map)
        let template = program.templates[index]
        // reset="yes" resets every dictionary before the message body (the template id just
        // read stays the previous template id). It applies to a message's template, not to a
        // template reached through a dynamic reference.
        if template.reset { resetDictionary(keepingTemplateID: template.id) }
        do {
            try decodeBody(Int(template.start), Int(template.end), map, depth: 0)
        } catch {
            var error = error
            if error.template == nil { error.template = templates.templates[index].name }
            throw error
        }
        return index
    }

    mutating func decodeTemplateID(_ map: inout PresenceMap) throws(FASTError) -> Int {
        let start = position
        let id: UInt32
        if Wire.nextBit(input, &map) {
            var pos = position
            guard let value = try wire.readInteger(UInt32Type.self, &pos, nullable: false) else { preconditionFailure() }
            position = pos
            id = UInt32(value)
            // The decoder owns the dictionary for the whole run: use it without retaining it.
            Unmanaged.passUnretained(dictionary)._withUnsafeGuaranteedRef {
                $0.templateIDState = DictionaryState.assigned
                $0.templateID = id
            }
        } else if let previous = Unmanaged.passUnretained(dictionary)._withUnsafeGuaranteedRef({ $0.previousTemplateID }) {
            id = previous
        } else {
            throw failure(.d5, "template id is absent and there is no previous template id", at: start)
        }
        let dense = Unmanaged.passUnretained(program)._withUnsafeGuaranteedRef { $0.templateIndex(id: id) }
        guard let index = dense ?? templates.templateIndex(id: id) else {
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
        for entry in 0 ..< entryCount { entries[entry].state = DictionaryState.undefined }
        dictionary.templateIDState = DictionaryState.assigned
        dictionary.templateID = id
    }

    /// Makes room for `count` more slots, so the loop can write fields without a capacity check.
    @inline(__always)
    mutating func reserveSlots(_ count: Int) throws(FASTError) {
        if slotCount &+ count > slotCapacity { try growSlots(to: slotCount + count) }
    }

    mutating func decodeBody(_ first: Int, _ last: Int, _ segmentMap: PresenceMap, depth: Int) throws(FASTError) {
        // Each instruction of this segment adds at most one slot at this level (nested segments
        // reserve their own, and the room is checked again after each of them).
        try reserveSlots(last - first)
        var map = segmentMap
        var i = first
        let instructions = self.instructions
        let wire = self.wire
        while i < last {
            let code = instructions[i].code
            if code != Opcode.structure {
                i = try decodeFields(from: i, to: last, &map)
                continue
            }
            let instruction = instructions[i]
            switch instruction.kind {
            case .field, .length:
                var pos = position
                let out = slotPointer + slotCount
                do {
                    (pos, map) = try wire.generalField(instructions + i, out, Int32(truncatingIfNeeded: i), pos, map)
                } catch {
                    throw annotate(error, instruction)
                }
                position = pos
                slotCount &+= 1
                i += 1
            case .group:
                let bodyEnd = Int(instruction.end)
                let present = !instruction.optional || Wire.nextBit(input, &map)
                try appendSlot(Slot(instruction: Int32(i), present: present, value: 0, exponent: 0, start: 0, count: 0))
                if present {
                    guard depth < FASTTemplates.nestingDepthMax else {
                        throw annotate(failure(.u2, "nesting deeper than \(FASTTemplates.nestingDepthMax)"), instruction)
                    }
                    let inner = instruction.bodyHasPresenceMap ? try readPresenceMap() : PresenceMap.none
                    try decodeBody(i + 1, bodyEnd, inner, depth: depth + 1)
                }
                i = bodyEnd
            case .sequence:
                let bodyEnd = Int(instruction.end)
                let lengthInstruction = instructions + (i + 1)
                let lengthStart = position
                let length: UInt64?
                do {
                    var pos = position
                    if lengthInstruction.pointee.op == .none && !lengthInstruction.pointee.optional {
                        // The usual length: a mandatory uInt32 without operator.
                        length = try wire.readInteger(UInt32Type.self, &pos, nullable: false)
                    } else {
                        length = try wire.integerValue(
                            op: lengthInstruction.pointee.op, type: .uInt32,
                            optional: lengthInstruction.pointee.optional, lengthInstruction, &pos, &map)
                    }
                    position = pos
                } catch {
                    throw annotate(error, lengthInstruction.pointee)
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
                if instruction.bodyIsFlat {
                    // Each entry is one run of fields: decoded here, without a nested segment.
                    let bodyCount = bodyEnd - (i + 2)
                    while entry < length {
                        var inner = instruction.bodyHasPresenceMap ? try readPresenceMap() : PresenceMap.none
                        try reserveSlots(bodyCount)
                        _ = try decodeFields(from: i + 2, to: bodyEnd, &inner)
                        entry += 1
                    }
                }
                while entry < length {
                    let inner = instruction.bodyHasPresenceMap ? try readPresenceMap() : PresenceMap.none
                    try decodeBody(i + 2, bodyEnd, inner, depth: depth + 1)
                    entry += 1
                }
                i = bodyEnd
            case .dynamicReference:
                guard depth < FASTTemplates.nestingDepthMax else {
                    throw annotate(failure(.u2, "nesting deeper than \(FASTTemplates.nestingDepthMax)"), instruction)
                }
                var inner = try readPresenceMap()
                let index = try decodeTemplateID(&inner)
                let template = program.templates[index]
                try appendSlot(Slot(instruction: Int32(i), present: true, value: 0, exponent: 0,
                                    start: Int32(index), count: 0))
                do {
                    try decodeBody(Int(template.start), Int(template.end), inner, depth: depth + 1)
                } catch {
                    var error = error
                    if error.template == nil { error.template = templates.templates[index].name }
                    throw error
                }
                i += 1
            }
            // A nested segment may have used the room reserved for this one.
            try reserveSlots(last - i)
        }
    }

    // MARK: Fields

    /// Decodes a run of fields, from `first` up to the next structure instruction or `last`, and
    /// returns the index after the run. The position, the presence map and the next slot stay in
    /// registers for the whole run (the map is copied in and out), and each field writes its
    /// slot once. Integers and decimals are decoded inline; strings and byte vectors, which need
    /// the arena and the dictionary's byte pool, take a call that gets the presence bit and the
    /// position by value. A run of fixed fields (see ``FixedField``) is decoded in one step.
    mutating func decodeFields(from first: Int, to last: Int, _ segmentMap: inout PresenceMap) throws(FASTError) -> Int {
        var map = segmentMap
        var pos = position
        let w = wire
        let instructions = self.instructions
        let runStart = slotPointer + slotCount
        var out = runStart
        // The loop walks the instructions with one pointer; each instruction knows its index.
        var p = instructions + first
        let stop = instructions + last
        var code = p.pointee.code
        while true {
            let index = p.pointee.index
            if code == Opcode.fixedRun {
                let taken = Wire.takeFixedRun(fixed + Int(index), out, input, &map)
                if taken == 0 {
                    // The first field's bit is set: decode it with its own opcode.
                    code = p.pointee.fieldCode
                    continue
                }
                out += taken
                p += taken
            } else {
                do {
                    try decodeField(code, p, out, index, w, &pos, &map)
                } catch {
                    throw annotate(error, p.pointee)
                }
                out += 1
                p += 1
            }
            if p == stop { break }
            code = p.pointee.code
            if code == Opcode.structure { break }
        }
        position = pos
        slotCount &+= out - runStart
        segmentMap = map
        return p - instructions
    }

    /// Decodes one field into its slot, with the code specialised for the field's type, operator
    /// and presence. Integers and decimals are decoded inline; strings and byte vectors, which
    /// need the arena and the dictionary's byte pool, take a call that gets the presence bit and
    /// the position by value.
    @inline(__always)
    mutating func decodeField(_ code: UInt8, _ p: UnsafePointer<Instruction>, _ out: UnsafeMutablePointer<Slot>,
                              _ index: Int32, _ w: Wire, _ pos: inout Int, _ map: inout PresenceMap) throws(FASTError) {
        switch code {
        case 2: try w.integerField(p, out, index, NoOperator.self, UInt32Type.self, MandatoryField.self, &pos, &map)
        case 3: try w.integerField(p, out, index, NoOperator.self, UInt32Type.self, OptionalField.self, &pos, &map)
        case 4: try w.integerField(p, out, index, ConstantOperator.self, UInt32Type.self, MandatoryField.self, &pos, &map)
        case 5: try w.integerField(p, out, index, ConstantOperator.self, UInt32Type.self, OptionalField.self, &pos, &map)
        case 6: try w.integerField(p, out, index, DefaultOperator.self, UInt32Type.self, MandatoryField.self, &pos, &map)
        case 7: try w.integerField(p, out, index, DefaultOperator.self, UInt32Type.self, OptionalField.self, &pos, &map)
        case 8: try w.integerField(p, out, index, CopyOperator.self, UInt32Type.self, MandatoryField.self, &pos, &map)
        case 9: try w.integerField(p, out, index, CopyOperator.self, UInt32Type.self, OptionalField.self, &pos, &map)
        case 10: try w.integerField(p, out, index, IncrementOperator.self, UInt32Type.self, MandatoryField.self, &pos, &map)
        case 11: try w.integerField(p, out, index, IncrementOperator.self, UInt32Type.self, OptionalField.self, &pos, &map)
        case 12: try w.integerField(p, out, index, DeltaOperator.self, UInt32Type.self, MandatoryField.self, &pos, &map)
        case 13: try w.integerField(p, out, index, DeltaOperator.self, UInt32Type.self, OptionalField.self, &pos, &map)
        case 16: try w.integerField(p, out, index, NoOperator.self, Int32Type.self, MandatoryField.self, &pos, &map)
        case 17: try w.integerField(p, out, index, NoOperator.self, Int32Type.self, OptionalField.self, &pos, &map)
        case 18: try w.integerField(p, out, index, ConstantOperator.self, Int32Type.self, MandatoryField.self, &pos, &map)
        case 19: try w.integerField(p, out, index, ConstantOperator.self, Int32Type.self, OptionalField.self, &pos, &map)
        case 20: try w.integerField(p, out, index, DefaultOperator.self, Int32Type.self, MandatoryField.self, &pos, &map)
        case 21: try w.integerField(p, out, index, DefaultOperator.self, Int32Type.self, OptionalField.self, &pos, &map)
        case 22: try w.integerField(p, out, index, CopyOperator.self, Int32Type.self, MandatoryField.self, &pos, &map)
        case 23: try w.integerField(p, out, index, CopyOperator.self, Int32Type.self, OptionalField.self, &pos, &map)
        case 24: try w.integerField(p, out, index, IncrementOperator.self, Int32Type.self, MandatoryField.self, &pos, &map)
        case 25: try w.integerField(p, out, index, IncrementOperator.self, Int32Type.self, OptionalField.self, &pos, &map)
        case 26: try w.integerField(p, out, index, DeltaOperator.self, Int32Type.self, MandatoryField.self, &pos, &map)
        case 27: try w.integerField(p, out, index, DeltaOperator.self, Int32Type.self, OptionalField.self, &pos, &map)
        case 30: try w.integerField(p, out, index, NoOperator.self, UInt64Type.self, MandatoryField.self, &pos, &map)
        case 31: try w.integerField(p, out, index, NoOperator.self, UInt64Type.self, OptionalField.self, &pos, &map)
        case 32: try w.integerField(p, out, index, ConstantOperator.self, UInt64Type.self, MandatoryField.self, &pos, &map)
        case 33: try w.integerField(p, out, index, ConstantOperator.self, UInt64Type.self, OptionalField.self, &pos, &map)
        case 34: try w.integerField(p, out, index, DefaultOperator.self, UInt64Type.self, MandatoryField.self, &pos, &map)
        case 35: try w.integerField(p, out, index, DefaultOperator.self, UInt64Type.self, OptionalField.self, &pos, &map)
        case 36: try w.integerField(p, out, index, CopyOperator.self, UInt64Type.self, MandatoryField.self, &pos, &map)
        case 37: try w.integerField(p, out, index, CopyOperator.self, UInt64Type.self, OptionalField.self, &pos, &map)
        case 38: try w.integerField(p, out, index, IncrementOperator.self, UInt64Type.self, MandatoryField.self, &pos, &map)
        case 39: try w.integerField(p, out, index, IncrementOperator.self, UInt64Type.self, OptionalField.self, &pos, &map)
        case 40: try w.integerField(p, out, index, DeltaOperator.self, UInt64Type.self, MandatoryField.self, &pos, &map)
        case 41: try w.integerField(p, out, index, DeltaOperator.self, UInt64Type.self, OptionalField.self, &pos, &map)
        case 44: try w.integerField(p, out, index, NoOperator.self, Int64Type.self, MandatoryField.self, &pos, &map)
        case 45: try w.integerField(p, out, index, NoOperator.self, Int64Type.self, OptionalField.self, &pos, &map)
        case 46: try w.integerField(p, out, index, ConstantOperator.self, Int64Type.self, MandatoryField.self, &pos, &map)
        case 47: try w.integerField(p, out, index, ConstantOperator.self, Int64Type.self, OptionalField.self, &pos, &map)
        case 48: try w.integerField(p, out, index, DefaultOperator.self, Int64Type.self, MandatoryField.self, &pos, &map)
        case 49: try w.integerField(p, out, index, DefaultOperator.self, Int64Type.self, OptionalField.self, &pos, &map)
        case 50: try w.integerField(p, out, index, CopyOperator.self, Int64Type.self, MandatoryField.self, &pos, &map)
        case 51: try w.integerField(p, out, index, CopyOperator.self, Int64Type.self, OptionalField.self, &pos, &map)
        case 52: try w.integerField(p, out, index, IncrementOperator.self, Int64Type.self, MandatoryField.self, &pos, &map)
        case 53: try w.integerField(p, out, index, IncrementOperator.self, Int64Type.self, OptionalField.self, &pos, &map)
        case 54: try w.integerField(p, out, index, DeltaOperator.self, Int64Type.self, MandatoryField.self, &pos, &map)
        case 55: try w.integerField(p, out, index, DeltaOperator.self, Int64Type.self, OptionalField.self, &pos, &map)
        case 58: try w.decimalField(p, out, index, NoOperator.self, MandatoryField.self, &pos, &map)
        case 59: try w.decimalField(p, out, index, NoOperator.self, OptionalField.self, &pos, &map)
        case 60: try w.decimalField(p, out, index, ConstantOperator.self, MandatoryField.self, &pos, &map)
        case 61: try w.decimalField(p, out, index, ConstantOperator.self, OptionalField.self, &pos, &map)
        case 62: try w.decimalField(p, out, index, DefaultOperator.self, MandatoryField.self, &pos, &map)
        case 63: try w.decimalField(p, out, index, DefaultOperator.self, OptionalField.self, &pos, &map)
        case 64: try w.decimalField(p, out, index, CopyOperator.self, MandatoryField.self, &pos, &map)
        case 65: try w.decimalField(p, out, index, CopyOperator.self, OptionalField.self, &pos, &map)
        case 68: try w.decimalField(p, out, index, DeltaOperator.self, MandatoryField.self, &pos, &map)
        case 69: try w.decimalField(p, out, index, DeltaOperator.self, OptionalField.self, &pos, &map)
        case 72: (pos, map) = try w.splitDecimalField(p, out, index, NoOperator.self, MandatoryField.self, pos, map)
        case 73: (pos, map) = try w.splitDecimalField(p, out, index, NoOperator.self, OptionalField.self, pos, map)
        case 74: (pos, map) = try w.splitDecimalField(p, out, index, ConstantOperator.self, MandatoryField.self, pos, map)
        case 75: (pos, map) = try w.splitDecimalField(p, out, index, ConstantOperator.self, OptionalField.self, pos, map)
        // A default exponent (often with a delta mantissa) is the common split decimal: inline.
        case 76: try w.splitDecimal(p, out, index, DefaultOperator.self, MandatoryField.self, &pos, &map)
        case 77: try w.splitDecimal(p, out, index, DefaultOperator.self, OptionalField.self, &pos, &map)
        case 78: (pos, map) = try w.splitDecimalField(p, out, index, CopyOperator.self, MandatoryField.self, pos, map)
        case 79: (pos, map) = try w.splitDecimalField(p, out, index, CopyOperator.self, OptionalField.self, pos, map)
        case 80: (pos, map) = try w.splitDecimalField(p, out, index, IncrementOperator.self, MandatoryField.self, pos, map)
        case 81: (pos, map) = try w.splitDecimalField(p, out, index, IncrementOperator.self, OptionalField.self, pos, map)
        case 82: (pos, map) = try w.splitDecimalField(p, out, index, DeltaOperator.self, MandatoryField.self, pos, map)
        case 83: (pos, map) = try w.splitDecimalField(p, out, index, DeltaOperator.self, OptionalField.self, pos, map)
        case 86: try bytesField(p, out, index, NoOperator.self, ASCIIType.self, MandatoryField.self, &pos, &map)
        case 87: try bytesField(p, out, index, NoOperator.self, ASCIIType.self, OptionalField.self, &pos, &map)
        case 88: try bytesField(p, out, index, ConstantOperator.self, ASCIIType.self, MandatoryField.self, &pos, &map)
        case 89: try bytesField(p, out, index, ConstantOperator.self, ASCIIType.self, OptionalField.self, &pos, &map)
        case 90: try bytesField(p, out, index, DefaultOperator.self, ASCIIType.self, MandatoryField.self, &pos, &map)
        case 91: try bytesField(p, out, index, DefaultOperator.self, ASCIIType.self, OptionalField.self, &pos, &map)
        case 92: try bytesField(p, out, index, CopyOperator.self, ASCIIType.self, MandatoryField.self, &pos, &map)
        case 93: try bytesField(p, out, index, CopyOperator.self, ASCIIType.self, OptionalField.self, &pos, &map)
        case 96: try bytesField(p, out, index, DeltaOperator.self, ASCIIType.self, MandatoryField.self, &pos, &map)
        case 97: try bytesField(p, out, index, DeltaOperator.self, ASCIIType.self, OptionalField.self, &pos, &map)
        case 98: try bytesField(p, out, index, TailOperator.self, ASCIIType.self, MandatoryField.self, &pos, &map)
        case 99: try bytesField(p, out, index, TailOperator.self, ASCIIType.self, OptionalField.self, &pos, &map)
        case 100: try bytesField(p, out, index, NoOperator.self, VectorType.self, MandatoryField.self, &pos, &map)
        case 101: try bytesField(p, out, index, NoOperator.self, VectorType.self, OptionalField.self, &pos, &map)
        case 102: try bytesField(p, out, index, ConstantOperator.self, VectorType.self, MandatoryField.self, &pos, &map)
        case 103: try bytesField(p, out, index, ConstantOperator.self, VectorType.self, OptionalField.self, &pos, &map)
        case 104: try bytesField(p, out, index, DefaultOperator.self, VectorType.self, MandatoryField.self, &pos, &map)
        case 105: try bytesField(p, out, index, DefaultOperator.self, VectorType.self, OptionalField.self, &pos, &map)
        case 106: try bytesField(p, out, index, CopyOperator.self, VectorType.self, MandatoryField.self, &pos, &map)
        case 107: try bytesField(p, out, index, CopyOperator.self, VectorType.self, OptionalField.self, &pos, &map)
        case 110: try bytesField(p, out, index, DeltaOperator.self, VectorType.self, MandatoryField.self, &pos, &map)
        case 111: try bytesField(p, out, index, DeltaOperator.self, VectorType.self, OptionalField.self, &pos, &map)
        case 112: try bytesField(p, out, index, TailOperator.self, VectorType.self, MandatoryField.self, &pos, &map)
        case 113: try bytesField(p, out, index, TailOperator.self, VectorType.self, OptionalField.self, &pos, &map)
        default: (pos, map) = try w.generalField(p, out, index, pos, map)
        }
    }

    // MARK: Strings and byte vectors

    /// A string or byte vector field: the presence bit is taken here, inline, and the rest runs
    /// in a call that receives the position by value, so the caller's position and presence map
    /// stay in registers.
    @inline(__always)
    mutating func bytesField<O: OperatorTag, T: TypeTag, P: PresenceTag>(
        _ p: UnsafePointer<Instruction>, _ out: UnsafeMutablePointer<Slot>, _ index: Int32,
        _: O.Type, _: T.Type, _: P.Type, _ pos: inout Int, _ map: inout PresenceMap
    ) throws(FASTError) {
        let bit: Bool
        switch O.op {
        case .constant:
            // A constant is not copied: the slot refers to the template's constant bytes.
            let present = P.optional ? Wire.nextBit(input, &map) : true
            out.initialize(to: present ? Slot.constant(index, p) : Slot.absent(index))
            return
        case .default:
            bit = Wire.nextBit(input, &map)
            if !bit {
                out.initialize(to: p.pointee.hasInitial ? Slot.constant(index, p) : Slot.absent(index))
                return
            }
        case .copy:
            bit = Wire.nextBit(input, &map)
            let s = Int(p.pointee.slot)
            if !bit && entries[s].state == DictionaryState.assigned {
                // Unchanged: the previous value is copied into the arena.
                let count = Int(dictionary.byteCount[s])
                let start = arena.count
                guard start + count <= FASTDecoder.arenaBytesMax else { throw arenaExceeded(at: pos) }
                let source = dictionary.pool + Int(dictionary.byteStart[s])
                if count <= 8 && start &+ 8 <= arena.capacity {
                    // One word: the pool has eight bytes from the start of any entry's region
                    // (see `DictionaryStorage.relocate`), and the arena has room for the word;
                    // the bytes after the value are not counted.
                    let word = UnsafeRawPointer(source).loadUnaligned(as: UInt64.self)
                    UnsafeMutableRawPointer(arena.pointer + start).storeBytes(of: word, as: UInt64.self)
                    arena.count = start &+ count
                } else {
                    arena.append(source, count)
                }
                out.initialize(to: Slot(instruction: index, present: true, value: 0, exponent: 0,
                                        start: Int32(truncatingIfNeeded: start), count: Int32(truncatingIfNeeded: count)))
                return
            }
        case .tail: bit = Wire.nextBit(input, &map)
        default: bit = false
        }
        if T.type == .ascii && (O.op == .none || ((O.op == .copy || O.op == .default) && bit)),
           let (next, range) = shortASCII(at: pos, nullable: P.optional) {
            // A short ASCII string read inline (see `shortASCII`); the same as `bytesValue`
            // (a default operator's value read from the input leaves the dictionary alone).
            pos = next
            if O.op == .copy {
                let s = Int(p.pointee.slot)
                if let range { assign(s, range) } else { entries[s].state = DictionaryState.empty }
            }
            if let range {
                out.initialize(to: Slot(instruction: index, present: true, value: 0, exponent: 0, start: range.0,
                                        count: range.1))
            } else {
                out.initialize(to: Slot.absent(index))
            }
            return
        }
        pos = try bytesValue(p, out, index, O.self, T.self, P.self, bit: bit, at: pos)
    }

    /// An ASCII string whose stop bit is within the eight bytes at `start`, read in one word and
    /// stored into the arena whole (the arena has room for the word; what lies past the string
    /// is not counted). Returns the position after the string and its arena range (nil is
    /// NULL), or nil when the string needs ``readASCII(_:nullable:)``: fewer than eight bytes of
    /// input or of arena room left, a longer string, or a first byte of zero (see
    /// ``readZeroASCII(_:nullable:)``). Reads and writes exactly what `readASCII` would.
    @inline(__always)
    mutating func shortASCII(at start: Int, nullable: Bool) -> (Int, (Int32, Int32)?)? {
        let arenaStart = arena.count
        guard end &- start >= 8, arenaStart &+ 8 <= arena.capacity,
              arenaStart &+ 8 <= FASTDecoder.arenaBytesMax else { return nil }
        let word = UInt64(littleEndian: UnsafeRawPointer(input + start).loadUnaligned(as: UInt64.self))
        let stops = word & 0x8080_8080_8080_8080
        let first = word & 0xff
        guard stops != 0, first != 0 else { return nil }
        if first == 0x80 {
            // 0x80 is NULL for a nullable string, else "" (section 10.6.3).
            return (start &+ 1, nullable ? nil : (Int32(truncatingIfNeeded: arenaStart), 0))
        }
        let length = stops.trailingZeroBitCount &>> 3 &+ 1
        UnsafeMutableRawPointer(arena.pointer + arenaStart)
            .storeBytes(of: (word & 0x7f7f_7f7f_7f7f_7f7f).littleEndian, as: UInt64.self)
        arena.count = arenaStart &+ length
        return (start &+ length, (Int32(truncatingIfNeeded: arenaStart), Int32(truncatingIfNeeded: length)))
    }

    /// Reads an ASCII string into the arena from `pos`; nil is NULL. Returns (start, count).
    @inline(__always)
    mutating func readASCII(_ pos: inout Int, nullable: Bool) throws(FASTError) -> (Int32, Int32)? {
        let start = pos
        guard start < end else { throw FASTError(.u1, "input ends inside a string", offset: start) }
        let first = input[start]
        if first == 0x80 {
            // 0x80 is NULL for a nullable string, else "" (section 10.6.3).
            pos = start &+ 1
            return nullable ? nil : (Int32(truncatingIfNeeded: arena.count), 0)
        }
        if first == 0 { return try readZeroASCII(&pos, nullable: nullable) }
        // Copy while scanning for the stop bit; the arena keeps room for the longest string.
        let arenaStart = arena.count
        if arenaStart + FASTDecoder.stringBytesMax > arena.capacity {
            guard arenaStart <= FASTDecoder.arenaBytesMax else { throw arenaExceeded(at: start) }
            arena.grow(arenaStart + FASTDecoder.stringBytesMax)
        }
        let limit = min(end, start + FASTDecoder.stringBytesMax)
        let destination = arena.pointer + arenaStart
        var stop = start
        // Eight bytes at a time while eight remain before the limit: the stop bit is found in
        // one word and the word is stored whole (what lies past the string's end stays within
        // the room kept in the arena and is not counted).
        while limit &- stop >= 8 {
            let word = UInt64(littleEndian: UnsafeRawPointer(input + stop).loadUnaligned(as: UInt64.self))
            UnsafeMutableRawPointer(destination + (stop &- start))
                .storeBytes(of: (word & 0x7f7f_7f7f_7f7f_7f7f).littleEndian, as: UInt64.self)
            let stops = word & 0x8080_8080_8080_8080
            if stops != 0 {
                stop &+= stops.trailingZeroBitCount &>> 3 &+ 1
                let length = stop &- start
                guard arenaStart + length <= FASTDecoder.arenaBytesMax else { throw arenaExceeded(at: start) }
                pos = stop
                arena.count = arenaStart &+ length
                return (Int32(truncatingIfNeeded: arenaStart), Int32(truncatingIfNeeded: length))
            }
            stop &+= 8
        }
        while stop < limit {
            let byte = input[stop]
            destination[stop &- start] = byte & 0x7f
            stop &+= 1
            if byte & 0x80 != 0 {
                let length = stop &- start
                guard arenaStart + length <= FASTDecoder.arenaBytesMax else { throw arenaExceeded(at: start) }
                pos = stop
                arena.count = arenaStart &+ length
                return (Int32(truncatingIfNeeded: arenaStart), Int32(truncatingIfNeeded: length))
            }
        }
        if stop - start == FASTDecoder.stringBytesMax {
            throw FASTError(.u2, "string longer than \(FASTDecoder.stringBytesMax) bytes", offset: start)
        }
        throw FASTError(.u1, "input ends inside a string", offset: start)
    }

    func arenaExceeded(at offset: Int) -> FASTError {
        FASTError(.u2, "decoded strings exceed \(FASTDecoder.arenaBytesMax) bytes", offset: offset)
    }

    /// An ASCII string whose first byte is zero (section 10.6.3): 0x80 is "" (or NULL when
    /// nullable); a leading zero byte introduces "" (nullable) or "\0"; anything else starting
    /// with a zero byte is overlong (R9).
    mutating func readZeroASCII(_ pos: inout Int, nullable: Bool) throws(FASTError) -> (Int32, Int32)? {
        let start = pos
        var stop = pos
        while true {
            guard stop < end else { throw FASTError(.u1, "input ends inside a string", offset: start) }
            let byte = input[stop]
            stop += 1
            if byte & 0x80 != 0 { break }
            guard stop - start < FASTDecoder.stringBytesMax else {
                throw FASTError(.u2, "string longer than \(FASTDecoder.stringBytesMax) bytes", offset: start)
            }
        }
        pos = stop
        let length = stop - start
        let arenaStart = Int32(arena.count)
        if length == 1 { return nullable ? nil : (arenaStart, 0) }
        if length == 2 && input[start + 1] == 0x80 {
            if nullable { return (arenaStart, 0) }
            try reserveArena(1, at: pos)
            arena.append(0)
            return (arenaStart, 1)
        }
        if nullable && length == 3 && input[start + 1] == 0 && input[start + 2] == 0x80 {
            try reserveArena(1, at: pos)
            arena.append(0)
            return (arenaStart, 1)
        }
        throw FASTError(.r9, "string has an overlong encoding", offset: start)
    }

    @inline(__always)
    func reserveArena(_ count: Int, at offset: Int) throws(FASTError) {
        guard arena.count + count <= FASTDecoder.arenaBytesMax else { throw arenaExceeded(at: offset) }
    }

    /// Reads a length-prefixed byte vector (also unicode strings) into the arena; nil is NULL.
    mutating func readByteVector(_ pos: inout Int, nullable: Bool) throws(FASTError) -> (Int32, Int32)? {
        let start = pos
        guard let length = try wire.readUnsigned(&pos, nullable: nullable) else { return nil }
        guard length <= UInt64(FASTDecoder.stringBytesMax) else {
            throw FASTError(.u2, "byte vector length \(length) exceeds \(FASTDecoder.stringBytesMax)", offset: start)
        }
        let count = Int(length)
        guard count <= end - pos else { throw FASTError(.u1, "input ends inside a byte vector", offset: pos) }
        try reserveArena(count, at: pos)
        let arenaStart = Int32(arena.count)
        arena.append(input + pos, count)
        pos += count
        return (arenaStart, Int32(count))
    }

    @inline(__always)
    mutating func readBytes(_ type: FieldType, _ pos: inout Int, nullable: Bool) throws(FASTError) -> (Int32, Int32)? {
        type == .ascii ? try readASCII(&pos, nullable: nullable) : try readByteVector(&pos, nullable: nullable)
    }

    mutating func appendConstant(_ instruction: UnsafePointer<Instruction>, at offset: Int) throws(FASTError) -> (Int32, Int32) {
        let start = Int32(truncatingIfNeeded: arena.count)
        let count = Int(instruction.pointee.initialCount)
        try reserveArena(count, at: offset)
        arena.append(constants + Int(instruction.pointee.initialStart), count)
        return (start, Int32(truncatingIfNeeded: count))
    }

    mutating func appendPrevious(_ s: Int, at offset: Int) throws(FASTError) -> (Int32, Int32) {
        let start = Int32(truncatingIfNeeded: arena.count)
        let count = Int(dictionary.byteCount[s])
        try reserveArena(count, at: offset)
        arena.append(dictionary.pool + Int(dictionary.byteStart[s]), count)
        return (start, Int32(truncatingIfNeeded: count))
    }

    @inline(__always)
    func assign(_ s: Int, _ range: (Int32, Int32)) {
        entries[s].state = DictionaryState.assigned
        let bytes = arena.pointer + Int(range.0)
        // The decoder owns the dictionary for the whole run: call it without retaining it.
        Unmanaged.passUnretained(dictionary)._withUnsafeGuaranteedRef { $0.setBytes(s, bytes, Int(range.1)) }
    }

    /// Base value of delta and tail: the previous value, else the initial value, else empty.
    mutating func appendBase(_ instruction: UnsafePointer<Instruction>, _ s: Int, at offset: Int)
        throws(FASTError) -> (Int32, Int32) {
        if entries[s].state == DictionaryState.assigned { return try appendPrevious(s, at: offset) }
        if instruction.pointee.hasInitial { return try appendConstant(instruction, at: offset) }
        return (Int32(arena.count), 0)
    }

    /// The operators of section 6.3 on a string or byte vector, given its presence bit; writes
    /// the slot and returns the position after the field.
    mutating func bytesValue<O: OperatorTag, T: TypeTag, P: PresenceTag>(
        _ instruction: UnsafePointer<Instruction>, _ out: UnsafeMutablePointer<Slot>, _ index: Int32,
        _: O.Type, _: T.Type, _: P.Type, bit: Bool, at position: Int
    ) throws(FASTError) -> Int {
        let op = O.op
        let type = T.type
        let optional = P.optional
        var pos = position
        var range: (Int32, Int32)? = nil
        switch op {
        case .none:
            range = try readBytes(type, &pos, nullable: optional)
        case .constant:
            if bit { range = try appendConstant(instruction, at: pos) }
        case .default:
            if bit {
                range = try readBytes(type, &pos, nullable: optional)
            } else if instruction.pointee.hasInitial {
                range = try appendConstant(instruction, at: pos)
            }
        case .copy, .tail:
            let s = Int(instruction.pointee.slot)
            if bit {
                if let read = try readBytes(type, &pos, nullable: optional) {
                    var value = read
                    if op == .tail {
                        // Section 6.3.7.4: the tail replaces the end of the base value; a tail
                        // longer than the base replaces all of it.
                        let base = try appendBase(instruction, s, at: pos)
                        let tailCount = Int(read.1)
                        if tailCount < Int(base.1) {
                            let keep = Int(base.1) - tailCount
                            let start = Int32(arena.count)
                            try reserveArena(keep + tailCount, at: pos)
                            arena.appendCopy(from: Int(base.0), count: keep)
                            arena.appendCopy(from: Int(read.0), count: tailCount)
                            value = (start, Int32(keep + tailCount))
                        }
                    }
                    assign(s, value)
                    range = value
                } else {
                    entries[s].state = DictionaryState.empty
                }
            } else {
                switch entries[s].state {
                case DictionaryState.assigned:
                    range = try appendPrevious(s, at: pos)
                case DictionaryState.undefined:
                    if instruction.pointee.hasInitial {
                        let value = try appendConstant(instruction, at: pos)
                        assign(s, value)
                        range = value
                    } else if optional {
                        entries[s].state = DictionaryState.empty
                    } else {
                        throw FASTError(.d5, "mandatory field is absent and has neither a previous nor an initial value",
                                        offset: pos)
                    }
                default:
                    if !optional {
                        throw FASTError(.d6, "mandatory field is absent and its previous value is empty", offset: pos)
                    }
                }
            }
        case .delta:
            let start = pos
            if let subtraction = try wire.readSigned(&pos, nullable: optional) {
                guard subtraction >= Int64(Int32.min), subtraction <= Int64(Int32.max) else {
                    throw FASTError(.d2, "subtraction length does not fit int32", offset: start)
                }
                guard let delta = try readBytes(type, &pos, nullable: false) else { preconditionFailure() }
                let s = Int(instruction.pointee.slot)
                if entries[s].state == DictionaryState.empty {
                    throw FASTError(.d6, "delta on an empty previous value", offset: start)
                }
                let base = try appendBase(instruction, s, at: pos)
                // Section 6.3.7.3: a negative subtraction length removes from the front, in an
                // excess-1 encoding (-1 removes nothing from the front).
                let front = subtraction < 0
                let remove = front ? Int(-(subtraction + 1)) : Int(subtraction)
                guard remove <= Int(base.1) else {
                    throw FASTError(.d7, "subtraction length \(remove) exceeds the base value length \(base.1)",
                                    offset: start)
                }
                let keep = Int(base.1) - remove
                let deltaCount = Int(delta.1)
                let resultStart = Int32(arena.count)
                try reserveArena(keep + deltaCount, at: pos)
                if front {
                    arena.appendCopy(from: Int(delta.0), count: deltaCount)
                    arena.appendCopy(from: Int(base.0) + remove, count: keep)
                } else {
                    arena.appendCopy(from: Int(base.0), count: keep)
                    arena.appendCopy(from: Int(delta.0), count: deltaCount)
                }
                let value = (resultStart, Int32(keep + deltaCount))
                assign(s, value)
                range = value
            }
        case .increment:
            preconditionFailure("the template compiler rejects increment on strings")
        }
        if let range {
            out.initialize(to: Slot(instruction: index, present: true, value: 0, exponent: 0, start: range.0,
                                    count: range.1))
        } else {
            out.initialize(to: Slot(instruction: index, present: false, value: 0, exponent: 0, start: 0, count: 0))
        }
        return pos
    }
}

/// The input and the dictionary tables of one message, passed by value so that the decode loop
/// keeps them in registers. Integer and decimal fields are decoded by these functions, which take
/// the position and the presence map as `inout` locals of the loop.
struct Wire {
    let input: UnsafePointer<UInt8>
    let end: Int
    let entries: UnsafeMutablePointer<DictionaryEntry>

    // MARK: Presence map bits

    /// The next (up to) 63 bits of a map longer than nine bytes, and where the bits after them
    /// start. Takes and returns values, so the caller's map stays in registers.
    @inline(never)
    static func refill(_ input: UnsafePointer<UInt8>, next start: Int, end: Int) -> (bits: UInt64, next: Int) {
        guard start < end else { return (PresenceMap.exhausted, start) }
        var bits: UInt64 = 0
        var shift: UInt64 = 57
        var next = start
        while next < end && next - start < 9 {
            bits |= UInt64(input[next] & 0x7f) << shift
            shift &-= 7
            next += 1
        }
        return (bits | 1 << UInt64(63 - (next - start) * 7), next)
    }

    /// Decodes the longest prefix of the fixed run at `run` (see ``FixedField``) whose fields
    /// read no input: every field of the run that takes a presence map bit needs it clear. The
    /// clear bits at the top of the map are counted once (past the map's last byte every bit is
    /// clear), the precomputed slots are copied, and the map is shifted once for all of them.
    /// Returns the number of fields decoded: zero when the run's first field has its bit set.
    @inline(__always)
    static func takeFixedRun(_ run: UnsafePointer<FixedField>, _ out: UnsafeMutablePointer<Slot>,
                             _ input: UnsafePointer<UInt8>, _ map: inout PresenceMap) -> Int {
        if map.bits == PresenceMap.drained { (map.bits, map.next) = refill(input, next: map.next, end: map.end) }
        // Clear bits before the next set bit or the sentinel; when the sentinel is the only bit
        // left in the register and the map has no bytes left, all further bits are clear too.
        let clearInRegister = map.bits.leadingZeroBitCount
        let unlimited = map.bits & (map.bits &- 1) == 0 && map.next >= map.end
        var clear = unlimited ? Int.max : clearInRegister
        let count = Int(run.pointee.run)
        var taken = 0
        var bits = 0
        while taken < count {
            if run[taken].usesBit {
                if clear == 0 { break }
                clear &-= 1
                bits &+= 1
            }
            out[taken] = run[taken].slot
            taken &+= 1
        }
        if bits > clearInRegister {
            // Only when unlimited: past the register's last bit, and every further bit is clear.
            map.bits = PresenceMap.drained
        } else {
            map.bits <<= UInt64(bits)
        }
        return taken
    }

    @inline(__always)
    static func nextBit(_ input: UnsafePointer<UInt8>, _ map: inout PresenceMap) -> Bool {
        if map.bits == PresenceMap.drained { (map.bits, map.next) = refill(input, next: map.next, end: map.end) }
        let bit = map.bits >> 63 != 0
        map.bits <<= 1
        return bit
    }

    // MARK: Stop-bit integers

    /// Reads a stop-bit unsigned integer; nil is NULL (nullable only). One-byte values are read
    /// inline; longer ones by ``readUnsignedLong(_:_:nullable:)``.
    @inline(__always)
    func readUnsigned(_ pos: inout Int, nullable: Bool) throws(FASTError) -> UInt64? {
        guard pos < end else { throw FASTError(.u1, "input ends inside a message", offset: pos) }
        let first = input[pos]
        if first & 0x80 != 0 {
            pos &+= 1
            let value = UInt64(first & 0x7f)
            if nullable { return value == 0 ? nil : value &- 1 }
            return value
        }
        if pos &+ 1 < end {
            let second = input[pos &+ 1]
            if second & 0x80 != 0 && first != 0 {
                pos &+= 2
                let value = UInt64(first) << 7 | UInt64(second & 0x7f)
                return nullable ? value &- 1 : value
            }
        }
        let (value, next) = try readUnsignedLong(pos, nullable: nullable)
        pos = next
        return value
    }

    /// A stop-bit unsigned integer of two or more bytes (never NULL): detects overflow (D2) and
    /// overlong encodings (R6). Returns the value and the position after it.
    @inline(never)
    func readUnsignedLong(_ start: Int, nullable: Bool) throws(FASTError) -> (UInt64, Int) {
        let first = input[start]
        if first != 0 && end &- start >= 9, let (value, next) = stopBitTail(UInt64(first), from: start &+ 1) {
            return (nullable ? value &- 1 : value, next)
        }
        if first == 0 { throw FASTError(.r6, "integer has an overlong encoding", offset: start) }
        let (value, next, isNullableMax) = try stopBitChecked(UInt64(first), start: start, nullable: nullable)
        return (nullable && !isNullableMax ? value &- 1 : value, next)
    }

    /// The rest of a stop-bit integer whose first 7-bit group is `value`, for up to eight more
    /// bytes from `start`, with no bounds or overflow check: the caller made sure nine bytes are
    /// in the input, and nine groups fit 63 bits. Nil when no stop bit came by then.
    @inline(__always)
    func stopBitTail<V: FixedWidthInteger>(_ value: V, from start: Int) -> (V, Int)? {
        var value = value
        var pos = start
        for _ in 0 ..< 8 {
            let byte = input[pos]
            pos &+= 1
            value = value << 7 | V(byte & 0x7f)
            if byte & 0x80 != 0 { return (value, pos) }
        }
        return nil
    }

    /// The rest of a stop-bit integer whose first 7-bit group (at `start`) is `value`, checking
    /// the input's end (U1) and the type's range (D2) at every byte. The one value past the range
    /// that is allowed, the nullable encoding of `V.max`, comes back as `V.max` with
    /// `isNullableMax` set (it takes no nullable adjustment).
    @inline(__always)
    func stopBitChecked<V: FixedWidthInteger>(_ first: V, start: Int, nullable: Bool)
        throws(FASTError) -> (value: V, next: Int, isNullableMax: Bool) {
        var value = first
        var pos = start &+ 1
        while true {
            guard pos < end else { throw FASTError(.u1, "input ends inside a message", offset: pos) }
            let byte = input[pos]
            pos &+= 1
            if value > V.max >> 7 || value < V.min >> 7 {
                if nullable && value == (V.max >> 7) + 1 && byte == 0x80 { return (V.max, pos, true) }
                throw FASTError(.d2, "integer does not fit 64 bits", offset: start)
            }
            value = value << 7 | V(byte & 0x7f)
            if byte & 0x80 != 0 { return (value, pos, false) }
        }
    }

    /// Reads a stop-bit signed integer; nil is NULL (nullable only).
    @inline(__always)
    func readSigned(_ pos: inout Int, nullable: Bool) throws(FASTError) -> Int64? {
        guard pos < end else { throw FASTError(.u1, "input ends inside a message", offset: pos) }
        let first = input[pos]
        if first & 0x80 != 0 {
            pos &+= 1
            // The low seven bits, sign-extended from bit 6.
            let value = Int64(Int8(bitPattern: first << 1) >> 1)
            if nullable {
                if value == 0 { return nil }
                if value > 0 { return value &- 1 }
            }
            return value
        }
        if pos &+ 1 < end {
            let second = input[pos &+ 1]
            if second & 0x80 != 0 {
                let value = Int64(Int8(bitPattern: first << 1) >> 1) << 7 | Int64(second & 0x7f)
                // Values in -64...63 fit one byte: their two-byte form is overlong (R6, below).
                if value < -64 || value > 63 {
                    pos &+= 2
                    return nullable && value > 0 ? value &- 1 : value
                }
            }
        }
        let (value, next) = try readSignedLong(pos, nullable: nullable)
        pos = next
        return value
    }

    /// A stop-bit signed integer of two or more bytes (never NULL, never zero).
    @inline(never)
    func readSignedLong(_ start: Int, nullable: Bool) throws(FASTError) -> (Int64, Int) {
        let first = input[start]
        // The first group's seven bits, sign-extended from bit 6.
        let head = Int64(Int8(bitPattern: first << 1) >> 1)
        guard start &+ 1 < end else { throw FASTError(.u1, "input ends inside an integer", offset: start &+ 1) }
        // A first byte of 0 or 0x7f is overlong unless the second byte's sign bit needs it (a
        // positive value whose top group has bit 6 set starts with 0, for one).
        let second = input[start &+ 1]
        if (first == 0 && second & 0x40 == 0) || (first == 0x7f && second & 0x40 != 0) {
            throw FASTError(.r6, "integer has an overlong encoding", offset: start)
        }
        if end &- start >= 9, let (value, next) = stopBitTail(head, from: start &+ 1) {
            return (nullable && value > 0 ? value &- 1 : value, next)
        }
        let (value, next, isNullableMax) = try stopBitChecked(head, start: start, nullable: nullable)
        return (nullable && value > 0 && !isNullableMax ? value - 1 : value, next)
    }

    /// Reads an integer of the tag's type as a bit pattern, with the type's range check.
    @inline(__always)
    func readInteger<T: TypeTag>(_: T.Type, _ pos: inout Int, nullable: Bool) throws(FASTError) -> UInt64? {
        try readInteger(T.type, &pos, nullable: nullable)
    }

    @inline(__always)
    func readInteger(_ type: FieldType, _ pos: inout Int, nullable: Bool) throws(FASTError) -> UInt64? {
        let start = pos
        switch type {
        case .uInt32, .uInt64:
            guard let value = try readUnsigned(&pos, nullable: nullable) else { return nil }
            if type == .uInt32 && value > UInt64(UInt32.max) { throw Wire.outOfRange(value, "uInt32", at: start) }
            return value
        default:
            guard let value = try readSigned(&pos, nullable: nullable) else { return nil }
            if type == .int32 || type == .decimalExponent, value < Int64(Int32.min) || value > Int64(Int32.max) {
                throw Wire.outOfRange(value, "int32", at: start)
            }
            return UInt64(bitPattern: value)
        }
    }

    @inline(never)
    static func outOfRange<V: BinaryInteger>(_ value: V, _ type: String, at offset: Int) -> FASTError {
        FASTError(.d2, "value \(value) does not fit \(type)", offset: offset)
    }

    @inline(never)
    static func absentMandatory(empty: Bool, at offset: Int) -> FASTError {
        empty ? FASTError(.d6, "mandatory field is absent and its previous value is empty", offset: offset)
            : FASTError(.d5, "mandatory field is absent and has neither a previous nor an initial value", offset: offset)
    }

    // MARK: Integer fields

    @inline(__always)
    func integerField<O: OperatorTag, T: TypeTag, P: PresenceTag>(
        _ p: UnsafePointer<Instruction>, _ out: UnsafeMutablePointer<Slot>, _ index: Int32,
        _: O.Type, _: T.Type, _: P.Type, _ pos: inout Int, _ map: inout PresenceMap
    ) throws(FASTError) {
        let value = try integerValue(O.self, T.self, P.self, slot: p.pointee.slot, hasInitial: p.pointee.hasInitial,
                                     initial: p.pointee.initialInt, &pos, &map)
        out.initialize(to: Slot(instruction: index, present: value != nil, value: value ?? 0, exponent: 0, start: 0,
                                count: 0))
    }

    /// The integer operators of section 6.3, specialised per opcode: operator, type and presence
    /// are constants of the tag types.
    @inline(__always)
    func integerValue<O: OperatorTag, T: TypeTag, P: PresenceTag>(
        _: O.Type, _: T.Type, _: P.Type, slot: Int32, hasInitial: Bool, initial: UInt64,
        _ pos: inout Int, _ map: inout PresenceMap
    ) throws(FASTError) -> UInt64? {
        try integerValue(O.self, type: T.type, P.self, slot: slot, hasInitial: hasInitial, initial: initial, &pos, &map)
    }

    /// The integer operators with the operator and presence as tag types and the type as a value
    /// (a constant where the caller is specialised; its range checks are all that depend on it).
    @inline(__always)
    func integerValue<O: OperatorTag, P: PresenceTag>(
        _: O.Type, type: FieldType, _: P.Type, slot: Int32, hasInitial: Bool, initial: UInt64,
        _ pos: inout Int, _ map: inout PresenceMap
    ) throws(FASTError) -> UInt64? {
        let op = O.op
        let optional = P.optional
        switch op {
        case .none:
            return try readInteger(type, &pos, nullable: optional)
        case .constant:
            if optional && !Wire.nextBit(input, &map) { return nil }
            return initial
        case .default:
            if Wire.nextBit(input, &map) { return try readInteger(type, &pos, nullable: optional) }
            return hasInitial ? initial : nil
        case .copy, .increment:
            let s = Int(slot)
            if Wire.nextBit(input, &map) {
                guard let value = try readInteger(type, &pos, nullable: optional) else {
                    entries[s].state = DictionaryState.empty
                    return nil
                }
                entries[s].state = DictionaryState.assigned
                entries[s].value = value
                return value
            }
            switch entries[s].state {
            case DictionaryState.assigned:
                if op == .copy { return entries[s].value }
                let value = Wire.increment(entries[s].value, type)
                entries[s].value = value
                return value
            case DictionaryState.undefined:
                if hasInitial {
                    entries[s].state = DictionaryState.assigned
                    entries[s].value = initial
                    return initial
                }
                if optional {
                    entries[s].state = DictionaryState.empty
                    return nil
                }
                throw Wire.absentMandatory(empty: false, at: pos)
            default:
                if optional { return nil }
                throw Wire.absentMandatory(empty: true, at: pos)
            }
        case .delta:
            let start = pos
            guard let delta = try readSigned(&pos, nullable: optional) else { return nil }
            let s = Int(slot)
            let base: UInt64
            switch entries[s].state {
            case DictionaryState.assigned: base = entries[s].value
            case DictionaryState.undefined: base = hasInitial ? initial : 0
            default: throw FASTError(.d6, "delta on an empty previous value", offset: start)
            }
            guard let value = Wire.add(base, delta, type) else { throw Wire.deltaOverflow(type, at: start) }
            entries[s].state = DictionaryState.assigned
            entries[s].value = value
            return value
        case .tail:
            preconditionFailure("the template compiler rejects tail on integers")
        }
    }

    @inline(never)
    static func deltaOverflow(_ type: FieldType, at offset: Int) -> FASTError {
        FASTError(.d2, "delta result does not fit \(type.xmlName)", offset: offset)
    }

    /// The integer operators of section 6.3 for an integer read with its shape known only at run
    /// time (a sequence length, a split decimal's mantissa with a rare operator, general fields).
    func integerValue(op: Operator, type: FieldType, optional: Bool, _ p: UnsafePointer<Instruction>,
                      _ pos: inout Int, _ map: inout PresenceMap) throws(FASTError) -> UInt64? {
        try integerValue(op: op, type: type, optional: optional, slot: p.pointee.slot, hasInitial: p.pointee.hasInitial,
                         initial: p.pointee.initialInt, &pos, &map)
    }

    func integerValue(op: Operator, type: FieldType, optional: Bool, slot: Int32, hasInitial: Bool, initial: UInt64,
                      _ pos: inout Int, _ map: inout PresenceMap) throws(FASTError) -> UInt64? {
        func value<O: OperatorTag, P: PresenceTag>(_: O.Type, _: P.Type, _ pos: inout Int, _ map: inout PresenceMap)
            throws(FASTError) -> UInt64? {
            try integerValue(O.self, type: type, P.self, slot: slot, hasInitial: hasInitial, initial: initial, &pos, &map)
        }
        switch (op, optional) {
        case (.none, false): return try value(NoOperator.self, MandatoryField.self, &pos, &map)
        case (.none, true): return try value(NoOperator.self, OptionalField.self, &pos, &map)
        case (.constant, false): return try value(ConstantOperator.self, MandatoryField.self, &pos, &map)
        case (.constant, true): return try value(ConstantOperator.self, OptionalField.self, &pos, &map)
        case (.default, false): return try value(DefaultOperator.self, MandatoryField.self, &pos, &map)
        case (.default, true): return try value(DefaultOperator.self, OptionalField.self, &pos, &map)
        case (.copy, false): return try value(CopyOperator.self, MandatoryField.self, &pos, &map)
        case (.copy, true): return try value(CopyOperator.self, OptionalField.self, &pos, &map)
        case (.increment, false): return try value(IncrementOperator.self, MandatoryField.self, &pos, &map)
        case (.increment, true): return try value(IncrementOperator.self, OptionalField.self, &pos, &map)
        case (.delta, false): return try value(DeltaOperator.self, MandatoryField.self, &pos, &map)
        case (.delta, true): return try value(DeltaOperator.self, OptionalField.self, &pos, &map)
        case (.tail, _): preconditionFailure("the template compiler rejects tail on integers")
        }
    }

    @inline(__always)
    static func increment(_ value: UInt64, _ type: FieldType) -> UInt64 {
        // Increment wraps within the type, as the previous value plus one modulo the type's range.
        switch type {
        case .uInt32: return UInt64(UInt32(truncatingIfNeeded: value) &+ 1)
        case .int32, .decimalExponent:
            return UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: Int64(bitPattern: value)) &+ 1))
        default: return value &+ 1
        }
    }

    @inline(__always)
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

    /// Any field without a specialised opcode: type, operator and presence read from the
    /// instruction. Takes and returns the position and the presence map by value.
    @inline(never)
    func generalField(_ p: UnsafePointer<Instruction>, _ out: UnsafeMutablePointer<Slot>, _ index: Int32,
                      _ position: Int, _ presenceMap: PresenceMap) throws(FASTError) -> (Int, PresenceMap) {
        var pos = position
        var map = presenceMap
        switch p.pointee.type {
        case .int32, .uInt32, .int64, .uInt64, .decimalExponent, .decimalMantissa:
            let value = try integerValue(op: p.pointee.op, type: p.pointee.type, optional: p.pointee.optional, p,
                                         &pos, &map)
            out.initialize(to: Slot(instruction: index, present: value != nil, value: value ?? 0, exponent: 0,
                                    start: 0, count: 0))
        case .decimal, .ascii, .unicode, .byteVector:
            // Every valid operator on these types has an opcode.
            preconditionFailure("no opcode for a \(p.pointee.type.xmlName) field")
        }
        return (pos, map)
    }

    // MARK: Decimals

    /// Reads a whole decimal (exponent, then mantissa); nil is NULL.
    @inline(__always)
    func readDecimal(_ pos: inout Int, nullable: Bool) throws(FASTError) -> (Int32, Int64)? {
        let start = pos
        guard let exponent = try readSigned(&pos, nullable: nullable) else { return nil }
        guard (-63...63).contains(exponent) else { throw Wire.exponentRange(exponent, at: start) }
        guard let mantissa = try readSigned(&pos, nullable: false) else { preconditionFailure() }
        return (Int32(exponent), mantissa)
    }

    @inline(never)
    static func exponentRange(_ exponent: Int64, at offset: Int) -> FASTError {
        FASTError(.r1, "decimal exponent \(exponent) outside -63...63", offset: offset)
    }

    @inline(__always)
    func decimalField<O: OperatorTag, P: PresenceTag>(
        _ p: UnsafePointer<Instruction>, _ out: UnsafeMutablePointer<Slot>, _ index: Int32,
        _: O.Type, _: P.Type, _ pos: inout Int, _ map: inout PresenceMap
    ) throws(FASTError) {
        if let value = try decimalValue(p, O.self, P.self, &pos, &map) {
            out.initialize(to: Slot(instruction: index, present: true, value: UInt64(bitPattern: value.1),
                                    exponent: value.0, start: 0, count: 0))
        } else {
            out.initialize(to: Slot(instruction: index, present: false, value: 0, exponent: 0, start: 0, count: 0))
        }
    }

    /// The operators of section 6.3 on a decimal encoded as one field.
    @inline(__always)
    func decimalValue<O: OperatorTag, P: PresenceTag>(
        _ instruction: UnsafePointer<Instruction>, _: O.Type, _: P.Type, _ pos: inout Int, _ map: inout PresenceMap
    ) throws(FASTError) -> (Int32, Int64)? {
        let op = O.op
        let optional = P.optional
        let initial = (instruction.pointee.initialExponent, Int64(bitPattern: instruction.pointee.initialInt))
        switch op {
        case .none:
            return try readDecimal(&pos, nullable: optional)
        case .constant:
            return !optional || Wire.nextBit(input, &map) ? initial : nil
        case .default:
            if Wire.nextBit(input, &map) { return try readDecimal(&pos, nullable: optional) }
            return instruction.pointee.hasInitial ? initial : nil
        case .copy:
            let s = Int(instruction.pointee.slot)
            if Wire.nextBit(input, &map) {
                if let value = try readDecimal(&pos, nullable: optional) {
                    entries[s].state = DictionaryState.assigned
                    entries[s].exponent = value.0
                    entries[s].value = UInt64(bitPattern: value.1)
                    return value
                }
                entries[s].state = DictionaryState.empty
                return nil
            }
            switch entries[s].state {
            case DictionaryState.assigned:
                return (entries[s].exponent, Int64(bitPattern: entries[s].value))
            case DictionaryState.undefined:
                if instruction.pointee.hasInitial {
                    entries[s].state = DictionaryState.assigned
                    entries[s].exponent = initial.0
                    entries[s].value = UInt64(bitPattern: initial.1)
                    return initial
                }
                if optional {
                    entries[s].state = DictionaryState.empty
                    return nil
                }
                throw Wire.absentMandatory(empty: false, at: pos)
            default:
                if optional { return nil }
                throw Wire.absentMandatory(empty: true, at: pos)
            }
        case .delta:
            let start = pos
            guard let exponentDelta = try readSigned(&pos, nullable: optional) else { return nil }
            guard let mantissaDelta = try readSigned(&pos, nullable: false) else { preconditionFailure() }
            let s = Int(instruction.pointee.slot)
            let base: (Int32, Int64)
            switch entries[s].state {
            case DictionaryState.assigned: base = (entries[s].exponent, Int64(bitPattern: entries[s].value))
            case DictionaryState.undefined: base = instruction.pointee.hasInitial ? initial : (0, 0)
            default: throw FASTError(.d6, "delta on an empty previous value", offset: start)
            }
            let (exponent, o1) = Int64(base.0).addingReportingOverflow(exponentDelta)
            let (mantissa, o2) = base.1.addingReportingOverflow(mantissaDelta)
            guard !o1, (-63...63).contains(exponent) else {
                throw FASTError(.r1, "decimal exponent outside -63...63 after delta", offset: start)
            }
            guard !o2 else { throw FASTError(.d2, "decimal mantissa overflows after delta", offset: start) }
            entries[s].state = DictionaryState.assigned
            entries[s].exponent = Int32(exponent)
            entries[s].value = UInt64(bitPattern: mantissa)
            return (Int32(exponent), mantissa)
        case .increment, .tail:
            preconditionFailure("the template compiler rejects this operator on decimals")
        }
    }

    /// A decimal with separate exponent and mantissa operators; `O` and `P` are the exponent's.
    /// Out of line (it is large); it takes and returns the position and the presence map by
    /// value, so the caller's stay in registers.
    @inline(never)
    func splitDecimalField<O: OperatorTag, P: PresenceTag>(
        _ p: UnsafePointer<Instruction>, _ out: UnsafeMutablePointer<Slot>, _ index: Int32,
        _: O.Type, _: P.Type, _ position: Int, _ presenceMap: PresenceMap
    ) throws(FASTError) -> (Int, PresenceMap) {
        var pos = position
        var map = presenceMap
        try splitDecimal(p, out, index, O.self, P.self, &pos, &map)
        return (pos, map)
    }

    @inline(__always)
    func splitDecimal<O: OperatorTag, P: PresenceTag>(
        _ p: UnsafePointer<Instruction>, _ out: UnsafeMutablePointer<Slot>, _ index: Int32,
        _: O.Type, _: P.Type, _ pos: inout Int, _ map: inout PresenceMap
    ) throws(FASTError) {
        guard let exponent = try integerValue(
            O.self, ExponentType.self, P.self, slot: p.pointee.slot, hasInitial: p.pointee.hasInitial,
            initial: p.pointee.initialInt, &pos, &map) else {
            out.initialize(to: Slot(instruction: index, present: false, value: 0, exponent: 0, start: 0, count: 0))
            return
        }
        let exponentValue = Int64(bitPattern: exponent)
        guard (-63...63).contains(exponentValue) else { throw Wire.exponentRange(exponentValue, at: pos) }
        let mantissa = try mantissaValue(p, &pos, &map)
        out.initialize(to: Slot(instruction: index, present: true, value: mantissa ?? 0,
                                exponent: Int32(truncatingIfNeeded: exponentValue), start: 0, count: 0))
    }

    /// The mantissa of a split decimal (a mandatory int64), specialised for the common operators.
    @inline(__always)
    func mantissaValue(_ p: UnsafePointer<Instruction>, _ pos: inout Int, _ map: inout PresenceMap)
        throws(FASTError) -> UInt64? {
        let slot = p.pointee.mantissaSlot
        let hasInitial = p.pointee.mantissaHasInitial
        let initial = UInt64(bitPattern: p.pointee.mantissaInitial)
        switch p.pointee.mantissaOp {
        case .delta:
            return try integerValue(DeltaOperator.self, Int64Type.self, MandatoryField.self, slot: slot,
                                    hasInitial: hasInitial, initial: initial, &pos, &map)
        case .copy:
            return try integerValue(CopyOperator.self, Int64Type.self, MandatoryField.self, slot: slot,
                                    hasInitial: hasInitial, initial: initial, &pos, &map)
        case .none:
            return try integerValue(NoOperator.self, Int64Type.self, MandatoryField.self, slot: slot,
                                    hasInitial: hasInitial, initial: initial, &pos, &map)
        default:
            return try integerValue(op: p.pointee.mantissaOp, type: .int64, optional: false, slot: slot,
                                    hasInitial: hasInitial, initial: initial, &pos, &map)
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
