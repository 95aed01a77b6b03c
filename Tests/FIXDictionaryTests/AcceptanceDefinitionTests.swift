import FIXDictionary
import FIXTagValue
import FIXTestSupport
import Foundation
import Testing

/// The session acceptance definitions as data: every inbound message that the expected answer
/// rejects with a session Reject (35=3 carrying 373) must get the same 373 and 371 from the
/// validator. Session-state rejects (PossDup without OrigSendingTime, OrigSendingTime later than
/// SendingTime, SequenceReset going backwards) are the session engine's, not the dictionary's.
@Suite struct AcceptanceDefinitionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let file: String
        let line: Int
        let message: String
        let reason: Int
        let refTag: Int?
        var testDescription: String { "\(file):\(line)" }
    }

    static let versions: [(folder: String, dictionaries: [String], defaultApplVerID: String?)] = [
        ("fix40", ["FIX40"], nil), ("fix41", ["FIX41"], nil), ("fix42", ["FIX42"], nil),
        ("fix43", ["FIX43"], nil), ("fix44", ["FIX44"], nil),
        ("fix50", ["FIXT11", "FIX50"], "7"), ("fix50sp1", ["FIXT11", "FIX50SP1"], "8"),
        ("fix50sp2", ["FIXT11", "FIX50SP2"], "9"), ("validate", ["FIX44"], nil),
    ]

    static let now = FIXTimestamp("20260102-03:04:05")!

    /// `<TIME>`, `<TIME+N>`, `<TIME-N>` with the test's "now".
    static func substituteTimes(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let open = rest.range(of: "<TIME") {
            result += rest[..<open.lowerBound]
            let close = rest[open.upperBound...].firstIndex(of: ">")!
            let offset = Int(rest[open.upperBound..<close]) ?? 0
            let time = FIXTimestamp(nanosecondsSinceEpoch: now.nanosecondsSinceEpoch
                                    + Int64(offset) * FIXTimestamp.nanosecondsPerSecond, precision: .seconds)
            result += time.description
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }

    static func field(_ tag: String, in line: String) -> String? {
        for part in line.split(separator: "\u{1}") where part.hasPrefix(tag + "=") {
            return String(part.dropFirst(tag.count + 1))
        }
        return nil
    }

    /// 373 and 371 of an expected Reject; before FIX 4.2 (no 373) they are read from Text(58),
    /// which QuickFIX writes as "<reason text> (<tag>)".
    static func expectation(_ line: String) -> (Int, Int?)? {
        if let reason = field("373", in: line).flatMap({ Int($0) }) {
            return (reason, field("371", in: line).flatMap { Int($0) })
        }
        // FIX 4.2 Rejects carry 371 but no 373 for reasons 4.2 does not define (13 and up).
        let refTag = field("371", in: line).flatMap { Int($0) }
        guard let text = field("58", in: line) else { return nil }
        for code in 0...17 {
            let reasonText = FIXSessionRejectReason(rawValue: code).text
            guard text.hasPrefix(reasonText) else { continue }
            var tag = refTag
            if tag == nil, let open = text.lastIndex(of: "("), let close = text.lastIndex(of: ")"), open < close {
                tag = Int(text[text.index(after: open)..<close])
            }
            return (code, tag)
        }
        return nil
    }

    static let cases: [(folder: String, cases: [Case])] = versions.map { version in
        let directory = SharedData.shared("fix-acceptance/definitions/\(version.folder)")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var result: [Case] = []
        for file in files.sorted() where file.hasSuffix(".def") {
            let text = (try? String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)) ?? ""
            let lines = text.components(separatedBy: "\n")
            var pending: (line: Int, message: String)?
            for (number, raw) in lines.enumerated() {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.hasPrefix("I8=") {
                    pending = (number + 1, String(line.dropFirst()))
                } else if line.hasPrefix("E8="), let input = pending {
                    pending = nil
                    guard field("35", in: line) == "3", let (reason, refTag) = expectation(line) else { continue }
                    // Session-state rejects, decided by the session engine.
                    if (reason == 1 && refTag == 122) || (reason == 10 && input.message.contains("\u{1}122=")) { continue }
                    if field("35", in: input.message) == "4" { continue }
                    result.append(Case(file: "\(version.folder)/\(file)", line: input.line,
                                       message: substituteTimes(input.message), reason: reason, refTag: refTag))
                }
            }
        }
        return (version.folder, result)
    }

    @Test(arguments: versions.map(\.folder))
    func rejectsAsTheDefinitionsExpect(_ folder: String) throws {
        let version = Self.versions.first { $0.folder == folder }!
        let dictionaries = version.dictionaries.map { Dictionaries.load($0) }
        let validator = dictionaries.count == 1
            ? FIXValidator(dictionary: dictionaries[0])
            : FIXValidator(transport: dictionaries[0], application: dictionaries[1])
        let cases = Self.cases.first { $0.folder == folder }!.cases
        #expect(!cases.isEmpty)
        for testCase in cases {
            let sender = Self.field("49", in: testCase.message) ?? ""
            let expectedSender = sender == "WT" ? "TW44" : sender
            let context = FIXSessionContext(senderCompID: expectedSender, targetCompID: "ISLD", now: Self.now)
            let reject = withMessage(testCase.message.replacingOccurrences(of: "\u{1}", with: "|")) {
                validator.validate($0, context: context)
            }
            #expect(reject?.reason.rawValue == testCase.reason, "\(testCase.file):\(testCase.line)")
            #expect(reject?.refTagID == testCase.refTag, "\(testCase.file):\(testCase.line)")
        }
    }
}
