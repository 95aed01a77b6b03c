import FIXTagValue
import FIXTestSupport
import Testing
@testable import TradeBook

@Suite struct ReportActionTests {
    static func c(_ s: String?) -> UInt8? { s.map { UInt8(ascii: Unicode.Scalar($0)!) } }

    @Test(arguments: [
        // FIX 4.4 / 5.0: ExecType alone
        ("4.4 trade", "F", nil, "1", nil, ReportAction.trade),
        ("4.4 correct", "G", nil, "2", nil, .correct),
        ("4.4 bust", "H", nil, "0", nil, .bust),
        ("4.4 status", "I", nil, "1", nil, .statusOnly),
        ("replace", "5", nil, "0", nil, .replace),
        ("restated", "D", nil, "0", nil, .restate),
        ("new", "0", nil, "0", nil, .transition(.new)),
        ("pending new", "A", nil, "A", nil, .transition(.pendingNew)),
        ("cancelled", "4", nil, "4", nil, .transition(.cancelled)),
        ("expired", "C", nil, "C", nil, .transition(.expired)),
        ("rejected", "8", nil, "8", nil, .transition(.rejected)),
        ("triggered", "L", nil, "0", nil, .transition(.new)),
        // FIX 4.2: ExecTransType decides corrections, busts and status; ExecType 1/2 are fills
        ("4.2 partial", "1", "0", "1", "10", .trade),
        ("4.2 fill", "2", "0", "2", "10", .trade),
        ("4.2 correct", "1", "2", "1", "10", .correct),
        ("4.2 bust", "2", "1", "1", nil, .bust),
        ("4.2 status", "2", "3", "2", nil, .statusOnly),
        ("4.2 new", "0", "0", "0", nil, .transition(.new)),
        // FIX 4.0: no ExecType
        ("4.0 fill", nil, "0", "2", "100", .trade),
        ("4.0 ack", nil, "0", "0", "0", .transition(.new)),
        ("4.0 cancel", nil, "0", "4", nil, .transition(.cancelled)),
        ("4.0 bust", nil, "1", "1", "100", .bust),
    ] as [(String, String?, String?, String?, String?, ReportAction)])
    func classifies(_ name: String, execType: String?, transType: String?, ordStatus: String?, lastQty: String?,
                    expected: ReportAction) {
        let action = ReportAction.classify(execType: Self.c(execType), execTransType: Self.c(transType),
                                           ordStatus: Self.c(ordStatus), lastQty: lastQty.map(d))
        #expect(action == expected, "\(name)")
    }

    @Test func unknownExecTypeIsNotClassified() {
        let z = ReportAction.classify(execType: UInt8(ascii: "Z"), execTransType: nil, ordStatus: nil, lastQty: nil)
        #expect(z == nil)
        #expect(ReportAction.classify(execType: nil, execTransType: nil, ordStatus: nil, lastQty: nil) == nil)
    }

    @Test func fieldsAreReadInOnePassIncludingParties() {
        let bytes = TestMessages.make("8=FIX.4.4|35=8|49=B|56=C|34=1|52=20240315-10:00:00.000|37=O|11=A|"
            + "453=2|448=FIRM|447=D|452=3|448=CUST|447=D|452=24|17=E|150=F|39=1|1=ACC|55=X|54=1|38=10|"
            + "32=1|31=2|14=1|136=2|137=1.5|138=EUR|139=5|137=0.01|139=7|891=1|")
        bytes.withUnsafeBytes { raw in
            let message = FIXMessage(unchecked: raw)
            let fields = ReportFields(message, partyRole: 24)
            #expect(fields.partyAccount?.string == "CUST")
            #expect(fields.account?.string == "ACC")
            #expect(fields.hasMiscFees)
            #expect(!fields.syntaxError)
            let fees = readMiscFees(message)
            #expect(fees.count == 2)
            #expect(fees[0].amount == d("1.5") && fees[0].currency == "EUR")
            #expect(fees[0].type == "5" && fees[0].basis == nil)
            #expect(fees[1].amount == d("0.01") && fees[1].currency == nil && fees[1].basis == 1)
            #expect(ReportFields(message, partyRole: 99).partyAccount == nil)
        }
    }
}
