import FIXDictionary
import FIXTagValue
import FIXTestSupport
import Foundation
import Testing

private let standardNames = ["FIX40", "FIX41", "FIX42", "FIX43", "FIX44", "FIX50", "FIX50SP1", "FIX50SP2", "FIXT11"]

/// Writes `text` to a fresh temporary file and loads it as a dictionary (or as an overlay on FIX 4.4).
private func load(_ text: String, name: String = "bad.xml", asOverlay: Bool = false) throws(FIXDictionaryError) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fixdict-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent(name).path
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    if asOverlay {
        _ = try FIXDictionary(contentsOfFile: SharedData.project("Specs/dictionaries/FIX44.xml").path, overlays: [path])
    } else {
        _ = try FIXDictionary(contentsOfFile: path)
    }
}

private func loadError(_ text: String, asOverlay: Bool = false) -> FIXDictionaryError? {
    do {
        try load(text, asOverlay: asOverlay)
        return nil
    } catch {
        return error
    }
}

private let minimal = """
<fix type="FIX" major="4" minor="4">
  <header><field name="BeginString" required="Y"/></header>
  <trailer><field name="CheckSum" required="Y"/></trailer>
  <messages>
    <message name="Heartbeat" msgtype="0" msgcat="admin"><field name="TestReqID" required="N"/></message>
  </messages>
  <components/>
  <fields>
    <field number="8" name="BeginString" type="STRING"/>
    <field number="10" name="CheckSum" type="STRING"/>
    <field number="112" name="TestReqID" type="STRING"/>
  </fields>
</fix>
"""

@Suite struct DictionaryLoaderTests {
    @Test(arguments: standardNames)
    func shippedDictionaryLoadsLikeTheSource(_ name: String) throws {
        let shipped = try FIXDictionary(contentsOfFile: SharedData.project("Specs/dictionaries/\(name).xml").path)
        let source = Dictionaries.load(name)
        #expect(shipped.identifier == source.identifier)
        #expect(shipped.fields.count == source.fields.count)
        #expect(shipped.messages.count == source.messages.count)
        #expect(shipped.fields.map(\.values.count) == source.fields.map(\.values.count))
        #expect(shipped.fields.count > 60)
        #expect(shipped.messages.count >= 8)
    }

    @Test func identifiesVersions() {
        #expect(Dictionaries.fix44.identifier == "FIX.4.4")
        #expect(Dictionaries.fix44.beginString == "FIX.4.4")
        #expect(Dictionaries.fix44.applVerID == "6")
        #expect(Dictionaries.fix50sp2.identifier == "FIX.5.0SP2")
        #expect(Dictionaries.fix50sp2.beginString == "FIXT.1.1")
        #expect(Dictionaries.fix50sp2.applVerID == "9")
        #expect(Dictionaries.fixt11.identifier == "FIXT.1.1")
        #expect(Dictionaries.fixt11.isTransport)
        #expect(Dictionaries.fixt11.applVerID == nil)
    }

    @Test func namesFieldsValuesAndMessages() {
        let d = Dictionaries.fix44
        #expect(d.fieldName(54) == "Side")
        #expect(d.tag(forFieldNamed: "ClOrdID") == 11)
        #expect(d.valueDescription(tag: 54, value: "1") == "BUY")
        #expect(d.valueDescription(tag: 54, value: "Q") == nil)
        #expect(d.valueDescription(tag: 35, value: "8") == "ExecutionReport")
        #expect(d.messageName(msgType: "D") == "NewOrderSingle")
        #expect(d.messageName(msgType: "ZZ") == nil)
        #expect(d.fieldName(99_999) == nil)
        #expect(d.fieldName(-5) == nil)
        #expect(d.field(44)?.type.name == "PRICE")
        #expect(d.isHeaderField(49))
        #expect(d.isHeaderField(628))  // HopCompID, inside the header's NoHops group
        #expect(!d.isHeaderField(55))
        #expect(d.isTrailerField(10))
        withMessage("8=FIX.4.4|35=D|54=2|") { view in
            let side = view.first(54)!
            #expect(d.valueDescription(tag: 54, value: side) == "SELL")
        }
    }

    @Test func modelsGroupsAndComponents() throws {
        let report = try #require(Dictionaries.fix44.message(msgType: "8"))
        #expect(report.name == "ExecutionReport")
        #expect(report.category == "app")
        var parties: FIXGroupDefinition?
        for member in report.members {
            if case .component(let name, _, let inner) = member, name == "Parties",
               case .group(let group) = inner.first {
                parties = group
            }
        }
        let group = try #require(parties)
        #expect(group.countTag == 453)
        #expect(group.delimiterTag == 448)
        let tags = group.members.compactMap { member -> Int? in
            if case .field(let tag, _) = member { return tag }
            return nil
        }
        #expect(tags == [448, 447, 452])
        // PtysSubGrp nested inside.
        #expect(group.members.contains { member in
            if case .component(_, _, let inner) = member, case .group(let nested) = inner.first {
                return nested.countTag == 802
            }
            return false
        })
    }

    @Test func exposesComponents() throws {
        let instrument = try #require(Dictionaries.fix44.components["Instrument"])
        #expect(instrument.contains { if case .field(55, _) = $0 { return true } else { return false } })
        #expect(Dictionaries.fix44.components.count > 100)
    }

    @Test func computesDataFieldPairs() {
        #expect(Dictionaries.fix44.dataFields.isLengthTag(95))
        #expect(Dictionaries.fix44.dataFields.dataTag(forLengthTag: 354) == 355)
    }

    // MARK: Malformed files

    @Test func reportsMalformedXMLWithLine() throws {
        let error = try #require(loadError("<fix type=\"FIX\" major=\"4\" minor=\"4\">\n<fields>\n<field number=\"1\"\n</fields>"))
        #expect(error.file.hasSuffix("bad.xml"))
        #expect(error.line >= 3)
        #expect(error.description.contains("bad.xml:"))
        #expect(error.reason.contains("malformed XML"))
    }

    @Test func reportsUndefinedFieldWithLine() throws {
        let text = minimal.replacingOccurrences(of: "<field name=\"TestReqID\" required=\"N\"/>",
                                                with: "<field name=\"NoSuchField\" required=\"N\"/>")
        let error = try #require(loadError(text))
        #expect(error.line == 5)
        #expect(error.reason.contains("NoSuchField"))
    }

    @Test func reportsUndefinedComponent() throws {
        let text = minimal.replacingOccurrences(of: "<field name=\"TestReqID\" required=\"N\"/>",
                                                with: "<component name=\"Missing\" required=\"N\"/>")
        let error = try #require(loadError(text))
        #expect(error.line == 5)
        #expect(error.reason.contains("component 'Missing'"))
    }

    @Test func reportsDuplicateFieldNumber() throws {
        let text = minimal.replacingOccurrences(of: "<field number=\"112\" name=\"TestReqID\" type=\"STRING\"/>",
                                                with: "<field number=\"112\" name=\"TestReqID\" type=\"STRING\"/>\n"
                                                    + "    <field number=\"112\" name=\"Other\" type=\"STRING\"/>")
        let error = try #require(loadError(text))
        #expect(error.reason.contains("112"))
        #expect(error.line == 12)
    }

    @Test func reportsMissingAttributes() throws {
        let noType = minimal.replacingOccurrences(of: "name=\"TestReqID\" type=\"STRING\"", with: "name=\"TestReqID\"")
        let error = try #require(loadError(noType))
        #expect(error.reason.contains("'type'"))
        #expect(error.line == 11)
        let noMajor = minimal.replacingOccurrences(of: "major=\"4\" ", with: "")
        #expect(try #require(loadError(noMajor)).reason.contains("'major'"))
        let badNumber = minimal.replacingOccurrences(of: "number=\"112\"", with: "number=\"x12\"")
        #expect(try #require(loadError(badNumber)).reason.contains("x12"))
    }

    @Test func reportsComponentCycle() throws {
        let text = minimal.replacingOccurrences(of: "<components/>", with: """
        <components><component name="A"><component name="B" required="N"/></component>
        <component name="B"><component name="A" required="N"/></component></components>
        """).replacingOccurrences(of: "<field name=\"TestReqID\" required=\"N\"/>",
                                  with: "<component name=\"A\" required=\"N\"/>")
        let error = try #require(loadError(text))
        #expect(error.reason.contains("includes itself"))
    }

    @Test func reportsWrongRootAndMissingFile() throws {
        #expect(try #require(loadError("<dictionary/>")).reason.contains("unexpected element <dictionary>"))
        #expect(throws: FIXDictionaryError.self) { try FIXDictionary(contentsOfFile: "/nonexistent/FIX99.xml") }
        do {
            _ = try FIXDictionary(contentsOfFile: "/nonexistent/FIX99.xml")
        } catch {
            #expect(error.description.contains("FIX99.xml"))
        }
    }

    @Test func loadsAMinimalDictionaryFromBytes() throws {
        let d = try FIXDictionary(xml: Array(minimal.utf8), name: "minimal.xml")
        #expect(d.fields.count == 3)
        #expect(d.messageName(msgType: "0") == "Heartbeat")
    }

    @Test func overlayForAnotherVersionIsRefused() throws {
        let error = try #require(loadError("<overlay base=\"FIX.4.2\"><fields/></overlay>", asOverlay: true))
        #expect(error.reason.contains("FIX.4.2"))
    }
}
