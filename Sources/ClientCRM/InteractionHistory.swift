import FIXTagValue

/// The interaction history in memory: idempotent inserts and timeline queries. The SQL store
/// keeps the same contract (insert ignores known ids; a timeline is ordered by time, then id).
///
/// ```swift
/// var history = InteractionHistory()
/// let fresh = history.insert(entries)     // a replayed batch gives []
/// let week = history.timeline(clientID: "C-7", from: monday, before: nextMonday, channels: [.trade, .compliance])
/// ```
public struct InteractionHistory: Sendable {
    /// Most entries one query returns.
    public static let timelineLimitMax = 10_000

    private var byID: [String: InteractionEntry] = [:]
    /// Per client, entry ids sorted by (time, id).
    private var byClient: [String: [String]] = [:]

    public init() {}

    public var count: Int { byID.count }

    public func entry(id: String) -> InteractionEntry? { byID[id] }

    /// Inserts the entries whose ids are new and returns them, in input order.
    public mutating func insert(_ entries: [InteractionEntry]) -> [InteractionEntry] {
        var fresh: [InteractionEntry] = []
        for entry in entries where byID[entry.id] == nil {
            byID[entry.id] = entry
            var ids = byClient[entry.clientID] ?? []
            let key = (entry.time, entry.id)
            let at = Self.insertionIndex(ids) { id in
                let other = byID[id]!
                return (other.time, other.id) < key
            }
            ids.insert(entry.id, at: at)
            byClient[entry.clientID] = ids
            fresh.append(entry)
        }
        return fresh
    }

    /// A client's entries with `from <= time < before`, oldest first, optionally only some
    /// channels and severities, at most `limit` (capped at `timelineLimitMax`).
    public func timeline(
        clientID: String, from: FIXTimestamp? = nil, before: FIXTimestamp? = nil,
        channels: Set<InteractionChannel>? = nil, severities: Set<InteractionSeverity>? = nil, limit: Int = 100
    ) -> [InteractionEntry] {
        let cap = max(0, min(limit, Self.timelineLimitMax))
        var out: [InteractionEntry] = []
        for id in byClient[clientID] ?? [] {
            guard out.count < cap, let e = byID[id] else { break }
            if let from, e.time < from { continue }
            if let before, e.time >= before { break }
            if let channels, !channels.contains(e.channel) { continue }
            if let severities, !severities.contains(e.severity) { continue }
            out.append(e)
        }
        return out
    }

    private static func insertionIndex(_ ids: [String], isBefore: (String) -> Bool) -> Int {
        var low = 0
        var high = ids.count
        while low < high {
            let mid = (low + high) / 2
            if isBefore(ids[mid]) { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
