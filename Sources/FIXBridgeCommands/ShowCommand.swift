import ArgumentParser
import FIXDictionary
import FIXTagValue

/// `fixbridge show FILE…`: one message per line, or one JSON object per message, with filters.
public struct ShowCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the messages of FIX captures, one per line.",
        discussion: """
            Reads raw SOH-delimited files, text with '|' or '^A' delimiters and QuickFIX message \
            logs, streaming (a file of any size). Bad messages are reported on standard error with \
            their byte offset and line, and skipped. Use '-' to read standard input.
            """
    )

    @Argument(help: "Capture files ('-' for standard input).")
    var files: [String]

    @Flag(name: .long, help: "One JSON object per message.")
    var json = false

    @Option(name: .customLong("type"), help: "Only messages of this MsgType(35) (repeatable).")
    var types: [String] = []

    @Option(name: .customLong("tag"), help: "Only messages with this TAG=VALUE (repeatable; all must match).")
    var tags: [String] = []

    @Option(name: .customLong("order"), help: "Only one order's life: messages linked to this ClOrdID through ClOrdID(11)/OrigClOrdID(41) chains.")
    var order: String?

    @Flag(name: .long, help: "Prefix each line with file, byte offset and line number.")
    var offsets = false

    @Flag(name: .long, help: "Print field names: Side(54)=1(BUY).")
    var names = false

    @Flag(name: .long, help: "Print the messages exactly as on the wire (SOH shown as |), without enum meanings.")
    var raw = false

    @Option(name: .long, help: "Dictionary (QuickFIX XML) to use instead of the shipped one for the message's version.")
    var dict: String?

    @Option(name: .long, help: "Venue overlay applied on top of the dictionary (repeatable).")
    var overlay: [String] = []

    public init() {}

    public func validate() throws {
        for tag in tags {
            let parts = tag.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, Int(parts[0]) != nil, !parts[1].isEmpty else {
                throw ValidationError("--tag wants TAG=VALUE with a numeric tag, got '\(tag)'")
            }
        }
    }

    public func run() throws {
        var out = OutputBuffer()
        let stats = try render(to: &out, diagnostics: warn)
        out.flush()
        if stats.errors > 0 {
            warn("\(stats.messages) messages shown, \(stats.errors) bad stretches skipped")
        }
    }

    /// Writes the selected messages to `out` and each bad stretch to `diagnostics`.
    func render(to out: inout OutputBuffer, diagnostics: (String) -> Void) throws -> (messages: Int, errors: Int) {
        let filter = try MessageFilter(types: types, tags: tags)
        // Names and enum meanings come from the dictionaries; without any, tag numbers only.
        let locator: DictionaryLocator? = raw ? nil : try? DictionaryLocator(dictionaryFile: dict, overlays: overlay)
        if !raw && dict != nil && locator == nil {
            throw ValidationError("cannot load dictionary \(dict!)")
        }
        var stats = (messages: 0, errors: 0)
        var chain: OrderChain?
        if let order {
            chain = OrderChain(start: order)
            // Grow the set of linked ids until a whole pass adds none (a chain may be entered at
            // its latest id, and earlier links are only seen on the next pass).
            let rereadable = try files.allSatisfy { try CaptureFile(path: $0).isRereadable }
            var passes = 0
            while rereadable && passes < OrderChain.passesMax {
                let before = chain!.ids.count
                for path in files {
                    try CaptureFile(path: path).read { event in
                        if case .message(let message) = event { chain!.absorb(message.view()) }
                    }
                }
                passes += 1
                if chain!.ids.count == before { break }
            }
        }
        for path in files {
            let file = try CaptureFile(path: path)
            var progress = ProgressLine(label: path, total: file.size)
            try file.read(progress: { progress.update($0) }) { event in
                switch event {
                case .error(let error):
                    stats.errors += 1
                    out.flush()
                    diagnostics("\(path): byte \(error.error.offset), line \(error.line): \(error.error.code)"
                                + Self.details(error.error))
                case .message(let message):
                    let view = message.view()
                    if !filter.matches(view) { return }
                    if chain != nil && !chain!.absorb(view) { return }
                    stats.messages += 1
                    let selection = locator.flatMap { try? $0.selection(for: view) }
                    if json {
                        out.write(Self.json(message, file: path, dictionaries: selection))
                    } else {
                        if offsets { out.write("\(path):\(message.offset):\(message.line): ") }
                        if let selection {
                            Self.writeAnnotated(view, selection: selection, names: names, to: &out)
                        } else {
                            Self.writeLine(view, to: &out)
                        }
                    }
                    out.write(byte: 0x0A)
                }
            }
            progress.finish()
        }
        return stats
    }

    static func details(_ error: FIXParseError) -> String {
        var text = ""
        if error.code == .garbage || error.code == .truncated, let found = error.found { return " (\(found) bytes)" }
        if let tag = error.tag { text += ", tag \(tag)" }
        if let expected = error.expected, let found = error.found { text += ": expected \(expected), found \(found)" }
        return text
    }

    /// `8=FIX.4.4|9=51|35=0|…|10=014|`, SOH shown as '|'.
    static func writeLine(_ view: FIXMessage, to out: inout OutputBuffer) {
        writeVisible(view.bytes, to: &out)
    }

    /// Writes bytes as one line of text: SOH becomes '|', line breaks inside data fields are
    /// escaped. Straight into the output buffer, so a message costs no allocation.
    static func writeVisible(_ bytes: UnsafeRawBufferPointer, to out: inout OutputBuffer) {
        for b in bytes {
            switch b {
            case 0x01: out.write(byte: 0x7C)
            case 0x0A: out.write(byte: 0x5C); out.write(byte: 0x6E)
            case 0x0D: out.write(byte: 0x5C); out.write(byte: 0x72)
            default: out.write(byte: b)
            }
        }
        out.flushIfFull()
    }

    /// `35=8(EXECUTION_REPORT)|…|54=1(BUY)|`, or with names `MsgType(35)=8(…)|…|Side(54)=1(BUY)|`.
    static func writeAnnotated(_ view: FIXMessage, selection: FIXDictionarySelection, names: Bool, to out: inout OutputBuffer) {
        for field in view {
            let dictionary = lookup(field.tag, selection)
            if names, let name = dictionary?.fieldName(field.tag) {
                out.write("\(name)(\(field.tag))=")
            } else {
                out.write("\(field.tag)=")
            }
            writeVisible(field.value.bytes, to: &out)
            if let meaning = dictionary?.valueDescription(tag: field.tag, value: field.value) {
                out.write("(\(meaning))")
            } else if field.tag == 35, let name = selection.bodyDictionary(msgType: field.value.string).messageName(msgType: field.value.string) {
                out.write("(\(name))")
            }
            out.write(byte: 0x7C)
        }
    }

    /// The dictionary that defines `tag`: the application one first, then the transport one.
    static func lookup(_ tag: Int, _ selection: FIXDictionarySelection) -> FIXDictionary? {
        if selection.application.field(tag) != nil { return selection.application }
        if selection.transport.field(tag) != nil { return selection.transport }
        return nil
    }

    /// `{"file":…,"offset":…,"line":…,"time":…,"msgType":…,"fields":[{"tag":8,"value":"FIX.4.4"},…]}`,
    /// with `"name"` and `"enum"` on each field when a dictionary knows them.
    static func json(_ message: CaptureMessage, file: String, dictionaries: FIXDictionarySelection? = nil) -> String {
        let view = message.view()
        var out = "{\"file\":"
        JSONText.appendString(file, to: &out)
        out += ",\"offset\":\(message.offset),\"line\":\(message.line)"
        if let time = message.logTime { out += ",\"logTime\":\"\(time)\"" }
        if let type = view.msgType {
            out += ",\"msgType\":"
            JSONText.appendString(type.bytes, to: &out)
        }
        out += ",\"fields\":["
        var first = true
        for field in view {
            out += first ? "{\"tag\":\(field.tag)," : ",{\"tag\":\(field.tag),"
            first = false
            if let dictionaries, let dictionary = lookup(field.tag, dictionaries) {
                if let name = dictionary.fieldName(field.tag) { out += "\"name\":" + JSONText.string(name) + "," }
                if let meaning = dictionary.valueDescription(tag: field.tag, value: field.value) {
                    out += "\"enum\":" + JSONText.string(meaning) + ","
                }
            }
            if JSONText.isValidUTF8(field.value.bytes) {
                out += "\"value\":"
                JSONText.appendString(field.value.bytes, to: &out)
            } else {
                out += "\"hex\":\"\(JSONText.hex(field.value.bytes))\""
            }
            out += "}"
        }
        out += "]}"
        return out
    }
}

/// `--type` and `--tag` filters.
struct MessageFilter {
    let types: [[UInt8]]
    let tags: [(tag: Int, value: [UInt8])]

    init(types: [String], tags: [String]) throws {
        self.types = types.map { Array($0.utf8) }
        self.tags = tags.map { spec in
            let parts = spec.split(separator: "=", maxSplits: 1)
            return (Int(parts[0])!, Array(parts[1].utf8))
        }
    }

    func matches(_ view: FIXMessage) -> Bool {
        if !types.isEmpty {
            guard let type = view.msgType, types.contains(where: { type.equals($0) }) else { return false }
        }
        for wanted in tags {
            var found = false
            for field in view where field.tag == wanted.tag && field.value.equals(wanted.value) {
                found = true
                break
            }
            if !found { return false }
        }
        return true
    }
}

/// The ids of one order's life: the ClOrdID(11) / OrigClOrdID(41) chain of its cancels and
/// replaces. OrderID(37) is not followed: it is unique only per venue, and captures mix venues.
struct OrderChain {
    /// Most passes over the input `--order` makes to close the chain.
    static let passesMax = 8

    private(set) var ids: Set<String>

    init(start: String) {
        ids = [start]
    }

    /// True when the message belongs to the chain; its ids then join the chain.
    @discardableResult
    mutating func absorb(_ view: FIXMessage) -> Bool {
        var linked: [String] = []
        var member = false
        for field in view where field.tag == 11 || field.tag == 41 {
            let id = field.value.string
            linked.append(id)
            if ids.contains(id) { member = true }
        }
        if member { ids.formUnion(linked) }
        return member
    }
}
