import FIXTestSupport
import Testing

@testable import FASTCodec

/// Runs of fixed fields (mandatory constants, optional constants and default operators whose
/// presence map bit is clear) are decoded in one step; these tests compare that path with the
/// per-field opcodes on the same bytes.
@Suite("Fixed field runs")
struct FixedRunTests {
    static let xml: String = {
        var tail = ""
        for k in 0 ..< 70 { tail += "<uInt32 name=\"X\(k)\" id=\"\(500 + k)\" presence=\"optional\"><default/></uInt32>\n" }
        return """
            <templates xmlns="http://www.fixprotocol.org/ns/fast/td/1.1">
              <template name="F" id="1">
                <string name="K1" id="1"><constant value="ABC"/></string>
                <uInt32 name="K2" id="2"><constant value="7"/></uInt32>
                <decimal name="K3" id="3"><constant value="1.5"/></decimal>
                <uInt32 name="D1" id="4" presence="optional"><default/></uInt32>
                <uInt32 name="D2" id="5"><default value="5"/></uInt32>
                <int64 name="D3" id="6" presence="optional"><default value="-9"/></int64>
                <string name="D4" id="7" presence="optional"><default/></string>
                <string name="D5" id="8"><default value="xy"/></string>
                <byteVector name="D6" id="9" presence="optional"><default value="0a0b"/></byteVector>
                <decimal name="D7" id="10" presence="optional"><default value="2.25"/></decimal>
                <decimal name="D8" id="11" presence="optional">
                  <exponent><default/></exponent><mantissa><delta/></mantissa>
                </decimal>
                <decimal name="D9" id="12" presence="optional">
                  <exponent><constant value="-2"/></exponent><mantissa><copy/></mantissa>
                </decimal>
                <uInt32 name="C1" id="13" presence="optional"><constant value="3"/></uInt32>
                <string name="C2" id="14" presence="optional"><constant value="Z"/></string>
                <uInt32 name="N" id="15"/>
                <uInt32 name="E1" id="16" presence="optional"><default/></uInt32>
                <sequence name="S">
                  <length name="L" id="17"/>
                  <uInt32 name="S1" id="18" presence="optional"><default/></uInt32>
                  <uInt32 name="S2" id="19" presence="optional"><default value="2"/></uInt32>
                  <string name="S3" id="20"><constant value="s"/></string>
                </sequence>
                <uInt32 name="T1" id="21" presence="optional"><default/></uInt32>
                <uInt32 name="T2" id="22" presence="optional"><default/></uInt32>
                <group name="G" presence="optional">
                  <uInt32 name="G1" id="23" presence="optional"><default/></uInt32>
                  <string name="G2" id="24"><constant value="g"/></string>
                </group>
                <uInt32 name="T3" id="25" presence="optional"><default/></uInt32>
                <string name="T4" id="26"><constant value="end"/></string>
                \(tail)
              </template>
              <template name="Short" id="2">
                <string name="A" id="1" presence="optional"><default/></string>
                <uInt32 name="B" id="2" presence="optional"><constant value="1"/></uInt32>
              </template>
            </templates>
            """
    }()

    static let templates = try! FASTTemplates(xml: xml)

    /// The same templates with every field decoded by its own opcode, and every sequence entry
    /// as a nested segment.
    static let reference: FASTTemplates = {
        let templates = try! FASTTemplates(xml: xml)
        for i in 0 ..< templates.instructions.count {
            templates.raw.instructions[i].code = templates.raw.instructions[i].fieldCode
            templates.raw.instructions[i].bodyIsFlat = false
        }
        return templates
    }()

    /// A value for a field with a default or constant operator: its initial value (the bit is
    /// clear), another value (the bit is set) or absent.
    static func value(_ name: String, _ random: inout SplitMix64) -> FASTValue {
        let choice = random.below(10)
        switch name {
        case "D1", "E1", "T1", "T2", "T3", "S1", "G1", "X":
            return choice < 6 ? .absent : .uint(UInt64(random.below(1_000)))
        case "D2": return choice < 6 ? .uint(5) : .uint(UInt64(random.below(1_000)))
        case "S2": return choice < 5 ? .uint(2) : (choice < 8 ? .absent : .uint(9))
        case "D3": return choice < 5 ? .int(-9) : (choice < 8 ? .absent : .int(Int64(random.below(1_000)) - 500))
        case "D4": return choice < 6 ? .absent : .string("v\(random.below(100))")
        case "D5": return choice < 6 ? .string("xy") : .string("w\(random.below(100))")
        case "D6": return choice < 5 ? .bytes([10, 11]) : (choice < 8 ? .absent : .bytes([1, 2, 3]))
        case "D7":
            return choice < 5 ? .decimal(exponent: -2, mantissa: 225)
                : (choice < 8 ? .absent : .decimal(exponent: -1, mantissa: Int64(random.below(100))))
        case "D8", "D9":
            let exponent: Int32 = name == "D9" ? -2 : Int32(random.below(5)) - 2
            return choice < 6 ? .absent : .decimal(exponent: exponent, mantissa: Int64(random.below(1_000)))
        case "C1": return choice < 5 ? .absent : .uint(3)
        case "C2": return choice < 5 ? .absent : .string("Z")
        default: return .absent
        }
    }

    static func record(_ random: inout SplitMix64, clearBits: Bool) -> FASTRecord {
        func field(_ name: String) -> FASTField {
            var value = value(name.hasPrefix("X") ? "X" : name, &random)
            if clearBits {
                // The initial value (or absent) everywhere: every presence map bit is clear.
                switch name {
                case "D2": value = .uint(5)
                case "D3": value = .int(-9)
                case "D5": value = .string("xy")
                case "D6": value = .bytes([10, 11])
                case "D7": value = .decimal(exponent: -2, mantissa: 225)
                case "S2": value = .uint(2)
                default: value = .absent
                }
            }
            return FASTField(name, value)
        }
        var fields: [FASTField] = [
            FASTField("K1", .string("ABC")), FASTField("K2", .uint(7)), FASTField("K3", .decimal(exponent: -1, mantissa: 15)),
        ]
        fields += ["D1", "D2", "D3", "D4", "D5", "D6", "D7", "D8", "D9", "C1", "C2"].map(field)
        fields.append(FASTField("N", .uint(UInt64(random.below(100)))))
        fields.append(field("E1"))
        let entries = (0 ..< random.below(4)).map { _ in
            [field("S1"), field("S2"), FASTField("S3", .string("s"))]
        }
        fields.append(FASTField("S", .sequence(entries)))
        fields += ["T1", "T2"].map(field)
        let groupPresent = clearBits ? false : random.below(2) == 0
        fields.append(FASTField("G", groupPresent ? .group([field("G1"), FASTField("G2", .string("g"))]) : .absent))
        fields.append(field("T3"))
        fields.append(FASTField("T4", .string("end")))
        fields += (0 ..< 70).map { field("X\($0)") }
        return FASTRecord(templateID: 1, template: "F", fields: fields)
    }

    /// Decodes `stream` message by message with both template sets; returns the records (or the
    /// error) of the fixed-run path after checking that the per-field path gave the same.
    static func decodeBoth(_ stream: [UInt8]) -> ([FASTRecord], FASTError?) {
        func decode(_ templates: FASTTemplates) -> ([FASTRecord], FASTError?) {
            var decoder = FASTDecoder(templates: templates)
            var message = FASTMessage()
            var records: [FASTRecord] = []
            var offset = 0
            while offset < stream.count {
                do {
                    offset += try decoder.decode(stream[offset...], into: &message)
                } catch {
                    return (records, error)
                }
                records.append(message.record(in: templates))
            }
            return (records, nil)
        }
        let fast = decode(templates)
        let slow = decode(reference)
        #expect(fast.0 == slow.0)
        #expect(fast.1 == slow.1)
        return fast
    }

    @Test func templatesHaveFixedRuns() {
        let codes = Self.templates.instructions.map(\.code)
        #expect(codes.filter { $0 == Opcode.fixedRun }.count >= 6)
        #expect(!Self.reference.instructions.isEmpty)
        #expect((0 ..< Self.reference.instructions.count).allSatisfy {
            Self.reference.raw.instructions[$0].code != Opcode.fixedRun
        })
        #expect(Self.templates.instructions.contains { $0.kind == .sequence && $0.bodyIsFlat })
        // A run never crosses the end of a sequence entry or a group body: S3 ends the entry,
        // G2 ends the group, and each is a run of one (no fixedRun code).
        let names = Self.templates.instructions.map { Self.templates.name($0) }
        for name in ["S3", "G2", "N", "L", "E1"] {
            let index = names.firstIndex(of: name)!
            #expect(Self.templates.instructions[index].code != Opcode.fixedRun, "\(name)")
        }
        // A split decimal whose exponent is absent when its bit is clear is fixed too.
        for name in ["K1", "K2", "D1", "D8", "D9", "C1", "T1", "T3", "X0", "X68"] {
            let index = names.firstIndex(of: name)!
            #expect(Self.templates.instructions[index].code == Opcode.fixedRun, "\(name)")
        }
    }

    /// Every bit clear: the whole template decodes as a few runs, through the end of a map that
    /// the encoder cut short (bits past its last byte are clear) and across refills.
    @Test func allBitsClear() throws {
        var random = SplitMix64(seed: 11)
        var encoder = FASTEncoder(templates: Self.templates)
        var stream: [UInt8] = []
        var records: [FASTRecord] = []
        for _ in 0 ..< 20 {
            let record = Self.record(&random, clearBits: true)
            records.append(record)
            try encoder.encode(record, into: &stream)
        }
        let (decoded, error) = Self.decodeBoth(stream)
        #expect(error == nil)
        #expect(decoded == records)
    }

    /// Random mixes of set and clear bits, with previous values carried between messages.
    @Test func mixedBitsMatchPerFieldDecoding() throws {
        var random = SplitMix64(seed: 12)
        var encoder = FASTEncoder(templates: Self.templates)
        var stream: [UInt8] = []
        var records: [FASTRecord] = []
        for _ in 0 ..< 400 {
            let record = Self.record(&random, clearBits: random.below(5) == 0)
            records.append(record)
            try encoder.encode(record, into: &stream)
        }
        let (decoded, error) = Self.decodeBoth(stream)
        #expect(error == nil)
        #expect(decoded == records)
    }

    /// A presence map written out in full with explicit zero bytes (no truncation) decodes the
    /// same as the truncated one, and a map with a set bit after many clear ones stops the run
    /// at that field.
    @Test func explicitZeroBitsAndLateSetBit() throws {
        // Template "Short": pmap bits [template id, A, B]. 0xe0 = template id bit set only.
        let truncated: [UInt8] = [0xc0, 0x82]
        let full: [UInt8] = [0x40, 0x80, 0x82]  // overlong map: R7
        let (records, error) = Self.decodeBoth(truncated)
        #expect(error == nil)
        #expect(records.first?["A"] == .absent)
        #expect(records.first?["B"] == .absent)
        let (_, overlong) = Self.decodeBoth(full)
        #expect(overlong?.code == .r7)
        // Bits: template id, A clear, B set: B is present (constant 1), A absent.
        let (late, lateError) = Self.decodeBoth([0xd0, 0x82])
        #expect(lateError == nil)
        #expect(late.first?["A"] == .absent)
        #expect(late.first?["B"] == .uint(1))
        // A set: A is read from the input, then B's clear bit is past the map's end.
        let (first, firstError) = Self.decodeBoth([0xe0, 0x82, 0x61, 0xe2])
        #expect(firstError == nil)
        #expect(first.first?["A"] == .string("ab"))
        #expect(first.first?["B"] == .absent)
    }

    /// Damaged streams fail (or decode) the same way on both paths, with the same error.
    @Test func damagedStreamsMatchPerFieldDecoding() throws {
        var random = SplitMix64(seed: 13)
        var encoder = FASTEncoder(templates: Self.templates)
        var stream: [UInt8] = []
        for _ in 0 ..< 30 { try encoder.encode(Self.record(&random, clearBits: random.below(3) == 0), into: &stream) }
        for _ in 0 ..< 300 {
            var damaged = stream
            for _ in 0 ... random.below(4) {
                let at = random.below(damaged.count)
                switch random.below(3) {
                case 0: damaged[at] = UInt8(truncatingIfNeeded: random.below(256))
                case 1: damaged[at] ^= 0x80
                default: damaged.removeSubrange(at ..< min(damaged.count, at + 1 + random.below(8)))
                }
                if damaged.isEmpty { break }
            }
            _ = Self.decodeBoth(damaged)
        }
    }
}

@Suite("Presence maps")
struct PresenceMapTests {
    /// The word-at-a-time gather against a byte loop, for every map length it handles.
    @Test func gatherMatchesByteLoop() {
        var random = SplitMix64(seed: 21)
        for _ in 0 ..< 2_000 {
            let count = 1 + random.below(8)
            var bytes = (0 ..< 8).map { _ in UInt8(truncatingIfNeeded: random.next()) & 0x7f }
            bytes[count - 1] |= 0x80
            var word: UInt64 = 0
            for (k, byte) in bytes.enumerated() { word |= UInt64(byte) << UInt64(8 * k) }
            var expected: UInt64 = 0
            for k in 0 ..< count { expected |= UInt64(bytes[k] & 0x7f) << UInt64(57 - 7 * k) }
            expected |= 1 << UInt64(63 - 7 * count)
            #expect(DecodeRun.gatherMap(word, count: count) == expected)
        }
    }

    static let templates: FASTTemplates = {
        var fields = ""
        for k in 0 ..< 80 { fields += "<uInt32 name=\"F\(k)\" id=\"\(k + 1)\" presence=\"optional\"><copy/></uInt32>\n" }
        return try! FASTTemplates(xml: """
            <templates xmlns="http://www.fixprotocol.org/ns/fast/td/1.1">
              <template name="M" id="1">\(fields)</template>
            </templates>
            """)
    }()

    /// Maps of every length from 1 to 12 bytes, with the input ending right after the message
    /// or followed by padding: the same fields are present and the same bytes are used.
    @Test func mapsOfEveryLength() throws {
        var random = SplitMix64(seed: 22)
        for length in 1 ... 12 {
            for padding in [0, 1, 7, 8, 16] {
                // Bit 0 is the template id; bits 1... the fields F0...
                var bits = [true] + (1 ..< 7 * length).map { _ in random.below(2) == 0 }
                bits[7 * length - 1] = true  // the last byte is not overlong
                var map: [UInt8] = []
                for k in 0 ..< length {
                    var byte: UInt8 = k == length - 1 ? 0x80 : 0
                    for b in 0 ..< 7 where bits[7 * k + b] { byte |= 0x40 >> UInt8(b) }
                    map.append(byte)
                }
                let present = (1 ..< bits.count).filter { bits[$0] && $0 <= 80 }.map { $0 - 1 }
                var message = map + [0x81]
                for field in present { message.append(0x80 | UInt8(field % 100 + 1)) }
                let bytes = message + [UInt8](repeating: 0x80, count: padding)
                var decoder = FASTDecoder(templates: Self.templates)
                var decoded = FASTMessage()
                let used = try decoder.decode(bytes, into: &decoded)
                #expect(used == message.count)
                let record = decoded.record(in: Self.templates)
                for field in present { #expect(record["F\(field)"] == .uint(UInt64(field % 100)), "F\(field)") }
                #expect(record.fields.filter { $0.value != .absent }.count == present.count)
            }
        }
    }

    /// An overlong map (last byte 0x80) is R7 at every length, and a map cut off by the end of
    /// the input is U1.
    @Test func overlongAndTruncatedMaps() {
        for length in 2 ... 12 {
            for padding in [0, 8] {
                let map = [UInt8](repeating: 0x40, count: 1) + [UInt8](repeating: 0, count: length - 2) + [0x80]
                let error = decodeError(Self.templates, map + [0x81] + [UInt8](repeating: 0x80, count: padding))
                #expect(error?.code == .r7, "length \(length)")
                #expect(error?.offset == 0)
            }
            let cut = [UInt8](repeating: 0x40, count: length)
            #expect(decodeError(Self.templates, cut)?.code == .u1)
        }
    }
}

@Suite("String bytes")
struct StringBytesTests {
    /// `copyBytes` writes exactly the bytes asked for, for every length it handles specially.
    @Test func copyBytesCopiesExactly() {
        var random = SplitMix64(seed: 31)
        for length in 0 ... 70 {
            let source = (0 ..< length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            var destination = [UInt8](repeating: 0xee, count: length + 16)
            source.withUnsafeBufferPointer { from in
                destination.withUnsafeMutableBufferPointer { to in
                    copyBytes(to: to.baseAddress! + 8, from: from.baseAddress ?? UnsafePointer(to.baseAddress!), length)
                }
            }
            #expect(Array(destination[8 ..< 8 + length]) == source, "length \(length)")
            #expect(destination[..<8].allSatisfy { $0 == 0xee } && destination[(8 + length)...].allSatisfy { $0 == 0xee })
        }
    }

    static let templates = try! FASTTemplates(xml: """
        <templates xmlns="http://www.fixprotocol.org/ns/fast/td/1.1">
          <template name="T" id="1">
            <string name="A" id="1"/>
            <string name="B" id="2" presence="optional"><copy/></string>
            <uInt32 name="C" id="3"/>
          </template>
        </templates>
        """)

    /// Strings of every length from 1 to 40 bytes, with the input ending right after them or
    /// followed by more bytes: read the same, and previous values copy back the same.
    @Test func stringsOfEveryLength() throws {
        var random = SplitMix64(seed: 32)
        for length in 1 ... 40 {
            for padding in [0, 3, 8, 20] {
                let text = String((0 ..< length).map { _ in Character(Unicode.Scalar(UInt8(33 + random.below(90)))) })
                var encoder = FASTEncoder(templates: Self.templates)
                var stream: [UInt8] = []
                let first = FASTRecord(templateID: 1, template: "T", fields: [
                    FASTField("A", .string(text)), FASTField("B", .string(text)), FASTField("C", .uint(5)),
                ])
                let second = FASTRecord(templateID: 1, template: "T", fields: [
                    FASTField("A", .string(String(text.reversed()))), FASTField("B", .string(text)), FASTField("C", .uint(6)),
                ])
                try encoder.encode(first, into: &stream)
                try encoder.encode(second, into: &stream)
                let total = stream.count
                stream += [UInt8](repeating: 0xff, count: padding)
                var decoder = FASTDecoder(templates: Self.templates)
                var message = FASTMessage()
                var offset = 0
                offset += try decoder.decode(stream[offset...], into: &message)
                #expect(message.record(in: Self.templates) == first)
                offset += try decoder.decode(stream[offset...], into: &message)
                #expect(message.record(in: Self.templates) == second)
                #expect(offset == total)
            }
        }
    }

    /// A string cut off by the end of the input, after 1 to 20 bytes, is U1 at its start.
    @Test func cutStringIsU1() {
        for length in 1 ... 20 {
            let bytes: [UInt8] = [0xc0, 0x81] + [UInt8](repeating: 0x41, count: length)
            let error = decodeError(Self.templates, bytes)
            #expect(error?.code == .u1, "length \(length)")
            #expect(error?.offset == 2)
            #expect(error?.field == "A")
        }
    }
}

@Suite("Long signed integers")
struct LongSignedTests {
    /// Values whose encoding starts with a 0x00 or 0x7f byte (the sign needs a group of its
    /// own) and others of every length, with and without bytes after them in the input.
    @Test func signedValuesOfEveryLength() throws {
        var values: [Int64] = [Int64.max, Int64.min, -1, 0, 63, 64, -64, -65]
        for bits in stride(from: 6, through: 62, by: 7) {
            let power = Int64(1) << Int64(bits)
            values += [power, power - 1, power + 1, -power, -power - 1, -power + 1]
        }
        for value in values {
            for padding in [0, 4, 12] {
                for (id, name) in [(UInt32(4), "I64"), (6, "I64N")] {
                    let record = FASTRecord(templateID: id, template: name, fields: [
                        FASTField(id == 4 ? "V4" : "V6", .int(value)),
                    ])
                    var encoder = FASTEncoder(templates: integerTemplates)
                    var bytes: [UInt8] = []
                    try encoder.encode(record, into: &bytes)
                    let total = bytes.count
                    bytes += [UInt8](repeating: 0x81, count: padding)
                    var decoder = FASTDecoder(templates: integerTemplates)
                    var message = FASTMessage()
                    let used = try decoder.decode(bytes, into: &message)
                    #expect(used == total)
                    #expect(message.record(in: integerTemplates) == record, "\(value)")
                }
            }
        }
    }

    /// A leading 0x00 or 0x7f group that the value does not need is R6, however many bytes follow.
    @Test func overlongLeadingGroupsAreR6() {
        for padding in [0, 12] {
            let tail = [UInt8](repeating: 0x81, count: padding)
            #expect(decodeError(integerTemplates, [0xc0, 0x84, 0x00, 0x3f, 0x81] + tail)?.code == .r6)
            #expect(decodeError(integerTemplates, [0xc0, 0x84, 0x7f, 0x40, 0x81] + tail)?.code == .r6)
            #expect(decodeError(integerTemplates, [0xc0, 0x84, 0x00, 0x40, 0x00, 0x81] + tail)?.code == nil)
            #expect(decodeError(integerTemplates, [0xc0, 0x84, 0x7f, 0x3f, 0x00, 0x81] + tail)?.code == nil)
        }
    }
}
