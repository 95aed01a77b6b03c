import FIXTestSupport
import Testing

@testable import FIXTagValue

struct Decoded {
    var messages: [(text: String, offset: Int64, line: Int, logTime: String?)] = []
    var errors: [CaptureError] = []
}

/// Decodes `capture` fed in chunks of `chunk` bytes.
func decode(_ capture: [UInt8], chunk: Int = 1 << 20) -> Decoded {
    var decoder = CaptureDecoder()
    var out = Decoded()
    func handle(_ event: CaptureEvent) {
        switch event {
        case .message(let m):
            out.messages.append((TestMessages.show(m.bytes), m.offset, m.line, m.logTime?.description))
        case .error(let e): out.errors.append(e)
        }
    }
    var start = 0
    while start < capture.count {
        let end = min(capture.count, start + chunk)
        Array(capture[start..<end]).withUnsafeBytes { decoder.append($0) }
        decoder.drain(handle)
        start = end
    }
    decoder.finish()
    decoder.drain(handle)
    return out
}

let order = TestMessages.make("8=FIX.4.4|35=D|49=CLT|56=BRKR|34=2|11=ORD1|55=MSFT|54=1|38=100|")

@Suite struct CaptureDecoderTests {
    @Test func readsRawMessagesBackToBackAndOnLines() {
        let raw = heartbeat + order + Array("\n".utf8) + order + Array("\r\n".utf8)
        for chunk in [1, 7, 64, 1 << 20] {
            let result = decode(raw, chunk: chunk)
            #expect(result.errors.isEmpty, "chunk \(chunk)")
            #expect(result.messages.count == 3)
            #expect(result.messages[1].offset == Int64(heartbeat.count))
            #expect(result.messages[2].line == 2)
        }
    }

    @Test func readsPipeDelimitedText() {
        let text = TestMessages.show(heartbeat) + "\n" + TestMessages.show(order) + "\n"
        let result = decode(Array(text.utf8), chunk: 5)
        #expect(result.errors.isEmpty)
        #expect(result.messages.map(\.text) == [TestMessages.show(heartbeat), TestMessages.show(order)])
        #expect(result.messages.map(\.line) == [1, 2])
    }

    @Test func readsCaretADelimitedText() {
        let text = TestMessages.show(order).replacingPipes(with: "^A") + "\r\n"
        let result = decode(Array(text.utf8), chunk: 3)
        #expect(result.errors.isEmpty)
        #expect(result.messages.first?.text == TestMessages.show(order))
    }

    @Test func readsQuickFIXMessageLogsWithTheirTimes() {
        let log = "20240315-08:00:00.020 : " + String(decoding: heartbeat, as: UTF8.self) + "\n"
            + "20240315-08:00:01.500 : " + String(decoding: order, as: UTF8.self) + "\n"
        let result = decode(Array(log.utf8), chunk: 11)
        #expect(result.errors.isEmpty)
        #expect(result.messages.map(\.logTime) == ["20240315-08:00:00.020", "20240315-08:00:01.500"])
        #expect(result.messages[1].offset == Int64(24 + heartbeat.count + 1 + 24))
    }

    @Test func reportsJunkLinesAndBadMessagesAndGoesOn() {
        var bad = order
        bad[bad.count - 2] = bad[bad.count - 2] == UInt8(ascii: "9") ? UInt8(ascii: "0") : bad[bad.count - 2] + 1
        let capture = Array("some event log line\n".utf8) + bad + Array("\n".utf8) + heartbeat + Array("\n".utf8)
        let result = decode(capture, chunk: 13)
        #expect(result.messages.count == 1)
        #expect(result.errors.map(\.error.code) == [.garbage, .checkSumMismatch])
        #expect(result.errors[0].line == 1 && result.errors[0].error.offset == 0)
        #expect(result.errors[1].line == 2 && result.errors[1].error.offset == 20 + Int64(bad.count - 4).asInt)
    }

    @Test func reportsATruncatedLastMessage() {
        let capture = heartbeat + order.prefix(30)
        let result = decode(Array(capture), chunk: 16)
        #expect(result.messages.count == 1)
        #expect(result.errors.count == 1 && result.errors[0].error.code == .truncated)
        #expect(result.errors[0].error.offset == heartbeat.count)
    }

    @Test func resynchronisesAfterAWrongBodyLength() {
        let bad = TestMessages.make("8=FIX.4.4|9=400|35=0|49=A|56=B|34=1|10=000|")
        let result = decode(bad + heartbeat + order, chunk: 9)
        #expect(result.messages.count == 2)
        #expect(result.errors.map(\.error.code) == [.bodyLengthMismatch])
    }

    @Test func boundsJunkWithoutAMessage() {
        let junk = [UInt8](repeating: 0x41, count: 3 << 20)
        let result = decode(junk, chunk: 1 << 18)
        #expect(result.messages.isEmpty)
        #expect(!result.errors.isEmpty && result.errors.allSatisfy { $0.error.code == .garbage })
    }
}

extension String {
    func replacingPipes(with replacement: String) -> String {
        split(separator: "|", omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

extension Int64 {
    var asInt: Int { Int(self) }
}
