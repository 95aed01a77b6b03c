import FIXDictionary
import FIXTagValue
import FIXTestSupport
import Foundation
import Testing

/// Every message of the benchmark corpus generator passes QuickFIX's full validation, so every
/// one must pass ours too; and each mutated copy must fail.
@Suite struct CorpusTests {
    /// Runs the generator for `version` (1,000 messages) and returns the file's bytes.
    static func generate(_ version: String) throws -> [UInt8] {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("corpus-\(UUID().uuidString).fix")
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", SharedData.shared("bench/gen_fix_corpus.py").path,
                             "--count", "1000", "--version", version, "-o", output.path]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return Array(try Data(contentsOf: output))
    }

    /// Frames `bytes` and calls `body` for each message.
    static func eachMessage(_ bytes: [UInt8], _ body: (FIXMessage) -> Void) -> Int {
        var count = 0
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let rest = UnsafeRawBufferPointer(rebasing: raw[offset...])
                guard case .message(let length) = FIXFramer().frame(rest) else {
                    Issue.record("unframed bytes at \(offset)")
                    return
                }
                body(FIXMessage(unchecked: UnsafeRawBufferPointer(rebasing: rest[0..<length])))
                count += 1
                offset += length
            }
        }
        return count
    }

    static func check(_ bytes: [UInt8], _ validator: FIXValidator) {
        var rejects: [String] = []
        let count = eachMessage(bytes) { message in
            if let reject = validator.validate(message) {
                rejects.append("\(reject): \(TestMessages.show(message.bytes))")
            }
        }
        #expect(count == 1000)
        #expect(rejects.isEmpty, "\(rejects.prefix(3))")
    }

    @Test func sampleFIX44PassesAll() throws {
        let bytes = Array(try Data(contentsOf: SharedData.shared("bench/sample-1k.fix")))
        Self.check(bytes, FIXValidator(dictionary: Dictionaries.fix44))
    }

    @Test func generatedFIX42PassesAll() throws {
        Self.check(try Self.generate("4.2"), FIXValidator(dictionary: Dictionaries.fix42))
    }

    @Test func generatedFIX50SP2PassesAllWithApplVerIDSelection() throws {
        let bytes = try Self.generate("5.0SP2")
        let catalog = FIXDictionaryCatalog([Dictionaries.fixt11, Dictionaries.fix50sp2])
        var rejects = 0
        var selected = 0
        let validator = FIXValidator(transport: Dictionaries.fixt11, application: Dictionaries.fix50sp2)
        _ = Self.eachMessage(bytes) { message in
            if let selection = catalog.select(message, defaultApplVerID: "9") {
                selected += 1
                #expect(selection.transport === Dictionaries.fixt11)
            }
            if validator.validate(message) != nil { rejects += 1 }
        }
        #expect(selected == 1000)
        #expect(rejects == 0)
    }

    /// Mutations of real corpus messages: each must be rejected with the expected reason.
    @Test func mutatedCorpusMessagesAreRejected() throws {
        let bytes = Array(try Data(contentsOf: SharedData.shared("bench/sample-1k.fix")))
        let validator = FIXValidator(dictionary: Dictionaries.fix44)
        var reports = 0
        _ = Self.eachMessage(bytes) { message in
            let text = TestMessages.show(message.bytes)
            guard text.contains("|35=8|"), text.contains("|453=") else { return }
            reports += 1
            // Drop BodyLength and CheckSum; TestMessages.make recomputes them.
            var fields = text.split(separator: "|").map(String.init).filter { !$0.hasPrefix("9=") && !$0.hasPrefix("10=") }
            let base = fields
            func expectReject(_ mutated: [String], _ reason: FIXSessionRejectReason, _ tag: Int) {
                let reject = withMessage(mutated.joined(separator: "|") + "|") { validator.validate($0) }
                #expect(reject?.reason == reason, "\(mutated)")
                #expect(reject?.refTagID == tag)
            }
            if let side = fields.firstIndex(where: { $0.hasPrefix("54=") }) {
                fields[side] = "54=Z"
                expectReject(fields, .valueIsIncorrect, 54)
                fields = base
                fields.remove(at: side)
                expectReject(fields, .requiredTagMissing, 54)
                fields = base
            }
            if let count = fields.firstIndex(where: { $0.hasPrefix("453=") }) {
                let declared = Int(fields[count].dropFirst(4))!
                fields[count] = "453=\(declared + 1)"
                expectReject(fields, .incorrectNumInGroupCount, 453)
                fields = base
            }
        }
        #expect(reports > 100)
    }
}
