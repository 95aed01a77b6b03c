import FIXTagValue
import Reconciliation
import Testing
import TradeBook

@Suite struct BreakCodeTests {
    @Test func codesKeepTheirNumbers() {
        let expected: [(BreakCode, Int)] = [
            (.missingAtVenue, 1), (.missingInBook, 2), (.quantity, 3), (.price, 4), (.side, 5), (.fees, 6),
            (.settlementDate, 7), (.duplicate, 8), (.position, 9), (.cash, 10), (.unknownAccount, 11),
        ]
        for (code, number) in expected {
            #expect(code.number == number)
            #expect(BreakCode(number: number) == code)
        }
        #expect(BreakCode.all.map(\.number) == Array(1...11))
        #expect(BreakCode(number: 12) == nil)
    }

    @Test func matchingExecIDWithEqualValuesRaisesNothing() {
        let r = Fixture.run(book: [Fixture.book("E1", fees: "1")], external: [Fixture.ext("E1", fees: "1")])
        #expect(r.breaks.isEmpty)
        #expect(r.statistics.matchedByKey == 1)
    }

    @Test func bookFillNobodyReportsIsMissingAtVenue() {
        let r = Fixture.run(book: [Fixture.book("E1")], external: [])
        #expect(r.breaks.map(\.code) == [.missingAtVenue])
        #expect(r.breaks[0].book.first?.key == "E1")
        #expect(r.breaks[0].quantityDifference == -100)
    }

    @Test func reportedTradeTheBookLacksIsMissingInBook() {
        let r = Fixture.run(book: [], external: [Fixture.ext("E9", line: 7)])
        #expect(r.breaks.map(\.code) == [.missingInBook])
        #expect(r.breaks[0].external.first?.origin == .statement(file: "venue.csv", line: 7))
        #expect(r.breaks[0].amountDifference == 1000)
    }

    @Test func quantityPriceSideFeesAndSettlementDifferencesEachBreak() {
        let other = FIXDate(year: 2026, month: 1, day: 7)!
        let r = Fixture.run(
            book: [Fixture.book("Q"), Fixture.book("P"), Fixture.book("S"), Fixture.book("F", fees: "1"),
                   Fixture.book("D")],
            external: [Fixture.ext("Q", qty: "90"), Fixture.ext("P", px: "10.5"), Fixture.ext("S", side: .sell),
                       Fixture.ext("F", fees: "2"), Fixture.ext("D", settle: other)])
        let codes = Dictionary(grouping: r.breaks, by: { $0.book.first?.key ?? "" }).mapValues { $0.map(\.code) }
        #expect(codes["Q"] == [.quantity])
        #expect(codes["P"] == [.price])
        #expect(codes["S"] == [.side])
        #expect(codes["F"] == [.fees])
        #expect(codes["D"] == [.settlementDate])
        let q = r.breaks.first { $0.code == .quantity }!
        #expect(q.quantityDifference == -10)
        #expect(q.book.count == 1 && q.external.count == 1)
    }

    @Test func sameExecIDTwiceFromOneSourceIsDuplicate() {
        let r = Fixture.run(book: [Fixture.book("E1")],
                            external: [Fixture.ext("E1", line: 2), Fixture.ext("E1", line: 3)])
        #expect(r.breaks.map(\.code) == [.duplicate])
        #expect(r.breaks[0].external.map(\.origin) == [.statement(file: "venue.csv", line: 2),
                                                        .statement(file: "venue.csv", line: 3)])
    }

    @Test func accountsOutsideTheClientListAreUnknown() {
        let r = Fixture.run(book: [Fixture.book("B1", account: nil)],
                            external: [Fixture.ext("E2", account: "STRANGER")]) {
            $0.knownAccounts = ["ACC1"]
        }
        #expect(r.breaks.map(\.code) == [.unknownAccount, .unknownAccount])
        #expect(Set(r.breaks.map { $0.account ?? "-" }) == ["-", "STRANGER"])
    }

    @Test func positionsAndCashDifferencesBreak() {
        var r = Reconciler(configuration: .init(businessDate: Fixture.date, sourceName: "CLR"))
        r.add(bookPosition: Position(clientAccount: "ACC1", instrument: "AAPL", currency: "USD", quantity: 100,
                                     costBasis: 1000, averageCost: 10, realisedPnL: 0))
        r.add(bookPosition: Position(clientAccount: "ACC1", instrument: "MSFT", currency: "USD", quantity: 5,
                                     costBasis: 50, averageCost: 10, realisedPnL: 0))
        r.add(bookPosition: Position(clientAccount: "ACC9", instrument: "MSFT", currency: "USD", quantity: 5,
                                     costBasis: 50, averageCost: 10, realisedPnL: 0))
        r.add(ExternalPosition(origin: .fix(source: "ap.log", offset: 0), account: "ACC1", instrument: "AAPL",
                               quantity: 90))
        r.add(ExternalPosition(origin: .fix(source: "ap.log", offset: 80), account: "ACC1", instrument: "MSFT",
                               quantity: 5))
        r.add(bookCash: CashBalance(clientAccount: "ACC1", currency: "USD", amount: Fixture.d("-1000.00")))
        r.add(ExternalCash(origin: .statement(file: "cash.csv", line: 2), account: "ACC1", currency: "USD",
                           amount: Fixture.d("-1000.01")))
        let result = r.run()
        #expect(result.breaks.map(\.code) == [.position, .cash])
        #expect(result.breaks[0].instrument == "AAPL")
        #expect(result.breaks[0].quantityDifference == -10)
        #expect(result.breaks[1].amountDifference == Fixture.d("-0.01"))
    }

    @Test func bustedFillsCountAsNothingAndCorrectedOnesUseTheirValues() {
        let date = Fixture.date
        let source = SourcePosition(source: "book", offset: 0)
        func fill(_ id: Int, _ state: FillState, qty: FIXDecimal) -> Fill {
            Fill(id: id, session: "S", execID: "E\(id)", orderID: 0, clientAccount: "ACC1", instrument: "AAPL",
                 side: .buy, quantity: qty, price: 10, currency: "USD", commission: 0, commissionCurrency: "USD",
                 fees: [], tradeDate: date, settlementDate: Fixture.settle, transactTime: nil, state: state,
                 source: source)
        }
        #expect(BookTrade(fill: fill(1, .busted(by: "X"), qty: 0), orderID: nil) == nil)
        let corrected = BookTrade(fill: fill(2, .corrected(by: "Y"), qty: 50), orderID: "O")!
        #expect(corrected.quantity == 50)
        let r = Fixture.run(book: [corrected], external: [Fixture.ext("E2", qty: "50")])
        #expect(r.breaks.isEmpty)
    }

    @Test func tradesOfOtherDatesAreSetAside() {
        let other = FIXDate(year: 2026, month: 1, day: 2)!
        let r = Fixture.run(book: [Fixture.book("E1", date: other)], external: [Fixture.ext("E2", date: other)])
        #expect(r.breaks.isEmpty)
        #expect(r.statistics.otherDate == 2)
    }
}
