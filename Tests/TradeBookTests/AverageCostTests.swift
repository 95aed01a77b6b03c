import FIXTagValue
import Testing
@testable import TradeBook

/// One step of a position: a signed fill and the state expected after it.
struct CostStep: Sendable {
    var quantity: String
    var price: String
    var expectQuantity: String
    var expectCost: String
    var expectAverage: String
    var expectRealised: String
}

struct CostScenario: Sendable, CustomTestStringConvertible {
    var name: String
    var steps: [CostStep]
    var testDescription: String { name }
}

@Suite struct AverageCostTests {
    static func step(_ q: String, _ p: String, _ eq: String, _ ec: String, _ ea: String, _ er: String) -> CostStep {
        CostStep(quantity: q, price: p, expectQuantity: eq, expectCost: ec, expectAverage: ea, expectRealised: er)
    }

    static let scenarios: [CostScenario] = [
        CostScenario(name: "adding moves the average, reducing keeps it", steps: [
            step("100", "10", "100", "1000", "10", "0"),
            step("100", "12", "200", "2200", "11", "0"),
            // releases 2200 × 50 / 200 = 550; realised 50 × 15 − 550 = 200
            step("-50", "15", "150", "1650", "11", "200"),
            // closes the rest: releases all 1650; realised 150 × 9 − 1650 = −300
            step("-150", "9", "0", "0", "0", "-100"),
        ]),
        CostScenario(name: "long flips to short and back", steps: [
            step("100", "10", "100", "1000", "10", "0"),
            // closes 100 (realised 200), opens 50 short at 12
            step("-150", "12", "-50", "-600", "12", "200"),
            // covers 50 short (released −600: realised 600 − 550 = 50), opens 30 long at 11
            step("80", "11", "30", "330", "11", "250"),
        ]),
        CostScenario(name: "short partly covered", steps: [
            step("-100", "10", "-100", "-1000", "10", "0"),
            step("-100", "11", "-200", "-2100", "10.5", "0"),
            // releases −2100 × 40 / 200 = −420; realised 420 − 40 × 8 = 100
            step("40", "8", "-160", "-1680", "10.5", "100"),
        ]),
        CostScenario(name: "an inexact share is rounded and the close takes the rest", steps: [
            step("1", "1", "1", "1", "1", "0"),
            step("2", "2", "3", "5", "1.66666667", "0"),
            // releases 5 / 3 = 1.66666667 (8 digits); realised 2 − 1.66666667
            step("-1", "2", "2", "3.33333333", "1.66666667", "0.33333333"),
            // the close releases exactly what is left: total realised = 6 − 5
            step("-2", "2", "0", "0", "0", "1"),
        ]),
        CostScenario(name: "fractional crypto quantities", steps: [
            step("0.5", "67234.5", "0.5", "33617.25", "67234.5", "0"),
            step("0.123456", "67300.25", "0.623456", "41925.869664", "67247.51973515", "0"),
            // releases 41925.869664 × 0.2 / 0.623456 = 13449.50394703 (rounded to 8 digits), so
            // the average of the rest moves by the rounding only, in the last digit
            step("-0.2", "67000", "0.423456", "28476.36571697", "67247.51973516", "-49.50394703"),
        ]),
    ]

    @Test(arguments: scenarios)
    func positionFollowsAverageCost(_ scenario: CostScenario) {
        var cost = AverageCost()
        for (i, s) in scenario.steps.enumerated() {
            cost.apply(signedQuantity: d(s.quantity), price: d(s.price), amountScale: 8)
            #expect(cost.quantity == d(s.expectQuantity), "step \(i)")
            #expect(cost.costBasis == d(s.expectCost), "step \(i): cost \(cost.costBasis)")
            let average = cost.averageCost(scale: 8)
            #expect(average == d(s.expectAverage), "step \(i): average \(average)")
            #expect(cost.realised == d(s.expectRealised), "step \(i): realised \(cost.realised)")
        }
    }

    /// Whenever a position is flat, realised P&L is exactly what was received minus what was
    /// paid: rounding of released cost never leaks. Checked on a deterministic random walk.
    @Test func flatPositionRealisesExactlyCashFlow() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        var cost = AverageCost()
        var flow = FIXDecimal.zero
        var flats = 0
        for _ in 0..<5000 {
            var q = FIXDecimal(mantissa: Int64(next(2000) + 1), exponent: -2)
            if next(2) == 0 { q = -q }
            // Every so often close exactly, so the walk goes flat.
            if next(7) == 0 && cost.quantity != .zero { q = -cost.quantity }
            let p = FIXDecimal(mantissa: Int64(next(100_000) + 1), exponent: -3)
            cost.apply(signedQuantity: q, price: p, amountScale: 8)
            flow -= q * p
            if cost.quantity == .zero {
                flats += 1
                #expect(cost.costBasis == .zero)
                #expect(cost.realised == flow)
            }
        }
        #expect(flats > 100)
    }

    @Test func proportionRoundsHalfAwayFromZero() {
        #expect(AverageCost.proportion(d("1"), part: d("1"), of: d("8"), scale: 2) == d("0.13"))   // 0.125
        #expect(AverageCost.proportion(d("-1"), part: d("1"), of: d("8"), scale: 2) == d("-0.13"))
        #expect(AverageCost.proportion(d("10"), part: d("1"), of: d("3"), scale: 0) == d("3"))
        // A product that does not fit 64 bits, a result that does.
        let big = AverageCost.proportion(d("1234567890.12345678"), part: d("987654.123456"), of: d("987654.123456"),
                                         scale: 8)
        #expect(big == d("1234567890.12345678"))
    }
}
