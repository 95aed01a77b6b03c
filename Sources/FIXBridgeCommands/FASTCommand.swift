import ArgumentParser
import FASTCodec
import Foundation

extension FASTFraming: ExpressibleByArgument {}

/// `fixbridge fast`: decode FAST streams to readable text, JSON or FIX fields, and encode JSON back.
///
/// ```
/// fixbridge fast decode --templates moex.xml --framing moex capture.bin --fix
/// fixbridge fast decode --templates t.xml --hex c08184 --json
/// fixbridge fast encode --templates t.xml --framing length-le32 messages.jsonl --out stream.bin
/// ```
public struct FASTCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fast",
        abstract: "Decode and encode FAST 1.1 messages.",
        subcommands: [Decode.self, Encode.self]
    )

    public init() {}

    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decode a FAST stream or one message.",
            discussion: """
                Prints one line per message: a readable form by default, --json in the value conventions \
                of the FAST test vectors (template_id, template, fields), or --fix as tag=value|... \
                Dictionaries are reset once at stream start, or before every message with --reset-each.
                """
        )

        @Option(name: .long, help: "FAST template XML file.")
        var templates: String

        @Option(name: .long, help: "Framing: none, length-le32, moex (4-byte LE sequence number), cme (4-byte BE sequence number + 1-byte channel).")
        var framing: FASTFraming = .none

        @Option(name: .long, help: "Decode this hex string instead of a file.")
        var hex: String?

        @Flag(name: .long, help: "Print one JSON object per message.")
        var json = false

        @Flag(name: .long, help: "Print the FIX field list (tag=value|...).")
        var fix = false

        @Flag(name: .customLong("reset-each"), help: "Reset the dictionaries before every message.")
        var resetEach = false

        @Option(name: .customLong("template-id-initial"), help: "Template id assumed before the first message carries one.")
        var templateIDInitial: UInt32?

        @Argument(help: "File with the FAST stream.")
        var file: String?

        func validate() throws {
            guard (file == nil) != (hex == nil) else { throw ValidationError("give either FILE or --hex HEX") }
            guard !(json && fix) else { throw ValidationError("--json and --fix exclude each other") }
        }

        func run() throws {
            let templateSet = try loadTemplates(templates)
            let input: [UInt8]
            if let hex {
                guard let bytes = decodeHex(hex) else { throw ValidationError("--hex is not an even-length hex string") }
                input = bytes
            } else {
                input = try readFile(file!)
            }
            var stream = FASTStreamDecoder(templates: templateSet, framing: framing, resetEachMessage: resetEach,
                                           templateIDInitial: templateIDInitial)
            var message = FASTMessage()
            var offset = 0
            var count = 0
            var out = ""
            while true {
                let result: FASTStreamResult
                do {
                    result = try stream.next(input, offset: &offset, into: &message)
                } catch {
                    flush(&out)
                    fail("message \(count + 1): \(error)")
                }
                switch result {
                case .end:
                    flush(&out)
                    return
                case .needMoreBytes:
                    flush(&out)
                    fail("input ends inside a frame at byte \(offset) (message \(count + 1))")
                case .message(let frame):
                    count += 1
                    if fix {
                        out += message.fixFields(in: templateSet).map { "\($0.tag)=\($0.value)" }.joined(separator: "|")
                    } else if json {
                        out += message.record(in: templateSet).jsonText
                    } else {
                        var prefix = "#\(count) @\(frame.offset)"
                        if let sequence = frame.sequenceNumber { prefix += " seq=\(sequence)" }
                        if let channel = frame.channel { prefix += " ch=\(channel)" }
                        out += prefix + " " + message.record(in: templateSet).text
                    }
                    out += "\n"
                    if out.utf8.count > 1 << 16 { flush(&out) }
                }
            }
        }
    }

    struct Encode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Encode JSON messages (one object per line) as a FAST stream.",
            discussion: "Takes the objects `fast decode --json` prints. Dictionaries carry across lines."
        )

        @Option(name: .long, help: "FAST template XML file.")
        var templates: String

        @Option(name: .long, help: "Framing: none, length-le32, moex, cme (sequence numbers count from 1).")
        var framing: FASTFraming = .none

        @Option(name: .long, help: "Write the bytes to this file instead of standard output.")
        var out: String?

        @Flag(name: .customLong("reset-each"), help: "Reset the dictionaries before every message.")
        var resetEach = false

        @Option(name: .customLong("template-id-initial"), help: "Template id the decoder assumes before the first message.")
        var templateIDInitial: UInt32?

        @Argument(help: "JSON lines file.")
        var file: String

        func run() throws {
            let templateSet = try loadTemplates(templates)
            let text = String(decoding: try readFile(file), as: UTF8.self)
            var encoder = FASTEncoder(templates: templateSet, templateIDInitial: templateIDInitial)
            var output: [UInt8] = []
            var sequence: UInt32 = 0
            for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
                if trimmed.isEmpty { continue }
                if resetEach { encoder.reset() }
                var message: [UInt8] = []
                do {
                    let record = try FASTRecord(jsonText: trimmed, templates: templateSet)
                    try encoder.encode(record, into: &message)
                } catch {
                    fail("\(file):\(index + 1): \(error)")
                }
                sequence &+= 1
                framing.writeHeader(messageBytes: message.count, sequenceNumber: sequence, to: &output)
                output += message
            }
            if let out {
                do {
                    try Data(output).write(to: URL(fileURLWithPath: out))
                } catch {
                    fail("cannot write \(out): \(error.localizedDescription)")
                }
            } else {
                FileHandle.standardOutput.write(Data(output))
            }
        }
    }
}

private func readFile(_ path: String) throws -> [UInt8] {
    do {
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    } catch {
        throw ValidationError("cannot read \(path): \(error.localizedDescription)")
    }
}

private func loadTemplates(_ path: String) throws -> FASTTemplates {
    let bytes = try readFile(path)
    do {
        return try FASTTemplates(xmlBytes: bytes)
    } catch {
        fail("\(path): \(error)")
    }
}

private func decodeHex(_ text: String) -> [UInt8]? {
    let digits = Array(text.filter { !$0.isWhitespace }.utf8)
    guard digits.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(digits.count / 2)
    var i = 0
    while i < digits.count {
        guard let high = hexValue(digits[i]), let low = hexValue(digits[i + 1]) else { return nil }
        bytes.append(high << 4 | low)
        i += 2
    }
    return bytes
}

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
    default: nil
    }
}

private func flush(_ text: inout String) {
    if !text.isEmpty { FileHandle.standardOutput.write(Data(text.utf8)) }
    text = ""
}

/// Bad input ends the command with a message on standard error and exit status 1.
private func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    FASTCommand.exit(withError: ExitCode(1))
}
