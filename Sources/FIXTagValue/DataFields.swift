/// Which tags are length fields announcing a raw data field whose value may contain SOH.
///
/// A data field (RawData(96), XmlData(213), EncodedText(355), Signature(89), …) must be
/// read by length, not up to the next SOH, because its bytes are arbitrary. The reader consults
/// this table at each tag; the lookup is one bit test for tags below `tagLimit`.
///
/// ```swift
/// // A venue adds a private data field 5001 whose length is in 5000.
/// let fields = FIXDataFields.standard.adding(lengthTag: 5000, dataTag: 5001)
/// let message = FIXMessage(unchecked: bytes, dataFields: fields)
/// ```
public final class FIXDataFields: @unchecked Sendable {
    /// Tags at or above this are not length fields (every standard and common custom one is below).
    public static let tagLimit = 1 << 16

    /// The pairs of FIX 4.0 to 5.0 SP2 and FIXT 1.1 (see `StandardDataFields.swift`).
    public static let standard = FIXDataFields(pairs: standardDataFieldPairs)

    /// (length tag, data tag) pairs, sorted by length tag.
    public let pairs: [(lengthTag: Int, dataTag: Int)]
    /// One bit per tag below `tagLimit`, set for length tags. Allocated once, immutable after
    /// init, freed with the table; iterators hold the table, so the pointer outlives their use.
    @usableFromInline let lengthTagBits: UnsafePointer<UInt64>

    public init(pairs: [(lengthTag: Int, dataTag: Int)]) {
        var bits = [UInt64](repeating: 0, count: Self.tagLimit / 64)
        var sorted: [(lengthTag: Int, dataTag: Int)] = []
        for pair in pairs where pair.lengthTag > 0 && pair.lengthTag < Self.tagLimit {
            bits[pair.lengthTag >> 6] |= 1 << UInt64(pair.lengthTag & 63)
            sorted.append(pair)
        }
        sorted.sort { $0.lengthTag < $1.lengthTag }
        self.pairs = sorted
        let storage = UnsafeMutablePointer<UInt64>.allocate(capacity: bits.count)
        storage.initialize(from: bits, count: bits.count)
        self.lengthTagBits = UnsafePointer(storage)
    }

    deinit {
        UnsafeMutablePointer(mutating: lengthTagBits).deallocate()
    }

    /// A table with one more pair.
    public func adding(lengthTag: Int, dataTag: Int) -> FIXDataFields {
        FIXDataFields(pairs: pairs + [(lengthTag, dataTag)])
    }

    /// True when `tag` announces the length of a data field.
    @inlinable
    public func isLengthTag(_ tag: Int) -> Bool {
        guard tag >= 0 && tag < Self.tagLimit else { return false }
        return lengthTagBits[tag >> 6] & (1 << UInt64(tag & 63)) != 0
    }

    /// The data tag whose length `lengthTag` announces, if any.
    public func dataTag(forLengthTag lengthTag: Int) -> Int? {
        var low = 0
        var high = pairs.count
        while low < high {
            let mid = (low + high) / 2
            if pairs[mid].lengthTag < lengthTag { low = mid + 1 } else { high = mid }
        }
        return low < pairs.count && pairs[low].lengthTag == lengthTag ? pairs[low].dataTag : nil
    }
}
