import FIXTestSupport
import Foundation
import Testing

@testable import FIXBridgeCommands

/// Runs `fixbridge show ARGS` in-process and returns standard output and the diagnostics.
func show(_ arguments: [String]) throws -> (output: String, diagnostics: [String]) {
    let command = try ShowCommand.parse(arguments)
    var out = OutputBuffer(fd: nil)
    var diagnostics: [String] = []
    _ = try command.render(to: &out, diagnostics: { diagnostics.append($0) })
    out.flush()
    return (out.collectedText, diagnostics)
}

func capture(_ name: String) -> String { SharedData.project("Captures/" + name).path }

@Suite struct ShowCommandTests {
    @Test func printsEveryMessageOfARawCaptureAsOneLine() throws {
        let path = capture("sample-fix44.fix")
        let (output, diagnostics) = try show(["--raw", path])
        #expect(diagnostics.isEmpty)
        let raw = try Data(contentsOf: URL(fileURLWithPath: path))
        let expected = String(decoding: raw.map { $0 == 1 ? UInt8(ascii: "|") : $0 }, as: UTF8.self)
            .replacingOccurrences(of: "|8=FIX", with: "|\n8=FIX") + "\n"
        #expect(output == expected)
        #expect(output.split(separator: "\n").count == 200)
    }

    @Test func readsEveryShippedLayoutTheSameWay() throws {
        let log = try show(["--raw", capture("sample-fix42.messages.log")])
        let pipe = try show(["--raw", capture("sample-fixt11.txt")])
        #expect(log.diagnostics.isEmpty && pipe.diagnostics.isEmpty)
        #expect(log.output.split(separator: "\n").count == 100)
        #expect(log.output.hasPrefix("8=FIX.4.2|9=179|35=D|"))
        let pipeText = try String(contentsOfFile: capture("sample-fixt11.txt"), encoding: .utf8)
        #expect(pipe.output == pipeText)
    }

    @Test func filtersByMessageTypeAndTag() throws {
        let (reports, _) = try show(["--raw", "--type", "8", capture("sample-fix44.fix")])
        let lines = reports.split(separator: "\n")
        #expect(!lines.isEmpty && lines.allSatisfy { $0.contains("|35=8|") })
        let (tagged, _) = try show(["--raw", "--type", "8", "--tag", "150=F", "--tag", "54=1", capture("sample-fix44.fix")])
        let taggedLines = tagged.split(separator: "\n")
        #expect(!taggedLines.isEmpty && taggedLines.count < lines.count)
        #expect(taggedLines.allSatisfy { $0.contains("|150=F|") && $0.contains("|54=1|") })
        #expect(throws: (any Error).self) { try ShowCommand.parse(["--tag", "x=1", "f"]).validate() }
    }

    @Test func followsAnOrderAcrossItsCancelChainFromEitherEnd() throws {
        let (fromFirst, _) = try show(["--raw", "--order", "PENS-00000004", capture("sample-fix44.fix")])
        let (fromLast, _) = try show(["--raw", "--order", "PENS-00000022", capture("sample-fix44.fix")])
        #expect(fromFirst == fromLast)
        let lines = fromFirst.split(separator: "\n")
        #expect(lines.first?.contains("|35=D|") == true)
        #expect(lines.contains { $0.contains("|35=F|") && $0.contains("|41=PENS-00000004|") })
        #expect(lines.allSatisfy { $0.contains("=PENS-00000004|") || $0.contains("=PENS-00000022|") })
    }

    @Test func reportsEachDamagedStretchWithOffsetAndGoesOn() throws {
        let (output, diagnostics) = try show(["--raw", capture("sample-damaged.fix")])
        #expect(output.split(separator: "\n").count == 9)
        let golden = try String(contentsOfFile: SharedData.project("Captures/golden/sample-damaged.errors.txt").path,
                                encoding: .utf8)
        let relative = diagnostics.map { $0.replacingOccurrences(of: capture("sample-damaged.fix"), with: "sample-damaged.fix") }
        #expect(relative.joined(separator: "\n") + "\n" == golden)
    }

    @Test func namesFieldsAndEnumValuesFromTheDictionaryOfEachVersion() throws {
        let (fix44, _) = try show(["--type", "8", "--names", capture("sample-fix44.fix")])
        let first = fix44.split(separator: "\n").first ?? ""
        #expect(first.hasPrefix("BeginString(8)=FIX.4.4|BodyLength(9)="))
        #expect(first.contains("|MsgType(35)=8(ExecutionReport)|"))
        #expect(first.contains("|PartyRole(452)=1(EXECUTING_FIRM)|"))
        #expect(first.contains("|Side(54)=1(BUY)|") || first.contains("|Side(54)=2(SELL)|"))
        let (fixt, _) = try show(["--type", "D", capture("sample-fixt11.txt")])
        #expect(fixt.contains("|35=D(NewOrderSingle)|") && fixt.contains("|54=1(BUY)|"))
        #expect(throws: (any Error).self) { try show(["--dict", "/nonexistent.xml", capture("sample-fix44.fix")]) }
    }

    @Test func writesOneValidJSONObjectPerMessage() throws {
        let (output, _) = try show(["--json", "--type", "8", capture("sample-fixt11.txt")])
        for line in output.split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["msgType"] as? String == "8")
            let fields = object?["fields"] as? [[String: Any]]
            #expect(fields?.first?["value"] as? String == "FIXT.1.1")
            #expect(fields?.last?["tag"] as? Int == 10)
            #expect(fields?.first { $0["tag"] as? Int == 35 }?["name"] as? String == "MsgType")
        }
    }
}
