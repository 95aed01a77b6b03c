import FIXTagValue

/// A position's arithmetic by the average-cost method.
///
/// The state is the signed open quantity `q`, the signed cost basis `C` of that quantity (the
/// sum of quantity × price of what is open, negative for a short) and the realised P&L `R`.
/// A fill of signed quantity `s` at price `p`:
///
/// - **opens or adds** when the position is flat or `s` has the sign of `q`:
///   `q += s`, `C += s × p`; the average cost `C / q` moves towards `p`.
/// - **reduces** when the signs differ: the closed part `c = min(|s|, |q|)` releases the share
///   `C × c / |q|` of the cost basis (rounded half away from zero to `amountScale` digits, and
///   exactly `C` when the whole position closes, so a flat position never keeps a residue);
///   `R += c × p − released` for a long, `R += |released| − c × p` for a short; `C -= released`.
///   The average cost of what stays open does not change, but for the rounding of the released
///   share (a unit in the last of `amountScale` digits of the cost basis).
/// - **flips** when `|s| > |q|`: first the whole position closes as above, then the remainder
///   `s + q` opens a new position at `p`, so the new average cost is exactly `p`.
///
/// Commission and fees are not part of the cost basis: they go to cash, and `R` is gross.
struct AverageCost: Hashable, Sendable {
    var quantity: FIXDecimal = .zero
    var costBasis: FIXDecimal = .zero
    var realised: FIXDecimal = .zero

    mutating func apply(signedQuantity s: FIXDecimal, price p: FIXDecimal, amountScale: Int) {
        if s == .zero { return }
        let buying = s > .zero
        if quantity == .zero || (quantity > .zero) == buying {
            quantity = quantity.plus(s)
            costBasis = costBasis.plus(s.times(p))
            return
        }
        let held = quantity > .zero ? quantity : -quantity
        let size = buying ? s : -s
        let closed = size < held ? size : held
        let released: FIXDecimal
        if closed == held {
            released = costBasis
        } else {
            released = AverageCost.proportion(costBasis, part: closed, of: held, scale: amountScale)
        }
        if quantity > .zero {
            realised = realised.plus(closed.times(p).minus(released))
        } else {
            realised = realised.minus(released).minus(closed.times(p))
        }
        costBasis = costBasis.minus(released)
        quantity = quantity.plus(buying ? closed : -closed)
        if closed == held { costBasis = .zero }
        let remainder = size.minus(closed)
        if remainder > .zero {
            let opened = buying ? remainder : -remainder
            quantity = opened
            costBasis = opened.times(p)
        }
    }

    /// `C / q` rounded, zero when flat.
    func averageCost(scale: Int) -> FIXDecimal {
        guard quantity != .zero else { return .zero }
        return AverageCost.proportion(costBasis, part: 1, of: quantity, scale: scale)
    }

    /// `total × part / whole` rounded half away from zero to `scale` fraction digits, computed
    /// in 128 bits: the product of a cost basis and a quantity often does not fit a
    /// `FIXDecimal` mantissa although the result does.
    static func proportion(_ total: FIXDecimal, part: FIXDecimal, of whole: FIXDecimal, scale: Int) -> FIXDecimal {
        precondition(whole != .zero, "proportion of a zero whole")
        var numerator = Int128(total.mantissa) * Int128(part.mantissa)
        var denominator = Int128(whole.mantissa)
        let shift = Int(total.exponent) + Int(part.exponent) - Int(whole.exponent) + scale
        if shift >= 0 {
            let (scaled, overflow) = numerator.multipliedReportingOverflow(by: FIXDecimal.powerOfTen(shift))
            // Too many digits asked for: one fewer fraction digit until the numerator fits.
            if overflow { return proportion(total, part: part, of: whole, scale: scale - 1) }
            numerator = scaled
        } else if -shift <= 19 {
            denominator *= FIXDecimal.powerOfTen(-shift)
        } else {
            // Far finer inputs than the scale asked for: shed the surplus digits of the
            // numerator first (truncating: they lie more than 19 digits below the result's
            // last), so the denominator stays within 128 bits.
            let surplus = min(-shift - 19, 38)
            numerator /= FIXDecimal.powerOfTen(surplus)
            denominator *= FIXDecimal.powerOfTen(19)
        }
        var q = numerator / denominator
        let r = numerator % denominator
        if r != 0 && r.magnitude * 2 >= denominator.magnitude {
            q += (numerator < 0) != (denominator < 0) ? -1 : 1
        }
        return FIXDecimal.fitting(q, exponent: -scale)
    }
}
