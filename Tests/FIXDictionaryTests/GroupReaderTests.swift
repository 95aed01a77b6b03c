import FIXDictionary
import FIXTagValue
import FIXTestSupport
import Testing

@Suite struct GroupReaderTests {
    static let report = "8=FIX.4.4|35=8|34=2|49=B|52=\(testTime)|56=C|37=O1|17=E1|150=F|39=2|55=MSFT|54=1|"
        + "453=2|448=BRKR|447=D|452=1|802=2|523=desk|803=4|523=emea|803=10|448=TRDR|447=D|452=12|"
        + "151=0|14=100|6=10.5|136=1|137=1.25|138=USD|139=4|"

    static let tradeCapture = "8=FIX.4.4|35=AE|34=2|49=B|52=\(testTime)|56=C|571=T1|570=N|55=MSFT|32=100|31=10|"
        + "75=20260102|60=\(testTime)|552=2|54=1|37=O1|453=2|448=BUYER|447=D|452=1|448=BT|447=D|452=11|"
        + "1=ACC1|54=2|37=O2|453=1|448=SELLER|447=D|452=1|"

    @Test func iteratesPartiesOfAnExecutionReport() {
        withMessage(Self.report) { view in
            let parties = Array(Dictionaries.fix44.groupEntries(453, in: view))
            #expect(parties.count == 2)
            #expect(parties.map { $0.first(448)?.string } == ["BRKR", "TRDR"])
            #expect(parties.map { $0.first(452)?.int } == [1, 12])
            // The nested sub-IDs belong to the first party only and are not seen at its level.
            #expect(parties[0].first(523) == nil)
            let subIDs = parties[0].groupEntries(802).map { $0.first(523)?.string }
            #expect(subIDs == ["desk", "emea"])
            #expect(Array(parties[1].groupEntries(802)).isEmpty)
            // Every field of an entry, nested ones included, in order.
            #expect(parties[0].fields.map(\.tag) == [448, 447, 452, 802, 523, 803, 523, 803])
            #expect(Dictionaries.fix44.groupEntries(453, in: view).declared == 2)
            let fees = Array(Dictionaries.fix44.groupEntries(136, in: view))
            #expect(fees.count == 1)
            #expect(fees[0].first(137)?.decimal == FIXDecimal("1.25"))
        }
    }

    @Test func entriesPointIntoTheMessage() {
        let bytes = TestMessages.make(Self.report)
        bytes.withUnsafeBytes { raw in
            let view = FIXMessage(unchecked: raw)
            for party in Dictionaries.fix44.groupEntries(453, in: view) {
                let value = party.first(448)!
                // A borrowed view: the value's bytes lie inside the message buffer.
                let start = value.bytes.baseAddress! - raw.baseAddress!
                #expect(start > party.offset && start < raw.count)
                #expect(Array(raw[party.offset..<party.offset + 4]) == Array("448=".utf8))
            }
        }
    }

    @Test func iteratesSidesThenTheirParties() {
        withMessage(Self.tradeCapture) { view in
            let d = Dictionaries.fix44
            var seen: [String] = []
            for side in d.groupEntries(552, in: view) {
                let sideValue = side.first(54)?.string ?? "?"
                for party in side.groupEntries(453) {
                    seen.append("\(sideValue):\(party.first(448)?.string ?? "")")
                }
            }
            #expect(seen == ["1:BUYER", "1:BT", "2:SELLER"])
            #expect(Array(d.groupEntries(552, in: view)).first?.first(1)?.string == "ACC1")
            // 453 is not a top-level group of a TradeCaptureReport: it lives inside NoSides.
            #expect(Array(d.groupEntries(453, in: view)).isEmpty)
            #expect(FIXValidator(dictionary: d).validate(view) == nil)
        }
    }

    @Test func absentGroupHasNoEntries() {
        withMessage("8=FIX.4.4|35=0|34=2|49=B|52=\(testTime)|56=C|") { view in
            #expect(Array(Dictionaries.fix44.groupEntries(453, in: view)).isEmpty)
        }
    }

    @Test func nestedGroupsValidate() {
        let validator = FIXValidator(dictionary: Dictionaries.fix44)
        #expect(withMessage(Self.report) { validator.validate($0) } == nil)
        let badNested = Self.report.replacingOccurrences(of: "802=2|", with: "802=3|")
        let reject = withMessage(badNested) { validator.validate($0) }
        #expect(reject?.reason == .incorrectNumInGroupCount)
        #expect(reject?.refTagID == 802)
        let badSide = Self.tradeCapture.replacingOccurrences(of: "552=2|", with: "552=1|")
        let sideReject = withMessage(badSide) { validator.validate($0) }
        #expect(sideReject?.reason == .incorrectNumInGroupCount)
        #expect(sideReject?.refTagID == 552)
        let innerParties = Self.tradeCapture.replacingOccurrences(of: "453=1|", with: "453=2|")
        #expect(withMessage(innerParties) { validator.validate($0) }?.refTagID == 453)
        let missingSide = Self.tradeCapture.replacingOccurrences(of: "54=2|37=O2|", with: "37=O2|")
        let outOfOrder = withMessage(missingSide) { validator.validate($0) }
        // The second entry starts without its delimiter (Side): 37 repeats within the first.
        #expect(outOfOrder?.reason == .repeatingGroupFieldsOutOfOrder)
        #expect(outOfOrder?.refTagID == 37)
    }
}
