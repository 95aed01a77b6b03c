import FIXTagValue

/// How an interaction reached the history.
public enum InteractionChannel: String, Hashable, Sendable, CaseIterable {
    case trade, order, `break`, call, email, chat, meeting, note, system, compliance
}

/// Which way an interaction went, seen from the broker.
public enum InteractionDirection: String, Hashable, Sendable, CaseIterable {
    case inbound, outbound, `internal`
}

/// How urgently someone should look at an entry.
public enum InteractionSeverity: String, Hashable, Sendable, CaseIterable {
    case info, warning, alert
}

/// What an entry refers to. Orders are `session/ClOrdID` (the first ClOrdID of the chain),
/// fills `session/ExecID`, breaks the break's id: keys that survive a rebuilt book, unlike the
/// book's dense indices.
public struct InteractionLinks: Hashable, Sendable {
    public var orders: [String]
    public var fills: [String]
    public var breaks: [String]

    public init(orders: [String] = [], fills: [String] = [], breaks: [String] = []) {
        self.orders = orders
        self.fills = fills
        self.breaks = breaks
    }
}

/// One entry of a client's interaction history.
///
/// Entries made by the activity rules have a deterministic `id` (see `StableID`), so writing the
/// entries of a replayed capture again inserts nothing. Entries typed in by staff (calls,
/// emails, notes) take an id from the caller or from `StableID.manual`.
public struct InteractionEntry: Hashable, Sendable {
    public var id: String
    public var clientID: String
    /// The client account concerned, when the entry is about one.
    public var accountID: String?
    public var time: FIXTimestamp
    public var channel: InteractionChannel
    public var direction: InteractionDirection
    public var severity: InteractionSeverity
    /// The rule that made the entry (`fill`, `large-trade`, …) or `manual`.
    public var rule: String
    public var summary: String
    public var details: String
    /// Named values the entry is about (quantity, notional, thresholds), written to the payload
    /// in key order.
    public var facts: [String: String]
    public var links: InteractionLinks
    /// Who made the entry: a person's login, or `system` for the rules.
    public var author: String

    public init(
        id: String, clientID: String, accountID: String? = nil, time: FIXTimestamp, channel: InteractionChannel,
        direction: InteractionDirection, severity: InteractionSeverity = .info, rule: String, summary: String,
        details: String = "", facts: [String: String] = [:], links: InteractionLinks = InteractionLinks(),
        author: String
    ) {
        self.id = id
        self.clientID = clientID
        self.accountID = accountID
        self.time = time
        self.channel = channel
        self.direction = direction
        self.severity = severity
        self.rule = rule
        self.summary = summary
        self.details = details
        self.facts = facts
        self.links = links
        self.author = author
    }
}

/// A reconciliation break as the CRM needs to know it. The reconciliation target converts its
/// own breaks into this value, so that the CRM does not depend on it.
public struct BreakNotice: Hashable, Sendable {
    public var id: String
    /// The break's stable code number and name (`3`, `quantity-mismatch`).
    public var codeNumber: Int
    public var codeName: String
    /// The account the break is about: a client account id or a FIX Account value.
    public var account: String
    public var instrument: String?
    public var summary: String
    public var businessDate: FIXDate

    public init(id: String, codeNumber: Int, codeName: String, account: String, instrument: String?,
                summary: String, businessDate: FIXDate) {
        self.id = id
        self.codeNumber = codeNumber
        self.codeName = codeName
        self.account = account
        self.instrument = instrument
        self.summary = summary
        self.businessDate = businessDate
    }
}

/// Deterministic entry ids: FNV-1a 64 over the rule name and the keys of what caused the
/// entry, joined by the unit separator (0x1F) so that `("ab", "c")` and `("a", "bc")` differ.
///
/// ```swift
/// StableID.make("fill", ["BRKR:CLTA", "E1"])   // "ix-" + 16 hex digits, the same on every run
/// ```
public enum StableID {
    static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    static let prime: UInt64 = 0x0000_0100_0000_01b3

    /// FNV-1a 64 of `bytes`.
    public static func fnv1a64(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash = offsetBasis
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* prime
        }
        return hash
    }

    /// The id of the entry that `rule` makes for `keys`.
    public static func make(_ rule: String, _ keys: [String]) -> String {
        var bytes = Array(rule.utf8)
        for key in keys {
            bytes.append(0x1F)
            bytes += key.utf8
        }
        return "ix-" + hex16(fnv1a64(bytes))
    }

    /// An id for an entry typed in by `author` at `time` with `summary`: typing the same note
    /// twice at the same instant is one note.
    public static func manual(author: String, time: FIXTimestamp, summary: String) -> String {
        make("manual", [author, String(time.nanosecondsSinceEpoch), summary])
    }

    static func hex16(_ value: UInt64) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0x30, count: 16)
        var v = value
        for i in stride(from: 15, through: 0, by: -1) {
            out[i] = digits[Int(v & 0xF)]
            v >>= 4
        }
        return String(decoding: out, as: UTF8.self)
    }
}
