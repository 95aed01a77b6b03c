import FIXTagValue
import Testing
@testable import TradeBook

@Suite struct ArithmeticTests {
    @Test func exactWhenTheResultFits() {
        #expect(d("0.5").times(d("67234.5")) == d("33617.25"))
        #expect(d("1.10").plus(d("2.205")) == d("3.305"))
        #expect(d("10").minus(d("0.001")) == d("9.999"))
    }

    @Test func productBeyondEighteenDigitsRoundsItsLastFractionDigits() {
        // 0.12345678 × 67234.12345678 = 8300.5083880965279684 exactly (20 digits).
        let product = d("0.12345678").times(d("67234.12345678"))
        #expect(product == FIXDecimal(mantissa: 8_300_508_388_096_527_968, exponent: -15))
        // Twice that needs one digit fewer: …055936 rounds to …05594.
        #expect(product.plus(product) == FIXDecimal(mantissa: 1_660_101_677_619_305_594, exponent: -14))
    }

    @Test func sumsOfFarApartValuesKeepTheLargeOne() {
        let big = FIXDecimal(mantissa: Int64.max, exponent: -7)  // 922337203685.4775807
        let tiny = FIXDecimal(mantissa: 5, exponent: -18)
        #expect(big.plus(tiny) == big)
        // …4775807 + 0.00000005 = …47758075: at 7 digits it rounds past Int64, so 6 digits.
        #expect(big.plus(d("0.00000005")) == d("922337203685.477581"))
    }

    @Test func proportionWithVeryFineInputsStaysInRange() {
        let fine = FIXDecimal(mantissa: 123_456_789_012_345_678, exponent: -36)
        let share = AverageCost.proportion(fine, part: d("1"), of: d("3"), scale: 8)
        #expect(share == .zero)
        let total = d("1234567890.12345678")
        #expect(AverageCost.proportion(total, part: d("0.000000000000000001"), of: d("0.000000000000000001"),
                                       scale: 8) == total)
    }

    /// High-precision crypto fills accumulate into cash, cost basis and P&L without trapping.
    @Test func manyHighPrecisionFillsBookWithoutOverflow() {
        var h = Harness()
        var b = ReportBuilder()
        b.symbol = "BTC-USD"
        h.apply(b.new("A", qty: "100000"))
        var cum = FIXDecimal.zero
        for i in 0..<400 {
            let qty = FIXDecimal(mantissa: 12_345_678 + Int64(i), exponent: -8)
            cum = cum + qty
            let events = h.apply(b.fill("A", qty: qty.description, px: "67234.12345678", cum: cum.description,
                                        orderQty: "100000"))
            #expect(events.exceptions.isEmpty)
        }
        b.side = "2"
        h.apply(b.new("S", qty: "100000"))
        let sold = h.apply(b.fill("S", qty: "10.12345678", px: "70001.87654321", cum: "10.12345678",
                                  orderQty: "100000"))
        #expect(sold.exceptions.isEmpty)
        let position = h.book.position(clientAccount: "C1", instrument: "BTC-USD")!
        #expect(position.quantity == cum - d("10.12345678"))
        #expect(position.averageCost.exponent >= -8)
        // P&L ≈ 10.12345678 × (70001.87654321 − 67234.12345678) ≈ 28019.7
        #expect(position.realisedPnL > d("28019") && position.realisedPnL < d("28021"))
        let cash = h.book.cash(clientAccount: "C1", currency: "USD")!
        #expect(cash < d("-2600000") && cash > d("-2700000"))
    }
}
