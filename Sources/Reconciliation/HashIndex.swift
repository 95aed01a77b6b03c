/// An open-addressing table from a 64-bit key to a chain of row indexes, with the chains kept
/// in one `next` array: building and probing it allocates nothing per row, which is what lets a
/// pass over ten million rows stay O(n) with flat memory.
struct HashIndex {
    private var keys: [UInt64]
    private var heads: [Int32]
    private var next: [Int32]
    private let mask: Int

    /// Room for `slotsFor` distinct keys and chains over `rows` row indexes.
    init(slotsFor distinctKeys: Int, rows: Int) {
        var size = 16
        while size * 2 < distinctKeys * 3 { size <<= 1 }
        keys = [UInt64](repeating: 0, count: size)
        heads = [Int32](repeating: -1, count: size)
        next = [Int32](repeating: -1, count: max(rows, 1))
        mask = size - 1
    }

    /// The slot holding `key`, or the empty slot where it would go. A slot is taken once a key
    /// is stored in it (keys are never 0) and stays taken when its chain empties, so unlinking
    /// never cuts another key's probe sequence.
    @inline(__always)
    func slot(_ key: UInt64) -> Int {
        var i = Int(truncatingIfNeeded: key ^ (key >> 29)) & mask
        while keys[i] != 0 && keys[i] != key { i = (i + 1) & mask }
        return i
    }

    /// Puts `row` at the head of `key`'s chain. Insert rows last to first to walk them in order.
    mutating func insert(_ key: UInt64, row: Int32) {
        precondition(key != 0, "HashIndex keys are never 0")
        let s = slot(key)
        next[Int(row)] = heads[s]
        keys[s] = key
        heads[s] = row
    }

    @inline(__always)
    func head(slot s: Int) -> Int32 { heads[s] }

    @inline(__always)
    func next(_ row: Int32) -> Int32 { next[Int(row)] }

    /// Removes `row` from the chain at slot `s`, given the row before it (-1 for the head).
    @inline(__always)
    mutating func unlink(_ row: Int32, previous: Int32, slot s: Int) {
        if previous < 0 { heads[s] = next[Int(row)] } else { next[Int(previous)] = next[Int(row)] }
    }

    /// Every non-empty chain's head, in slot order (deterministic for the same inserts).
    func forEachHead(_ body: (Int32) -> Void) {
        for h in heads where h >= 0 { body(h) }
    }
}

/// Mixes small integers into a well-spread 64-bit key (the finaliser of SplitMix64).
@inline(__always)
func mixKey(_ a: Int32, _ b: Int32, _ c: Int32, _ d: Int32 = 0, _ e: Int32 = 0) -> UInt64 {
    var x = UInt64(UInt32(bitPattern: a)) | (UInt64(UInt32(bitPattern: b)) << 32)
    x = mix64(x ^ mix64(UInt64(UInt32(bitPattern: c)) | (UInt64(UInt32(bitPattern: d)) << 32)))
    x = mix64(x ^ UInt64(UInt32(bitPattern: e)) &* 0x9e37_79b9_7f4a_7c15)
    return x == 0 ? 1 : x
}

@inline(__always)
func mix64(_ value: UInt64) -> UInt64 {
    var z = value &+ 0x9e37_79b9_7f4a_7c15
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
}

/// One side's (key, row) pairs grouped by the key's top bits, rows ascending within a group.
///
/// A join over ten million rows through one table misses the cache on nearly every probe. With
/// the pairs grouped first (two sequential passes over the rows), each group's table holds a few
/// thousand keys and stays in cache while its probes run, and keys of one group never meet keys
/// of another, so the groups are independent.
struct KeyPartitions {
    /// Rows per group the partition count aims at: a table of about 8K keys (96 KiB) per group.
    static let rowsPerPartitionTarget = 4_096
    static let partitionBitsMax = 14

    private(set) var keys: [UInt64] = []
    private(set) var rows: [Int32] = []
    /// Group g holds `keys[starts[g]..<starts[g + 1]]`.
    private(set) var starts: [Int] = []
    let bits: Int

    /// The number of partition bits for about `rows` keys a side.
    static func bits(forRows rows: Int) -> Int {
        var bits = 0
        while bits < partitionBitsMax && (rows >> bits) > rowsPerPartitionTarget { bits += 1 }
        return bits
    }

    @inline(__always)
    static func partition(_ key: UInt64, bits: Int) -> Int {
        bits == 0 ? 0 : Int(truncatingIfNeeded: (key &* 0x9e37_79b9_7f4a_7c15) >> UInt64(64 - bits))
    }

    /// Groups rows `0..<count` by `keyOf` (0 leaves a row out). `keyOf` is called twice a row.
    init(count: Int, bits: Int, keyOf: (Int) -> UInt64) {
        self.bits = bits
        let groups = 1 << bits
        var counts = [Int](repeating: 0, count: groups + 1)
        var total = 0
        for i in 0..<count {
            let k = keyOf(i)
            if k != 0 {
                counts[KeyPartitions.partition(k, bits: bits) + 1] += 1
                total += 1
            }
        }
        for g in 0..<groups { counts[g + 1] += counts[g] }
        starts = counts
        var cursor = counts
        keys = [UInt64](repeating: 0, count: total)
        rows = [Int32](repeating: 0, count: total)
        keys.withUnsafeMutableBufferPointer { keys in
            rows.withUnsafeMutableBufferPointer { rows in
                for i in 0..<count {
                    let k = keyOf(i)
                    guard k != 0 else { continue }
                    let g = KeyPartitions.partition(k, bits: bits)
                    let at = cursor[g]
                    cursor[g] = at + 1
                    keys[at] = k
                    rows[at] = Int32(truncatingIfNeeded: i)
                }
            }
        }
    }

    var partitionCount: Int { starts.count - 1 }

    func range(_ g: Int) -> Range<Int> { starts[g]..<starts[g + 1] }
}

/// A small open-addressing map from a key to the first row stored with it, reused from group
/// to group: `reset(for:)` sizes it for the next group and clears only what it will use.
struct SmallKeyTable {
    private var keys: [UInt64] = []
    private var rows: [Int32] = []
    private var mask = 0

    mutating func reset(for count: Int) {
        var size = 16
        while size < count * 2 { size <<= 1 }
        if keys.count < size {
            keys = [UInt64](repeating: 0, count: size)
            rows = [Int32](repeating: -1, count: size)
        } else {
            for i in 0..<size { keys[i] = 0 }
        }
        mask = size - 1
    }

    /// The row first stored under `key`, or nil after storing `row` under it.
    @inline(__always)
    mutating func firstOrInsert(_ key: UInt64, row: Int32) -> Int32? {
        var i = Int(truncatingIfNeeded: key ^ (key >> 29)) & mask
        while keys[i] != 0 {
            if keys[i] == key { return rows[i] }
            i = (i + 1) & mask
        }
        keys[i] = key
        rows[i] = row
        return nil
    }

    @inline(__always)
    func get(_ key: UInt64) -> Int32? {
        var i = Int(truncatingIfNeeded: key ^ (key >> 29)) & mask
        while keys[i] != 0 {
            if keys[i] == key { return rows[i] }
            i = (i + 1) & mask
        }
        return nil
    }
}
