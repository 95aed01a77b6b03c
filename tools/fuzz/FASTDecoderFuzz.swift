// libFuzzer target for the FAST decoder and stream framing; built by `tools/fuzz/run.sh fast`,
// which compiles it together with Sources/FASTCodec/*.swift, so internal API is reachable.
//
// Each input is decoded with every framing. When a message decodes, it is also encoded again
// and decoded a second time: the two decodings must agree, which checks the encoder against
// the decoder on inputs no test author thought of.

/// A small template set that uses every operator on every type, sequences (with and without
/// operators on the length), groups, nesting, a static and a dynamic template reference,
/// dictionary scopes and a template that resets the dictionaries.
let fuzzTemplateXML = """
<templates xmlns="http://www.fixprotocol.org/ns/fast/td/1.1">
  <template name="Header" id="90">
    <uInt32 name="MsgSeqNum" id="34"><increment/></uInt32>
    <uInt64 name="SendingTime" id="52"><delta/></uInt64>
  </template>
  <template name="Ints" id="1">
    <templateRef name="Header"/>
    <int32 name="I32" id="101" presence="optional"><copy value="-5"/></int32>
    <uInt32 name="U32" id="102"><default value="7"/></uInt32>
    <int64 name="I64" id="103" presence="optional"><delta/></int64>
    <uInt64 name="U64" id="104" presence="optional"><increment/></uInt64>
    <uInt32 name="C32" id="105" presence="optional"><constant value="9"/></uInt32>
    <int32 name="N32" id="106" presence="optional"/>
    <uInt64 name="T64" id="107"><copy dictionary="template"/></uInt64>
  </template>
  <template name="Strings" id="2" dictionary="type">
    <typeRef name="StringsType"/>
    <string name="A" id="201"><copy/></string>
    <string name="B" id="202" presence="optional"><tail value="XYZ"/></string>
    <string name="C" id="203"><delta/></string>
    <string name="U" id="204" charset="unicode" presence="optional"><delta/></string>
    <byteVector name="V" id="205" presence="optional"><tail/></byteVector>
    <byteVector name="W" id="206"><copy key="shared"/></byteVector>
    <string name="D" id="207" presence="optional"><default value="dflt"/></string>
    <string name="K" id="208"><constant value="K"/></string>
  </template>
  <template name="Decimals" id="3">
    <decimal name="P" id="301"><delta/></decimal>
    <decimal name="Q" id="302" presence="optional"><copy value="1.5"/></decimal>
    <decimal name="R" id="303" presence="optional">
      <exponent><default value="-2"/></exponent>
      <mantissa><delta/></mantissa>
    </decimal>
    <decimal name="S" id="304"><exponent><copy/></exponent><mantissa><increment value="1"/></mantissa></decimal>
    <decimal name="T" id="305" presence="optional"/>
  </template>
  <template name="Nested" id="4">
    <sequence name="Entries">
      <length name="NoEntries" id="401"/>
      <uInt32 name="Action" id="402"><copy value="1"/></uInt32>
      <group name="Inner" presence="optional">
        <string name="Sym" id="403"><copy dictionary="sym"/></string>
        <sequence name="Legs" presence="optional">
          <length name="NoLegs" id="404"><default value="2"/></length>
          <int64 name="Qty" id="405"><delta/></int64>
        </sequence>
      </group>
      <templateRef/>
    </sequence>
    <sequence name="Tags" presence="optional">
      <length name="NoTags" id="406"><copy/></length>
      <uInt32 name="Tag" id="407"/>
    </sequence>
  </template>
  <template name="Reset" id="5" reset="yes">
    <uInt32 name="Value" id="501"><copy value="1"/></uInt32>
  </template>
</templates>
"""

let fuzzTemplates: FASTTemplates = {
    do {
        return try FASTTemplates(xml: fuzzTemplateXML)
    } catch {
        fatalError("fuzz templates do not load: \(error)")
    }
}()

/// Most messages decoded per framing from one input, so a long input cannot make one run slow.
let fuzzMessagesMax = 64

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEntry(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    var message = FASTMessage()
    for framing in FASTFraming.allCases {
        for resetEach in [false, true] {
            var stream = FASTStreamDecoder(templates: fuzzTemplates, framing: framing, resetEachMessage: resetEach)
            var offset = 0
            for _ in 0 ..< fuzzMessagesMax {
                let before = offset
                guard case .message = try? stream.next(input, offset: &offset, into: &message) else { break }
                precondition(offset > before, "a decoded message must consume bytes")
                let record = message.record(in: fuzzTemplates)
                _ = message.fixFields(in: fuzzTemplates)
                _ = record.text
                precondition((try? FASTRecord(jsonText: record.jsonText, templates: fuzzTemplates)) == record,
                             "the JSON form must read back to the same record")
                if resetEach { checkReencoding(record) }
            }
        }
    }
    return 0
}

/// Encodes a record with fresh dictionaries and decodes the result: the values must survive.
func checkReencoding(_ record: FASTRecord) {
    var encoder = FASTEncoder(templates: fuzzTemplates)
    var bytes: [UInt8] = []
    guard (try? encoder.encode(record, into: &bytes)) != nil else { return }
    var decoder = FASTDecoder(templates: fuzzTemplates)
    var again = FASTMessage()
    do {
        let used = try decoder.decode(bytes, into: &again)
        precondition(used == bytes.count, "re-encoded message must decode to its end")
    } catch {
        preconditionFailure("re-encoded message does not decode: \(error)")
    }
    precondition(again.record(in: fuzzTemplates) == record, "re-encoded message decodes to different values")
}
