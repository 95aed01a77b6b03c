import FIXTagValue
import FIXTestSupport
import Reconciliation
import Testing
import TradeBook

@Suite struct FIXSourceTests {
    func feed(_ texts: [String], into body: (FIXMessage, SourcePosition) -> Void) {
        for (i, text) in texts.enumerated() {
            let bytes = TestMessages.make(text)
            bytes.withUnsafeBytes { body(FIXMessage(unchecked: $0), SourcePosition(source: "dc.log", offset: Int64(i * 100))) }
        }
    }

    static let header = "8=FIX.4.4|35=8|49=VENUE|56=BROKER|34=1|52=20260105-10:00:00|"

    @Test func dropCopyTradesCorrectionsAndBusts() {
        var reader = DropCopyReader()
        feed([
            Self.header + "797=Y|150=F|39=2|17=X1|37=O1|1=ACC1|55=AAPL|54=1|32=100|31=10.5|15=USD|75=20260105|64=20260106|60=20260105-10:00:00.000|880=M1|",
            Self.header + "797=Y|150=F|39=2|17=X2|37=O2|1=ACC1|55=AAPL|54=2|32=50|31=11|75=20260105|",
            Self.header + "150=F|39=2|17=X3|37=O3|1=ACC1|55=AAPL|54=1|32=5|31=1|75=20260105|",
            Self.header + "797=Y|150=G|39=2|17=X4|19=X1|37=O1|1=ACC1|55=AAPL|54=1|32=90|31=10.5|75=20260105|",
            Self.header + "797=Y|150=H|39=2|17=X5|19=X2|37=O2|1=ACC1|55=AAPL|54=2|32=50|31=11|75=20260105|",
            Self.header + "797=Y|150=H|39=2|17=X6|19=NOPE|1=ACC1|55=AAPL|54=2|32=50|31=11|75=20260105|",
            Self.header + "797=Y|150=F|39=2|17=X7|1=ACC1|54=1|32=5|31=1|75=20260105|",
        ]) { reader.add($0, source: $1) }
        #expect(reader.trades.count == 1)
        let t = reader.trades[0]
        #expect(t.execID == "X1" && t.quantity == 90 && t.tradeID == nil)
        #expect(reader.skipped == 1)
        #expect(reader.issues.map(\.tag) == [19, 55])
        #expect(reader.issues[1].description.hasPrefix("dc.log@600"))
    }

    @Test func tradeCaptureReportGivesOneTradePerSide() {
        var reader = TradeCaptureReader()
        let ae = "8=FIX.4.4|35=AE|49=CCP|56=BROKER|34=2|52=20260105-18:00:00|571=TR1|487=0|17=X1|880=M1|55=AAPL|"
            + "32=100|31=10|75=20260105|64=20260106|60=20260105-10:00:00.000|15=USD|552=2|"
            + "54=1|37=O1|1=ACC1|12=1.5|54=2|37=O9|1=ACC2|"
        let cancel = "8=FIX.4.4|35=AE|49=CCP|56=BROKER|34=3|52=20260105-18:00:00|571=TR2|487=1|572=TR9|"
        feed([ae, cancel]) { reader.add($0, source: $1) }
        #expect(reader.trades.map(\.account) == ["ACC1", "ACC2"])
        #expect(reader.trades.map(\.side) == [.buy, .sell])
        #expect(reader.trades[0].tradeID == "M1" && reader.trades[0].execID == "X1")
        #expect(reader.trades[0].fees == Fixture.d("1.5"))
        #expect(reader.issues.map(\.tag) == [572])
        var second = TradeCaptureReader()
        let realCancel = "8=FIX.4.4|35=AE|49=CCP|56=BROKER|34=3|52=20260105-18:00:00|571=TR2|487=1|572=TR1|"
        feed([ae, realCancel]) { second.add($0, source: $1) }
        #expect(second.trades.isEmpty)
    }

    @Test func positionReportsAndIncompleteSets() {
        var reader = PositionReportReader()
        func ap(_ account: String, _ symbol: String, long: String, short: String) -> String {
            "8=FIX.4.4|35=AP|49=CCP|56=BROKER|34=2|52=20260105-18:00:00|721=R|710=REQ1|727=3|1=\(account)|55=\(symbol)|"
                + "715=20260105|702=2|703=TQ|704=1|705=0|703=FIN|704=\(long)|705=\(short)|"
        }
        feed([ap("ACC1", "AAPL", long: "150", short: "20"), ap("ACC2", "MSFT", long: "0", short: "40")]) {
            reader.add($0, source: $1)
        }
        #expect(reader.positions.map(\.quantity) == [130, -40])
        #expect(reader.incompleteSets.count == 1)
        #expect(reader.incompleteSets[0].isIncompleteSet)
        #expect(reader.incompleteSets[0].description.contains("2 of 3"))
    }

    @Test func bookBuiltFromExecutionReportsReconcilesWithItsDropCopy() {
        var book = TradeBook(configuration: BookConfiguration(accounts: ["ACC1": "ACC1"]))
        var events: [BookEvent] = []
        let er = "8=FIX.4.4|35=8|49=VENUE|56=BROKER|34=1|52=20260105-10:00:00|37=O1|11=C1|17=X1|150=F|39=2|"
            + "1=ACC1|55=AAPL|54=1|38=100|15=USD|32=100|31=10.5|151=0|14=100|6=10.5|60=20260105-10:00:00.000|"
            + "75=20260105|"
        TestMessages.make(er).withUnsafeBytes {
            book.apply(FIXMessage(unchecked: $0), source: SourcePosition(source: "s", offset: 0), into: &events)
        }
        var dropCopy = DropCopyReader()
        feed([er.replacingOccurrences(of: "35=8|", with: "35=8|797=Y|")]) { dropCopy.add($0, source: $1) }
        let trades = BookTrade.all(in: book)
        #expect(trades.count == 1)
        let r = Fixture.run(book: trades, external: dropCopy.trades)
        #expect(r.breaks.isEmpty, "\(r.breaks)")
        #expect(r.statistics.matchedByKey == 1)
    }
}
