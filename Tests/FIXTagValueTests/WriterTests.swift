import FIXTestSupport
import Foundation
import Testing

@testable import FIXTagValue

@Suite struct WriterTests {
    @Test func writesTheStandardHeaderInOrderWithLengthAndCheckSum() {
        var writer = FIXWriter()
        writer.begin(beginString: "FIX.4.4", msgType: "0")
        writer.appendStandardHeader(sender: "HFND", target: "BRKR", seqNum: 1,
                                    sendingTime: FIXTimestamp("20240315-08:00:00.020")!)
        let bytes = writer.finish()
        // Same bytes as the first message of the shared benchmark corpus.
        #expect(TestMessages.show(bytes)
            == "8=FIX.4.4|9=51|35=0|34=1|49=HFND|52=20240315-08:00:00.020|56=BRKR|10=014|")
    }

    @Test func rewritingEveryFieldOfARealCorpusReproducesItByteForByte() throws {
        let corpus = try Data(contentsOf: SharedData.shared("bench/sample-1k.fix"))
        var writer = FIXWriter(capacity: 256)
        var decoder = CaptureDecoder()
        var count = 0
        corpus.withUnsafeBytes { decoder.append($0) }
        decoder.finish()
        decoder.drain { event in
            guard case .message(let message) = event else { Issue.record("corpus error \(event)"); return }
            let view = message.view()
            var iterator = view.makeIterator()
            let begin = iterator.next()!.value.string
            _ = iterator.next()
            let type = iterator.next()!.value.string
            writer.begin(beginString: begin, msgType: type)
            while let field = iterator.next(), field.tag != 10 { writer.append(field) }
            writer.finish { rebuilt in
                #expect(Array(rebuilt) == Array(message.bytes))
            }
            count += 1
        }
        #expect(count == 1000)
    }

    @Test func reusesItsBufferWithoutGrowing() {
        var writer = FIXWriter(capacity: 512)
        var first: UnsafeRawPointer?
        for i in 0..<100 {
            writer.begin(beginString: "FIX.4.2", msgType: "8")
            writer.append(11, "ORDER-\(i)")
            writer.append(31, FIXDecimal(mantissa: Int64(i), exponent: -2))
            writer.finish { bytes in
                if first == nil { first = bytes.baseAddress }
                #expect(bytes.baseAddress == first || i == 0)
            }
        }
    }

    @Test func bodyLengthGrowsByADigitCorrectly() {
        for size in [60, 80, 90, 95, 989, 990, 995] {
            var writer = FIXWriter()
            writer.begin(beginString: "FIX.4.4", msgType: "0")
            writer.append(58, String(repeating: "x", count: size))
            let bytes = writer.finish()
            #expect(frame(bytes) == .message(length: bytes.count), "size \(size)")
        }
    }
}
