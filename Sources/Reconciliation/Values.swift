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
            m *= pow10(exponent)
        } else {
            guard -exponent <= 30 else { return value.mantissa == 0 ? 0 : nil }
            let d = pow10(-exponent)
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

    static func pow10(_ n: Int) -> Int128 {
        n < powers.count ? powers[n] : powers[powers.count - 1] * pow10(n - powers.count + 1)
    }

    private static let smallPowers: [Int64] = [
        1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000,
        10_000_000_000, 100_000_000_000, 1_000_000_000_000, 10_000_000_000_000, 100_000_000_000_000,
    ]

    private static let powers: [Int128] = {
        var table: [Int128] = [1]
        for _ in 1...36 { table.append(table[table.count - 1] * 10) }
        return table
    }()
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
/// `Int32` ids; joins then hash and compare integers. An open-addressing table keyed by the
/// FNV-1a hash of the bytes, checked by string equality, costs one hash and usually one compare.
struct Interner: Sendable {
    private(set) var strings: [String] = []
    /// Each slot holds the hash's high 32 bits and id + 1 (0 = empty), so one load answers
    /// "not here" and strings are compared only when the tags agree.
    private var slots = [UInt64](repeating: 0, count: 1024)

    @inline(__always)
    private static func slotValue(_ h: UInt64, _ id: Int32) -> UInt64 { (h & 0xffff_ffff_0000_0000) | UInt64(id + 1) }

    mutating func intern(_ text: String) -> Int32 {
        let h = FNV1a64.hash(text)
        let tag = h & 0xffff_ffff_0000_0000
        var mask = slots.count - 1
        var i = Int(truncatingIfNeeded: mix64(h)) & mask
        while true {
            let v = slots[i]
            if v == 0 { break }
            if v & 0xffff_ffff_0000_0000 == tag {
                let id = Int32(truncatingIfNeeded: v & 0xffff_ffff) - 1
                if strings[Int(id)] == text { return id }
            }
            i = (i + 1) & mask
        }
        let id = Int32(strings.count)
        strings.append(text)
        slots[i] = Interner.slotValue(h, id)
        if strings.count * 2 > slots.count {
            let old = slots
            slots = [UInt64](repeating: 0, count: slots.count * 2)
            mask = slots.count - 1
            for v in old where v != 0 {
                let id = Int(v & 0xffff_ffff) - 1
                let hash = FNV1a64.hash(strings[id])
                var j = Int(truncatingIfNeeded: mix64(hash)) & mask
                while slots[j] != 0 { j = (j + 1) & mask }
                slots[j] = v
            }
        }
        return id
    }

    func lookup(_ text: String) -> Int32? {
        let h = FNV1a64.hash(text)
        let tag = h & 0xffff_ffff_0000_0000
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: mix64(h)) & mask
        while slots[i] != 0 {
            let v = slots[i]
            if v & 0xffff_ffff_0000_0000 == tag {
                let id = Int32(truncatingIfNeeded: v & 0xffff_ffff) - 1
                if strings[Int(id)] == text { return id }
            }
            i = (i + 1) & mask
        }
        return nil
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
