import FIXDictionary
import FIXTagValue
import FIXTestSupport
import Foundation
import Testing

/// Malformed input never crashes the validator or the group reader: mutated corpus messages
/// (bytes overwritten with digits, '=', SOH, '-' or letters), deterministic.
@Suite struct RobustnessTests {
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
    }

    @Test func mutatedMessagesNeverCrash() throws {
        let corpus = Array(try Data(contentsOf: SharedData.shared("bench/sample-1k.fix")))
        let validator = FIXValidator(dictionary: Dictionaries.fix44)
        let alphabet: [UInt8] = Array("0123456789=\u{1}-AZ .".utf8)
        var random = Generator(state: 42)
        var messages: [[UInt8]] = []
        corpus.withUnsafeBytes { raw in
            var offset = 0
            while messages.count < 100,
                  case .message(let length) = FIXFramer().frame(UnsafeRawBufferPointer(rebasing: raw[offset...])) {
                messages.append(Array(raw[offset..<offset + length]))
                offset += length
            }
        }
        var rejected = 0
        for message in messages {
            for _ in 0..<20 {
                var bytes = message
                for _ in 0..<Int(random.next() % 3 + 1) {
                    let position = Int(random.next() % UInt64(bytes.count))
                    bytes[position] = alphabet[Int(random.next() % UInt64(alphabet.count))]
                }
                bytes.withUnsafeBytes { raw in
                    let view = FIXMessage(unchecked: raw)
                    if validator.validate(view) != nil { rejected += 1 }
                    for entry in Dictionaries.fix44.groupEntries(453, in: view) { _ = entry.first(448) }
                }
            }
        }
        #expect(messages.count == 100)
        #expect(rejected > messages.count)  // most mutations are caught
    }

    @Test func deepOrHugeGroupCountsAreBounded() {
        let validator = FIXValidator(dictionary: Dictionaries.fix44)
        let head = "8=FIX.4.4|35=D|34=2|49=TW44|52=\(testTime)|56=ISLD|11=ID|21=1|40=1|54=1|55=INTC|60=\(testTime)|"
        let huge = withMessage(head + "453=999999999999|448=P|") { validator.validate($0) }
        #expect(huge?.reason == .incorrectNumInGroupCount)
        let negative = withMessage(head + "453=-1|") { validator.validate($0) }
        #expect(negative?.reason == .incorrectNumInGroupCount)
        let notANumber = withMessage(head + "453=x|448=P|") { validator.validate($0) }
        #expect(notANumber?.reason == .incorrectDataFormat)
        #expect(notANumber?.refTagID == 453)
    }
}
