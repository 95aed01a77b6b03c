import Testing

@testable import FASTCodec

let marketDataTemplates: FASTTemplates = {
    try! FASTTemplates(xml: """
        <templates xmlns="http://www.fixprotocol.org/ns/fast/td/1.1">
          <template name="MDIncRefresh" id="12">
            <string name="MessageType" id="35"><constant value="X"/></string>
            <uInt32 name="MsgSeqNum" id="34"><increment/></uInt32>
            <sequence name="MDEntries">
              <length name="NoMDEntries" id="268"/>
              <uInt32 name="MDUpdateAction" id="279"><copy value="0"/></uInt32>
              <string name="Symbol" id="55"><copy/></string>
              <decimal name="MDEntryPx" id="270"><exponent><copy value="-2"/></exponent><mantissa><delta/></mantissa></decimal>
              <decimal name="MDEntrySize" id="271" presence="optional"><delta/></decimal>
              <byteVector name="Raw" id="96" presence="optional"/>
            </sequence>
          </template>
        </templates>
        """)
}()

func marketData(_ seq: UInt64, _ entries: [(String, Int64, FASTValue)]) -> FASTRecord {
    FASTRecord(templateID: 12, template: "MDIncRefresh", fields: [
        FASTField("MessageType", .string("X")),
        FASTField("MsgSeqNum", .uint(seq)),
        FASTField("MDEntries", .sequence(entries.map { entry in [
            FASTField("MDUpdateAction", .uint(0)),
            FASTField("Symbol", .string(entry.0)),
            FASTField("MDEntryPx", .decimal(exponent: -2, mantissa: entry.1)),
            FASTField("MDEntrySize", entry.2),
            FASTField("Raw", .absent),
        ] })),
    ])
}

let sampleRecords = [
    marketData(1, [("ESM6", 512_525, .decimal(exponent: 0, mantissa: 10)), ("NQM6", 1_800_050, .absent)]),
    marketData(2, [("ESM6", 512_550, .decimal(exponent: -1, mantissa: 5))]),
    marketData(3, []),
]

func framedStream(_ framing: FASTFraming) throws -> [UInt8] {
    var encoder = FASTEncoder(templates: marketDataTemplates)
    var stream: [UInt8] = []
    for (i, record) in sampleRecords.enumerated() {
        var message: [UInt8] = []
        try encoder.encode(record, into: &message)
        framing.writeHeader(messageBytes: message.count, sequenceNumber: UInt32(100 + i), channel: 7, to: &stream)
        stream += message
    }
    return stream
}

@Suite("Framing")
struct FramingTests {
    @Test("each framing carries a stream of messages", arguments: FASTFraming.allCases)
    func decodesEveryFraming(_ framing: FASTFraming) throws {
        let stream = try framedStream(framing)
        var decoder = FASTStreamDecoder(templates: marketDataTemplates, framing: framing)
        var message = FASTMessage()
        var offset = 0
        var records: [FASTRecord] = []
        var frames: [FASTFrameInfo] = []
        while case .message(let frame) = try decoder.next(stream, offset: &offset, into: &message) {
            records.append(message.record(in: marketDataTemplates))
            frames.append(frame)
        }
        #expect(records == sampleRecords)
        #expect(offset == stream.count)
        switch framing {
        case .moex: #expect(frames.map(\.sequenceNumber) == [100, 101, 102])
        case .cme:
            #expect(frames.map(\.sequenceNumber) == [100, 101, 102])
            #expect(frames.map(\.channel) == [7, 7, 7])
        default: #expect(frames.allSatisfy { $0.sequenceNumber == nil })
        }
    }

    @Test func moexPreambleIsLittleEndianAndCMEBigEndianPlusChannel() {
        var moex: [UInt8] = []
        FASTFraming.moex.writeHeader(messageBytes: 3, sequenceNumber: 0x0102_0304, to: &moex)
        #expect(moex == [0x04, 0x03, 0x02, 0x01])
        var cme: [UInt8] = []
        FASTFraming.cme.writeHeader(messageBytes: 3, sequenceNumber: 0x0102_0304, channel: 9, to: &cme)
        #expect(cme == [0x01, 0x02, 0x03, 0x04, 0x09])
        var length: [UInt8] = []
        FASTFraming.lengthLE32.writeHeader(messageBytes: 0x1234, to: &length)
        #expect(length == [0x34, 0x12, 0x00, 0x00])
    }

    @Test func lengthFramingAsksForMoreBytesWithoutTouchingTheDictionaries() throws {
        let stream = try framedStream(.lengthLE32)
        var decoder = FASTStreamDecoder(templates: marketDataTemplates, framing: .lengthLE32)
        var message = FASTMessage()
        var offset = 0
        for cut in [0, 2, 4, 10] {
            #expect(try decoder.next(Array(stream[..<cut]), offset: &offset, into: &message) == (cut == 0 ? .end : .needMoreBytes))
            #expect(offset == 0)
        }
        // After the short reads the full stream still decodes from the start with the same state.
        var records: [FASTRecord] = []
        while case .message = try decoder.next(stream, offset: &offset, into: &message) {
            records.append(message.record(in: marketDataTemplates))
        }
        #expect(records == sampleRecords)
    }

    @Test func lengthFrameThatDisagreesWithTheMessageIsU3() throws {
        var stream = try framedStream(.lengthLE32)
        stream[0] += 1
        stream.insert(0x80, at: 4 + Int(stream[0]) - 1)
        var decoder = FASTStreamDecoder(templates: marketDataTemplates, framing: .lengthLE32)
        var message = FASTMessage()
        var offset = 0
        let error = #expect(throws: FASTError.self) { try decoder.next(stream, offset: &offset, into: &message) }
        #expect(error?.code == .u3)
    }

    @Test func zeroOrHugeLengthIsU3() {
        var decoder = FASTStreamDecoder(templates: marketDataTemplates, framing: .lengthLE32)
        var message = FASTMessage()
        for header: [UInt8] in [[0, 0, 0, 0, 0xc0], [0xff, 0xff, 0xff, 0xff, 0xc0]] {
            var offset = 0
            let error = #expect(throws: FASTError.self) { try decoder.next(header, offset: &offset, into: &message) }
            #expect(error?.code == .u3)
        }
    }

    @Test func errorOffsetsAreAbsoluteInTheStream() throws {
        var stream = try framedStream(.moex)
        // Truncate inside the second message: the error points past the first frame.
        var decoder = FASTStreamDecoder(templates: marketDataTemplates, framing: .moex)
        var message = FASTMessage()
        var offset = 0
        guard case .message(let first) = try decoder.next(stream, offset: &offset, into: &message) else {
            Issue.record("first message missing")
            return
        }
        stream = Array(stream[..<(first.frameBytes + 7)])
        let error = #expect(throws: FASTError.self) { try decoder.next(stream, offset: &offset, into: &message) }
        #expect(error?.code == .u1)
        #expect((error?.offset ?? 0) >= first.frameBytes + 4)
    }

    @Test func resetEachMessageDecodesPacketsIndependently() throws {
        // Every message encoded with fresh dictionaries decodes only with reset-each.
        var stream: [UInt8] = []
        for record in sampleRecords {
            var encoder = FASTEncoder(templates: marketDataTemplates)
            var message: [UInt8] = []
            try encoder.encode(record, into: &message)
            FASTFraming.lengthLE32.writeHeader(messageBytes: message.count, to: &stream)
            stream += message
        }
        var decoder = FASTStreamDecoder(templates: marketDataTemplates, framing: .lengthLE32, resetEachMessage: true)
        var message = FASTMessage()
        var offset = 0
        var records: [FASTRecord] = []
        while case .message = try decoder.next(stream, offset: &offset, into: &message) {
            records.append(message.record(in: marketDataTemplates))
        }
        #expect(records == sampleRecords)
    }
}

@Suite("FAST to FIX")
struct FIXConversionTests {
    @Test func sequenceBecomesCountFieldFollowedByEntries() throws {
        var encoder = FASTEncoder(templates: marketDataTemplates)
        var bytes: [UInt8] = []
        try encoder.encode(sampleRecords[0], into: &bytes)
        var decoder = FASTDecoder(templates: marketDataTemplates)
        var message = FASTMessage()
        try decoder.decode(bytes, into: &message)
        let text = message.fixFields(in: marketDataTemplates).map { "\($0.tag)=\($0.value)" }.joined(separator: "|")
        #expect(text == "35=X|34=1|268=2|279=0|55=ESM6|270=5125.25|271=10|279=0|55=NQM6|270=18000.50")
    }

    @Test func decimalsAreExactDecimalText() {
        // Values that a Double would print differently: 0.1 + 0.2 style and beyond 2^53.
        #expect(FASTValue.decimal(exponent: -1, mantissa: 3).fixText == "0.3")
        #expect(FASTValue.decimal(exponent: -4, mantissa: 9_007_199_254_740_993).fixText == "900719925474.0993")
        #expect(FASTValue.decimal(exponent: -2, mantissa: -5).fixText == "-0.05")
        #expect(FASTValue.decimal(exponent: 2, mantissa: 15).fixText == "1500")
        #expect(FASTValue.bytes([0x01, 0xab]).fixText == "01ab")
        #expect(FASTValue.group([]).fixText == nil)
    }

    @Test func readableTextLeavesOutAbsentFields() {
        #expect(sampleRecords[1].text
            == "MDIncRefresh=<MessageType=X|MsgSeqNum=2|MDEntries=<MDUpdateAction=0|Symbol=ESM6|MDEntryPx=5125.50|MDEntrySize=0.5>>")
    }

    @Test func jsonTextFollowsTheVectorConventions() throws {
        let json = sampleRecords[1].jsonText
        #expect(json.hasPrefix(#"{"template_id":12,"template":"MDIncRefresh","fields":{"MessageType":"X","MsgSeqNum":2,"#))
        #expect(json.contains(#""MDEntryPx":{"exponent":-2,"mantissa":512550}"#))
        #expect(json.contains(#""Raw":null"#))
        #expect(try FASTRecord(jsonText: json, templates: marketDataTemplates) == sampleRecords[1])
    }

    @Test func jsonErrorsNameTheField() {
        let json = #"{"template_id":12,"fields":{"MsgSeqNum":"x"}}"#
        let error = #expect(throws: FASTError.self) { try FASTRecord(jsonText: json, templates: marketDataTemplates) }
        #expect(error?.field == "MsgSeqNum")
        #expect(error?.template == "MDIncRefresh")
    }

    @Test func encoderRejectsValuesThatDoNotFitTheTemplate() {
        var encoder = FASTEncoder(templates: marketDataTemplates)
        var bytes: [UInt8] = []
        var record = sampleRecords[0]
        record.fields[1] = FASTField("MsgSeqNum", .uint(1 << 33))
        let error = #expect(throws: FASTError.self) { try encoder.encode(record, into: &bytes) }
        #expect(error?.code == .d2)
        #expect(error?.field == "MsgSeqNum")
        #expect(bytes.isEmpty)
    }
}

/// A record as deep as the decoder allows (dynamic template references inside sequence entries,
/// `FASTTemplates.nestingDepthMax` levels) has a JSON form that reads back to the same record,
/// and that encodes and decodes to it again.
@Suite struct DeepJSONTests {
    static let templates: FASTTemplates = {
        try! FASTTemplates(xml: """
            <templates xmlns="http://www.fixprotocol.org/ns/fast/td/1.1">
              <template name="Leaf" id="1"><uInt32 name="Value" id="101"/></template>
              <template name="Nest" id="2">
                <sequence name="Entries">
                  <length name="NoEntries" id="401"/>
                  <uInt32 name="Action" id="402"/>
                  <templateRef/>
                </sequence>
              </template>
            </templates>
            """)
    }()

    /// `levels` Nest templates, one inside the other's single entry, around a Leaf.
    static func record(levels: Int) throws -> FASTRecord {
        var json = #"{"template":"Leaf","fields":{"Value":7}}"#
        for level in 0..<levels {
            json = #"{"template":"Nest","fields":{"Entries":[{"Action":\#(level),"@templateRef":\#(json)}]}}"#
        }
        return try FASTRecord(jsonText: json, templates: templates)
    }

    @Test func theDeepestRecordTheDecoderMakesReadsBackFromItsJSON() throws {
        // Each Nest is two nesting levels (its sequence entry and the template reference in it),
        // and four levels of JSON: 16 of them are deeper than the JSON reader's old bound of 64.
        let levels = FASTTemplates.nestingDepthMax / 2
        let record = try Self.record(levels: levels)
        var encoder = FASTEncoder(templates: Self.templates)
        var bytes: [UInt8] = []
        try encoder.encode(record, into: &bytes)
        var stream = FASTStreamDecoder(templates: Self.templates, framing: .none, resetEachMessage: false)
        var message = FASTMessage()
        var offset = 0
        guard case .message = try stream.next(bytes, offset: &offset, into: &message) else {
            Issue.record("the encoded record does not decode")
            return
        }
        let decoded = message.record(in: Self.templates)
        #expect(decoded == record)
        #expect(try FASTRecord(jsonText: decoded.jsonText, templates: Self.templates) == decoded)
    }
}
