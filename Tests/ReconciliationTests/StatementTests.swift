import FIXTagValue
import Reconciliation
import Testing
import TradeBook

@Suite struct StatementTests {
    @Test func clearingBrokerMappingReadsItsSample() throws {
        let mapping = try Fixture.mapping("clearing-broker-trades.ini")
        let contents = StatementReader.read(try Fixture.fixture("clearing-broker-sample.csv"),
                                            fileName: "clearing-broker-sample.csv", mapping: mapping)
        #expect(contents.trades.count == 2)
        let first = contents.trades[0]
        #expect(first.account == "ACC1")
        #expect(first.instrument == "AAPL")
        #expect(first.side == .buy)
        #expect(first.quantity == 1500)
        #expect(first.price == Fixture.d("191.10"))
        #expect(first.fees == Fixture.d("13.70"))
        #expect(first.tradeDate == Fixture.date)
        #expect(first.settlementDate == Fixture.settle)
        #expect(first.tradeID == "CB-1")
        #expect(first.orderID == "ORD-1")
        #expect(first.origin == .statement(file: "clearing-broker-sample.csv", line: 3))
        #expect(contents.trades[1].side == .sell)
        #expect(contents.trades[1].price == Fixture.d("415.5"))
        // Line 6 has side X, line 7 the 32nd of January.
        #expect(contents.issues.map(\.line) == [6, 7])
        #expect(contents.issues[0].column == 3 && contents.issues[0].field == "side")
        #expect(contents.issues[1].field == "trade_date")
        #expect(contents.issues[1].description.hasPrefix("clearing-broker-sample.csv:7:7: trade_date:"))
        #expect(contents.linesRead == 4)
    }

    @Test func venueMappingReadsItsSampleAndReportsBadLines() throws {
        let mapping = try Fixture.mapping("venue-daily-trades.ini")
        let contents = StatementReader.read(try Fixture.fixture("venue-daily-sample.csv"),
                                            fileName: "venue-daily-sample.csv", mapping: mapping)
        #expect(contents.trades.map(\.execID) == ["X1-1", "X1-2"])
        #expect(contents.trades[1].instrument == "MSFT")
        #expect(contents.trades[1].fees == Fixture.d("0.70"))
        #expect(contents.issues.count == 2)
        #expect(contents.issues[0].line == 4 && contents.issues[0].column == 7 && contents.issues[0].field == "quantity")
        #expect(contents.issues[1].line == 5)
        #expect(contents.issues[1].description.contains("venue-daily-sample.csv:5"))
    }

    @Test func positionMappingReadsColumnsByPosition() throws {
        let mapping = try Fixture.mapping("clearing-broker-positions.ini")
        let contents = StatementReader.read(try Fixture.fixture("clearing-broker-positions-sample.txt"),
                                            fileName: "pos.txt", mapping: mapping)
        #expect(contents.issues.isEmpty)
        #expect(contents.positions.map(\.quantity) == [1300, -300])
        #expect(contents.positions.map(\.instrument) == ["AAPL", "MSFT"])
    }

    @Test func chunkedReadingGivesTheSameRecords() throws {
        let mapping = try Fixture.mapping("venue-daily-trades.ini")
        let bytes = try Fixture.fixture("venue-daily-sample.csv")
        let whole = StatementReader.read(bytes, fileName: "v.csv", mapping: mapping)
        var reader = StatementReader(mapping: mapping, fileName: "v.csv")
        var records: [StatementRecord] = []
        var pending: [UInt8] = []
        for chunk in stride(from: 0, to: bytes.count, by: 7).map({ bytes[$0..<min($0 + 7, bytes.count)] }) {
            pending += chunk
            let used = pending.withUnsafeBytes { reader.read($0, isFinal: false) { records.append($0) } }
            pending.removeFirst(used)
        }
        _ = pending.withUnsafeBytes { reader.read($0, isFinal: true) { records.append($0) } }
        let trades = records.compactMap { if case .trade(let t) = $0 { t } else { nil } }
        #expect(trades == whole.trades)
        #expect(reader.issueCount == whole.issues.count)
    }

    @Test func numbersFollowTheMappingConventions() throws {
        let text = """
        [format]
        delimiter = ;
        decimal_separator = ,
        thousands_separator = .
        negative = both
        side_from_sign = true
        currency = EUR
        [columns]
        account = A
        instrument = I
        quantity = Q
        price = P
        trade_date = D
        """
        let mapping = try StatementMapping(parsing: text, fileName: "m.ini")
        let csv = "A;I;Q;P;D\nX;Y;(1.000,5);2,25;20260105\nX;Y;7-;1;20260105\nX;Y;+3;1.234,5;20260105\n"
        let contents = StatementReader.read(Array(csv.utf8), fileName: "s.csv", mapping: mapping)
        #expect(contents.issues.isEmpty)
        #expect(contents.trades.map(\.side) == [.sell, .sell, .buy])
        #expect(contents.trades.map(\.quantity) == [Fixture.d("1000.5"), 7, 3])
        #expect(contents.trades[2].price == Fixture.d("1234.5"))
        #expect(contents.trades[0].currency == "EUR")
    }

    @Test func missingHeaderColumnIsReportedOnceWithItsLine() throws {
        let mapping = try Fixture.mapping("venue-daily-trades.ini")
        let csv = "TradeDate,Exec,Account\n20260105,E,A\n20260105,E,A\n"
        let contents = StatementReader.read(Array(csv.utf8), fileName: "bad.csv", mapping: mapping)
        #expect(contents.trades.isEmpty)
        #expect(contents.issues.count == 1)
        #expect(contents.issues[0].isHeaderIssue && contents.issues[0].line == 1)
        #expect(contents.linesRead == 2)
    }

    @Test func hostileInputNeverCrashes() throws {
        let mapping = try Fixture.mapping("venue-daily-trades.ini")
        let inputs: [[UInt8]] = [
            [], Array("\n\n\n".utf8), Array("TradeDate\n\"unclosed,".utf8),
            [UInt8](repeating: 0x2c, count: 5000) + [0x0a] + [UInt8](repeating: 0x22, count: 70_000),
            Array("\u{0}\u{ff}\u{fe},,,\r\r\n".utf8),
            Array(("TradeDate,ExecId,OrderId,Account,Symbol,Side,Qty,Price,Currency,SettleDate,Fee\n"
                + "20260105,E,O,A,S,B,99999999999999999999999,1,USD,20260106,1\n").utf8),
        ]
        for bytes in inputs {
            let contents = StatementReader.read(bytes, fileName: "x.csv", mapping: mapping)
            #expect(contents.trades.isEmpty)
        }
    }

    @Test func badMappingsNameTheLine() {
        let cases: [(String, Int)] = [
            ("[format]\ndelimiter = ;;\n", 2),
            ("[format]\n\nkind = bonds\n", 3),
            ("[colums]\n", 1),
            ("[format]\nkind = trades\n[columns]\naccount = A\n", 4),
            ("[sides]\nB = hold\n", 2),
            ("key = value\n", 1),
        ]
        for (text, line) in cases {
            #expect(throws: MappingError.self) { try StatementMapping(parsing: text, fileName: "m.ini") }
            do {
                _ = try StatementMapping(parsing: text, fileName: "m.ini")
            } catch {
                #expect(error.line == line, "\(error)")
                #expect(error.description.hasPrefix("m.ini:"))
            }
        }
    }

    @Test func statementReconcilesAgainstTheBook() throws {
        let mapping = try Fixture.mapping("venue-daily-trades.ini")
        let contents = StatementReader.read(try Fixture.fixture("venue-daily-sample.csv"), fileName: "v.csv",
                                            mapping: mapping)
        let book = [Fixture.book("X1-1", qty: "100", px: "191.10", fees: "0.35"),
                    Fixture.book("X1-2", account: "ACC2", instrument: "MSFT", side: .sell, qty: "200", px: "415.5",
                                 fees: "0.70")]
        let r = Fixture.run(book: book, external: contents.trades)
        #expect(r.breaks.isEmpty)
        #expect(r.statistics.matchedByKey == 2)
    }
}
