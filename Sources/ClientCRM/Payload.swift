import FIXTagValue

/// The webhook payload of an entry: UTF-8 JSON as described by
/// `Specs/crm/interaction-webhook.schema.json`, written by hand so that the core needs no
/// Foundation. Keys are written in a fixed order and `facts` in key order, so the same entry
/// always gives the same bytes (and the same signature).
public enum InteractionPayload {
    /// The payload format version; bumped only for changes a receiver must know about.
    public static let schemaVersion = 1

    /// The JSON bytes of `entry`.
    public static func json(_ entry: InteractionEntry) -> [UInt8] {
        var w = JSONWriter()
        w.open("{")
        w.key("schemaVersion"); w.raw(String(schemaVersion))
        w.key("entryId"); w.string(entry.id)
        w.key("clientId"); w.string(entry.clientID)
        w.key("accountId"); if let a = entry.accountID { w.string(a) } else { w.raw("null") }
        w.key("time"); w.string(iso8601(entry.time))
        w.key("channel"); w.string(entry.channel.rawValue)
        w.key("direction"); w.string(entry.direction.rawValue)
        w.key("severity"); w.string(entry.severity.rawValue)
        w.key("rule"); w.string(entry.rule)
        w.key("summary"); w.string(entry.summary)
        w.key("details"); w.string(entry.details)
        w.key("facts")
        w.open("{")
        for k in entry.facts.keys.sorted() {
            w.key(k); w.string(entry.facts[k] ?? "")
        }
        w.close("}")
        w.key("links")
        w.open("{")
        for (name, values) in [("orders", entry.links.orders), ("fills", entry.links.fills),
                               ("breaks", entry.links.breaks)] {
            w.key(name)
            w.open("[")
            for v in values { w.element(); w.string(v) }
            w.close("]")
        }
        w.close("}")
        w.key("author"); w.string(entry.author)
        w.close("}")
        return w.bytes
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, milliseconds).
    public static func iso8601(_ time: FIXTimestamp) -> String {
        let date = time.date
        let nanos = time.nanosecondsSinceEpoch - Int64(date.daysSinceEpoch) * FIXTimestamp.nanosecondsPerDay
        let millis = Int(nanos / 1_000_000)
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(date.year, 4))-\(pad(date.month, 2))-\(pad(date.day, 2))T"
            + "\(pad(millis / 3_600_000, 2)):\(pad(millis / 60_000 % 60, 2)):\(pad(millis / 1000 % 60, 2))."
            + "\(pad(millis % 1000, 3))Z"
    }
}

/// A minimal JSON writer: it tracks whether a separator is due, and escapes strings as
/// RFC 8259 requires (quote, backslash and control characters).
struct JSONWriter {
    var bytes: [UInt8] = []
    private var needsComma = false

    mutating func open(_ bracket: Character) {
        bytes.append(bracket.asciiValue!)
        needsComma = false
    }

    mutating func close(_ bracket: Character) {
        bytes.append(bracket.asciiValue!)
        needsComma = true
    }

    mutating func key(_ name: String) {
        element()
        string(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func element() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = false
    }

    mutating func raw(_ text: String) {
        bytes += text.utf8
        needsComma = true
    }

    mutating func string(_ text: String) {
        let hex = Array("0123456789abcdef".utf8)
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x00..<0x20, 0x7F:
                bytes += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }
}
