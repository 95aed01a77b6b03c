import Testing

@testable import FASTCodec

/// Templates with one field per integer type, mandatory and optional, no operator.
let integerTemplates: FASTTemplates = {
    try! FASTTemplates(xml: """
        <templates xmlns="http://www.fixprotocol.org/ns/fast/td/1.1">
          <template name="U32" id="1"><uInt32 name="V" id="10"/></template>
          <template name="I32" id="2"><int32 name="V2" id="10"/></template>
          <template name="U64" id="3"><uInt64 name="V3" id="10"/></template>
          <template name="I64" id="4"><int64 name="V4" id="10"/></template>
          <template name="U64N" id="5"><uInt64 name="V5" id="10" presence="optional"/></template>
          <template name="I64N" id="6"><int64 name="V6" id="10" presence="optional"/></template>
          <template name="I32N" id="7"><int32 name="V7" id="10" presence="optional"/></template>
        </templates>
        """)
}()

func decodeError(_ templates: FASTTemplates, _ bytes: [UInt8]) -> FASTError? {
    var decoder = FASTDecoder(templates: templates)
    var message = FASTMessage()
    do {
        try decoder.decode(bytes, into: &message)
        return nil
    } catch {
        return error
    }
}

func roundTrip(_ templates: FASTTemplates, _ record: FASTRecord) throws -> ([UInt8], FASTRecord) {
    var encoder = FASTEncoder(templates: templates)
    var bytes: [UInt8] = []
    try encoder.encode(record, into: &bytes)
    var decoder = FASTDecoder(templates: templates)
    var message = FASTMessage()
    let used = try decoder.decode(bytes, into: &message)
    #expect(used == bytes.count)
    return (bytes, message.record(in: templates))
}

@Suite("Stop-bit integers")
struct StopBitTests {
    @Test func uInt32OverflowIsD2() {
        // 2^32 = 0x10 0x00 0x00 0x00 0x80 in stop-bit form (4 + 7 * 4 bits).
        let error = decodeError(integerTemplates, [0xc0, 0x81, 0x10, 0x00, 0x00, 0x00, 0x80])
        #expect(error?.code == .d2)
        #expect(error?.template == "U32")
        #expect(error?.field == "V")
        #expect(error?.offset == 2)
    }

    @Test func uInt32MaximumDecodes() throws {
        var decoder = FASTDecoder(templates: integerTemplates)
        var message = FASTMessage()
        try decoder.decode([0xc0, 0x81, 0x0f, 0x7f, 0x7f, 0x7f, 0xff], into: &message)
        #expect(message.record(in: integerTemplates)["V"] == .uint(UInt64(UInt32.max)))
    }

    @Test func int32OverflowIsD2() {
        // 2^31 is 0x08 0x00 0x00 0x00 0x80: positive (bit 6 of the first byte clear), too big.
        let error = decodeError(integerTemplates, [0xc0, 0x82, 0x08, 0x00, 0x00, 0x00, 0x80])
        #expect(error?.code == .d2)
        #expect(error?.field == "V2")
    }

    @Test func uInt64OverflowIsD2() {
        // Eleven bytes of 0x7f cannot fit 64 bits.
        let error = decodeError(integerTemplates, [0xc0, 0x83] + Array(repeating: 0x7f, count: 10) + [0xff])
        #expect(error?.code == .d2)
    }

    @Test func int64OverflowIsD2() {
        let error = decodeError(integerTemplates, [0xc0, 0x84, 0x01] + Array(repeating: 0x00, count: 8) + [0x80])
        #expect(error?.code == .d2)
    }

    @Test func overlongUnsignedIsR6() {
        // 0x00 0x81 is 1 with a redundant leading zero group.
        let error = decodeError(integerTemplates, [0xc0, 0x81, 0x00, 0x81])
        #expect(error?.code == .r6)
        #expect(error?.offset == 2)
    }

    @Test func overlongSignedIsR6() {
        // 0x7f 0xff is -1 with a redundant sign group; 0x00 0x01 0x81 has a redundant zero group.
        #expect(decodeError(integerTemplates, [0xc0, 0x82, 0x7f, 0xff])?.code == .r6)
        #expect(decodeError(integerTemplates, [0xc0, 0x82, 0x00, 0x01, 0x81])?.code == .r6)
        // 0x00 0xc0 is +64 and needs its zero byte (0xc0 alone is -64): not overlong.
        #expect(decodeError(integerTemplates, [0xc0, 0x82, 0x00, 0xc0]) == nil)
    }

    @Test func nullableExtremesRoundTrip() throws {
        // UInt64.max and Int64.max need 65 and 64 bits in nullable form (value + 1).
        let cases: [(UInt32, String, FASTValue)] = [
            (5, "U64N", .uint(UInt64.max)), (5, "U64N", .uint(0)), (5, "U64N", .absent),
            (6, "I64N", .int(Int64.max)), (6, "I64N", .int(Int64.min)), (6, "I64N", .int(-1)), (6, "I64N", .absent),
            (7, "I32N", .int(Int64(Int32.max))), (7, "I32N", .int(Int64(Int32.min))),
            (3, "U64", .uint(UInt64.max)), (4, "I64", .int(Int64.min)), (4, "I64", .int(Int64.max)),
        ]
        for (id, name, value) in cases {
            let field = integerTemplates.instructions[integerTemplates.templates[Int(id) - 1].start]
            let record = FASTRecord(templateID: id, template: name,
                                    fields: [FASTField(integerTemplates.name(field), value)])
            let (_, decoded) = try roundTrip(integerTemplates, record)
            #expect(decoded == record, "\(name) \(value)")
        }
    }

    @Test func knownEncodings() {
        var out: [UInt8] = []
        Primitive.writeSigned(-1, nullable: false, to: &out)
        Primitive.writeSigned(64, nullable: false, to: &out)
        Primitive.writeSigned(-64, nullable: false, to: &out)
        Primitive.writeUnsigned(0, nullable: true, to: &out)
        Primitive.writeUnsigned(127, nullable: false, to: &out)
        Primitive.writeUnsigned(128, nullable: false, to: &out)
        #expect(out == [0xff, 0x00, 0xc0, 0xc0, 0x81, 0xff, 0x01, 0x80])
    }
}

@Suite("Decoder errors and bounds")
struct DecoderErrorTests {
    static let templates: FASTTemplates = {
        try! FASTTemplates(xml: """
            <templates xmlns="http://www.fixprotocol.org/ns/fast/td/1.1">
              <template name="Quote" id="1">
                <string name="Symbol" id="55"><copy/></string>
                <string name="Text" id="58"><delta/></string>
              </template>
              <template name="Book" id="2">
                <sequence name="Entries"><length name="NoEntries" id="268"/><uInt32 name="Px" id="270"/></sequence>
              </template>
              <template name="Empty" id="3">
                <sequence name="Items"><length name="NoItems" id="1"/><uInt32 name="K" id="2"><constant value="1"/></uInt32></sequence>
              </template>
            </templates>
            """)
    }()

    @Test func unknownTemplateIsD9WithOffset() {
        let error = decodeError(Self.templates, [0xc0, 0x89])
        #expect(error?.code == .d9)
        #expect(error?.offset == 1)
    }

    @Test func missingTemplateIDIsD5() {
        #expect(decodeError(Self.templates, [0x80])?.code == .d5)
    }

    @Test func mandatoryCopyWithoutPreviousIsD5NamingField() {
        let error = decodeError(Self.templates, [0xc0, 0x81, 0x80, 0xc1])
        #expect(error?.code == .d5)
        #expect(error?.template == "Quote")
        #expect(error?.field == "Symbol")
        #expect(error?.description.contains("template Quote, field Symbol") == true)
    }

    @Test func subtractionLongerThanBaseIsD7() {
        // Symbol "A" (copy, present), Text delta: subtract 3 from an empty base.
        let error = decodeError(Self.templates, [0xe0, 0x81, 0xc1, 0x83, 0xc2])
        #expect(error?.code == .d7)
        #expect(error?.field == "Text")
    }

    @Test func overlongStringIsR9() {
        let error = decodeError(Self.templates, [0xe0, 0x81, 0x00, 0x00, 0xc1])
        #expect(error?.code == .r9)
    }

    @Test func overlongPresenceMapIsR7() {
        #expect(decodeError(Self.templates, [0x40, 0x80, 0x81])?.code == .r7)
    }

    @Test func presenceMapLongerThanTheBoundIsRejected() {
        let error = decodeError(Self.templates, Array(repeating: 0x01, count: FASTDecoder.presenceMapBytesMax + 1) + [0x81])
        #expect(error?.code == .u2)
    }

    @Test func hugeSequenceLengthIsRejectedBeforeAllocating() {
        // 2^31 entries of a body that takes no bytes: without a bound this would run for ever.
        let error = decodeError(Self.templates, [0xc0, 0x83, 0x08, 0x00, 0x00, 0x00, 0x80])
        #expect(error?.code == .u2)
        #expect(error?.field == "Items")
    }

    @Test func sequenceOfConstantsWithinBoundsDecodes() throws {
        var decoder = FASTDecoder(templates: Self.templates)
        var message = FASTMessage()
        try decoder.decode([0xc0, 0x83, 0x83], into: &message)
        #expect(message.record(in: Self.templates)["Items"] == .sequence(Array(repeating: [FASTField("K", .uint(1))], count: 3)))
    }

    @Test func truncatedSequenceIsU1() {
        let error = decodeError(Self.templates, [0xc0, 0x82, 0x83, 0x81])
        #expect(error?.code == .u1)
        #expect(error?.template == "Book")
        #expect(error?.field == "Px")
    }

    @Test func decodingIntoTheSameMessageReusesItsStorage() throws {
        var decoder = FASTDecoder(templates: Self.templates)
        var message = FASTMessage()
        try decoder.decode([0xe0, 0x81, 0xc1, 0x80, 0xc2], into: &message)
        #expect(message.record(in: Self.templates).fields == [FASTField("Symbol", .string("A")), FASTField("Text", .string("B"))])
        try decoder.decode([0x80, 0x80, 0xc3], into: &message)
        #expect(message.record(in: Self.templates).fields == [FASTField("Symbol", .string("A")), FASTField("Text", .string("BC"))])
        #expect(message.valueCount == 2)
    }
}
