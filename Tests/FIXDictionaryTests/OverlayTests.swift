import FIXDictionary
import FIXTagValue
import FIXTestSupport
import Testing

@Suite struct OverlayTests {
    static let venue: FIXDictionary = {
        do {
            return try FIXDictionary(
                contentsOfFile: SharedData.project("Specs/dictionaries/FIX44.xml").path,
                overlays: [SharedData.project("Specs/overlays/example-venue-fix44.xml").path])
        } catch {
            preconditionFailure("\(error)")
        }
    }()

    static let order = "8=FIX.4.4|35=D|34=2|49=TW44|52=\(testTime)|56=ISLD|11=ID|21=1|40=V|54=1|55=INTC|60=\(testTime)|"

    @Test func addsFieldsValuesAndMessages() {
        let d = Self.venue
        #expect(d.fieldName(5002) == "VenueLiquidityFlag")
        #expect(d.valueDescription(tag: 5002, value: "R") == "REMOVED")
        #expect(d.valueDescription(tag: 40, value: "V") == "VENUE_MIDPOINT_PEG")
        #expect(d.valueDescription(tag: 40, value: "2") == "LIMIT")  // standard values kept
        #expect(d.messageName(msgType: "U1") == "VenueRiskLimitNotice")
        #expect(d.fields.count == Dictionaries.fix44.fields.count + 8)  // 40 existed
        #expect(d.dataFields.dataTag(forLengthTag: 5020) == 5021)
    }

    @Test func validatesWithTheOverlay() {
        let venue = FIXValidator(dictionary: Self.venue)
        let standard = FIXValidator(dictionary: Dictionaries.fix44)
        // The new OrdType value and the custom field on NewOrderSingle.
        let order = Self.order + "5001=R7|"
        #expect(withMessage(order) { venue.validate($0) } == nil)
        let plain = withMessage(order) { standard.validate($0) }
        #expect(plain?.reason == .valueIsIncorrect)
        #expect(plain?.refTagID == 40)
        // A custom field on a message the overlay did not extend.
        let heartbeat = "8=FIX.4.4|35=0|34=2|49=TW44|52=\(testTime)|56=ISLD|5002=A|"
        let reject = withMessage(heartbeat) { venue.validate($0) }
        #expect(reject?.reason == .tagNotDefinedForMessageType)
        #expect(reject?.refTagID == 5002)
    }

    @Test func validatesTheNewMessageWithItsGroupAndDataField() {
        let venue = FIXValidator(dictionary: Self.venue)
        let head = "8=FIX.4.4|35=U1|34=2|49=TW44|52=\(testTime)|56=ISLD|"
        let good = head + "5001=R7|5010=2|5011=1|5012=1000000|5011=2|5012=50|5020=3|5021=a\u{1}b|"
        let dataFields = Self.venue.dataFields
        #expect(withMessage(good, dataFields: dataFields) { venue.validate($0) } == nil)
        let missing = withMessage(head + "5010=1|5011=1|5012=5|") { venue.validate($0) }
        #expect(missing?.reason == .requiredTagMissing)
        #expect(missing?.refTagID == 5001)
        let entryMissing = withMessage(head + "5001=R7|5010=1|5011=1|") { venue.validate($0) }
        #expect(entryMissing?.reason == .requiredTagMissing)
        #expect(entryMissing?.refTagID == 5012)
        let badEnum = withMessage(head + "5001=R7|5010=1|5011=7|5012=5|") { venue.validate($0) }
        #expect(badEnum?.reason == .valueIsIncorrect)
        #expect(badEnum?.refTagID == 5011)
    }

    @Test func overlayFromBytes() throws {
        let overlay = """
        <overlay base="FIX.4.4"><fields><field number="6001" name="Extra" type="INT"/></fields>
        <messages><message name="Heartbeat" msgtype="0"><field name="Extra" required="Y"/></message></messages>
        </overlay>
        """
        let base = try [UInt8](contentsOf: SharedData.project("Specs/dictionaries/FIX44.xml"))
        let d = try FIXDictionary(xml: base, name: "FIX44.xml", overlays: [(Array(overlay.utf8), "extra.xml")])
        let validator = FIXValidator(dictionary: d)
        let heartbeat = "8=FIX.4.4|35=0|34=2|49=TW44|52=\(testTime)|56=ISLD|"
        #expect(withMessage(heartbeat) { validator.validate($0) }?.refTagID == 6001)
        #expect(withMessage(heartbeat + "6001=x|") { validator.validate($0) }?.reason == .incorrectDataFormat)
        #expect(withMessage(heartbeat + "6001=12|") { validator.validate($0) } == nil)
    }
}

extension Array where Element == UInt8 {
    init(contentsOf url: Foundation.URL) throws {
        self = Array(try Foundation.Data(contentsOf: url))
    }
}

import Foundation
