import FIXTagValue

/// Book arithmetic on `FIXDecimal` that never traps on a report's values.
///
/// `FIXDecimal` keeps a 64-bit mantissa, and its operators trap when an exact result does not
/// fit — right for a programming error, wrong for a book fed by counterparties: 0.12345678 BTC
/// at 67234.12345678 is a product of 20 significant digits, and a cash balance summing such
/// amounts grows past 18 digits at 16 fraction digits. These helpers compute in 128 bits and
/// return the exact result whenever it fits in 18 significant digits (always, for ordinary
/// equity and FX prices and sizes); otherwise they round half away from zero, dropping fraction
/// digits only, as many as needed to fit.
extension FIXDecimal {
    func plus(_ other: FIXDecimal) -> FIXDecimal {
        if let exact = adding(other) { return exact }
        var a = self.normalized
        var b = other.normalized
        // Bring the finer value to at most 30 digits below the coarser, so that both align in
        // 128 bits; what is dropped is far below anything that survives the final fit.
        let coarse = Int(max(a.exponent, b.exponent))
        if Int(a.exponent) < coarse - 30 { a = a.roundedFitting(toExponent: coarse - 30) }
        if Int(b.exponent) < coarse - 30 { b = b.roundedFitting(toExponent: coarse - 30) }
        let e = Int(min(a.exponent, b.exponent))
        let x = Int128(a.mantissa) * FIXDecimal.powerOfTen(Int(a.exponent) - e)
        let y = Int128(b.mantissa) * FIXDecimal.powerOfTen(Int(b.exponent) - e)
        return FIXDecimal.fitting(x + y, exponent: e)
    }

    func minus(_ other: FIXDecimal) -> FIXDecimal { plus(-other) }

    func times(_ other: FIXDecimal) -> FIXDecimal {
        if let exact = multiplied(by: other) { return exact }
        let product = Int128(mantissa) * Int128(other.mantissa)
        return FIXDecimal.fitting(product, exponent: Int(exponent) + Int(other.exponent))
    }

    /// `self` rounded half away from zero to `exponent` when that is coarser; unchanged otherwise.
    func roundedFitting(toExponent target: Int) -> FIXDecimal {
        guard Int(exponent) < target else { return self }
        return FIXDecimal.fitting(Int128(mantissa), exponent: Int(exponent), minimumExponent: target)
    }

    /// The decimal `m × 10^exponent`, rounded half away from zero to the finest exponent (not
    /// below `minimumExponent`) at which the mantissa fits 64 bits. A value whose integer part
    /// alone does not fit is beyond any book (more than 9.2 × 10^18 units): that is a
    /// precondition.
    static func fitting(_ m: Int128, exponent: Int, minimumExponent: Int = Int(Int8.min)) -> FIXDecimal {
        var drop = max(0, minimumExponent - exponent)
        // Fraction digits only: never round away integer digits.
        while drop <= 38 && (exponent + drop <= 0 || drop == 0) {
            let divisor = FIXDecimal.powerOfTen(drop)
            var q = m / divisor
            let r = m % divisor
            if r != 0 && r.magnitude * 2 >= divisor.magnitude { q += m < 0 ? -1 : 1 }
            if q <= Int128(Int64.max) && q >= Int128(Int64.min) && exponent + drop <= Int(Int8.max) {
                return FIXDecimal(mantissa: Int64(q), exponent: Int8(exponent + drop)).normalized
            }
            drop += 1
        }
        preconditionFailure("amount beyond any book: \(m)e\(exponent)")
    }
}
