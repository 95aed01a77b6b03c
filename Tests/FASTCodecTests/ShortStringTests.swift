import FIXTestSupport
import Testing

@testable import FASTCodec

/// ASCII strings whose stop bit is within the first eight bytes are read inline in one word
/// (strings without operator, and copy or default strings whose bit is set); longer strings, strings near
/// the end of the input and strings starting with a zero byte take the general reader. These
/// tests round-trip every length through both, with and without bytes after the message.
@Suite("Short ASCII strings")
struct ShortStringTests {
    static let templates = try! FASTTemplates(xml: """
        <templates xmlns="http://www.fixprotocol.org/ns/fast/td/1.1">
          <template name="S" id="1">
            <string name="M" id="1"/>
            <string name="O" id="2" presence="optional"/>
            <string name="CM" id="3"><copy/></string>
            <string name="CO" id="4" presence="optional"><copy/></string>
            <string name="U" id="5" charset="unicode" presence="optional"/>
            <uInt32 name="N" id="6"/>
            <string name="D" id="7" presence="optional"><default value="dv"/></string>
          </template>
        </templates>
        """)

    static func text(_ length: Int, _ random: inout SplitMix64) -> String {
        String(decoding: (0 ..< length).map { _ in UInt8(0x20 + random.below(0x5f)) }, as: UTF8.self)
    }

    static func roundTrip(_ records: [FASTRecord], padding: Int) throws {
        var encoder = FASTEncoder(templates: templates)
        var stream: [UInt8] = []
        for record in records { try encoder.encode(record, into: &stream) }
        let total = stream.count
        stream += [UInt8](repeating: 0xff, count: padding)
        var decoder = FASTDecoder(templates: templates)
        var message = FASTMessage()
        var offset = 0
        for record in records {
            offset += try decoder.decode(stream[offset ..< stream.count], into: &message)
            #expect(message.record(in: templates) == record, "padding \(padding)")
        }
        #expect(offset == total)
    }

    /// Every length from 0 to 70 in every field, absent optional fields, repeated copy values
    /// (bit clear) and non-ASCII text in the unicode field beside them.
    @Test func everyLengthRoundTrips() throws {
        var random = SplitMix64(seed: 7)
        var records: [FASTRecord] = []
        var previous = ""
        for length in 0 ... 70 {
            let value = Self.text(length, &random)
            let copyValue = length % 3 == 0 ? previous : value
            previous = copyValue
            records.append(FASTRecord(templateID: 1, template: "S", fields: [
                FASTField("M", .string(value)),
                FASTField("O", length % 4 == 1 ? .absent : .string(Self.text(70 - length, &random))),
                FASTField("CM", .string(copyValue)),
                FASTField("CO", length % 5 == 2 ? .absent : .string(copyValue)),
                FASTField("U", .string(length % 2 == 0 ? "Привет, мир \(length)" : "é")),
                FASTField("N", .uint(UInt64(length))),
                FASTField("D", [.absent, .string("dv"), .string(value)][length % 3]),
            ]))
        }
        for padding in [0, 1, 7, 8, 16] {
            try Self.roundTrip(records, padding: padding)
        }
    }

    /// A message whose strings end at every distance from the end of the input.
    @Test func stringsNearTheEnd() throws {
        var random = SplitMix64(seed: 11)
        for length in 0 ... 12 {
            let record = FASTRecord(templateID: 1, template: "S", fields: [
                FASTField("M", .string(Self.text(length, &random))),
                FASTField("O", .string(Self.text(length, &random))),
                FASTField("CM", .string(Self.text(length, &random))),
                FASTField("CO", .string(Self.text(length, &random))),
                FASTField("U", .absent),
                FASTField("N", .uint(1)),
                FASTField("D", .string(Self.text(length, &random))),
            ])
            for padding in 0 ... 9 { try Self.roundTrip([record], padding: padding) }
        }
    }

    /// Input cut off inside a string is U1 at the string's start, whatever follows in memory.
    @Test func cutOffStringIsU1() {
        for length in 1 ... 12 {
            // Presence map, template id 1, then a mandatory string of `length` bytes without its stop bit.
            let bytes: [UInt8] = [0xc0, 0x81] + [UInt8](repeating: 0x41, count: length)
            let error = decodeError(Self.templates, bytes)
            #expect(error?.code == .u1, "length \(length)")
            #expect(error?.offset == 2)
            #expect(error?.field == "M")
        }
    }

    /// Leading zero bytes: "\0" and "" (mandatory), and overlong encodings (R9), with enough
    /// bytes after them for the word reader.
    @Test func zeroByteStrings() throws {
        // Presence map 0xe0: the template id and the bit of CM (read from the input) are set.
        // Then O NULL, CM "", U NULL, N 0, and bytes the message does not use.
        let tail: [UInt8] = [0x80, 0x80, 0x80, 0x80, 0x81] + [UInt8](repeating: 0xff, count: 10)
        // 0x00 0x80 is "\0" for a mandatory string.
        var decoder = FASTDecoder(templates: Self.templates)
        var message = FASTMessage()
        try decoder.decode([0xe0, 0x81, 0x00, 0x80] + tail, into: &message)
        let fields = message.record(in: Self.templates).fields
        #expect(fields.first?.value == .string("\u{0}"))
        // 0x80 alone is "" for a mandatory string and NULL for an optional one.
        try decoder.decode([0xe0, 0x81, 0x80] + tail, into: &message)
        let record = message.record(in: Self.templates)
        #expect(record.fields[0].value == .string(""))
        #expect(record.fields[1].value == .absent)
        #expect(record.fields[2].value == .string(""))
        // A zero byte before other characters is overlong.
        let error = decodeError(Self.templates, [0xc0, 0x81, 0x00, 0x41, 0xc2] + tail)
        #expect(error?.code == .r9)
        #expect(error?.offset == 2)
    }

    /// Many short strings in one message grow the arena, read from the input or copied from the
    /// previous value; each lands where the general reader would put it.
    @Test func arenaGrowsAcrossShortStrings() throws {
        let xml = """
            <templates xmlns="http://www.fixprotocol.org/ns/fast/td/1.1">
              <template name="L" id="1">
                <sequence name="E">
                  <length name="EL" id="1"/><string name="V" id="2"/><string name="C" id="3"><copy/></string>
                </sequence>
              </template>
            </templates>
            """
        let templates = try FASTTemplates(xml: xml)
        var random = SplitMix64(seed: 3)
        // C repeats each value for five entries: its bit is clear and the previous value is copied.
        var copied = ""
        let entries = (0 ..< 3_000).map { i in
            if i % 5 == 0 { copied = Self.text(i % 13, &random) }
            return [FASTField("V", .string(Self.text(i % 9, &random))), FASTField("C", .string(copied))]
        }
        let record = FASTRecord(templateID: 1, template: "L", fields: [FASTField("E", .sequence(entries))])
        var encoder = FASTEncoder(templates: templates)
        var bytes: [UInt8] = []
        try encoder.encode(record, into: &bytes)
        bytes += [UInt8](repeating: 0xff, count: 8)
        var decoder = FASTDecoder(templates: templates)
        var message = FASTMessage()
        try decoder.decode(bytes, into: &message)
        #expect(message.record(in: templates) == record)
    }
}
