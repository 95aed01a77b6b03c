/// The previous values of one decoder (FAST 1.1 section 6.3.1).
///
/// The template compiler resolved every (dictionary, key) pair to an entry index, so global,
/// template, type and custom dictionaries are all rows of the same tables here. An entry is
/// undefined, empty or assigned. The tables are raw memory owned by ``DictionaryStorage``, so the
/// decoder reads and writes them through pointers it keeps for the whole stream: no uniqueness,
/// bounds or reference-count work per field. A value type over that storage: a decoder copied
/// before decoding gets its own tables at its next decode.
struct DictionaryState: Sendable {
    static let undefined: UInt8 = 0
    static let empty: UInt8 = 1
    static let assigned: UInt8 = 2

    var storage: DictionaryStorage

    init(count: Int, templateIDInitial: UInt32?) {
        storage = DictionaryStorage(count: count, templateIDInitial: templateIDInitial)
    }

    /// Gives this state its own storage when a copy of it shares the current one.
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    mutating func reset() {
        makeUnique()
        storage.reset()
    }
}

/// One previous value: an integer (or a decimal's mantissa and exponent) and its state, side by
/// side so a field's dictionary access touches one cache line.
struct DictionaryEntry {
    var value: UInt64 = 0
    var exponent: Int32 = 0
    var state: UInt8 = DictionaryState.undefined
}

/// The tables of a ``DictionaryState``.
///
/// Strings and byte vectors keep their bytes in one pool: each entry owns a region of it that
/// grows by doubling (the region moves to the pool's end), so updating a previous value copies
/// its bytes and allocates nothing once the stream has warmed up.
final class DictionaryStorage: @unchecked Sendable {
    let count: Int
    let entries: UnsafeMutablePointer<DictionaryEntry>
    /// Per entry: start, byte count and capacity of its region in `pool`.
    let byteStart: UnsafeMutablePointer<Int32>
    let byteCount: UnsafeMutablePointer<Int32>
    let byteCapacity: UnsafeMutablePointer<Int32>
    var pool: UnsafeMutablePointer<UInt8>
    var poolCount = 0
    var poolCapacity: Int
    /// The template identifier is a copy-operator uInt32 of its own (section 10.3.2).
    var templateIDState: UInt8 = DictionaryState.undefined
    var templateID: UInt32 = 0
    let templateIDInitial: UInt32?

    init(count requested: Int, templateIDInitial: UInt32?) {
        // At least one entry, so every table has a base address.
        let count = max(requested, 1)
        self.count = count
        entries = .allocate(capacity: count)
        entries.initialize(repeating: DictionaryEntry(), count: count)
        byteStart = .allocate(capacity: count)
        byteStart.initialize(repeating: 0, count: count)
        byteCount = .allocate(capacity: count)
        byteCount.initialize(repeating: 0, count: count)
        byteCapacity = .allocate(capacity: count)
        byteCapacity.initialize(repeating: 0, count: count)
        poolCapacity = 1_024
        pool = .allocate(capacity: poolCapacity)
        self.templateIDInitial = templateIDInitial
    }

    deinit {
        entries.deallocate()
        byteStart.deallocate()
        byteCount.deallocate()
        byteCapacity.deallocate()
        pool.deallocate()
    }

    func copy() -> DictionaryStorage {
        let copy = DictionaryStorage(count: count, templateIDInitial: templateIDInitial)
        copy.entries.update(from: entries, count: count)
        for entry in 0 ..< count where byteCount[entry] > 0 {
            copy.setBytes(entry, UnsafePointer(pool + Int(byteStart[entry])), Int(byteCount[entry]))
        }
        copy.templateIDState = templateIDState
        copy.templateID = templateID
        return copy
    }

    func reset() {
        for entry in 0 ..< count { entries[entry].state = DictionaryState.undefined }
        templateIDState = DictionaryState.undefined
    }

    /// The previous template id, or the configured initial one when undefined.
    var previousTemplateID: UInt32? {
        if templateIDState == DictionaryState.assigned { return templateID }
        if templateIDState == DictionaryState.undefined { return templateIDInitial }
        return nil
    }

    /// Replaces the bytes of `entry` (does not change its state).
    @inline(__always)
    func setBytes(_ entry: Int, _ bytes: UnsafePointer<UInt8>, _ length: Int) {
        if length > Int(byteCapacity[entry]) { relocate(entry, length) }
        copyBytes(to: pool + Int(byteStart[entry]), from: bytes, length)
        byteCount[entry] = Int32(truncatingIfNeeded: length)
    }

    /// Gives `entry` a region of at least `length` bytes at the pool's end. A region has at
    /// least 16 bytes, and an entry without one starts at 0 in a pool of at least 1,024 bytes,
    /// so eight bytes can always be read from the start of an entry's region.
    func relocate(_ entry: Int, _ length: Int) {
        let capacity = max(16, Int(byteCapacity[entry]) * 2, length)
        if poolCount + capacity > poolCapacity { growPool(poolCount + capacity) }
        byteStart[entry] = Int32(truncatingIfNeeded: poolCount)
        byteCapacity[entry] = Int32(truncatingIfNeeded: capacity)
        poolCount += capacity
    }

    /// Grows the pool; when more than half of it is regions left behind by relocations, the live
    /// regions are packed first, so the pool stays within twice what the entries hold.
    func growPool(_ needed: Int) {
        var live = 0
        for entry in 0 ..< count { live += Int(byteCapacity[entry]) }
        let newCapacity = max(poolCapacity * 2, (needed - poolCount + live) * 2, 1_024)
        let newPool = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        var used = 0
        for entry in 0 ..< count where byteCapacity[entry] > 0 {
            (newPool + used).update(from: pool + Int(byteStart[entry]), count: Int(byteCount[entry]))
            byteStart[entry] = Int32(truncatingIfNeeded: used)
            used += Int(byteCapacity[entry])
        }
        pool.deallocate()
        pool = newPool
        poolCapacity = newCapacity
        poolCount = used
    }
}

/// Copies a few bytes without a library call (most FAST strings are short); long runs use memmove.
/// From 4 to 32 bytes the copy is two to four word loads and stores that may overlap, so no
/// byte outside either range is read or written.
@inline(__always)
func copyBytes(to destination: UnsafeMutablePointer<UInt8>, from source: UnsafePointer<UInt8>, _ length: Int) {
    if length > 32 {
        destination.update(from: source, count: length)
        return
    }
    let from = UnsafeRawPointer(source)
    let to = UnsafeMutableRawPointer(destination)
    if length >= 8 {
        let head = from.loadUnaligned(as: UInt64.self)
        let tail = from.loadUnaligned(fromByteOffset: length &- 8, as: UInt64.self)
        if length > 16 {
            let second = from.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            let third = from.loadUnaligned(fromByteOffset: length &- 16, as: UInt64.self)
            to.storeBytes(of: second, toByteOffset: 8, as: UInt64.self)
            to.storeBytes(of: third, toByteOffset: length &- 16, as: UInt64.self)
        }
        to.storeBytes(of: head, as: UInt64.self)
        to.storeBytes(of: tail, toByteOffset: length &- 8, as: UInt64.self)
        return
    }
    if length >= 4 {
        let head = from.loadUnaligned(as: UInt32.self)
        let tail = from.loadUnaligned(fromByteOffset: length &- 4, as: UInt32.self)
        to.storeBytes(of: head, as: UInt32.self)
        to.storeBytes(of: tail, toByteOffset: length &- 4, as: UInt32.self)
        return
    }
    var i = 0
    while i < length {
        destination[i] = source[i]
        i &+= 1
    }
}
