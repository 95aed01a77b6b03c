import FIXTestSupport
import Testing

@testable import FIXTagValue

/// Frames `bytes` and returns the outcome.
func frame(_ bytes: [UInt8], max: Int = FIXLimits.messageBytesMaxDefault,
           recovery: FIXFramer.BodyLengthRecovery = .nextMessage) -> FIXFrame {
    bytes.withUnsafeBytes { FIXFramer(messageBytesMax: max, bodyLengthRecovery: recovery).frame($0) }
}

func invalidCode(_ outcome: FIXFrame) -> FIXParseError.Code? {
    if case .invalid(let error, _) = outcome { return error.code }
    return nil
}

let heartbeat = TestMessages.make("8=FIX.4.4|35=0|49=HFND|56=BRKR|34=1|52=20240315-08:00:00.020|")

@Suite struct FramerTests {
    @Test func framesACompleteMessage() {
        #expect(frame(heartbeat) == .message(length: heartbeat.count))
        #expect(TestMessages.show(heartbeat).hasSuffix("|10=014|"))
    }

    @Test func asksForMoreBytesAtEverySplitPoint() {
        let two = heartbeat + TestMessages.make("8=FIX.4.4|35=D|49=A|56=B|34=2|11=X|")
        for split in 0..<heartbeat.count {
            #expect(frame(Array(heartbeat[..<split])) == .needMoreBytes, "split at \(split)")
        }
        // Fed in two pieces at every split point, a stream decoder yields both messages intact.
        for split in 0...two.count {
            var decoder = CaptureDecoder()
            var seen: [[UInt8]] = []
            var errors = 0
            for piece in [two[..<split], two[split...]] {
                Array(piece).withUnsafeBytes { decoder.append($0) }
                decoder.drain { event in
                    switch event {
                    case .message(let m): seen.append(Array(m.bytes))
                    case .error: errors += 1
                    }
                }
            }
            decoder.finish()
            decoder.drain { _ in errors += 1 }
            #expect(errors == 0 && seen.count == 2 && seen[0] == heartbeat, "split at \(split)")
        }
    }

    @Test func framesManyMessagesInOneRead() {
        let stream = heartbeat + heartbeat + heartbeat
        var rest = stream[...]
        var count = 0
        while !rest.isEmpty, case .message(let length) = frame(Array(rest)) {
            rest = rest.dropFirst(length)
            count += 1
        }
        #expect(count == 3 && rest.isEmpty)
    }

    @Test func skipsGarbageToTheNextMessage() {
        let stream = Array("xx junk 8=FOO ".utf8) + heartbeat
        guard case .invalid(let error, let resume) = frame(stream) else {
            Issue.record("garbage accepted")
            return
        }
        #expect(error.code == .garbage && error.offset == 0)
        #expect(resume == 14)  // "8=FOO" is not a candidate: every message starts "8=FIX"
        #expect(frame(Array(stream[resume...])) == .message(length: heartbeat.count))
        guard case .invalid(let second, _) = frame(Array("8=FOO|9=5|".utf8)) else {
            Issue.record("8=FOO accepted")
            return
        }
        #expect(second.code == .beginStringMissing)
    }

    @Test func keepsAPartialPrefixAtTheEndWhenResyncing() {
        let bytes = Array("zzz8=FI".utf8)
        guard case .invalid(_, let resume) = frame(bytes) else { Issue.record("accepted"); return }
        #expect(resume == 3)
        #expect(frame(Array(bytes[3...])) == .needMoreBytes)
    }

    @Test func rejectsMissingBodyLength() {
        let bad = Array("8=FIX.4.4\u{1}35=0\u{1}49=A\u{1}10=000\u{1}".utf8)
        #expect(invalidCode(frame(bad)) == .bodyLengthMissing)
    }

    @Test func rejectsNonNumericBodyLength() {
        let bad = Array("8=FIX.4.4\u{1}9=5x\u{1}35=0\u{1}10=000\u{1}".utf8)
        guard case .invalid(let error, _) = frame(bad) else { Issue.record("accepted"); return }
        #expect(error.code == .bodyLengthInvalid && error.tag == 9 && error.offset == 12)
    }

    @Test func reportsBodyLengthMismatchWithTheRealLength() {
        let good = TestMessages.make("8=FIX.4.4|35=0|49=A|56=B|34=1|")
        let realLength = Int(TestMessages.show(good).split(separator: "|")[1].dropFirst(2))!
        for declared in [realLength - 3, realLength + 1] {
            let bad = TestMessages.make("8=FIX.4.4|9=\(declared)|35=0|49=A|56=B|34=1|10=000|")
            guard case .invalid(let error, _) = frame(bad + heartbeat) else {
                Issue.record("declared \(declared) accepted")
                continue
            }
            #expect(error.code == .bodyLengthMismatch)
            #expect(error.found == declared && error.expected == realLength)
            #expect(error.description.contains("expected \(realLength), found \(declared)"))
        }
    }

    @Test func reportsBadCheckSumWithExpectedAndFound() {
        let bad = TestMessages.make("8=FIX.4.4|35=0|49=HFND|56=BRKR|34=1|52=20240315-08:00:00.020|10=015|")
        guard case .invalid(let error, let resume) = frame(bad) else { Issue.record("accepted"); return }
        #expect(error.code == .checkSumMismatch && error.expected == 14 && error.found == 15 && error.tag == 10)
        #expect(resume == bad.count)  // the length was right: skip exactly this message
        #expect(error.description == "bad CheckSum(10) at byte \(bad.count - 4), tag 10: expected 14, found 15")
    }

    @Test func rejectsACheckSumThatIsNotThreeDigits() {
        var bad = heartbeat
        bad[bad.count - 2] = UInt8(ascii: "x")
        #expect(invalidCode(frame(bad)) == .checkSumInvalid)
    }

    @Test func rejectsMissingCheckSumAndDiscardsThroughTheNextCheckSumField() {
        var bad = heartbeat
        bad[bad.count - 7] = UInt8(ascii: "9")  // "10=" becomes "90="
        #expect(frame(bad, recovery: .declaredLength) == .needMoreBytes)  // the CheckSum field may still arrive
        guard case .invalid(let error, let resume) = frame(bad + heartbeat + heartbeat, recovery: .declaredLength) else {
            Issue.record("accepted")
            return
        }
        // As QuickFIX does, the bad message extends through the next CheckSum field.
        #expect(error.code == .bodyLengthMismatch && resume == bad.count + heartbeat.count)
    }

    @Test func aBodyLengthTooLongSwallowsWhatItCovers() {
        let good = TestMessages.make("8=FIX.4.4|35=0|49=A|56=B|34=4|")
        let declared = good.count + 5
        let bad = TestMessages.make("8=FIX.4.4|9=\(declared)|35=0|49=A|56=B|34=4|10=000|")
        guard case .invalid(let error, let resume) = frame(bad + heartbeat + heartbeat, recovery: .declaredLength) else {
            Issue.record("accepted")
            return
        }
        #expect(error.code == .bodyLengthMismatch)
        #expect(resume == bad.count + heartbeat.count)
        // Reading a capture, nothing after the bad message is lost.
        guard case .invalid(_, let next) = frame(bad + heartbeat + heartbeat) else { Issue.record("accepted"); return }
        #expect(next == bad.count)
    }

    @Test func aCheckSumThatIsTooShortEndsAtItsOwnSOH() {
        var text = TestMessages.show(heartbeat)
        text.removeLast(4)  // "10=014|" becomes "10=" …
        let bad = Array((text + "0|").utf8).map { $0 == UInt8(ascii: "|") ? 1 : $0 }  // "10=0"
        guard case .invalid(let error, let resume) = frame(bad + heartbeat) else { Issue.record("accepted"); return }
        #expect(error.code == .checkSumInvalid)
        #expect(resume == bad.count)
    }

    @Test func rejectsTooLargeMessagesBeforeReadingThem() {
        let header = Array("8=FIX.4.4\u{1}9=5000\u{1}35=D\u{1}".utf8)
        guard case .invalid(let error, _) = frame(header, max: 1024) else { Issue.record("accepted"); return }
        #expect(error.code == .messageTooLarge && error.expected == 1024)
    }

    @Test func rejectsWhenMsgTypeIsNotThird() {
        let bad = TestMessages.make("8=FIX.4.4|49=A|35=0|56=B|34=1|")
        #expect(invalidCode(frame(bad)) == .msgTypeMissing)
    }

    @Test func framesDataFieldsContainingSOHAndChecksumLookalikes() {
        let raw = "a\u{1}10=123\u{1}b"
        let message = TestMessages.make("8=FIX.4.2|35=B|49=A|56=B|34=1|95=\(raw.utf8.count)|96=\(raw)|58=x|")
        #expect(frame(message) == .message(length: message.count))
    }
}
