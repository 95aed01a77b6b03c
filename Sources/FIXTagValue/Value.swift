/// A borrowed view of one field value, with typed reads on demand.
///
/// Typed reads return nil when the bytes are not of that type; the value is never converted
/// through `Double`, so prices and quantities stay exact.
///
/// ```swift
/// if let px = field.value.decimal, let qty = view.first(32)?.decimal { notional = px * qty }
/// let side = field.value.char           // UInt8("1")
/// let time = view.first(60)?.timestamp  // FIXTimestamp with its precision
/// ```
public struct FIXValue: @unchecked Sendable {
    @usableFromInline let base: UnsafeRawPointer
    /// Number of bytes in the value.
    public let count: Int

    @inlinable
    init(base: UnsafeRawPointer, count: Int) {
        self.base = base
        self.count = count
    }

    /// The raw bytes.
    @inlinable
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// The byte at `index`, or nil when out of range.
    @inlinable
    public func byte(at index: Int) -> UInt8? {
        index >= 0 && index < count ? base.load(fromByteOffset: index, as: UInt8.self) : nil
    }

    /// The value as a String (UTF-8, invalid sequences repaired). Allocates: use at the edges.
    public var string: String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// True when the value's bytes equal `text`'s UTF-8 bytes.
    @inlinable
    public func equals(_ text: StaticString) -> Bool {
        guard text.utf8CodeUnitCount == count else { return false }
        let other = text.utf8Start
        for i in 0..<count where base.load(fromByteOffset: i, as: UInt8.self) != other[i] { return false }
        return true
    }

    /// True when the value's bytes equal `bytes`.
    @inlinable
    public func equals<C: Collection>(_ other: C) -> Bool where C.Element == UInt8 {
        guard other.count == count else { return false }
        var i = 0
        for b in other {
            if base.load(fromByteOffset: i, as: UInt8.self) != b { return false }
            i += 1
        }
        return true
    }

    /// A one-byte value (FIX `char`), or nil.
    @inlinable
    public var char: UInt8? { count == 1 ? base.load(as: UInt8.self) : nil }

    /// A FIX Boolean: "Y" or "N".
    @inlinable
    public var bool: Bool? {
        guard count == 1 else { return nil }
        switch base.load(as: UInt8.self) {
        case 0x59: return true
        case 0x4E: return false
        default: return nil
        }
    }

    /// A FIX int (optional leading '-', digits), nil on any other byte or on overflow.
    @inlinable
    public var int: Int? {
        FIXValue.parseInt(base, count)
    }

    @inlinable
    static func parseInt(_ p: UnsafeRawPointer, _ count: Int) -> Int? {
        guard count > 0 else { return nil }
        var i = 0
        let negative = p.load(as: UInt8.self) == ASCII.minus
        if negative { i = 1 }
        guard i < count else { return nil }
        var result = 0
        while i < count {
            let digit = p.load(fromByteOffset: i, as: UInt8.self) &- ASCII.zero
            guard digit <= 9 else { return nil }
            let (times10, o1) = result.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(digit))
            guard !o1 && !o2 else { return nil }
            result = sum
            i += 1
        }
        return negative ? -result : result
    }

    /// A FIX float, Price, Qty, Amt or Percentage as an exact decimal.
    @inlinable
    public var decimal: FIXDecimal? { FIXDecimal(ascii: bytes) }

    /// A UTCTimestamp: `YYYYMMDD-HH:MM:SS` with optional `.sss`, `.ssssss` or `.sssssssss`.
    public var timestamp: FIXTimestamp? { FIXTimestamp(ascii: bytes) }

    /// A UTCDateOnly or LocalMktDate: `YYYYMMDD`.
    public var date: FIXDate? { FIXDate(ascii: bytes) }

    /// A UTCTimeOnly or TZTimeOnly without zone: `HH:MM[:SS[.sss…]]`.
    public var timeOnly: FIXTimeOnly? { FIXTimeOnly(ascii: bytes) }

    /// A MonthYear: `YYYYMM`, `YYYYMMDD` or `YYYYMMwN`.
    public var monthYear: FIXMonthYear? { FIXMonthYear(ascii: bytes) }
}
