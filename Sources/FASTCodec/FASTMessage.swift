/// One decoded value in a message's flat value list. Trivial, so the list is reused without
/// reference counting: strings and byte vectors are ranges into the message's byte arena.
struct Slot: Sendable {
    var instruction: Int32
    var present: Bool
    /// Integer bit pattern (signed values as `Int64(bitPattern:)`), or a decimal's mantissa.
    var value: UInt64
    /// A decimal's exponent.
    var exponent: Int32
    /// Arena start of a string or byte vector; template index of a dynamic template reference.
    var start: Int32
    /// Byte count of a string or byte vector; entry count of a sequence.
    var count: Int32

    @inline(__always)
    static func absent(_ instruction: Int32) -> Slot {
        Slot(instruction: instruction, present: false, value: 0, exponent: 0, start: 0, count: 0)
    }

    /// A string or byte vector whose value is the instruction's initial value: `start` is
    /// negative, `-1 - offset` into the template set's constant bytes, so nothing is copied.
    @inline(__always)
    static func constant(_ instruction: Int32, _ p: UnsafePointer<Instruction>) -> Slot {
        Slot(instruction: instruction, present: true, value: 0, exponent: 0, start: -1 - p.pointee.initialStart,
             count: p.pointee.initialCount)
    }
}

/// A decoded FAST message held as a flat, reusable value buffer.
///
/// The decoder appends one value per instruction in template order (groups and sequence entries
/// nested in line) and copies strings into one byte arena; both keep their capacity from message
/// to message, so decoding into the same `FASTMessage` does not allocate once it has warmed up.
/// Convert at the edge: ``record(in:)`` gives a value tree, ``fixFields(in:)`` a FIX field list.
///
/// ```swift
/// var message = FASTMessage()
/// var decoder = FASTDecoder(templates: templates)
/// let used = try decoder.decode(bytes, into: &message)
/// print(message.templateID, message.fixFields(in: templates))
/// ```
public struct FASTMessage: Sendable {
    var slots = SlotList()
    var arena = ByteList()
    var templateIndex: Int = -1

    /// The template id of the last decoded message.
    public internal(set) var templateID: UInt32 = 0
    /// Number of bytes the last decoded message occupied in the input.
    public internal(set) var byteCount: Int = 0

    /// An empty message buffer.
    public init() {}

    /// Number of values decoded (fields, groups, sequences and their entries' fields).
    public var valueCount: Int { slots.count }

    /// The bytes of a string or byte vector slot: in the arena, or the template set's constant
    /// bytes for a value that is the field's initial value.
    func bytes(of slot: Slot, in templates: FASTTemplates) -> ArraySlice<UInt8> {
        if slot.start < 0 {
            let start = Int(-1 - slot.start)
            return templates.constantBytes[start ..< start + Int(slot.count)]
        }
        let start = Int(slot.start)
        return ArraySlice(arena[start ..< start + Int(slot.count)])
    }

    mutating func clear() {
        slots.count = 0
        arena.count = 0
        templateIndex = -1
    }
}

/// Owns the value slots of a ``FASTMessage``. The decoder writes through a raw pointer (no
/// uniqueness or capacity check per value) and grows the buffer itself when a message needs more.
final class SlotStorage: @unchecked Sendable {
    var pointer: UnsafeMutablePointer<Slot>
    var capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        pointer = .allocate(capacity: capacity)
    }

    deinit { pointer.deallocate() }

    func copy(count: Int) -> SlotStorage {
        let copy = SlotStorage(capacity: capacity)
        copy.pointer.initialize(from: pointer, count: count)
        return copy
    }
}

/// The decoded values of a message, in decode order. A value type over ``SlotStorage``: a
/// decode into a message whose storage is shared first gives it its own copy.
struct SlotList: Sendable {
    var storage = SlotStorage(capacity: 256)
    var count = 0

    subscript(_ index: Int) -> Slot {
        precondition(index >= 0 && index < count, "slot index out of range")
        return storage.pointer[index]
    }
}

/// Owns the byte arena of a ``FASTMessage`` (decoded strings and byte vectors).
final class ByteStorage: @unchecked Sendable {
    var pointer: UnsafeMutablePointer<UInt8>
    var capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        pointer = .allocate(capacity: capacity)
    }

    deinit { pointer.deallocate() }
}

/// The decoded bytes of a message; a value type over ``ByteStorage`` like ``SlotList``.
struct ByteList: Sendable {
    var storage = ByteStorage(capacity: 4_096)
    var count = 0

    subscript(_ range: Range<Int>) -> [UInt8] {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "arena range out of bounds")
        return Array(UnsafeBufferPointer(start: storage.pointer + range.lowerBound, count: range.count))
    }
}

/// The arena as the decoder writes it: a cached pointer, so appends cost a compare and a copy.
struct ArenaWriter {
    /// Kept alive by the message for the whole decode run.
    unowned(unsafe) let storage: ByteStorage
    var pointer: UnsafeMutablePointer<UInt8>
    var capacity: Int
    var count = 0

    init(_ storage: ByteStorage) {
        self.storage = storage
        pointer = storage.pointer
        capacity = storage.capacity
    }

    @inline(__always)
    mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(count + extra) }
    }

    mutating func grow(_ needed: Int) {
        var newCapacity = max(capacity * 2, 64)
        while newCapacity < needed { newCapacity *= 2 }
        let newPointer = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newPointer.initialize(from: pointer, count: count)
        pointer.deallocate()
        storage.pointer = newPointer
        storage.capacity = newCapacity
        pointer = newPointer
        capacity = newCapacity
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        reserve(1)
        pointer[count] = byte
        count &+= 1
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafePointer<UInt8>, _ length: Int) {
        reserve(length)
        copyBytes(to: pointer + count, from: bytes, length)
        count &+= length
    }

    /// Appends `length` bytes that are already in the arena at `start`.
    @inline(__always)
    mutating func appendCopy(from start: Int, count length: Int) {
        reserve(length)
        copyBytes(to: pointer + count, from: pointer + start, length)
        count &+= length
    }

    subscript(_ index: Int) -> UInt8 {
        get { pointer[index] }
        nonmutating set { pointer[index] = newValue }
    }
}
