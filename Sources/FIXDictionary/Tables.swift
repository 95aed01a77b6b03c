// Lookup tables built once per dictionary. Every lookup made while validating is a bounded
// number of probes into flat arrays: no hashing of Strings, no allocation.

/// Maps (owner, byte string) to a payload: enum values keyed by field, MsgTypes keyed by 0.
/// Open addressing with linear probing; the table is at most half full.
struct ByteKeyTable: Sendable {
    struct Slot: Sendable {
        var owner: Int32 = -1
        var start: Int32 = 0
        var length: Int32 = 0
        var payload: Int32 = 0
    }

    private(set) var slots: [Slot]
    private(set) var pool: [UInt8] = []
    private(set) var mask: Int
    private(set) var count = 0

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: Slot(), count: size)
        mask = size - 1
    }

    @inline(__always)
    static func hash(_ owner: Int32, _ p: UnsafeRawPointer?, _ count: Int) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(UInt32(bitPattern: owner))
        if let p {
            for i in 0..<count {
                h = (h ^ UInt64(p.load(fromByteOffset: i, as: UInt8.self))) &* 0x100_0000_01b3
            }
        }
        h ^= h >> 29
        h = h &* 0xbf58_476d_1ce4_e5b9
        h ^= h >> 32
        return Int(truncatingIfNeeded: h)
    }

    /// Inserts when absent; returns false when the key was already present.
    @discardableResult
    mutating func insert(owner: Int32, key: [UInt8], payload: Int32) -> Bool {
        if lookup(owner: owner, key: key) != nil { return false }
        if (count + 1) * 2 > slots.count { grow() }
        let start = pool.count
        pool += key
        place(Slot(owner: owner, start: Int32(start), length: Int32(key.count), payload: payload))
        count += 1
        return true
    }

    private mutating func place(_ slot: Slot) {
        let h = pool.withUnsafeBytes { raw in
            Self.hash(slot.owner, raw.baseAddress.map { $0 + Int(slot.start) }, Int(slot.length))
        }
        var i = h & mask
        while slots[i].owner >= 0 { i = (i + 1) & mask }
        slots[i] = slot
    }

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: Slot(), count: old.count * 2)
        mask = slots.count - 1
        for slot in old where slot.owner >= 0 { place(slot) }
    }

    func lookup(owner: Int32, key: [UInt8]) -> Int32? {
        key.withUnsafeBytes { lookup(owner: owner, $0.baseAddress, $0.count) }
    }

    @inline(__always)
    func lookup(owner: Int32, _ p: UnsafeRawPointer?, _ length: Int) -> Int32? {
        let h = Self.hash(owner, p, length)
        return slots.withUnsafeBufferPointer { slots in
            pool.withUnsafeBytes { pool in
                var i = h & mask
                while true {
                    let slot = slots[i]
                    if slot.owner < 0 { return nil }
                    if slot.owner == owner && Int(slot.length) == length {
                        if length == 0 { return slot.payload }
                        if let p, let base = pool.baseAddress,
                           memoryEqual(base + Int(slot.start), p, length) {
                            return slot.payload
                        }
                    }
                    i = (i + 1) & mask
                }
            }
        }
    }
}

@inline(__always)
func memoryEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
    var i = 0
    while i + 8 <= count {
        if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
            return false
        }
        i += 8
    }
    while i < count {
        if a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
        i += 1
    }
    return true
}

/// What a scope (header, trailer, message body, group entry) knows about one of its fields.
struct ScopeMember: Sendable {
    /// Position in the scope's member order, for the group field order check.
    var position: Int32
    /// The group scope this field counts, or -1 when it is not a NumInGroup field.
    var child: Int32
}

/// Maps (scope, field index) to `ScopeMember`: one table for all scopes of a dictionary, so a
/// FIX 5.0 SP2 dictionary with hundreds of groups costs one array rather than one per scope.
struct MemberTable: Sendable {
    private(set) var keys: [UInt64]
    private(set) var values: [ScopeMember]
    private(set) var mask: Int
    private(set) var count = 0
    static let empty = UInt64.max

    init() {
        keys = Array(repeating: Self.empty, count: 1024)
        values = Array(repeating: ScopeMember(position: 0, child: -1), count: 1024)
        mask = 1023
    }

    @inline(__always)
    static func key(_ scope: Int32, _ field: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: scope)) << 32 | UInt64(UInt32(bitPattern: field))
    }

    @inline(__always)
    static func slot(_ key: UInt64, _ mask: Int) -> Int {
        var h = key &* 0x9e37_79b9_7f4a_7c15
        h ^= h >> 31
        return Int(truncatingIfNeeded: h) & mask
    }

    /// Inserts when absent; returns false when the scope already has that field.
    @discardableResult
    mutating func insert(scope: Int32, field: Int32, _ member: ScopeMember) -> Bool {
        if lookup(scope: scope, field: field) != nil { return false }
        if (count + 1) * 2 > keys.count { grow() }
        put(Self.key(scope, field), member)
        count += 1
        return true
    }

    private mutating func put(_ key: UInt64, _ member: ScopeMember) {
        var i = Self.slot(key, mask)
        while keys[i] != Self.empty { i = (i + 1) & mask }
        keys[i] = key
        values[i] = member
    }

    private mutating func grow() {
        let oldKeys = keys
        let oldValues = values
        keys = Array(repeating: Self.empty, count: oldKeys.count * 2)
        values = Array(repeating: ScopeMember(position: 0, child: -1), count: oldKeys.count * 2)
        mask = keys.count - 1
        for i in 0..<oldKeys.count where oldKeys[i] != Self.empty { put(oldKeys[i], oldValues[i]) }
    }

    @inline(__always)
    func lookup(scope: Int32, field: Int32) -> ScopeMember? {
        let key = Self.key(scope, field)
        return keys.withUnsafeBufferPointer { keys in
            var i = Self.slot(key, mask)
            while true {
                let k = keys[i]
                if k == key { return values.withUnsafeBufferPointer { $0[i] } }
                if k == Self.empty { return nil }
                i = (i + 1) & mask
            }
        }
    }
}

/// The validator's view of a dictionary's tables: plain pointers, so the hot loop does no
/// reference counting and no bounds-checked array access. The memory belongs to the
/// dictionary's `TableStorage` and lives as long as the dictionary; a validator keeps its
/// dictionaries alive.
struct RawTables {
    let tagToField: UnsafePointer<Int32>
    let tagCount: Int
    let checks: UnsafePointer<FIXDictionary.FieldCheck>
    let topSections: UnsafePointer<UInt8>
    /// Per scope, a small open-addressing table of its members, contiguous so that the lookups
    /// of one message stay within a few cache lines (one global table scattered them).
    let scopeSlots: UnsafePointer<ScopeSlot>
    let scopeStart: UnsafePointer<Int32>
    let scopeMask: UnsafePointer<Int32>
    let enumSlots: UnsafePointer<ByteKeyTable.Slot>
    let enumPool: UnsafePointer<UInt8>
    let enumMask: Int
    let msgTypeSlots: UnsafePointer<ByteKeyTable.Slot>
    let msgTypePool: UnsafePointer<UInt8>
    let msgTypeMask: Int
    let messageScopes: UnsafePointer<Int32>
    let scopeDelimiters: UnsafePointer<Int32>
    /// Per scope: start and count in `requiredFields`/`requiredTags`.
    let requiredStart: UnsafePointer<Int32>
    let requiredCount: UnsafePointer<Int32>
    let requiredFields: UnsafePointer<Int32>
    let requiredTags: UnsafePointer<Int>
    let headerScope: Int32
    let trailerScope: Int32
    /// Per field: the allowed bytes when every enumerated value is one ASCII byte.
    let byteSets: UnsafePointer<ByteSet>

    @inline(__always)
    func fieldIndex(_ tag: Int) -> Int32 {
        UInt(bitPattern: tag) < UInt(tagCount) ? tagToField[tag] : -1
    }

    /// The member slot of `tag` in `scope` (with the field's index, check class and group
    /// child), or nil. Keyed by tag so that the common path needs no tag → field lookup; message
    /// body tables leave out header and trailer tags, which QuickFIX files under those sections.
    @inline(__always)
    func member(_ scope: Int32, tag: Int) -> UnsafePointer<ScopeSlot>? {
        guard tag > 0 && tag <= Int(Int32.max) else { return nil }
        let key = Int32(truncatingIfNeeded: tag)
        let base = scopeSlots + Int(scopeStart[Int(scope)])
        let mask = Int(scopeMask[Int(scope)])
        var i = ScopeSlot.slot(key, mask)
        while true {
            let slot = base + i
            let found = slot.pointee.tag
            if found == key { return slot }
            if found == 0 { return nil }
            i = (i + 1) & mask
        }
    }

    @inline(__always)
    static func find(_ slots: UnsafePointer<ByteKeyTable.Slot>, _ pool: UnsafePointer<UInt8>, _ mask: Int,
                     owner: Int32, _ p: UnsafeRawPointer?, _ length: Int) -> Int32?
    {
        var i = ByteKeyTable.hash(owner, p, length) & mask
        while true {
            let slot = slots[i]
            if slot.owner < 0 { return nil }
            if slot.owner == owner && Int(slot.length) == length {
                if length == 0 { return slot.payload }
                if let p, memoryEqual(UnsafeRawPointer(pool + Int(slot.start)), p, length) { return slot.payload }
            }
            i = (i + 1) & mask
        }
    }

    @inline(__always)
    func isEnumValue(_ field: Int32, _ p: UnsafeRawPointer, _ length: Int) -> Bool {
        Self.find(enumSlots, enumPool, enumMask, owner: field, p, length) != nil
    }

    @inline(__always)
    func messageScope(_ p: UnsafeRawPointer?, _ length: Int) -> Int32 {
        guard let index = Self.find(msgTypeSlots, msgTypePool, msgTypeMask, owner: 0, p, length) else { return -1 }
        return messageScopes[Int(index)]
    }
}

/// Owns the memory `RawTables` points into.
final class TableStorage: @unchecked Sendable {
    // Written once in init, read-only afterwards: safe to share between threads.
    let raw: RawTables
    private var allocations: [UnsafeMutableRawPointer] = []

    init(fieldIndexByTag: [Int32], fieldTags: [Int], checks: [FIXDictionary.FieldCheck], topSections: [UInt8],
         members: MemberTable,
         enums: ByteKeyTable, msgTypes: ByteKeyTable, messageScopes: [Int32], scopes: [FIXDictionary.Scope],
         headerScope: Int32, trailerScope: Int32)
    {
        var allocations: [UnsafeMutableRawPointer] = []
        func copy<T>(_ array: [T]) -> UnsafePointer<T> {
            let pointer = UnsafeMutablePointer<T>.allocate(capacity: max(array.count, 1))
            array.withUnsafeBufferPointer { buffer in
                if let base = buffer.baseAddress { pointer.initialize(from: base, count: buffer.count) }
            }
            allocations.append(UnsafeMutableRawPointer(pointer))
            return UnsafePointer(pointer)
        }
        var scopeSlots: [ScopeSlot] = []
        var scopeStart: [Int32] = []
        var scopeMask: [Int32] = []
        let bodyScopes = Set(messageScopes)
        for (index, scope) in scopes.enumerated() {
            var size = 4
            while size < scope.order.count * 2 { size <<= 1 }
            let start = scopeSlots.count
            scopeStart.append(Int32(start))
            scopeMask.append(Int32(size - 1))
            scopeSlots += Array(repeating: ScopeSlot.empty, count: size)
            for field in scope.order {
                // A message body never holds header or trailer tags: those are QuickFIX's header
                // and trailer fields wherever they appear.
                if bodyScopes.contains(Int32(index)) && topSections[Int(field)] != 0 { continue }
                guard let member = members.lookup(scope: Int32(index), field: field) else { continue }
                let tag = Int32(fieldTags[Int(field)])
                var i = ScopeSlot.slot(tag, size - 1)
                while scopeSlots[start + i].tag != 0 { i = (i + 1) & (size - 1) }
                let check = checks[Int(field)]
                scopeSlots[start + i] = ScopeSlot(tag: tag, field: field, child: member.child,
                                                  position: Int16(clamping: member.position), format: check.format,
                                                  flags: ScopeSlot.flags(check))
            }
        }
        var requiredStart: [Int32] = []
        var requiredCount: [Int32] = []
        var requiredFields: [Int32] = []
        var requiredTags: [Int] = []
        for scope in scopes {
            requiredStart.append(Int32(requiredFields.count))
            requiredCount.append(Int32(scope.required.count))
            requiredFields += scope.required
            requiredTags += scope.requiredTags
        }
        raw = RawTables(
            tagToField: copy(fieldIndexByTag), tagCount: fieldIndexByTag.count, checks: copy(checks),
            topSections: copy(topSections), scopeSlots: copy(scopeSlots), scopeStart: copy(scopeStart),
            scopeMask: copy(scopeMask), enumSlots: copy(enums.slots), enumPool: copy(enums.pool + [0]),
            enumMask: enums.mask, msgTypeSlots: copy(msgTypes.slots), msgTypePool: copy(msgTypes.pool + [0]),
            msgTypeMask: msgTypes.mask, messageScopes: copy(messageScopes),
            scopeDelimiters: copy(scopes.map(\.delimiter)), requiredStart: copy(requiredStart),
            requiredCount: copy(requiredCount), requiredFields: copy(requiredFields), requiredTags: copy(requiredTags),
            headerScope: headerScope, trailerScope: trailerScope,
            byteSets: copy(checks.map { ByteSet(low: $0.lowBytes, high: $0.highBytes) }))
        self.allocations = allocations
    }

    deinit {
        for pointer in allocations { pointer.deallocate() }
    }
}

/// One slot of a scope's member table, 16 bytes: `tag` is 0 in an empty slot.
struct ScopeSlot {
    var tag: Int32
    var field: Int32
    var child: Int32
    var position: Int16
    var format: FIXFieldType.Format
    var flags: UInt8

    static let hasValues: UInt8 = 1
    static let multipleValue: UInt8 = 2
    static let singleByteValues: UInt8 = 4

    static let empty = ScopeSlot(tag: 0, field: -1, child: -1, position: 0, format: .none, flags: 0)

    @inline(__always)
    static func slot(_ tag: Int32, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (UInt32(bitPattern: tag) &* 0x9E37_79B1) >> 16) & mask
    }

    static func flags(_ check: FIXDictionary.FieldCheck) -> UInt8 {
        (check.hasValues ? hasValues : 0) | (check.isMultipleValue ? multipleValue : 0)
            | (check.singleByteValues ? singleByteValues : 0)
    }
}

/// A set of ASCII bytes (the values of a field whose every enumerated value is one byte).
struct ByteSet {
    var low: UInt64
    var high: UInt64

    @inline(__always)
    func contains(_ byte: UInt8) -> Bool {
        byte < 64 ? low & (1 << UInt64(byte)) != 0 : byte < 128 && high & (1 << UInt64(byte &- 64)) != 0
    }
}
