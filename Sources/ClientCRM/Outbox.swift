import FIXTagValue

/// Names one outbox item: an entry bound for one destination (a configured webhook).
/// The entry id is the receiver's idempotency key.
public struct OutboxKey: Hashable, Sendable, CustomStringConvertible {
    public var entryID: String
    public var destination: String

    public init(entryID: String, destination: String) {
        self.entryID = entryID
        self.destination = destination
    }

    public var description: String { "\(entryID)@\(destination)" }
}

/// A message waiting to be sent: an entry's payload for one destination.
public struct OutboxItem: Hashable, Sendable {
    public var key: OutboxKey
    /// Items of one client (and destination) are delivered in enqueue order.
    public var clientID: String
    /// The JSON body, see `InteractionPayload`.
    public var payload: [UInt8]

    public init(key: OutboxKey, clientID: String, payload: [UInt8]) {
        self.key = key
        self.clientID = clientID
        self.payload = payload
    }

    /// One item per entry and destination, entries in order: write them in the transaction
    /// that writes the entries.
    public static func items(for entries: [InteractionEntry], destinations: [String]) -> [OutboxItem] {
        var out: [OutboxItem] = []
        out.reserveCapacity(entries.count * destinations.count)
        for entry in entries {
            let payload = InteractionPayload.json(entry)
            for destination in destinations {
                out.append(OutboxItem(key: OutboxKey(entryID: entry.id, destination: destination),
                                      clientID: entry.clientID, payload: payload))
            }
        }
        return out
    }
}

/// Where an outbox item stands. Attempts count the sends begun so far.
///
/// ```
/// pending ──claim──► delivering ──delivered──► delivered
///    ▲                  │  ▲ └──failed──► failed ──(due)── claim ──┘
///    │                  │  └──── lease expired (a worker died) ────┘
///    └── redrive ── deadLettered ◄── deadLetter (4xx, or attempts used up)
/// ```
public enum OutboxState: Hashable, Sendable {
    case pending(attempts: Int)
    case delivering(attempt: Int, leaseUntil: FIXTimestamp)
    case delivered(attempts: Int, at: FIXTimestamp)
    case failed(attempts: Int, nextAttemptAt: FIXTimestamp, lastError: String)
    case deadLettered(attempts: Int, reason: String, at: FIXTimestamp)

    public var attempts: Int {
        switch self {
        case .pending(let n), .delivered(let n, _), .failed(let n, _, _), .deadLettered(let n, _, _): return n
        case .delivering(let n, _): return n
        }
    }

    /// A short name for messages and SQL columns.
    public var name: String {
        switch self {
        case .pending: return "pending"
        case .delivering: return "delivering"
        case .delivered: return "delivered"
        case .failed: return "failed"
        case .deadLettered: return "dead-lettered"
        }
    }

    /// True while the item holds back the later items of its client: until it is delivered or
    /// dead-lettered.
    public var blocksLaterItems: Bool {
        switch self {
        case .pending, .delivering, .failed: return true
        case .delivered, .deadLettered: return false
        }
    }

    /// True when a worker may claim the item at `now`.
    public func isDue(at now: FIXTimestamp) -> Bool {
        switch self {
        case .pending: return true
        case .failed(_, let next, _): return next <= now
        case .delivering(_, let lease): return lease <= now
        case .delivered, .deadLettered: return false
        }
    }
}

/// An item with its enqueue sequence and state, and the transitions between states. A store
/// applies these transitions and persists the result, so that every store agrees on them.
public struct OutboxRecord: Hashable, Sendable {
    /// Longest error text kept on an item.
    public static let errorBytesMax = 1024

    public var sequence: Int64
    public var item: OutboxItem
    public var state: OutboxState

    public init(sequence: Int64, item: OutboxItem, state: OutboxState = .pending(attempts: 0)) {
        self.sequence = sequence
        self.item = item
        self.state = state
    }

    /// Starts an attempt: the item is leased to the caller until `leaseUntil`.
    public mutating func claim(now: FIXTimestamp, leaseUntil: FIXTimestamp) throws(CRMError) {
        guard state.isDue(at: now) else { throw refused("be claimed") }
        state = .delivering(attempt: state.attempts + 1, leaseUntil: leaseUntil)
    }

    public mutating func markDelivered(at time: FIXTimestamp) throws(CRMError) {
        guard case .delivering(let attempt, _) = state else { throw refused("be marked delivered") }
        state = .delivered(attempts: attempt, at: time)
    }

    public mutating func markFailed(nextAttemptAt: FIXTimestamp, error: String) throws(CRMError) {
        guard case .delivering(let attempt, _) = state else { throw refused("be marked failed") }
        state = .failed(attempts: attempt, nextAttemptAt: nextAttemptAt, lastError: Self.bounded(error))
    }

    public mutating func deadLetter(reason: String, at time: FIXTimestamp) throws(CRMError) {
        guard state.blocksLaterItems else { throw refused("be dead-lettered") }
        state = .deadLettered(attempts: state.attempts, reason: Self.bounded(reason), at: time)
    }

    /// Moves a dead-lettered item back to pending with a fresh attempt budget.
    public mutating func redrive() throws(CRMError) {
        guard case .deadLettered = state else { throw refused("be re-driven") }
        state = .pending(attempts: 0)
    }

    private func refused(_ event: String) -> CRMError {
        CRMError.transition(item: item.key.description, from: state.name, event: event)
    }

    static func bounded(_ text: String) -> String {
        guard text.utf8.count > errorBytesMax else { return text }
        var out = ""
        for ch in text {
            if out.utf8.count + ch.utf8.count > errorBytesMax - 3 { break }
            out.append(ch)
        }
        return out + "..."
    }
}

/// Exponential backoff with deterministic jitter.
///
/// Attempt n (1-based) that fails waits `min(cap, base × factor^(n-1))`, less up to
/// `jitterPercent` of it; the fraction taken off comes from FNV-1a of the item key and the
/// attempt number, so two runs over the same outbox retry at the same moments, while items
/// failing together still spread out. After `attemptsMax` failed attempts the item is
/// dead-lettered.
///
/// ```swift
/// let policy = RetryPolicy(baseMilliseconds: 1_000, factor: 2, capMilliseconds: 300_000, attemptsMax: 12)
/// switch policy.afterFailure(attempt: 3, key: key, now: now) {
/// case .retry(let at): try await store.markFailed(key, nextAttemptAt: at, error: "HTTP 503")
/// case .deadLetter: try await store.deadLetter(key, reason: "HTTP 503 after 12 attempts", at: now)
/// }
/// ```
public struct RetryPolicy: Hashable, Sendable {
    public static let attemptsMaxLimit = 1_000

    public var baseMilliseconds: Int64
    public var factor: Int64
    public var capMilliseconds: Int64
    public var jitterPercent: Int64
    public var attemptsMax: Int

    public init(baseMilliseconds: Int64 = 1_000, factor: Int64 = 2, capMilliseconds: Int64 = 300_000,
                jitterPercent: Int64 = 20, attemptsMax: Int = 12) {
        precondition(baseMilliseconds >= 0 && factor >= 1 && capMilliseconds >= baseMilliseconds,
                     "need base >= 0, factor >= 1, cap >= base")
        precondition((0...100).contains(jitterPercent), "jitterPercent must be within 0...100")
        precondition((1...Self.attemptsMaxLimit).contains(attemptsMax), "attemptsMax must be within 1...1000")
        self.baseMilliseconds = baseMilliseconds
        self.factor = factor
        self.capMilliseconds = capMilliseconds
        self.jitterPercent = jitterPercent
        self.attemptsMax = attemptsMax
    }

    public enum Decision: Hashable, Sendable {
        case retry(at: FIXTimestamp)
        case deadLetter
    }

    /// The wait after failed attempt `attempt` (1-based), before jitter.
    public func backoffMilliseconds(attempt: Int) -> Int64 {
        var delay = baseMilliseconds
        var n = 1
        while n < attempt && delay < capMilliseconds {
            let (next, overflow) = delay.multipliedReportingOverflow(by: factor)
            delay = overflow ? capMilliseconds : next
            n += 1
        }
        return min(delay, capMilliseconds)
    }

    /// The wait after failed attempt `attempt` of `key`, jitter included.
    public func delayMilliseconds(attempt: Int, key: OutboxKey) -> Int64 {
        let delay = backoffMilliseconds(attempt: attempt)
        let hash = StableID.fnv1a64(Array("\(key.entryID)\u{1F}\(key.destination)\u{1F}\(attempt)".utf8))
        let permille = Int64(hash % 1001)
        // delay × jitter% × permille / 100_000, computed so it cannot overflow for any cap.
        let off = (delay / 100_000) * jitterPercent * permille
            + (delay % 100_000) * jitterPercent * permille / 100_000
        return delay - off
    }

    /// What to do after attempt `attempt` failed with a retryable error.
    public func afterFailure(attempt: Int, key: OutboxKey, now: FIXTimestamp) -> Decision {
        guard attempt < attemptsMax else { return .deadLetter }
        let ms = delayMilliseconds(attempt: attempt, key: key)
        return .retry(at: FIXTimestamp(nanosecondsSinceEpoch: now.nanosecondsSinceEpoch + ms * 1_000_000,
                                       precision: now.precision))
    }
}

/// The persistent outbox, as the delivery worker uses it. The SQL store implements it in the
/// transaction that writes the book; `InMemoryOutboxStore` serves tests and runs without a
/// database.
///
/// Contract:
/// - `enqueue` ignores items whose key is already stored (a replayed batch adds nothing) and
///   returns how many it added.
/// - `fetchDue` claims (state `delivering`, leased until `leaseUntil`) and returns up to `limit`
///   items, in sequence order, each the oldest item of its (destination, client) lane that is
///   not delivered or dead-lettered, and only when that item is due. So at most one item per
///   lane is in flight and a client's items reach a destination in order.
/// - `markDelivered`, `markFailed`, `deadLetter` and `redrive` apply the `OutboxRecord`
///   transition of the same name and throw `CRMError` for an unknown key or a transition the
///   state does not allow.
public protocol OutboxStore: Sendable {
    func enqueue(_ items: [OutboxItem]) async throws -> Int
    func fetchDue(limit: Int, now: FIXTimestamp, leaseUntil: FIXTimestamp) async throws -> [OutboxRecord]
    func markDelivered(_ key: OutboxKey, at time: FIXTimestamp) async throws
    func markFailed(_ key: OutboxKey, nextAttemptAt: FIXTimestamp, error: String) async throws
    func deadLetter(_ key: OutboxKey, reason: String, at time: FIXTimestamp) async throws
    /// Moves the dead-lettered items among `keys` back to pending; returns how many moved.
    func redrive(_ keys: [OutboxKey]) async throws -> Int
    /// Dead-lettered items, oldest sequence first, at most `limit`.
    func deadLettered(limit: Int) async throws -> [OutboxRecord]
    func record(_ key: OutboxKey) async throws -> OutboxRecord?
}

/// The outbox table's logic without I/O: what every store does, in one value.
public struct OutboxTable: Sendable {
    /// Most items the table holds.
    public static let itemsMax = 1_000_000
    /// Most items one fetch returns.
    public static let fetchLimitMax = 1_000

    struct Lane: Hashable, Sendable {
        var destination: String
        var clientID: String
    }

    /// A lane's keys in sequence order from `start`; keys before `start` are delivered. Delivered
    /// keys are skipped lazily by `fetchDue` and the array compacted now and then, so that
    /// delivering an item costs O(1) instead of a search through its lane.
    struct LaneQueue: Sendable {
        var keys: [OutboxKey] = []
        var start = 0
    }

    private var records: [OutboxKey: OutboxRecord] = [:]
    private var lanes: [Lane: LaneQueue] = [:]
    private var nextSequence: Int64 = 1

    public init() {}

    public var count: Int { records.count }

    public func record(_ key: OutboxKey) -> OutboxRecord? { records[key] }

    public var all: [OutboxRecord] { records.values.sorted { $0.sequence < $1.sequence } }

    public mutating func enqueue(_ items: [OutboxItem]) throws(CRMError) -> Int {
        var added = 0
        for item in items where records[item.key] == nil {
            guard records.count < Self.itemsMax else { throw CRMError.limit("outbox holds \(Self.itemsMax) items") }
            records[item.key] = OutboxRecord(sequence: nextSequence, item: item)
            nextSequence += 1
            lanes[Lane(destination: item.key.destination, clientID: item.clientID), default: LaneQueue()].keys
                .append(item.key)
            added += 1
        }
        return added
    }

    public mutating func fetchDue(limit: Int, now: FIXTimestamp, leaseUntil: FIXTimestamp) -> [OutboxRecord] {
        let cap = max(0, min(limit, Self.fetchLimitMax))
        var heads: [OutboxRecord] = []
        var emptied: [Lane] = []
        for (lane, queue) in lanes {
            var q = queue
            // Drop delivered keys at the front; dead-lettered ones stay (they may be re-driven)
            // but do not block.
            while q.start < q.keys.count, case .delivered = records[q.keys[q.start]]?.state { q.start += 1 }
            if q.start == q.keys.count {
                emptied.append(lane)
                continue
            }
            if q.start > 64 && q.start * 2 > q.keys.count {
                q.keys.removeFirst(q.start)
                q.start = 0
            }
            if q.start != queue.start || q.keys.count != queue.keys.count { lanes[lane] = q }
            var head: OutboxRecord?
            for key in q.keys[q.start...] {
                if let r = records[key], r.state.blocksLaterItems { head = r; break }
            }
            guard let head, head.state.isDue(at: now) else { continue }
            heads.append(head)
        }
        for lane in emptied { lanes[lane] = nil }
        heads.sort { $0.sequence < $1.sequence }
        var out: [OutboxRecord] = []
        for var head in heads.prefix(cap) {
            // Cannot fail: the head was due a moment ago and nothing ran in between.
            try? head.claim(now: now, leaseUntil: leaseUntil)
            records[head.item.key] = head
            out.append(head)
        }
        return out
    }

    public mutating func markDelivered(_ key: OutboxKey, at time: FIXTimestamp) throws(CRMError) {
        try update(key) { (r: inout OutboxRecord) throws(CRMError) in try r.markDelivered(at: time) }
    }

    public mutating func markFailed(_ key: OutboxKey, nextAttemptAt: FIXTimestamp, error: String) throws(CRMError) {
        try update(key) { (r: inout OutboxRecord) throws(CRMError) in
            try r.markFailed(nextAttemptAt: nextAttemptAt, error: error)
        }
    }

    public mutating func deadLetter(_ key: OutboxKey, reason: String, at time: FIXTimestamp) throws(CRMError) {
        try update(key) { (r: inout OutboxRecord) throws(CRMError) in try r.deadLetter(reason: reason, at: time) }
    }

    public mutating func redrive(_ keys: [OutboxKey]) throws(CRMError) -> Int {
        var moved = 0
        for key in keys {
            guard let r = records[key] else { throw CRMError.unknownItem(key.description) }
            guard case .deadLettered = r.state else { continue }
            try update(key) { (r: inout OutboxRecord) throws(CRMError) in try r.redrive() }
            moved += 1
        }
        return moved
    }

    public func deadLettered(limit: Int) -> [OutboxRecord] {
        let cap = max(0, min(limit, Self.fetchLimitMax))
        return Array(records.values.filter { if case .deadLettered = $0.state { true } else { false } }
            .sorted { $0.sequence < $1.sequence }.prefix(cap))
    }

    private mutating func update(_ key: OutboxKey,
                                 _ body: (inout OutboxRecord) throws(CRMError) -> Void) throws(CRMError) {
        guard var r = records[key] else { throw CRMError.unknownItem(key.description) }
        try body(&r)
        records[key] = r
    }
}

/// `OutboxStore` in memory, for tests and for runs without a database.
public actor InMemoryOutboxStore: OutboxStore {
    private var table = OutboxTable()

    public init() {}

    public func enqueue(_ items: [OutboxItem]) throws -> Int { try table.enqueue(items) }

    public func fetchDue(limit: Int, now: FIXTimestamp, leaseUntil: FIXTimestamp) -> [OutboxRecord] {
        table.fetchDue(limit: limit, now: now, leaseUntil: leaseUntil)
    }

    public func markDelivered(_ key: OutboxKey, at time: FIXTimestamp) throws { try table.markDelivered(key, at: time) }

    public func markFailed(_ key: OutboxKey, nextAttemptAt: FIXTimestamp, error: String) throws {
        try table.markFailed(key, nextAttemptAt: nextAttemptAt, error: error)
    }

    public func deadLetter(_ key: OutboxKey, reason: String, at time: FIXTimestamp) throws {
        try table.deadLetter(key, reason: reason, at: time)
    }

    public func redrive(_ keys: [OutboxKey]) throws -> Int { try table.redrive(keys) }

    public func deadLettered(limit: Int) -> [OutboxRecord] { table.deadLettered(limit: limit) }

    public func record(_ key: OutboxKey) -> OutboxRecord? { table.record(key) }

    /// Every record, in sequence order.
    public func all() -> [OutboxRecord] { table.all }
}
