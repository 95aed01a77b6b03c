import FIXTagValue
import Reconciliation
import Testing
import TradeBook

@Suite struct ToleranceTests {
    @Test func priceExactlyAtAbsoluteToleranceMatches() {
        let r = Fixture.run(book: [Fixture.book("B1", px: "100.00")], external: [Fixture.ext(nil, px: "100.01")]) {
            $0.price = Tolerance(absolute: Fixture.d("0.01"))
        }
        #expect(r.breaks.isEmpty)
        #expect(r.statistics.matchedByAttributes == 1)
    }

    @Test func priceJustOverAbsoluteToleranceBreaks() {
        let r = Fixture.run(book: [Fixture.book("B1", px: "100.00")], external: [Fixture.ext(nil, px: "100.010001")]) {
            $0.price = Tolerance(absolute: Fixture.d("0.01"))
        }
        #expect(r.breaks.map(\.code) == [.price])
        #expect(r.statistics.matchedByAttributes == 0)
    }

    @Test func quantityExactlyAtRelativeToleranceMatches() {
        // |100 - 99| = 1 = 1% of 100.
        let r = Fixture.run(book: [Fixture.book("B1", qty: "99")], external: [Fixture.ext("B1", qty: "100")]) {
            $0.quantity = Tolerance(relative: Fixture.d("0.01"))
        }
        #expect(r.breaks.isEmpty)
    }

    @Test func quantityJustOverRelativeToleranceBreaks() {
        let r = Fixture.run(book: [Fixture.book("B1", qty: "98.99")], external: [Fixture.ext("B1", qty: "100")]) {
            $0.quantity = Tolerance(relative: Fixture.d("0.01"))
        }
        #expect(r.breaks.map(\.code) == [.quantity])
    }

    @Test func feesAtAmountToleranceMatchAndJustOverBreak() {
        let at = Fixture.run(book: [Fixture.book("B1", fees: "1.00")], external: [Fixture.ext("B1", fees: "1.05")]) {
            $0.amount = Tolerance(absolute: Fixture.d("0.05"))
        }
        #expect(at.breaks.isEmpty)
        let over = Fixture.run(book: [Fixture.book("B1", fees: "1.00")], external: [Fixture.ext("B1", fees: "1.06")]) {
            $0.amount = Tolerance(absolute: Fixture.d("0.05"))
        }
        #expect(over.breaks.map(\.code) == [.fees])
    }

    @Test func timeWindowEdgeDecidesTheAttributePass() {
        let t0 = Fixture.time("20260105-10:00:00.000")
        let at = Fixture.time("20260105-10:01:00.000")
        let over = Fixture.time("20260105-10:01:00.001")
        let inside = Fixture.run(book: [Fixture.book("B1", time: t0)], external: [Fixture.ext(nil, time: at)]) {
            $0.timeWindowSeconds = 60
        }
        #expect(inside.statistics.matchedByAttributes == 1)
        let outside = Fixture.run(book: [Fixture.book("B1", time: t0)], external: [Fixture.ext(nil, time: over)]) {
            $0.timeWindowSeconds = 60
        }
        #expect(outside.statistics.matchedByAttributes == 0)
        // The day aggregate still pairs them, with no difference to report.
        #expect(outside.breaks.isEmpty)
    }

    @Test func attributePassRespectsSideAndInstrument() {
        let r = Fixture.run(book: [Fixture.book("B1", side: .sell)], external: [Fixture.ext(nil, instrument: "MSFT")])
        #expect(r.breaks.map(\.code).sorted() == [.missingAtVenue, .missingInBook])
    }
}

@Suite struct AggregationTests {
    @Test func fillsOfAnOrderMatchOneStatementLineAtTheirAveragePrice() {
        let book = [Fixture.book("B1", qty: "100", px: "10", order: "O-1"),
                    Fixture.book("B2", qty: "200", px: "11", order: "O-1"),
                    Fixture.book("B3", qty: "100", px: "12", order: "O-1")]
        let r = Fixture.run(book: book, external: [Fixture.ext(nil, qty: "400", px: "11", order: "O-1")])
        #expect(r.breaks.isEmpty)
        #expect(r.statistics.matchedByAggregation == 4)
    }

    @Test func accountInstrumentSideDayAggregateMatchesBlockAgainstAllocations() {
        let book = [Fixture.book("B1", qty: "60", px: "10", order: "A"),
                    Fixture.book("B2", qty: "40", px: "10", order: "B")]
        let external = [Fixture.ext(nil, qty: "30", px: "10"), Fixture.ext(nil, qty: "70", px: "10")]
        let r = Fixture.run(book: book, external: external)
        #expect(r.breaks.isEmpty)
        #expect(r.statistics.matchedByAggregation == 4)
    }

    @Test func aggregateWithShortQuantityBreaksListingEveryRecord() {
        let book = [Fixture.book("B1", qty: "100", order: "O-1"), Fixture.book("B2", qty: "300", order: "O-1")]
        let r = Fixture.run(book: book, external: [Fixture.ext(nil, qty: "390", order: "O-1")])
        #expect(r.breaks.map(\.code) == [.quantity])
        #expect(r.breaks[0].book.map(\.key) == ["B1", "B2"])
        #expect(r.breaks[0].quantityDifference == -10)
    }

    @Test func aggregateAveragePriceOutsideToleranceBreaksOnPrice() {
        let book = [Fixture.book("B1", qty: "100", px: "10", order: "O-1"),
                    Fixture.book("B2", qty: "100", px: "12", order: "O-1")]
        let r = Fixture.run(book: book, external: [Fixture.ext(nil, qty: "200", px: "11.5", order: "O-1")])
        #expect(r.breaks.map(\.code) == [.price])
    }
}

@Suite struct CombiningTests {
    @Test func absorbingGivesTheSameBreaksAsAddingEverythingToOne() {
        let book = (0..<50).map { Fixture.book("E\($0)", account: "ACC\($0 % 7)", instrument: "I\($0 % 5)") }
        var external = (0..<48).map { Fixture.ext("E\($0)", account: "ACC\($0 % 7)", instrument: "I\($0 % 5)") }
        external.append(Fixture.ext("Z1", account: "NEW", qty: "3"))
        external[3].quantity = 99
        let single = Fixture.run(book: book, external: external.reversed())
        let config = ReconciliationConfiguration(businessDate: Fixture.date, sourceName: "XVEN")
        var bookSide = Reconciler(configuration: config)
        var externalSide = Reconciler(configuration: config)
        for b in book { bookSide.add(b) }
        // The outside side interns in another order (and its own source name), so ids are remapped.
        for e in external.reversed() { externalSide.add(e) }
        bookSide.absorb(externalSide)
        let combined = bookSide.run()
        #expect(combined.breaks == single.breaks)
        #expect(combined.breaks.map(\.code) == [.missingAtVenue, .missingAtVenue, .missingInBook, .quantity])
    }

    @Test func rowsSharingABucketWithoutAddingUpStayMissing() {
        let r = Fixture.run(book: [Fixture.book("B1", qty: "100")], external: [Fixture.ext(nil, qty: "40")])
        #expect(r.breaks.map(\.code) == [.missingAtVenue, .missingInBook])
    }
}

@Suite struct ExtremeValueTests {
    @Test func hugeAndTinyValuesNeverTrap() {
        let big = "999999999999999999"
        let book = [Fixture.book("B1", qty: "9000000000000", px: "90000000000", order: "O"),
                    Fixture.book("B2", qty: "9000000000000", px: "90000000000", order: "O"),
                    Fixture.book("B3", side: .sell, qty: "9000000000000", px: "1"),
                    Fixture.book("B4", qty: big, px: big),
                    Fixture.book("B5", qty: "0.0000000001", px: "0.000000000001")]
        let external = [Fixture.ext(nil, qty: "18000000000000", px: "1", order: "O"),
                        Fixture.ext("B3", side: .buy, qty: "9000000000000", px: "90000000000"),
                        Fixture.ext("X", qty: big, px: big, fees: big)]
        let r = Fixture.run(book: book, external: external) {
            $0.quantity = Tolerance(relative: Fixture.d("0.5"))
            $0.price = Tolerance(absolute: Fixture.d(big), relative: Fixture.d("999999999"))
        }
        #expect(!r.breaks.isEmpty)
        _ = BreakReports.csv(r.breaks) + BreakReports.json(r.breaks)
        _ = BreakReports.html(cases: r.breaks.map { BreakCase(break: $0, seenOn: Fixture.date) }, asOf: Fixture.date,
                              title: "extreme")
    }
}

@Suite struct ScaleTests {
    @Test func manyAccountsAndInstrumentsMatchByAttributes() {
        let book = (0..<3000).map { Fixture.book("B\($0)", account: "A\($0)", instrument: "I\($0 % 97)", qty: "\($0 + 1)") }
        let external = (0..<3000).reversed().map {
            Fixture.ext(nil, account: "A\($0)", instrument: "I\($0 % 97)", qty: "\($0 + 1)", line: $0 + 2)
        }
        let r = Fixture.run(book: book, external: external)
        #expect(r.breaks.isEmpty)
        #expect(r.statistics.matchedByAttributes == 3000)
    }

    @Test func timeWindowAppliesOnlyWhenBothSidesHaveATime() {
        let late = Fixture.time("20260105-23:00:00.000")
        let early = Fixture.time("20260105-01:00:00.000")
        // The first book fill has no time; the second has one an hour from its counterpart.
        let book = [Fixture.book("B1"), Fixture.book("B2", instrument: "MSFT", time: early)]
        let external = [Fixture.ext(nil, time: late), Fixture.ext(nil, instrument: "MSFT", time: late)]
        let r = Fixture.run(book: book, external: external) { $0.timeWindowSeconds = 60 }
        #expect(r.statistics.matchedByAttributes == 1)
        #expect(r.breaks.isEmpty)
    }
}
