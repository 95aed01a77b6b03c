import FIXTestSupport
import Testing

@testable import FASTCodec

/// Encodes `records` as one stream with one encoder, then decodes it with one decoder and
/// returns the decoded records (so previous values carry from message to message).
private func streamRoundTrip(_ templates: FASTTemplates, _ records: [FASTRecord]) throws -> [FASTRecord] {
    var encoder = FASTEncoder(templates: templates)
    var stream: [UInt8] = []
    for record in records { try encoder.encode(record, into: &stream) }
    var decoder = FASTDecoder(templates: templates)
    var message = FASTMessage()
    var decoded: [FASTRecord] = []
    var offset = 0
    while offset < stream.count {
        offset += try decoder.decode(stream[offset...], into: &message)
        decoded.append(message.record(in: templates))
    }
    return decoded
}

@Suite("Decoder state")
struct DecoderStateTests {
    static let strings: FASTTemplates = try! FASTTemplates(xml: """
        <templates xmlns="http://www.fixprotocol.org/ns/fast/td/1.1">
          <template name="S" id="1">
            <string name="A" id="1"><copy/></string>
            <string name="B" id="2" presence="optional"><copy/></string>
            <string name="C" id="3"><delta/></string>
            <string name="D" id="4" presence="optional"><tail/></string>
            <byteVector name="E" id="5" presence="optional"><copy/></byteVector>
            <sequence name="Entries">
              <length name="N" id="6"/>
              <string name="F" id="7"><copy/></string>
              <string name="G" id="8" presence="optional"><default value="dflt"/></string>
              <string name="H" id="9"><constant value="CONST"/></string>
            </sequence>
          </template>
        </templates>
        """)

    fileprivate static func text(_ random: inout SplitMix64, _ lengths: [Int]) -> String {
        let length = lengths[random.below(lengths.count)]
        return String((0 ..< length).map { _ in Character(Unicode.Scalar(UInt8(65 + random.below(26)))) })
    }

    /// Previous values of every length from empty to 5,000 bytes, in several entries at once:
    /// each entry's region in the byte pool grows and moves, and the pool grows and packs.
    @Test func stringPreviousValuesGrowShrinkAndMove() throws {
        var random = SplitMix64(seed: 7)
        let lengths = [0, 1, 2, 7, 16, 17, 40, 300, 1_000, 5_000]
        var records: [FASTRecord] = []
        var previousB = "x"
        for _ in 0 ..< 400 {
            let changeB = random.below(3) == 0
            if changeB { previousB = Self.text(&random, lengths) }
            var entries: [[FASTField]] = []
            for _ in 0 ..< random.below(4) {
                entries.append([FASTField("N", .absent), FASTField("F", .string(Self.text(&random, lengths))),
                                FASTField("G", random.below(2) == 0 ? .string("dflt") : .string(Self.text(&random, lengths))),
                                FASTField("H", .string("CONST"))])
            }
            records.append(FASTRecord(templateID: 1, template: "S", fields: [
                FASTField("A", .string(Self.text(&random, lengths))),
                FASTField("B", .string(previousB)),
                FASTField("C", .string(Self.text(&random, lengths))),
                // The tail operator cannot shorten a value: D keeps one length.
                FASTField("D", random.below(4) == 0 ? .absent : .string(Self.text(&random, [12]))),
                FASTField("E", .bytes((0 ..< lengths[random.below(lengths.count)]).map { UInt8(truncatingIfNeeded: $0) })),
                FASTField("Entries", .sequence(entries)),
            ]))
        }
        let decoded = try streamRoundTrip(Self.strings, records)
        #expect(decoded.count == records.count)
        for (got, want) in zip(decoded, records) {
            for name in ["A", "B", "C", "E"] { #expect(got[name] == want[name], "field \(name)") }
            guard case .sequence(let gotEntries)? = got["Entries"], case .sequence(let wantEntries)? = want["Entries"] else {
                Issue.record("Entries is not a sequence")
                continue
            }
            #expect(gotEntries.count == wantEntries.count)
            for (g, w) in zip(gotEntries, wantEntries) {
                #expect(g.first { $0.name == "F" }?.value == w.first { $0.name == "F" }?.value)
                #expect(g.first { $0.name == "G" }?.value == w.first { $0.name == "G" }?.value)
                #expect(g.first { $0.name == "H" }?.value == .string("CONST"))
            }
        }
    }

    /// A decoder copied in the middle of a stream has its own dictionaries: both copies decode
    /// the rest of the stream to the same values, and neither disturbs the other.
    @Test func copiedDecoderKeepsItsOwnPreviousValues() throws {
        var random = SplitMix64(seed: 11)
        var encoder = FASTEncoder(templates: Self.strings)
        var stream: [UInt8] = []
        var offsets: [Int] = [0]
        var previous = "AB"
        for i in 0 ..< 60 {
            if i % 5 == 0 { previous = Self.text(&random, [3, 20, 200]) }
            try encoder.encode(FASTRecord(templateID: 1, template: "S", fields: [
                FASTField("A", .string(previous)), FASTField("B", .string(previous)),
                FASTField("C", .string(previous + "c")), FASTField("D", .string("tail" + Self.text(&random, [8]))),
                FASTField("E", .bytes(Array(previous.utf8))), FASTField("Entries", .sequence([])),
            ]), into: &stream)
            offsets.append(stream.count)
        }
        var original = FASTDecoder(templates: Self.strings)
        var message = FASTMessage()
        for i in 0 ..< 30 { try original.decode(stream[offsets[i] ..< offsets[i + 1]], into: &message) }
        var copy = original
        var other = FASTMessage()
        for i in 30 ..< 60 {
            try copy.decode(stream[offsets[i] ..< offsets[i + 1]], into: &other)
            try original.decode(stream[offsets[i] ..< offsets[i + 1]], into: &message)
            #expect(message.record(in: Self.strings) == other.record(in: Self.strings))
        }
    }

    /// Constants and unchanged defaults are not copied into the arena; they still read back as
    /// values, in records and in FIX fields.
    @Test func constantValuesReadBackInRecordsAndFIX() throws {
        let record = FASTRecord(templateID: 1, template: "S", fields: [
            FASTField("A", .string("a")), FASTField("B", .absent), FASTField("C", .string("c")),
            FASTField("D", .absent), FASTField("E", .absent),
            FASTField("Entries", .sequence([[FASTField("N", .absent), FASTField("F", .string("f")),
                                             FASTField("G", .string("dflt")), FASTField("H", .string("CONST"))]])),
        ])
        let (_, decoded) = try roundTrip(Self.strings, record)
        guard case .sequence(let entries)? = decoded["Entries"] else {
            Issue.record("no entries")
            return
        }
        #expect(entries[0].first { $0.name == "G" }?.value == .string("dflt"))
        #expect(entries[0].first { $0.name == "H" }?.value == .string("CONST"))
        var encoder = FASTEncoder(templates: Self.strings)
        var bytes: [UInt8] = []
        try encoder.encode(record, into: &bytes)
        var decoder = FASTDecoder(templates: Self.strings)
        var message = FASTMessage()
        try decoder.decode(bytes, into: &message)
        let fix = message.fixFields(in: Self.strings)
        #expect(fix.contains(FASTFIXField(tag: 8, value: "dflt")))
        #expect(fix.contains(FASTFIXField(tag: 9, value: "CONST")))
    }

    /// Integers of every encoded length (1 to 10 bytes), signed and unsigned, nullable or not,
    /// decoded both in the middle of a long input (the unchecked fast path) and at its very end
    /// (the bounds-checked path).
    @Test func integersOfEveryLengthDecodeOnBothPaths() throws {
        var random = SplitMix64(seed: 3)
        var unsigned: [UInt64] = [0, 1, 63, 64, 127, 128, 16_383, 16_384, UInt64.max, UInt64.max - 1, 1 << 63]
        var signed: [Int64] = [0, 1, -1, 63, 64, -64, -65, 8_191, 8_192, -8_192, -8_193, Int64.max, Int64.min]
        for bits in 1 ... 63 {
            unsigned.append(random.next() >> UInt64(64 - bits))
            signed.append(Int64(bitPattern: random.next()) >> Int64(64 - bits))
        }
        for value in unsigned {
            for (id, name) in [(UInt32(3), "V3"), (5, "V5")] {
                let record = FASTRecord(templateID: id, template: id == 3 ? "U64" : "U64N", fields: [FASTField(name, .uint(value))])
                #expect(try roundTrip(integerTemplates, record).1 == record)
            }
        }
        for value in signed {
            for (id, name) in [(UInt32(4), "V4"), (6, "V6")] {
                let record = FASTRecord(templateID: id, template: id == 4 ? "I64" : "I64N", fields: [FASTField(name, .int(value))])
                #expect(try roundTrip(integerTemplates, record).1 == record)
            }
        }
        // The same values inside one long stream: every value but the last has more than nine
        // bytes after it.
        var records: [FASTRecord] = unsigned.map { FASTRecord(templateID: 5, template: "U64N", fields: [FASTField("V5", .uint($0))]) }
        records += signed.map { FASTRecord(templateID: 6, template: "I64N", fields: [FASTField("V6", .int($0))]) }
        #expect(try streamRoundTrip(integerTemplates, records) == records)
    }

    /// Two-byte encodings of values that fit one byte are overlong (R6), also on the inline
    /// two-byte path.
    @Test func twoByteOverlongIntegersAreR6() {
        // Template 2 (int32): 0x00 0xbf is 63 in two bytes; 0x7f 0xc0 is -64 in two bytes.
        #expect(decodeError(integerTemplates, [0xc0, 0x82, 0x00, 0xbf])?.code == .r6)
        #expect(decodeError(integerTemplates, [0xc0, 0x82, 0x7f, 0xc0])?.code == .r6)
        // Template 1 (uInt32): 0x00 0x81 is 1 in two bytes.
        #expect(decodeError(integerTemplates, [0xc0, 0x81, 0x00, 0x81])?.code == .r6)
        // The shortest two-byte forms decode: 64, -65 and 128.
        var decoder = FASTDecoder(templates: integerTemplates)
        var message = FASTMessage()
        #expect((try? decoder.decode([0xc0, 0x82, 0x00, 0xc0], into: &message)) == 4)
        #expect(message.record(in: integerTemplates)["V2"] == .int(64))
        #expect((try? decoder.decode([0xc0, 0x82, 0x7f, 0xbf], into: &message)) == 4)
        #expect(message.record(in: integerTemplates)["V2"] == .int(-65))
        #expect((try? decoder.decode([0xc0, 0x81, 0x01, 0x80], into: &message)) == 4)
        #expect(message.record(in: integerTemplates)["V"] == .uint(128))
    }
}
