import FIXTestSupport
import Foundation
import Testing

@testable import FASTCodec

@Suite("Template loader")
struct TemplateLoaderTests {
    static let templateFiles: [String] = {
        let directory = SharedData.shared("fast/templates")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".xml") }.sorted()
    }()

    static func load(_ file: String) throws -> FASTTemplates {
        let url = SharedData.shared("fast/templates").appendingPathComponent(file)
        return try FASTTemplates(xmlBytes: Array(try Data(contentsOf: url)))
    }

    @Test func allTenPublishedTemplateFilesArePresent() {
        #expect(Self.templateFiles.count == 10)
    }

    @Test("every published template file loads", arguments: templateFiles)
    func loads(_ file: String) throws {
        let templates = try Self.load(file)
        #expect(!templates.templateNames.isEmpty)
    }

    @Test func moexASTSTemplatesHaveTheirIDs() throws {
        let templates = try Self.load("moex-asts-FIX50SP2-2017-Mar.xml")
        #expect(templates.templateName(id: 2101) == "A")
        #expect(templates.templateID(name: "A") == 2101)
        #expect(templates.templateIDs.count == templates.templateNames.count)
    }

    @Test func staticTemplateRefIsExpandedInLine() throws {
        let templates = try FASTTemplates(xml: """
            <templates xmlns="http://www.fixprotocol.org/ns/fast/td/1.1">
              <template name="Header"><uInt32 name="Seq" id="34"/></template>
              <template name="Msg" id="7"><templateRef name="Header"/><string name="Text" id="58"/></template>
            </templates>
            """)
        var decoder = FASTDecoder(templates: templates)
        var message = FASTMessage()
        try decoder.decode([0xc0, 0x87, 0x85, 0x68, 0xe9], into: &message)
        #expect(message.record(in: templates).fields == [FASTField("Seq", .uint(5)), FASTField("Text", .string("hi"))])
    }

    @Test func namespacePrefixedElementsLoad() throws {
        let templates = try FASTTemplates(xml: """
            <fast:templates xmlns:fast="http://www.fixprotocol.org/ns/fast/td/1.1">
              <fast:template name="T" id="1"><fast:uInt32 name="A" id="1"><fast:copy/></fast:uInt32></fast:template>
            </fast:templates>
            """)
        #expect(templates.templateNames == ["T"])
    }

    @Test func inconsistentDictionaryUseIsRejectedAsD4() {
        // The same global key "Value" holds a uInt32 in one template and a string in another.
        let xml = """
            <templates xmlns="http://www.fixprotocol.org/ns/fast/td/1.1">
              <template name="First" id="1"><uInt32 name="Value" id="1"><copy/></uInt32></template>
              <template name="Second" id="2"><string name="Value" id="1"><copy/></string></template>
            </templates>
            """
        let error = #expect(throws: FASTError.self) { try FASTTemplates(xml: xml) }
        #expect(error?.code == .d4)
        #expect(error?.template == "Second")
        #expect(error?.field == "Value")
        #expect(error?.description.contains("First") == true)
    }

    @Test func sameKeyInSeparateDictionariesIsAccepted() throws {
        // Template-scoped dictionaries keep the two "Value" entries apart, so there is no D4.
        let templates = try FASTTemplates(xml: """
            <templates xmlns="http://www.fixprotocol.org/ns/fast/td/1.1">
              <template name="First" id="1" dictionary="template"><uInt32 name="Value"><copy/></uInt32></template>
              <template name="Second" id="2" dictionary="template"><string name="Value"><copy/></string></template>
            </templates>
            """)
        #expect(templates.slotCount == 2)
    }

    @Test func sharedKeyAcrossTemplatesSharesThePreviousValue() throws {
        // Both templates copy the global key "Px": the second message omits it and gets 5.
        let templates = try FASTTemplates(xml: """
            <templates xmlns="http://www.fixprotocol.org/ns/fast/td/1.1">
              <template name="A" id="1"><uInt32 name="Px"><copy/></uInt32></template>
              <template name="B" id="2"><uInt32 name="Other"><copy key="Px"/></uInt32></template>
            </templates>
            """)
        var decoder = FASTDecoder(templates: templates)
        var message = FASTMessage()
        try decoder.decode([0xe0, 0x81, 0x85], into: &message)
        try decoder.decode([0xc0, 0x82], into: &message)
        #expect(message.record(in: templates)["Other"] == .uint(5))
    }

    @Test func staticErrorsNameTemplateAndField() {
        let cases: [(String, FASTError.Code)] = [
            ("<uInt32 name=\"F\"><constant/></uInt32>", .s4),
            ("<uInt32 name=\"F\"><default/></uInt32>", .s5),
            ("<string name=\"F\"><increment/></string>", .s2),
            ("<uInt32 name=\"F\"><tail/></uInt32>", .s2),
            ("<uInt32 name=\"F\"><copy value=\"-1\"/></uInt32>", .s3),
            ("<templateRef name=\"Missing\"/>", .d8),
        ]
        for (body, code) in cases {
            let xml = "<templates><template name=\"Bad\" id=\"1\">\(body)</template></templates>"
            let error = #expect(throws: FASTError.self) { try FASTTemplates(xml: xml) }
            #expect(error?.code == code, "\(body)")
            #expect(error?.template == "Bad", "\(body)")
            if code != .d8 { #expect(error?.field == "F", "\(body)") }
        }
    }

    @Test func malformedXMLIsS1() {
        let error = #expect(throws: FASTError.self) { try FASTTemplates(xml: "<templates><template name=") }
        #expect(error?.code == .s1)
    }

    @Test func templateReferenceCycleIsRejected() {
        let xml = """
            <templates>
              <template name="A"><templateRef name="B"/></template>
              <template name="B"><templateRef name="A"/></template>
            </templates>
            """
        let error = #expect(throws: FASTError.self) { try FASTTemplates(xml: xml) }
        #expect(error?.code == .u2)
    }

    @Test func decimalInitialValuesAreNormalised() {
        #expect(DecimalText.parse("12000")! == (3, 12))
        #expect(DecimalText.parse("-1.50")! == (-1, -15))
        #expect(DecimalText.parse("0.001")! == (-3, 1))
        #expect(DecimalText.parse("0")! == (0, 0))
        #expect(DecimalText.parse("1.2.3") == nil)
        #expect(DecimalText.format(exponent: -2, mantissa: 12345) == "123.45")
        #expect(DecimalText.format(exponent: 3, mantissa: 12) == "12000")
        #expect(DecimalText.format(exponent: -3, mantissa: -5) == "-0.005")
        #expect(DecimalText.format(exponent: 2, mantissa: 0) == "0")
    }
}
