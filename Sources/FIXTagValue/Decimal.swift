/// An exact decimal number: `mantissa × 10^exponent`, as FIX prices and quantities are written.
///
/// Parsing keeps the digits as written ("191.10" has mantissa 19110 and exponent -2) so that
/// writing it back gives the same text; equality, ordering and hashing compare values (191.1 ==
/// 191.10). Arithmetic is exact; an overflowing result traps like integer arithmetic.
///
/// ```swift
/// let px = FIXDecimal("191.1")!, qty = FIXDecimal(1800)
/// let notional = px * qty               // 343980.0
/// print(notional.rounded(scale: 2))      // "343980.00"
/// ```
public struct FIXDecimal: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    /// Most significant digits a parsed value may have (Int64 holds 18 without overflow).
    public static let digitsMax = 18
    /// Most fractional digits a parsed value may have; more is not a FIX price or quantity, and
    /// the bound keeps every comparison and product exact in 128-bit arithmetic.
    public static let fractionDigitsMax = 18

    public var mantissa: Int64
    public var exponent: Int8

    @inlinable
    public init(mantissa: Int64, exponent: Int8) {
        self.mantissa = mantissa
        self.exponent = exponent
    }

    @inlinable
    public init(_ value: Int) {
        self.init(mantissa: Int64(value), exponent: 0)
    }

    public init(integerLiteral value: Int64) {
        self.init(mantissa: value, exponent: 0)
    }

    public static let zero = FIXDecimal(mantissa: 0, exponent: 0)

    /// Parses FIX float text: optional '-', digits with at most one '.', at least one digit.
    @inlinable
    public init?(ascii bytes: UnsafeRawBufferPointer) {
        let n = bytes.count
        guard n > 0, let p = bytes.baseAddress else { return nil }
        var i = 0
        let negative = p.load(as: UInt8.self) == ASCII.minus
        if negative { i = 1 }
        var mantissa: Int64 = 0
        var digits = 0
        var significant = 0
        var fraction = -1
        while i < n {
            let c = p.load(fromByteOffset: i, as: UInt8.self)
            let d = c &- ASCII.zero
            if d <= 9 {
                if significant > 0 || d != 0 { significant += 1 }
                if significant > FIXDecimal.digitsMax { return nil }
                mantissa = mantissa &* 10 &+ Int64(d)
                digits += 1
                if fraction >= 0 { fraction += 1 }
            } else if c == ASCII.dot && fraction < 0 {
                fraction = 0
            } else {
                return nil
            }
            i += 1
        }
        guard digits > 0, fraction <= FIXDecimal.fractionDigitsMax else { return nil }
        self.mantissa = negative ? -mantissa : mantissa
        self.exponent = Int8(-max(fraction, 0))
    }

    /// Parses FIX float text from a String.
    public init?(_ text: String) {
        var text = text
        let parsed = text.withUTF8 { FIXDecimal(ascii: UnsafeRawBufferPointer($0)) }
        guard let parsed else { return nil }
        self = parsed
    }

    /// The value with trailing fractional zeros removed (exponent raised as far as exact).
    public var normalized: FIXDecimal {
        var m = mantissa
        var e = exponent
        if m == 0 { return FIXDecimal(mantissa: 0, exponent: 0) }
        while e < 0 && m % 10 == 0 {
            m /= 10
            e += 1
        }
        return FIXDecimal(mantissa: m, exponent: e)
    }

    /// Both mantissas brought to the smaller exponent, widened; nil when that cannot be exact
    /// in 128 bits (the exponents are more than 19 apart even after trailing zeros are dropped).
    @usableFromInline
    static func aligned(_ a: FIXDecimal, _ b: FIXDecimal) -> (Int128, Int128, Int8)? {
        // The common case (quantities with quantities, prices of one instrument): nothing to scale.
        if a.exponent == b.exponent { return (Int128(a.mantissa), Int128(b.mantissa), a.exponent) }
        var a = a
        var b = b
        if abs(Int(a.exponent) - Int(b.exponent)) > 19 {
            a = a.normalized
            b = b.normalized
            if a.mantissa == 0 { a.exponent = b.exponent }
            if b.mantissa == 0 { b.exponent = a.exponent }
            if abs(Int(a.exponent) - Int(b.exponent)) > 19 { return nil }
        }
        let e = min(a.exponent, b.exponent)
        return (Int128(a.mantissa) * powerOfTen(Int(a.exponent) - Int(e)),
                Int128(b.mantissa) * powerOfTen(Int(b.exponent) - Int(e)), e)
    }

    /// Orders two values whose exponents are far apart: the one with the larger exponent has
    /// the larger magnitude (its mantissa is non-zero and the other's has at most 19 digits).
    static func farApartLess(_ a: FIXDecimal, _ b: FIXDecimal) -> Bool {
        let a = a.normalized
        let b = b.normalized
        if a.exponent > b.exponent { return a.mantissa < 0 } else { return b.mantissa > 0 }
    }

    /// 10^n in 128 bits, for 0 ≤ n ≤ 38 (outside that range is a programming error).
    public static func powerOfTen(_ n: Int) -> Int128 {
        precondition(n >= 0 && n <= 38, "decimal exponent difference out of range")
        if n <= 18 {
            // 10^18 fits 64 bits: multiply there, widen once.
            var r: Int64 = 1
            for _ in 0..<n { r &*= 10 }
            return Int128(r)
        }
        var r: Int128 = 1
        for _ in 0..<n { r *= 10 }
        return r
    }

    /// Makes a decimal from a wide mantissa, dropping trailing zeros until it fits in Int64.
    @usableFromInline
    static func narrowed(_ m: Int128, _ e: Int) -> FIXDecimal {
        var m = m
        var e = e
        while (m > Int128(Int64.max) || m < Int128(Int64.min) || e < Int(Int8.min)) && m % 10 == 0 && e < Int(Int8.max) {
            m /= 10
            e += 1
        }
        precondition(m <= Int128(Int64.max) && m >= Int128(Int64.min) && e >= Int(Int8.min),
                     "FIXDecimal overflow")
        return FIXDecimal(mantissa: Int64(m), exponent: Int8(e))
    }

    public static func == (a: FIXDecimal, b: FIXDecimal) -> Bool {
        // Same exponent, or a zero on either side: the mantissas decide.
        if a.exponent == b.exponent || a.mantissa == 0 || b.mantissa == 0 { return a.mantissa == b.mantissa }
        guard let (x, y, _) = aligned(a, b) else { return false }
        return x == y
    }

    public static func < (a: FIXDecimal, b: FIXDecimal) -> Bool {
        // Same exponent, or a zero on either side (then the other's sign decides).
        if a.exponent == b.exponent || a.mantissa == 0 || b.mantissa == 0 { return a.mantissa < b.mantissa }
        guard let (x, y, _) = aligned(a, b) else { return farApartLess(a, b) }
        return x < y
    }

    public func hash(into hasher: inout Hasher) {
        let n = normalized
        hasher.combine(n.mantissa)
        hasher.combine(n.exponent)
    }

    public static func + (a: FIXDecimal, b: FIXDecimal) -> FIXDecimal {
        guard let sum = a.adding(b) else { preconditionFailure("FIXDecimal overflow: \(a) + \(b)") }
        return sum
    }

    public static func - (a: FIXDecimal, b: FIXDecimal) -> FIXDecimal {
        guard let difference = a.adding(-b) else { preconditionFailure("FIXDecimal overflow: \(a) - \(b)") }
        return difference
    }

    public static func * (a: FIXDecimal, b: FIXDecimal) -> FIXDecimal {
        guard let product = a.multiplied(by: b) else { preconditionFailure("FIXDecimal overflow: \(a) * \(b)") }
        return product
    }

    /// `self + other`, or nil when the exact result does not fit (for values from outside input,
    /// where overflow is a bad message, not a programming error).
    public func adding(_ other: FIXDecimal) -> FIXDecimal? {
        // Same exponent and no overflow: the exact sum as it is (what the general path gives).
        if exponent == other.exponent {
            let (sum, overflow) = mantissa.addingReportingOverflow(other.mantissa)
            if !overflow { return FIXDecimal(mantissa: sum, exponent: exponent) }
        }
        guard let (x, y, e) = FIXDecimal.aligned(self, other) else { return nil }
        return FIXDecimal.narrowedOrNil(x + y, Int(e))
    }

    /// `self * other`, or nil when the exact result does not fit.
    public func multiplied(by other: FIXDecimal) -> FIXDecimal? {
        // A product that fits 64 bits at an exponent that fits 8 is exact as it is.
        let (product, overflow) = mantissa.multipliedReportingOverflow(by: other.mantissa)
        let e = Int(exponent) + Int(other.exponent)
        if !overflow && e >= Int(Int8.min) && e <= Int(Int8.max) {
            return FIXDecimal(mantissa: product, exponent: Int8(e))
        }
        return FIXDecimal.narrowedOrNil(Int128(mantissa) * Int128(other.mantissa), e)
    }

    static func narrowedOrNil(_ m: Int128, _ e: Int) -> FIXDecimal? {
        var m = m
        var e = e
        while (m > Int128(Int64.max) || m < Int128(Int64.min) || e < Int(Int8.min)) && m % 10 == 0 && e < Int(Int8.max) {
            m /= 10
            e += 1
        }
        guard m <= Int128(Int64.max) && m >= Int128(Int64.min) && e >= Int(Int8.min) && e <= Int(Int8.max) else { return nil }
        return FIXDecimal(mantissa: Int64(m), exponent: Int8(e))
    }

    public static prefix func - (a: FIXDecimal) -> FIXDecimal {
        FIXDecimal(mantissa: -a.mantissa, exponent: a.exponent)
    }

    public static func += (a: inout FIXDecimal, b: FIXDecimal) { a = a + b }
    public static func -= (a: inout FIXDecimal, b: FIXDecimal) { a = a - b }

    /// `self / other` rounded half away from zero to `scale` fractional digits; nil when dividing
    /// by zero.
    public func divided(by other: FIXDecimal, scale: Int) -> FIXDecimal? {
        guard other.mantissa != 0 else { return nil }
        // self / other = (m1 / m2) * 10^(e1 - e2); want an integer q with q * 10^-scale.
        let shift = Int(exponent) - Int(other.exponent) + scale
        var numerator = Int128(mantissa)
        var denominator = Int128(other.mantissa)
        if shift >= 0 { numerator *= FIXDecimal.powerOfTen(shift) } else { denominator *= FIXDecimal.powerOfTen(-shift) }
        var q = numerator / denominator
        let r = numerator % denominator
        if r != 0 && (r.magnitude * 2 >= denominator.magnitude) { q += (numerator < 0) != (denominator < 0) ? -1 : 1 }
        return FIXDecimal.narrowed(q, -scale)
    }

    /// The value rounded half away from zero to `scale` fractional digits (or padded with zeros).
    public func rounded(scale: Int) -> FIXDecimal {
        let target = -scale
        if Int(exponent) >= target {
            return FIXDecimal.narrowed(Int128(mantissa) * FIXDecimal.powerOfTen(Int(exponent) - target), target)
        }
        if target - Int(exponent) > 38 { return FIXDecimal(mantissa: 0, exponent: Int8(clamping: target)) }
        let divisor = FIXDecimal.powerOfTen(target - Int(exponent))
        var q = Int128(mantissa) / divisor
        let r = Int128(mantissa) % divisor
        if r.magnitude * 2 >= divisor.magnitude { q += mantissa < 0 ? -1 : 1 }
        return FIXDecimal.narrowed(q, target)
    }

    /// FIX text: digits with the fractional part as held ("191.10" stays "191.10").
    public var description: String {
        var text: [UInt8] = []
        text.reserveCapacity(24)
        appendText(to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// Appends the FIX text of the value (what `description` returns) to `out` without making
    /// a `String`: a store writing thousands of rows formats its decimals straight into a row
    /// buffer.
    public func appendText(to out: inout [UInt8]) {
        if mantissa < 0 { out.append(UInt8(ascii: "-")) }
        let start = out.count
        var magnitude = mantissa.magnitude
        let fraction = exponent < 0 ? Int(-exponent) : 0
        // Least significant digit first, the point after `fraction` digits and at least one
        // digit before it; then the run is reversed in place.
        var emitted = 0
        repeat {
            if fraction > 0 && emitted == fraction { out.append(UInt8(ascii: ".")) }
            out.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10))
            magnitude /= 10
            emitted += 1
        } while magnitude > 0 || emitted <= fraction
        out[start...].reverse()
        if exponent > 0 { out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: Int(exponent))) }
    }
}
