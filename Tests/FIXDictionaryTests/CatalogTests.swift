import FIXDictionary
import FIXTagValue
import FIXTestSupport
import Testing

@Suite struct CatalogTests {
    static let fix50 = Dictionaries.load("FIX50")
    static let catalog = FIXDictionaryCatalog([Dictionaries.fix44, Dictionaries.fixt11, Dictionaries.fix50sp2, fix50])

    @Test func selectsByBeginString() throws {
        let selection = try #require(Self.catalog.select(beginString: "FIX.4.4"))
        #expect(selection.transport === Dictionaries.fix44)
        #expect(selection.application === Dictionaries.fix44)
        #expect(Self.catalog.select(beginString: "FIX.4.1") == nil)
    }

    @Test func selectsByApplVerIDThenDefault() throws {
        let explicit = try #require(Self.catalog.select(beginString: "FIXT.1.1", applVerID: "9", defaultApplVerID: "7"))
        #expect(explicit.transport === Dictionaries.fixt11)
        #expect(explicit.application === Dictionaries.fix50sp2)
        let byDefault = try #require(Self.catalog.select(beginString: "FIXT.1.1", defaultApplVerID: "7"))
        #expect(byDefault.application === Self.fix50)
        let byName = try #require(Self.catalog.select(beginString: "FIXT.1.1", defaultApplVerID: "FIX.5.0SP2"))
        #expect(byName.application === Dictionaries.fix50sp2)
        #expect(Self.catalog.select(beginString: "FIXT.1.1", applVerID: "8") == nil)  // SP1 not loaded
        #expect(FIXDictionaryCatalog.applicationIdentifier(applVerID: "FIX50SP1") == "FIX.5.0SP1")
        #expect(FIXDictionaryCatalog.fileName(identifier: "FIX.5.0SP2") == "FIX50SP2.xml")
    }

    @Test func selectsFromTheMessage() throws {
        let order = "8=FIXT.1.1|35=D|1128=9|49=C|56=B|34=2|52=\(testTime)|11=X|54=1|60=\(testTime)|40=1|"
        let selection = withMessage(order) { Self.catalog.select($0, defaultApplVerID: "7") }
        #expect(selection?.application === Dictionaries.fix50sp2)
        let noApplVerID = "8=FIXT.1.1|35=D|49=C|56=B|34=2|52=\(testTime)|11=X|54=1|60=\(testTime)|40=1|"
        #expect(withMessage(noApplVerID) { Self.catalog.select($0, defaultApplVerID: "7") }?.application === Self.fix50)
        #expect(selection?.bodyDictionary(msgType: "A") === Dictionaries.fixt11)
        #expect(selection?.bodyDictionary(msgType: "D") === Dictionaries.fix50sp2)
    }

    @Test func applVerIDDecidesWhichFieldsAreValid() {
        // OrderRequestID(2422) exists in FIX 5.0 SP2 only.
        let order = "8=FIXT.1.1|35=D|49=C|56=B|34=2|52=\(testTime)|11=X|54=1|60=\(testTime)|40=1|2422=5|"
        let sp2 = FIXValidator(transport: Dictionaries.fixt11, application: Dictionaries.fix50sp2)
        let fix50 = FIXValidator(transport: Dictionaries.fixt11, application: Self.fix50)
        #expect(withMessage(order) { sp2.validate($0) } == nil)
        let reject = withMessage(order) { fix50.validate($0) }
        #expect(reject?.reason == .invalidTagNumber)
        #expect(reject?.refTagID == 2422)
    }

    @Test func fixtSessionMessagesUseTheTransportDictionary() {
        let validator = FIXValidator(transport: Dictionaries.fixt11, application: Dictionaries.fix50sp2)
        let logon = "8=FIXT.1.1|35=A|34=1|49=TW50|52=\(testTime)|56=ISLD|98=0|108=30|1137=9|"
        #expect(withMessage(logon) { validator.validate($0) } == nil)
        let badEncrypt = withMessage(logon.replacingOccurrences(of: "98=0", with: "98=9")) { validator.validate($0) }
        #expect(badEncrypt?.reason == .valueIsIncorrect)
        #expect(badEncrypt?.refTagID == 98)
        let missing = withMessage("8=FIXT.1.1|35=A|34=1|49=TW50|52=\(testTime)|56=ISLD|98=0|108=30|") {
            validator.validate($0)
        }
        #expect(missing?.reason == .requiredTagMissing)
        #expect(missing?.refTagID == 1137)
        // Session message bodies are FIXT's: an application field is unknown there, a FIXT
        // field of another session message is not defined for this one.
        #expect(withMessage(logon + "11=X|") { validator.validate($0) }?.reason == .invalidTagNumber)
        let stray = withMessage(logon + "112=X|") { validator.validate($0) }
        #expect(stray?.reason == .tagNotDefinedForMessageType)
        #expect(stray?.refTagID == 112)
        #expect(withMessage("8=FIXT.1.1|35=*|34=1|49=TW50|52=\(testTime)|56=ISLD|") {
            validator.validate($0)
        }?.reason == .invalidMsgType)
    }
}
