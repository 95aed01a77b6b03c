import FIXTagValue
import Reconciliation
import Testing
import TradeBook

/// Pass 1 groups keys by their top bits before joining; these runs are large enough to use
/// several groups, so a key whose two records landed in different groups would show up here as
/// a break that should not exist.
@Suite struct PartitionedKeyPassTests {
    @Test func largeDayUsesSeveralGroupsAndFindsExactlyTheSeededBreaks() {
        let n = 40_000
        var book: [BookTrade] = []
        var external: [ExternalTrade] = []
        book.reserveCapacity(n)
        external.reserveCapacity(n)
        for i in 0..<n {
            // Each record has its own account, so no aggregate pass can absorb a seeded one.
            let account = "A\(i)"
            let exec = "E\(i)"
            book.append(Fixture.book(exec, account: account, qty: "100", fill: i))
            switch i % 1_000 {
            case 1: continue                                                       // missing at venue
            case 2: external.append(Fixture.ext(exec, account: account, qty: "101", line: i + 2))  // quantity
            case 3:                                                                // duplicate line
                external.append(Fixture.ext(exec, account: account, line: i + 2))
                external.append(Fixture.ext(exec, account: account, line: n + i + 2))
            default: external.append(Fixture.ext(exec, account: account, line: i + 2))
            }
        }
        for j in 0..<7 { external.append(Fixture.ext("Y\(j)", account: "B\(j)", line: 3 * n + j)) }  // missing in book
        let result = Fixture.run(book: book, external: external)
        var byCode: [Int: Int] = [:]
        for b in result.breaks { byCode[b.code.number, default: 0] += 1 }
        #expect(byCode == [1: 40, 2: 7, 3: 40, 8: 40])
        #expect(result.statistics.matchedByKey == n - 40)
        // Each duplicate names the first line, which stayed in the run, then the repeat.
        for b in result.breaks where b.code == .duplicate {
            let lines = b.external.map { origin -> Int in
                if case .statement(_, let line) = origin.origin { return line }
                return -1
            }
            #expect(lines.count == 2 && lines[1] == lines[0] + n && (lines[0] - 2) % 1_000 == 3)
        }
    }

    @Test func bookDuplicatesAreSetAsideAndTheFirstFillStillMatches() {
        let result = Fixture.run(book: [Fixture.book("E1", fill: 1), Fixture.book("E1", fill: 2)],
                                 external: [Fixture.ext("E1")])
        #expect(result.breaks.map(\.code) == [.duplicate])
        #expect(result.breaks.first?.book.map(\.origin) == [.book(fillID: 1), .book(fillID: 2)])
        #expect(result.statistics.matchedByKey == 1)
    }

    @Test func execIDsPairBeforeTradeIDs() {
        // The first line's ExecID finds nothing and its trade id names E1; the second line's
        // ExecID is E1. ExecIDs have the first turn, so E1 pairs with the second line.
        let result = Fixture.run(book: [Fixture.book("E1")],
                                 external: [Fixture.ext("Z1", trade: "E1", account: "ACC2", line: 2),
                                            Fixture.ext("E1", line: 3)])
        #expect(result.statistics.matchedByKey == 1)
        #expect(result.breaks.map(\.code) == [.missingInBook])
        #expect(result.breaks.first?.external.first?.key == "Z1")
    }

    @Test func tradeIDMatchesWhenTheLineHasNoExecID() {
        let result = Fixture.run(book: [Fixture.book("T-77", qty: "100")],
                                 external: [Fixture.ext(nil, trade: "T-77", qty: "90")])
        #expect(result.statistics.matchedByKey == 1)
        #expect(result.breaks.map(\.code) == [.quantity])
    }

    @Test func accountsSharingTheirFirstSixteenBytesStayApart() {
        // Interned names are compared inside the table up to 16 bytes, beyond that as text.
        let a = "CLIENT-ACCOUNT-0001-A", b = "CLIENT-ACCOUNT-0001-B"
        let result = Fixture.run(book: [Fixture.book("E1", account: a), Fixture.book("E2", account: b, qty: "7")],
                                 external: [Fixture.ext("V1", account: a), Fixture.ext("V2", account: a, qty: "7")])
        #expect(result.statistics.matchedByAttributes == 1)
        #expect(result.breaks.map(\.code) == [.missingAtVenue, .missingInBook])
        #expect(result.breaks.first?.account == b)
        // 2,000 short and long names: each keeps its own id through the table's growth.
        var book: [BookTrade] = []
        var external: [ExternalTrade] = []
        for i in 0..<2_000 {
            let name = i % 2 == 0 ? "A\(i)" : "LONG-ACCOUNT-NAME-\(i)"
            book.append(Fixture.book("B\(i)", account: name))
            external.append(Fixture.ext("S\(i)", account: name))
        }
        let many = Fixture.run(book: book, external: external)
        #expect(many.breaks.isEmpty)
        #expect(many.statistics.matchedByAttributes == 2_000)
    }
}
