import FIXTagValue
import Testing

/// `adding`, `multiplied(by:)`, `==` and `<` against an exact reference in 128-bit arithmetic,
/// over a grid of mantissas and exponents that covers equal and unequal exponents, zeros,
/// both signs, the 64-bit extremes and the 8-bit exponent bounds: the shortcuts taken for equal
/// exponents, zeros and 64-bit products must give exactly the general result (same mantissa
/// and exponent, or nil where the exact value does not fit).
@Suite struct DecimalArithmeticTests {
    static let mantissas: [Int64] = [
        0, 1, -1, 7, -7, 10, -10, 100, 123_456_789, -987_654_321, 4_294_967_296, -4_294_967_297,
        Int64.max / 10, Int64.min / 10, Int64.max - 1, Int64.max, Int64.min + 1, Int64.min,
        3_037_000_499, 3_037_000_500, -3_037_000_500,
    ]
    static let exponents: [Int8] = [-128, -127, -64, -20, -18, -8, -2, -1, 0, 1, 2, 19, 64, 126, 127]
    static let values: [FIXDecimal] = mantissas.flatMap { m in exponents.map { FIXDecimal(mantissa: m, exponent: $0) } }

    static func power(_ n: Int) -> Int128 {
        var r: Int128 = 1
        for _ in 0..<n { r *= 10 }
        return r
    }

    /// Both values at the smaller exponent, when the scaled mantissas fit 128 bits.
    static func scaled(_ a: FIXDecimal, _ b: FIXDecimal) -> (Int128, Int128, Int)? {
        let e = min(Int(a.exponent), Int(b.exponent))
        let da = Int(a.exponent) - e
        let db = Int(b.exponent) - e
        guard da <= 19, db <= 19 else { return nil }
        return (Int128(a.mantissa) * power(da), Int128(b.mantissa) * power(db), e)
    }

    /// The exact value as a decimal: trailing zeros dropped only as far as needed to fit.
    static func fit(_ m: Int128, _ e: Int) -> FIXDecimal? {
        var m = m
        var e = e
        while (m > Int128(Int64.max) || m < Int128(Int64.min) || e < -128) && m % 10 == 0 && e < 127 {
            m /= 10
            e += 1
        }
        guard m <= Int128(Int64.max), m >= Int128(Int64.min), e >= -128, e <= 127 else { return nil }
        return FIXDecimal(mantissa: Int64(m), exponent: Int8(e))
    }

    static func same(_ x: FIXDecimal?, _ y: FIXDecimal?) -> Bool {
        switch (x, y) {
        case (nil, nil): return true
        case let (x?, y?): return x.mantissa == y.mantissa && x.exponent == y.exponent
        default: return false
        }
    }

    @Test func powersOfTenCoverTheWholeRange() {
        for n in 0...38 { #expect(FIXDecimal.powerOfTen(n) == Self.power(n), "10^\(n)") }
    }

    @Test func sumsAreExactOrNil() {
        var checked = 0
        for a in Self.values {
            for b in Self.values {
                guard let (x, y, e) = Self.scaled(a, b) else { continue }
                let expected = Self.fit(x + y, e)
                let got = a.adding(b)
                #expect(Self.same(got, expected), "\(a.mantissa)e\(a.exponent) + \(b.mantissa)e\(b.exponent)")
                checked += 1
            }
        }
        #expect(checked > 30_000)
    }

    @Test func productsAreExactOrNil() {
        for a in Self.values {
            for b in Self.values {
                let expected = Self.fit(Int128(a.mantissa) * Int128(b.mantissa), Int(a.exponent) + Int(b.exponent))
                #expect(Self.same(a.multiplied(by: b), expected), "\(a.mantissa)e\(a.exponent) × \(b.mantissa)e\(b.exponent)")
            }
        }
    }

    @Test func comparisonsFollowTheValues() {
        for a in Self.values {
            for b in Self.values {
                guard let (x, y, _) = Self.scaled(a, b) else {
                    // Far apart: only a zero equals a zero.
                    if a.mantissa == 0 || b.mantissa == 0 {
                        #expect((a == b) == (a.mantissa == b.mantissa))
                        #expect((a < b) == (a.mantissa < b.mantissa))
                    }
                    continue
                }
                #expect((a == b) == (x == y), "\(a.mantissa)e\(a.exponent) == \(b.mantissa)e\(b.exponent)")
                #expect((a < b) == (x < y), "\(a.mantissa)e\(a.exponent) < \(b.mantissa)e\(b.exponent)")
            }
        }
    }
}
