import FIXTagValue

/// Fixed-point scales the matcher works in. Quantities and amounts are held as integers of
/// 10^-6 units and prices as integers of 10^-8, so that the inner loops compare and add plain
/// `Int64`s; products and tolerances are computed in `Int128` so they never overflow.
enum Scale {
    static let quantity = 6
    static let price = 8
    static let amount = 6
    /// Marks an absent optional amount or time in a compact row.
    static let absent = Int64.min

    /// The value as an integer of 10^-scale units, or nil when it does not fit exactly.
    static func scaled(_ value: FIXDecimal, _ scale: Int) -> Int64? {
        // The common case: a value with no more fractional digits than the scale, small enough
        // that plain Int64 arithmetic cannot overflow.
        let shift = Int(value.exponent) + scale
        if shift >= 0 && shift < smallPowers.count {
            let (product, overflow) = value.mantissa.multipliedReportingOverflow(by: smallPowers[shift])
            if !overflow && product != Int64.min { return product }
        }
        let exponent = Int(value.exponent) + scale
        var m = Int128(value.mantissa)
        if exponent >= 0 {
            guard exponent <= 30 else { return value.mantissa == 0 ? 0 : nil }
            m *= FIXDecimal.powerOfTen(exponent)
        } else {
            guard -exponent <= 30 else { return value.mantissa == 0 ? 0 : nil }
            let d = FIXDecimal.powerOfTen(-exponent)
            guard m % d == 0 else { return nil }
            m /= d
        }
        guard m > Int128(Int64.min) && m <= Int128(Int64.max) else { return nil }
        return Int64(m)
    }

    /// A scaled integer back to a decimal (trailing zeros removed for display).
    static func decimal(_ value: Int128, _ scale: Int) -> FIXDecimal {
        var m = value
        var e = -scale
        while m != 0 && m % 10 == 0 && e < 0 {
            m /= 10
            e += 1
        }
        // Int64.min itself is avoided: negating it would trap.
        while m > Int128(Int64.max) || m <= Int128(Int64.min) {
            m /= 10
            e += 1
        }
        return FIXDecimal(mantissa: Int64(m), exponent: Int8(e))
    }

    private static let smallPowers: [Int64] = [
        1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000,
        10_000_000_000, 100_000_000_000, 1_000_000_000_000, 10_000_000_000_000, 100_000_000_000_000,
    ]
}

/// FNV-1a, 64-bit: the stable hash behind break ids and strong-key joins. It depends on nothing
/// but the bytes, so the same inputs give the same ids on every run and every machine.
struct FNV1a64 {
    static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    static let prime: UInt64 = 0x0000_0100_0000_01b3

    private(set) var value: UInt64 = FNV1a64.offsetBasis

    mutating func combine(byte: UInt8) {
        value = (value ^ UInt64(byte)) &* FNV1a64.prime
    }

    mutating func combine(_ text: String) {
        for byte in text.utf8 { combine(byte: byte) }
    }

    /// A field and a separator, so that ("ab","c") and ("a","bc") hash differently.
    mutating func combineField(_ text: String) {
        combine(text)
        combine(byte: 0x1f)
    }

    static func hash(_ text: String) -> UInt64 {
        var h = FNV1a64()
        h.combine(text)
        // Zero is reserved for "no key" in compact rows.
        return h.value == 0 ? 1 : h.value
    }

    static func hex(_ value: UInt64) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0x30, count: 16)
        var v = value
        for i in stride(from: 15, through: 0, by: -1) {
            out[i] = digits[Int(v & 0xf)]
            v >>= 4
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Strings that repeat across records (accounts, instruments, currencies) interned once to dense
/// `Int32` ids; joins then hash and compare integers.
///
/// An open-addressing table keyed by the FNV-1a hash of the bytes. Each slot holds the string's
/// first 16 UTF-8 bytes, its length, part of the hash and its id, so one slot load answers most
/// lookups: a string of up to 16 bytes (nearly every account, instrument and currency) is
/// compared inside the slot, and only a longer one is compared with the stored `String`. With
/// tens of thousands of accounts the table outgrows the cache, and the second load, of the
/// stored string, was a second cache miss on every line read.
struct Interner: Sendable {
    private(set) var strings: [String] = []
    /// Three words a slot: bytes 0..<8, bytes 8..<16 (little-endian, zero-padded), and
    /// hash tag (24 bits) << 40 | length (8 bits, 255 for 255 or more) << 32 | id + 1 (0 = empty).
    private var slots = [UInt64](repeating: 0, count: 3 * 1024)
    private var mask = 1023

    private static let inlineBytes = 16

    /// The hash, the two inline words and the length byte of `bytes`.
    @inline(__always)
    private static func digest(_ bytes: UnsafeBufferPointer<UInt8>) -> (hash: UInt64, w0: UInt64, w1: UInt64, meta: UInt64) {
        var h = FNV1a64.offsetBasis
        var w0: UInt64 = 0, w1: UInt64 = 0
        for i in 0..<bytes.count {
            let b = bytes[i]
            h = (h ^ UInt64(b)) &* FNV1a64.prime
            if i < 8 {
                w0 |= UInt64(b) << UInt64(8 * i)
            } else if i < 16 {
                w1 |= UInt64(b) << UInt64(8 * (i - 8))
            }
        }
        let length = UInt64(min(bytes.count, 255))
        return (h, w0, w1, (h >> 40) << 40 | length << 32)
    }

    @inline(__always)
    private static func withBytes<T>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
        if let r = text.utf8.withContiguousStorageIfAvailable(body) { return r }
        var copy = text
        return copy.withUTF8(body)
    }

    /// The slot holding `text`, or the empty slot where it would go.
    @inline(__always)
    private func find(_ text: String, hash: UInt64, w0: UInt64, w1: UInt64, meta: UInt64, count: Int) -> Int {
        var i = Int(truncatingIfNeeded: mix64(hash)) & mask
        while true {
            let m = slots[3 * i + 2]
            if m == 0 { return i }
            if m & 0xffff_ffff_0000_0000 == meta && slots[3 * i] == w0 && slots[3 * i + 1] == w1
                && (count <= Interner.inlineBytes || strings[Int(m & 0xffff_ffff) - 1] == text) {
                return i
            }
            i = (i + 1) & mask
        }
    }

    mutating func intern(_ text: String) -> Int32 {
        let (h, w0, w1, meta, count) = Interner.withBytes(text) { b in
            let d = Interner.digest(b)
            return (d.hash, d.w0, d.w1, d.meta, b.count)
        }
        let i = find(text, hash: h, w0: w0, w1: w1, meta: meta, count: count)
        let m = slots[3 * i + 2]
        if m != 0 { return Int32(truncatingIfNeeded: m & 0xffff_ffff) - 1 }
        let id = Int32(strings.count)
        strings.append(text)
        slots[3 * i] = w0
        slots[3 * i + 1] = w1
        slots[3 * i + 2] = meta | UInt64(id + 1)
        if strings.count * 2 > mask + 1 { grow() }
        return id
    }

    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: 0, count: old.count * 2)
        mask = slots.count / 3 - 1
        for k in stride(from: 0, to: old.count, by: 3) where old[k + 2] != 0 {
            let id = Int(old[k + 2] & 0xffff_ffff) - 1
            let h = Interner.withBytes(strings[id]) { Interner.digest($0).hash }
            var j = Int(truncatingIfNeeded: mix64(h)) & mask
            while slots[3 * j + 2] != 0 { j = (j + 1) & mask }
            slots[3 * j] = old[k]
            slots[3 * j + 1] = old[k + 1]
            slots[3 * j + 2] = old[k + 2]
        }
    }

    func lookup(_ text: String) -> Int32? {
        let (h, w0, w1, meta, count) = Interner.withBytes(text) { b in
            let d = Interner.digest(b)
            return (d.hash, d.w0, d.w1, d.meta, b.count)
        }
        let m = slots[3 * find(text, hash: h, w0: w0, w1: w1, meta: meta, count: count) + 2]
        return m == 0 ? nil : Int32(truncatingIfNeeded: m & 0xffff_ffff) - 1
    }

    subscript(id: Int32) -> String { id < 0 ? "" : strings[Int(id)] }
}

/// Where an external record came from: a statement file and its 1-based line, or a FIX message
/// in a capture or session log.
public enum RecordOrigin: Hashable, Sendable, CustomStringConvertible {
    case statement(file: String, line: Int)
    case fix(source: String, offset: Int64)
    /// A book fill, by its `Fill.id`.
    case book(fillID: Int)
    /// The book's position or cash balance as a whole.
    case bookBalance

    public var description: String {
        switch self {
        case .statement(let file, let line): return "\(file):\(line)"
        case .fix(let source, let offset): return "\(source)@\(offset)"
        case .book(let fillID): return "fill#\(fillID)"
        case .bookBalance: return "book"
        }
    }
}

/// Business-day arithmetic for ageing: weekends and the given holidays are not business days.
public struct BusinessCalendar: Hashable, Sendable {
    public var holidays: Set<FIXDate>

    public init(holidays: Set<FIXDate> = []) { self.holidays = holidays }

    public func isBusinessDay(_ date: FIXDate) -> Bool {
        date.weekday <= 5 && !holidays.contains(date)
    }

    /// Business days after `from` up to and including `to`; zero when `to` is not later.
    /// Bounded by `ageDaysMax` calendar days so a corrupt date cannot make it loop for long.
    public func businessDays(from: FIXDate, to: FIXDate) -> Int {
        let span = to.daysSinceEpoch - from.daysSinceEpoch
        guard span > 0 else { return 0 }
        var count = 0
        var day = from
        for _ in 0..<min(span, BusinessCalendar.ageDaysMax) {
            day = day.adding(days: 1)
            if isBusinessDay(day) { count += 1 }
        }
        return count
    }

    /// Longest span, in calendar days, that ageing counts day by day.
    public static let ageDaysMax = 3660
}
