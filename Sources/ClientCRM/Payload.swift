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
        writeFacts(entry.facts, to: &w)
        w.key("links")
        writeLinks(entry.links, to: &w)
        w.key("author"); w.string(entry.author)
        w.close("}")
        return w.bytes
    }

    /// `facts` as a JSON object, keys in order (as in the payload).
    public static func writeFacts(_ facts: [String: String], to w: inout JSONWriter) {
        w.open("{")
        for k in facts.keys.sorted() {
            w.key(k); w.string(facts[k] ?? "")
        }
        w.close("}")
    }

    /// `links` as a JSON object of three arrays, `orders`, `fills` and `breaks` (as in the payload).
    public static func writeLinks(_ links: InteractionLinks, to w: inout JSONWriter) {
        w.open("{")
        w.key("orders"); w.array(links.orders)
        w.key("fills"); w.array(links.fills)
        w.key("breaks"); w.array(links.breaks)
        w.close("}")
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, milliseconds).
    public static func iso8601(_ time: FIXTimestamp) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        appendISO8601(time, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `iso8601(time)` to `bytes` without making a `String`.
    public static func appendISO8601(_ time: FIXTimestamp, to bytes: inout [UInt8]) {
        let date = time.date
        let nanos = time.nanosecondsSinceEpoch - Int64(date.daysSinceEpoch) * FIXTimestamp.nanosecondsPerDay
        let millis = Int(nanos / 1_000_000)
        func put(_ value: Int, _ width: Int, then separator: UInt8?) {
            let start = bytes.count
            var v = value
            repeat {
                bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10))
                v /= 10
            } while v > 0
            while bytes.count - start < width { bytes.append(UInt8(ascii: "0")) }
            bytes[start...].reverse()
            if let separator { bytes.append(separator) }
        }
        put(date.year, 4, then: UInt8(ascii: "-"))
        put(date.month, 2, then: UInt8(ascii: "-"))
        put(date.day, 2, then: UInt8(ascii: "T"))
        put(millis / 3_600_000, 2, then: UInt8(ascii: ":"))
        put(millis / 60_000 % 60, 2, then: UInt8(ascii: ":"))
        put(millis / 1000 % 60, 2, then: UInt8(ascii: "."))
        put(millis % 1000, 3, then: UInt8(ascii: "Z"))
    }
}

/// A minimal JSON writer: it tracks whether a separator is due, and escapes strings as
/// RFC 8259 requires (quote, backslash and control characters).
public struct JSONWriter {
    public var bytes: [UInt8] = []
    private var needsComma = false
    private static let hex = Array("0123456789abcdef".utf8)

    public init() {}

    public mutating func open(_ bracket: Character) {
        bytes.append(bracket.asciiValue!)
        needsComma = false
    }

    public mutating func close(_ bracket: Character) {
        bytes.append(bracket.asciiValue!)
        needsComma = true
    }

    public mutating func key(_ name: String) {
        element()
        string(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func element() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = false
    }

    public mutating func raw(_ text: String) {
        bytes += text.utf8
        needsComma = true
    }

    public mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            // Runs of bytes that need no escape are copied whole.
            var start = 0
            for i in 0..<utf8.count {
                let byte = utf8[i]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == 0x7F else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<i]))
                escape(byte)
                start = i + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    private mutating func escape(_ byte: UInt8) {
        bytes.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        default:
            bytes.append(contentsOf: "u00".utf8)
            bytes.append(Self.hex[Int(byte >> 4)])
            bytes.append(Self.hex[Int(byte & 0xF)])
        }
    }

    /// An array of strings.
    public mutating func array(_ values: [String]) {
        open("[")
        for v in values { element(); string(v) }
        close("]")
    }
}
