import FIXDictionary
import FIXTagValue
import FIXTestSupport
import Testing

/// One message and the reject QuickFIX answers it with (nil: accepted). Most cases are the
/// malformed messages of the session acceptance definitions (14a–14i, 2q, 2k, 2o, future/14j).
struct RejectCase: CustomTestStringConvertible, Sendable {
    let name: String
    let message: String
    let reason: Int?
    let refTag: Int?
    var testDescription: String { name }
}

private let h44 = "8=FIX.4.4|35=0|34=2|49=TW44|52=\(testTime)|56=ISLD|"
private let nos44 = "8=FIX.4.4|35=D|34=2|49=TW44|52=\(testTime)|56=ISLD|"

let fix44Cases: [RejectCase] = [
    RejectCase(name: "valid heartbeat", message: h44, reason: nil, refTag: nil),
    RejectCase(name: "valid order", message: nos44 + "11=ID|21=1|40=1|54=1|38=002000.00|55=INTC|60=\(testTime)|167=CS|",
               reason: nil, refTag: nil),
    RejectCase(name: "unknown tag 999", message: h44 + "999=HI|", reason: 0, refTag: 999),
    RejectCase(name: "tag 0", message: h44 + "0=HI|", reason: 0, refTag: 0),
    RejectCase(name: "negative tag", message: h44 + "-1=HI|", reason: 0, refTag: -1),
    RejectCase(name: "user-defined tag 5000", message: h44 + "5000=HI|", reason: 0, refTag: 5000),
    RejectCase(name: "required header tag missing", message: "8=FIX.4.4|35=0|34=2|49=TW44|52=\(testTime)|",
               reason: 1, refTag: 56),
    RejectCase(name: "required body tag missing",
               message: "8=FIX.4.4|35=D|49=TW44|34=3|56=ISLD|52=\(testTime)|40=1|60=\(testTime)|54=1|21=3|",
               reason: 1, refTag: 11),
    RejectCase(name: "tag not defined for message type", message: h44 + "55=MSFT|", reason: 2, refTag: 55),
    RejectCase(name: "tag without value", message: "8=FIX.4.4|35=0|34=2|49=TW44|52=\(testTime)|56=|",
               reason: 4, refTag: 56),
    RejectCase(name: "enum value out of range",
               message: nos44 + "11=ID|21=4|40=1|54=1|38=002000.00|55=INTC|60=\(testTime)|", reason: 5, refTag: 21),
    RejectCase(name: "enum value out of range, string enum",
               message: nos44 + "11=ID|21=1|40=1|54=1|38=002000.00|55=INTC|60=\(testTime)|167=BOO|",
               reason: 5, refTag: 167),
    RejectCase(name: "incorrect data format",
               message: nos44 + "11=ID|21=1|40=1|54=1|38=+200.00|55=INTC|60=\(testTime)|", reason: 6, refTag: 38),
    RejectCase(name: "bad timestamp", message: nos44 + "11=ID|21=1|40=1|54=1|55=INTC|60=20261301-00:00:00|",
               reason: 6, refTag: 60),
    RejectCase(name: "header field after body",
               message: "8=FIX.4.4|35=D|11=id|21=3|40=1|54=1|55=MSFT|60=\(testTime)|34=2|49=TW44|52=\(testTime)|56=ISLD|",
               reason: 14, refTag: 34),
    RejectCase(name: "header field after one body field",
               message: "8=FIX.4.4|35=D|55=MSFT|34=3|49=TW44|52=\(testTime)|56=ISLD|11=id|21=3|40=1|54=1|60=\(testTime)|",
               reason: 14, refTag: 34),
    RejectCase(name: "body fields in any order are fine",
               message: "8=FIX.4.4|35=D|49=TW44|34=3|56=ISLD|52=\(testTime)|40=1|55=MSFT|60=\(testTime)|54=1|21=3|11=id|",
               reason: nil, refTag: nil),
    RejectCase(name: "repeated tag",
               message: nos44 + "11=ID|21=1|40=1|40=2|54=1|38=200.00|55=INTC|60=\(testTime)|", reason: 13, refTag: 40),
    RejectCase(name: "group count too high",
               message: nos44 + "11=ID|21=1|40=1|54=1|38=200.00|55=INTC|386=3|336=PRE-OPEN|336=AFTER-HOURS|60=\(testTime)|",
               reason: 16, refTag: 386),
    RejectCase(name: "group count too low",
               message: nos44 + "11=ID|21=1|40=1|54=1|38=200.00|55=INTC|386=1|336=PRE-OPEN|336=AFTER-HOURS|60=\(testTime)|",
               reason: 16, refTag: 386),
    RejectCase(name: "group entry not starting with its delimiter",
               message: nos44 + "11=ID|21=1|40=1|54=1|38=200.00|55=INTC|78=2|80=50|79=acct1|80=150|79=acct2|60=\(testTime)|",
               reason: 15, refTag: 80),
    RejectCase(name: "group members out of order",
               message: nos44 + "11=ID|21=1|40=1|54=1|55=INTC|60=\(testTime)|453=1|448=P1|452=1|447=D|",
               reason: 15, refTag: 447),
    RejectCase(name: "group member repeated in one entry",
               message: nos44 + "11=ID|21=1|40=1|54=1|55=INTC|60=\(testTime)|453=1|448=P1|447=D|447=D|",
               reason: 15, refTag: 447),
    RejectCase(name: "valid parties group",
               message: nos44 + "11=ID|21=1|40=1|54=1|55=INTC|60=\(testTime)|453=2|448=P1|447=D|452=1|448=P2|447=D|452=3|",
               reason: nil, refTag: nil),
    RejectCase(name: "enum checked inside a group",
               message: nos44 + "11=ID|21=1|40=1|54=1|55=INTC|60=\(testTime)|453=1|448=P1|447=#|452=1|",
               reason: 5, refTag: 447),
    RejectCase(name: "invalid MsgType", message: "8=FIX.4.4|35=*|34=2|49=TW44|52=\(testTime)|56=ISLD|",
               reason: 11, refTag: nil),
    RejectCase(name: "required tag beats unknown tag",
               message: nos44 + "999=X|21=1|40=1|54=1|55=INTC|60=\(testTime)|", reason: 1, refTag: 11),
    RejectCase(name: "fields reported in tag order",
               message: nos44 + "11=ID|40=X|21=9|54=1|55=INTC|60=\(testTime)|", reason: 5, refTag: 21),
    RejectCase(name: "field order beats MsgType",
               message: "8=FIX.4.4|35=*|55=X|34=2|49=TW44|52=\(testTime)|56=ISLD|", reason: 14, refTag: 34),
]

@Suite struct ValidatorTests {
    @Test(arguments: fix44Cases)
    func answersLikeQuickFIX(_ testCase: RejectCase) {
        let validator = FIXValidator(dictionary: Dictionaries.fix44)
        let reject = withMessage(testCase.message) { validator.validate($0) }
        #expect(reject?.reason.rawValue == testCase.reason, "\(reject.map { "\($0)" } ?? "accepted")")
        #expect(reject?.refTagID == testCase.refTag)
        if let reject {
            #expect(reject.refSeqNum != nil)
            #expect(!reject.refMsgType.isEmpty)
        }
    }

    @Test func fillsRefMsgTypeSeqNumAndOffset() throws {
        let validator = FIXValidator(dictionary: Dictionaries.fix44)
        let text = nos44 + "11=ID|21=4|40=1|54=1|55=INTC|60=\(testTime)|"
        let reject = try #require(withMessage(text) { validator.validate($0) })
        #expect(reject.refMsgType == "D")
        #expect(reject.refSeqNum == 2)
        let bytes = TestMessages.make(text)
        let offset = try #require(reject.offset)
        #expect(Array(bytes[offset..<offset + 5]) == Array("21=4\u{1}".utf8))
        #expect(reject.reason.text == "Value is incorrect (out of range) for this tag")
    }

    @Test func validatorIsReusableAcrossMessages() {
        let validator = FIXValidator(dictionary: Dictionaries.fix44)
        let bad = nos44 + "11=ID|21=1|40=1|40=2|54=1|55=INTC|60=\(testTime)|"
        let good = nos44 + "11=ID|21=1|40=1|54=1|55=INTC|60=\(testTime)|"
        for _ in 0..<3 {
            #expect(withMessage(bad) { validator.validate($0) }?.reason == .tagAppearsMoreThanOnce)
            #expect(withMessage(good) { validator.validate($0) } == nil)
        }
    }

    // MARK: Session context

    @Test func compIDProblem() {
        let validator = FIXValidator(dictionary: Dictionaries.fix44)
        let context = FIXSessionContext(senderCompID: "TW44", targetCompID: "ISLD", now: testNow)
        let wrongSender = "8=FIX.4.4|35=D|34=2|49=WT|52=\(testTime)|56=ISLD|11=ID|21=3|40=1|54=1|55=INTC|60=\(testTime)|"
        let wrongTarget = "8=FIX.4.4|35=D|34=2|49=TW44|52=\(testTime)|56=DLSI|11=ID|21=3|40=1|54=1|55=INTC|60=\(testTime)|"
        for text in [wrongSender, wrongTarget] {
            let reject = withMessage(text) { validator.validate($0, context: context) }
            #expect(reject?.reason == .compIDProblem)
            #expect(reject?.refTagID == nil)
        }
        #expect(withMessage(h44) { validator.validate($0, context: context) } == nil)
    }

    @Test func sendingTimeAccuracy() {
        let validator = FIXValidator(dictionary: Dictionaries.fix44)
        for seconds in [-121, 121] {
            let now = FIXTimestamp(nanosecondsSinceEpoch: testNow.nanosecondsSinceEpoch
                                   + Int64(seconds) * FIXTimestamp.nanosecondsPerSecond)
            let reject = withMessage(h44) { validator.validate($0, context: FIXSessionContext(now: now)) }
            #expect(reject?.reason == .sendingTimeAccuracyProblem)
            #expect(reject?.refTagID == nil)
        }
        let near = FIXTimestamp(nanosecondsSinceEpoch: testNow.nanosecondsSinceEpoch + 119 * FIXTimestamp.nanosecondsPerSecond)
        #expect(withMessage(h44) { validator.validate($0, context: FIXSessionContext(now: near)) } == nil)
    }

    @Test func sendingTimeIsCheckedBeforeCompIDs() {
        let validator = FIXValidator(dictionary: Dictionaries.fix44)
        let late = FIXTimestamp(nanosecondsSinceEpoch: testNow.nanosecondsSinceEpoch + 500 * FIXTimestamp.nanosecondsPerSecond)
        let context = FIXSessionContext(senderCompID: "OTHER", targetCompID: "ISLD", now: late)
        #expect(withMessage(h44) { validator.validate($0, context: context) }?.reason == .sendingTimeAccuracyProblem)
    }

    @Test func dictionaryProblemsComeBeforeSessionProblems() {
        let validator = FIXValidator(dictionary: Dictionaries.fix44)
        let context = FIXSessionContext(senderCompID: "OTHER", targetCompID: "ISLD", now: testNow)
        #expect(withMessage(h44 + "999=X|") { validator.validate($0, context: context) }?.reason == .invalidTagNumber)
    }

    // MARK: Switches

    @Test func checkLatencyOff() {
        var options = FIXValidationOptions()
        options.checkLatency = false
        let validator = FIXValidator(dictionary: Dictionaries.fix44, options: options)
        let late = FIXTimestamp(nanosecondsSinceEpoch: testNow.nanosecondsSinceEpoch + 500 * FIXTimestamp.nanosecondsPerSecond)
        #expect(withMessage(h44) { validator.validate($0, context: FIXSessionContext(now: late)) } == nil)
    }

    @Test func maxLatency() {
        var options = FIXValidationOptions()
        options.maxLatencySeconds = 5
        let validator = FIXValidator(dictionary: Dictionaries.fix44, options: options)
        let six = FIXTimestamp(nanosecondsSinceEpoch: testNow.nanosecondsSinceEpoch + 6 * FIXTimestamp.nanosecondsPerSecond)
        let four = FIXTimestamp(nanosecondsSinceEpoch: testNow.nanosecondsSinceEpoch + 4 * FIXTimestamp.nanosecondsPerSecond)
        #expect(withMessage(h44) { validator.validate($0, context: FIXSessionContext(now: six)) }?.reason.rawValue == 10)
        #expect(withMessage(h44) { validator.validate($0, context: FIXSessionContext(now: four)) } == nil)
    }

    @Test func validateFieldsHaveValuesOff() {
        var options = FIXValidationOptions()
        options.validateFieldsHaveValues = false
        let validator = FIXValidator(dictionary: Dictionaries.fix44, options: options)
        let testRequest = "8=FIX.4.4|35=1|34=2|49=TW|52=\(testTime)|56=ISLD|112=|"
        #expect(withMessage(testRequest) { validator.validate($0) } == nil)
        let strict = FIXValidator(dictionary: Dictionaries.fix44)
        let reject = withMessage(testRequest) { strict.validate($0) }
        #expect(reject?.reason == .tagSpecifiedWithoutValue)
        #expect(reject?.refTagID == 112)
    }

    @Test func validateFieldsOutOfOrderOff() {
        var options = FIXValidationOptions()
        options.validateFieldsOutOfOrder = false
        let validator = FIXValidator(dictionary: Dictionaries.fix44, options: options)
        let headerLate = "8=FIX.4.4|35=D|11=id|21=3|40=1|54=1|55=MSFT|60=\(testTime)|34=2|49=TW44|52=\(testTime)|56=ISLD|"
        #expect(withMessage(headerLate) { validator.validate($0) } == nil)
        let partiesUnordered = nos44 + "11=ID|21=1|40=1|54=1|55=INTC|60=\(testTime)|453=1|448=P1|452=1|447=D|"
        #expect(withMessage(partiesUnordered) { validator.validate($0) } == nil)
        // The delimiter must still come first: without it entries have no boundaries.
        let noDelimiter = nos44 + "11=ID|21=1|40=1|54=1|55=INTC|60=\(testTime)|453=1|447=D|448=P1|452=1|"
        #expect(withMessage(noDelimiter) { validator.validate($0) }?.reason == .repeatingGroupFieldsOutOfOrder)
    }

    @Test func validateUserDefinedFieldsOff() {
        var options = FIXValidationOptions()
        options.validateUserDefinedFields = false
        let validator = FIXValidator(dictionary: Dictionaries.fix44, options: options)
        #expect(withMessage(h44 + "5000=HI|") { validator.validate($0) } == nil)
        #expect(withMessage(h44 + "999=HI|") { validator.validate($0) }?.reason == .invalidTagNumber)
    }

    @Test func allowUnknownMsgFields() {
        var options = FIXValidationOptions()
        options.allowUnknownMsgFields = true
        let validator = FIXValidator(dictionary: Dictionaries.fix44, options: options)
        #expect(withMessage(h44 + "999=HI|") { validator.validate($0) } == nil)
        #expect(withMessage(h44 + "55=MSFT|") { validator.validate($0) } == nil)
        #expect(withMessage(h44 + "5000=HI|") { validator.validate($0) }?.reason == .invalidTagNumber)
        // Values of known fields are still checked.
        #expect(withMessage(h44 + "54=Q|") { validator.validate($0) }?.reason == .valueIsIncorrect)
    }

    @Test func reportUndefinedTags() {
        var options = FIXValidationOptions()
        options.reportUndefinedTags = true
        let validator = FIXValidator(dictionary: Dictionaries.fix44, options: options)
        let reject = withMessage(h44 + "999=HI|") { validator.validate($0) }
        #expect(reject?.reason == .undefinedTag)
        #expect(reject?.refTagID == 999)
        #expect(withMessage(h44 + "0=HI|") { validator.validate($0) }?.reason == .invalidTagNumber)
    }

    // MARK: Versions

    @Test func fix40ReadsCharAsString() {
        let validator = FIXValidator(dictionary: Dictionaries.fix40)
        let heartbeat = "8=FIX.4.0|35=0|34=2|49=TW40|52=20260102-03:04:05|56=ISLD|"
        #expect(withMessage(heartbeat) { validator.validate($0) } == nil)
        #expect(withMessage(heartbeat + "999=X|") { validator.validate($0) }?.reason == .invalidTagNumber)
    }

    @Test func multipleValueFieldsCheckEveryValue() {
        let validator = FIXValidator(dictionary: Dictionaries.fix44)
        let base = nos44 + "11=ID|21=1|40=1|54=1|55=INTC|60=\(testTime)|"
        #expect(withMessage(base + "18=1 2|") { validator.validate($0) } == nil)
        let reject = withMessage(base + "18=1 #|") { validator.validate($0) }
        #expect(reject?.reason == .valueIsIncorrect)
        #expect(reject?.refTagID == 18)
    }

    @Test func dataFieldsMayHoldSOH() {
        let validator = FIXValidator(dictionary: Dictionaries.fix44)
        let text = nos44 + "11=ID|21=1|40=1|54=1|55=INTC|60=\(testTime)|354=3|355=a\u{1}b|"
        #expect(withMessage(text) { validator.validate($0) } == nil)
    }

    // MARK: Header and trailer

    @Test func headerGroupsAndDataFieldsValidate() {
        let validator = FIXValidator(dictionary: Dictionaries.fix44)
        let hops = "8=FIX.4.4|35=0|34=2|49=TW44|52=\(testTime)|56=ISLD|627=2|628=HUB1|629=\(testTime)|628=HUB2|"
        #expect(withMessage(hops) { validator.validate($0) } == nil)
        let badHops = withMessage(hops.replacingOccurrences(of: "627=2", with: "627=3")) { validator.validate($0) }
        #expect(badHops?.reason == .incorrectNumInGroupCount)
        #expect(badHops?.refTagID == 627)
        // XmlData (213) is read by the length in XmlDataLen (212), SOH and '=' included.
        let xml = "8=FIX.4.4|35=0|34=2|49=TW44|52=\(testTime)|56=ISLD|212=7|213=<a\u{1}=b/>|"
        #expect(withMessage(xml) { validator.validate($0) } == nil)
    }

    @Test func trailerFieldsComeLast() {
        let validator = FIXValidator(dictionary: Dictionaries.fix44)
        let signed = "8=FIX.4.4|35=0|34=2|49=TW44|52=\(testTime)|56=ISLD|93=3|89=abc|"
        #expect(withMessage(signed) { validator.validate($0) } == nil)
        let bodyAfterTrailer = withMessage(signed + "112=X|") { validator.validate($0) }
        #expect(bodyAfterTrailer?.reason == .tagSpecifiedOutOfRequiredOrder)
        #expect(bodyAfterTrailer?.refTagID == 112)
    }

    @Test func repeatedHeaderTagIsReported() {
        let validator = FIXValidator(dictionary: Dictionaries.fix44)
        let empty = [UInt8]().withUnsafeBytes { validator.validate(FIXMessage(unchecked: $0)) }
        #expect(empty?.reason == .other)
        let twice = withMessage("8=FIX.4.4|35=0|34=2|49=TW44|49=TW44|52=\(testTime)|56=ISLD|") { validator.validate($0) }
        #expect(twice?.reason == .tagAppearsMoreThanOnce)
        #expect(twice?.refTagID == 49)
    }
}
