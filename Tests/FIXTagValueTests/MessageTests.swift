import FIXTestSupport
import Testing

@testable import FIXTagValue

/// Collects (tag, value) pairs, or the error that stopped the walk.
func fields(_ bytes: [UInt8], dataFields: FIXDataFields = .standard) -> ([(Int, String)], FIXParseError?) {
    bytes.withUnsafeBytes { buffer in
        var iterator = FIXMessage(unchecked: buffer, dataFields: dataFields).makeIterator()
        var out: [(Int, String)] = []
        while let field = iterator.next() { out.append((field.tag, field.value.string)) }
        return (out, iterator.error)
    }
}

@Suite struct MessageTests {
    @Test func iteratesFieldsInOrderWithOffsets() {
        let message = TestMessages.make("8=FIX.4.4|35=8|49=VENUE|56=BRKR|34=7|17=E1|31=191.10|")
        let (list, error) = fields(message)
        #expect(error == nil)
        #expect(list.map(\.0) == [8, 9, 35, 49, 56, 34, 17, 31, 10])
        #expect(list[7].1 == "191.10")
        message.withUnsafeBytes { buffer in
            let view = FIXMessage(unchecked: buffer)
            #expect(view.msgType?.equals("8") == true)
            #expect(view.first(17)?.string == "E1")
            #expect(view.first(9999) == nil)
            let offsets = view.map(\.offset)
            #expect(offsets[0] == 0 && offsets[1] == 10)
        }
    }

    @Test func readsDataFieldsByLength() {
        let xml = "<a>\u{1}</a>"
        let text = "é\u{1}"
        let message = TestMessages.make(
            "8=FIX.4.4|35=n|49=A|56=B|34=1|212=\(xml.utf8.count)|213=\(xml)|354=\(text.utf8.count)|355=\(text)|58=ok|")
        let (list, error) = fields(message)
        #expect(error == nil)
        #expect(list.first { $0.0 == 213 }?.1 == xml)
        #expect(list.first { $0.0 == 355 }?.1 == text)
        #expect(list.first { $0.0 == 58 }?.1 == "ok")
    }

    @Test func customDataFieldsComeFromTheTable() {
        let message = TestMessages.make("8=FIX.4.4|35=U1|5000=3|5001=a\u{1}b|58=x|")
        let custom = FIXDataFields.standard.adding(lengthTag: 5000, dataTag: 5001)
        #expect(fields(message, dataFields: custom).0.first { $0.0 == 5001 }?.1 == "a\u{1}b")
        // Without the table entry the SOH inside the value splits it, and "b" is no tag.
        #expect(fields(message).1?.code == .tagNotNumeric)
    }

    @Test func reportsADataLengthThatOverrunsTheField() {
        let message = TestMessages.make("8=FIX.4.4|35=n|212=99|213=<a/>|58=x|")
        let (_, error) = fields(message)
        #expect(error?.code == .dataLengthInvalid && error?.tag == 213)
        let negative = TestMessages.make("8=FIX.4.4|35=n|212=-1|213=<a/>|")
        #expect(fields(negative).1?.code == .dataLengthInvalid)
    }

    @Test(arguments: [
        ("4x9=A", FIXParseError.Code.tagNotNumeric),
        ("=A", .tagNotNumeric),
        ("49A", .tagNotNumeric),
        ("49", .equalsMissing),
        ("49=", .emptyValue),
        ("1234567890=x", .tagNotNumeric),
    ])
    func reportsMalformedFieldsWithOffset(bad: String, code: FIXParseError.Code) {
        let message = TestMessages.make("8=FIX.4.4|35=0|\(bad)|34=1|")
        let text = TestMessages.show(message)
        let offset = text.distance(from: text.startIndex, to: text.range(of: "|" + bad + "|")!.lowerBound) + 1
        let (_, error) = fields(message)
        #expect(error?.code == code)
        #expect(error?.offset == offset)
        let thrown: FIXParseError? = message.withUnsafeBytes { FIXMessage(unchecked: $0).validateSyntax() }
        #expect(thrown?.code == code)
    }

    @Test func reportsATruncatedValue() {
        let bytes = Array("8=FIX.4.4\u{1}35=0\u{1}49=AB".utf8)
        let (list, error) = fields(bytes)
        #expect(list.count == 2 && error?.code == .truncated && error?.tag == 49)
    }
}

@Suite struct LenientReadingTests {
    @Test func yieldsEmptyValuesAndNegativeTagsForTheSessionLayer() {
        let message = TestMessages.make("8=FIX.4.4|35=0|112=|-1=HI|58=x|")
        message.withUnsafeBytes { buffer in
            var strict = FIXMessage(unchecked: buffer).makeIterator()
            while strict.next() != nil {}
            #expect(strict.error?.code == .emptyValue)
            let lenient = Array(FIXMessage(unchecked: buffer, lenient: true))
            #expect(lenient.map(\.tag) == [8, 9, 35, 112, -1, 58, 10])
            #expect(lenient[3].value.count == 0)
            #expect(lenient[4].value.string == "HI")
        }
    }
}
