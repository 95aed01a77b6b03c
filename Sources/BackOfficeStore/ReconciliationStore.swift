#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import FIXTagValue
import Reconciliation
import TradeBook

/// Breaks and their lifecycle in the back office's database (migrations 100…199).
///
/// - `breaks`: one row per break id with its latest values, first- and last-seen business dates,
///   state (`open`, `assigned`, `pending`, `resolved`, `closed`; the full state as JSON in
///   `state_detail`), both sides' records as JSON, and a `version` that every write increments
///   (optimistic concurrency).
/// - `break_events`: the audit trail, append-only: who, when, what, the text (assignee, comment or
///   reason) and the states before and after. `detected` rows record which run found a break.
/// - `reconciliation_runs`: one row per source per run with the matcher's counts.
/// - `reconciliation_settings`: per-database settings (`maker_checker`).
public enum ReconciliationSchema {
    public static let migrations: [Migration] = [breaks]

    /// 100 — breaks, their audit trail, runs and settings.
    static let breaks = Migration(version: 100, name: "reconciliation") { d in
        [
            """
            CREATE TABLE breaks (
                id TEXT PRIMARY KEY,
                code \(d.bigint) NOT NULL,
                source TEXT NOT NULL,
                business_date TEXT NOT NULL,
                first_seen TEXT NOT NULL,
                last_seen TEXT NOT NULL,
                state TEXT NOT NULL,
                assignee TEXT,
                state_detail TEXT NOT NULL,
                account TEXT,
                instrument TEXT,
                currency TEXT,
                quantity_difference TEXT NOT NULL,
                amount_difference TEXT NOT NULL,
                book_records TEXT NOT NULL,
                external_records TEXT NOT NULL,
                detail TEXT NOT NULL,
                version \(d.bigint) NOT NULL,
                updated_at TEXT NOT NULL
            )
            """,
            "CREATE INDEX breaks_state ON breaks (state, source)",
            "CREATE INDEX breaks_business_date ON breaks (business_date)",
            "CREATE INDEX breaks_last_seen ON breaks (last_seen)",
            "CREATE INDEX breaks_account ON breaks (account)",
            """
            CREATE TABLE break_events (
                id \(d.identityColumn),
                break_id TEXT NOT NULL,
                at TEXT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                text TEXT,
                from_state TEXT,
                to_state TEXT NOT NULL,
                run_id TEXT
            )
            """,
            "CREATE INDEX break_events_break ON break_events (break_id, id)",
            """
            CREATE TABLE reconciliation_runs (
                id TEXT PRIMARY KEY,
                business_date TEXT NOT NULL,
                source TEXT NOT NULL,
                actor TEXT NOT NULL,
                at TEXT NOT NULL,
                book_trades \(d.bigint) NOT NULL,
                external_trades \(d.bigint) NOT NULL,
                matched_by_key \(d.bigint) NOT NULL,
                matched_by_attributes \(d.bigint) NOT NULL,
                matched_by_aggregation \(d.bigint) NOT NULL,
                other_date \(d.bigint) NOT NULL,
                breaks \(d.bigint) NOT NULL,
                new_breaks \(d.bigint) NOT NULL,
                reopened \(d.bigint) NOT NULL,
                resolved \(d.bigint) NOT NULL,
                issues \(d.bigint) NOT NULL
            )
            """,
            "CREATE INDEX reconciliation_runs_date ON reconciliation_runs (business_date)",
            """
            CREATE TABLE reconciliation_settings (
                name TEXT PRIMARY KEY,
                value TEXT NOT NULL
            )
            """,
        ]
    }
}

/// A break as stored: the case and the version the next write must find.
public struct StoredBreak: Hashable, Sendable {
    public var breakCase: BreakCase
    /// Incremented by every write; a lifecycle write names the version it read.
    public var version: Int64

    public init(breakCase: BreakCase, version: Int64) {
        self.breakCase = breakCase
        self.version = version
    }
}

/// One row of a break's audit trail as stored, including the `detected` rows that the
/// lifecycle's own trail does not carry.
public struct BreakEvent: Hashable, Sendable {
    public var at: String
    public var actor: String
    /// `detected`, `assign`, `comment`, `resolve`, `force_close`, `approve`, `reject`, `reopen`.
    public var action: String
    /// The assignee, comment or reason.
    public var text: String?
    public var from: BreakState?
    public var to: BreakState
    public var runID: String?
}

/// The state filter of break listings.
public enum BreakStateFilter: String, Sendable, CaseIterable {
    case open, assigned, pending, resolved, closed
    /// Every state that is not resolved or closed.
    case unresolved
}

/// Filters of break listings; nil matches everything.
public struct BreakFilter: Sendable {
    /// Breaks of this business date, or first seen on or before it and last seen on or after it
    /// (the runs of that date found them).
    public var date: FIXDate?
    public var state: BreakStateFilter?
    public var code: BreakCode?
    public var account: String?
    public var source: String?
    /// Rows returned at most.
    public var limit: Int?

    public init(date: FIXDate? = nil, state: BreakStateFilter? = nil, code: BreakCode? = nil, account: String? = nil,
                source: String? = nil, limit: Int? = nil) {
        self.date = date
        self.state = state
        self.code = code
        self.account = account
        self.source = source
        self.limit = limit
    }
}

/// What persisting one source's run did.
public struct ReconciliationRunRecord: Hashable, Sendable {
    public var id: String
    public var businessDate: FIXDate
    public var source: String
    public var actor: String
    public var at: FIXTimestamp
    public var statistics: ReconciliationStatistics
    /// Breaks the run found.
    public var breaks: Int
    /// Of those, never seen before.
    public var newBreaks: Int
    /// Closed breaks found again and reopened.
    public var reopened: Int
    /// Stored breaks the run no longer found and resolved.
    public var resolved: Int
    /// Input lines or messages that could not be read.
    public var issues: Int
}

/// The breaks' tables: loads stored cases, persists a run's merge in one transaction, applies
/// lifecycle actions with optimistic concurrency, lists.
///
/// ```swift
/// let store = BreakStore(backend: backend)
/// let outcome = try await store.record(run: result, actor: "eod", at: now, issues: 0)
/// let b = try await store.apply(.assign(to: "ops-1"), to: id, by: "lead", at: now)
/// ```
public struct BreakStore: Sendable {
    public let backend: any SQLBackend

    /// Ids per `IN (…)` query when loading cases by id.
    static let idsPerQueryMax = 500

    public init(backend: any SQLBackend) {
        self.backend = backend
    }

    // MARK: Settings

    /// Whether resolving and force-closing need a second person's approval in this database.
    public func lifecyclePolicy() async throws -> LifecyclePolicy {
        let rows = try await backend.query("SELECT value FROM reconciliation_settings WHERE name = 'maker_checker'", [])
        return LifecyclePolicy(makerChecker: rows.first?.first?.text == "on")
    }

    public func setMakerChecker(_ on: Bool) async throws {
        try await backend.write([SQLStatement(
            "INSERT INTO reconciliation_settings (name, value) VALUES ('maker_checker', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            rows: [[.text(on ? "on" : "off")]])])
    }

    // MARK: Reading

    static let columns = """
        id, code, source, business_date, first_seen, last_seen, state_detail, account, instrument, currency, \
        quantity_difference, amount_difference, book_records, external_records, detail, version
        """

    /// Stored cases that are not resolved or closed, optionally of one source.
    public func openCases(source: String? = nil) async throws -> [StoredBreak] {
        try await list(BreakFilter(state: .unresolved, source: source))
    }

    /// The stored cases a run merges with: every unresolved case of its source, and the cases
    /// (any state) with the ids the run found, so a closed break found again is reopened.
    public func casesForMerge(_ run: ReconciliationResult) async throws -> [StoredBreak] {
        var byID: [String: StoredBreak] = [:]
        for s in try await openCases(source: run.configuration.sourceName) { byID[s.breakCase.id] = s }
        let ids = Array(Set(run.breaks.map(\.id)).subtracting(byID.keys)).sorted()
        var start = 0
        while start < ids.count {
            let chunk = ids[start..<min(ids.count, start + Self.idsPerQueryMax)]
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
            for row in try await backend.query("SELECT \(Self.columns) FROM breaks WHERE id IN (\(marks))",
                                               chunk.map { .text($0) }) {
                let s = try Self.stored(row, trail: [])
                byID[s.breakCase.id] = s
            }
            start += Self.idsPerQueryMax
        }
        return byID.values.sorted { $0.breakCase.id < $1.breakCase.id }
    }

    /// One break with its audit trail and comments, or nil when no break has that id.
    public func load(id: String) async throws -> StoredBreak? {
        guard let row = try await backend.query("SELECT \(Self.columns) FROM breaks WHERE id = ?", [.text(id)]).first else {
            return nil
        }
        var trail: [BreakTransition] = []
        for event in try await events(id: id) {
            guard let action = Self.action(event.action, event.text), let from = event.from,
                  let at = FIXTimestamp(event.at) else { continue }
            trail.append(BreakTransition(actor: event.actor, at: at, action: action, from: from, to: event.to))
        }
        if trail.count > LifecyclePolicy.trailMax { trail.removeFirst(trail.count - LifecyclePolicy.trailMax) }
        return try Self.stored(row, trail: trail)
    }

    /// The full audit trail of a break, oldest first.
    public func events(id: String) async throws -> [BreakEvent] {
        try await backend.query(
            "SELECT at, actor, action, text, from_state, to_state, run_id FROM break_events WHERE break_id = ? ORDER BY id",
            [.text(id)]
        ).map { row in
            BreakEvent(at: row[0].text ?? "", actor: row[1].text ?? "", action: row[2].text ?? "", text: row[3].text,
                       from: try row[4].text.map(Self.decodeState), to: try Self.decodeState(row[5].text ?? ""),
                       runID: row[6].text)
        }
    }

    /// Breaks matching the filter, oldest first seen first, without their trails.
    public func list(_ filter: BreakFilter) async throws -> [StoredBreak] {
        var conditions: [String] = []
        var values: [SQLValue] = []
        if let date = filter.date {
            // Dates are stored as YYYYMMDD text, so text order is date order.
            conditions.append("(business_date = ? OR (first_seen <= ? AND last_seen >= ?))")
            values += [.text(date.description), .text(date.description), .text(date.description)]
        }
        switch filter.state {
        case nil: break
        case .unresolved?: conditions.append("state NOT IN ('resolved', 'closed')")
        case let state?:
            conditions.append("state = ?")
            values.append(.text(state.rawValue))
        }
        if let code = filter.code {
            conditions.append("code = ?")
            values.append(.int(Int64(code.number)))
        }
        if let account = filter.account {
            conditions.append("account = ?")
            values.append(.text(account))
        }
        if let source = filter.source {
            conditions.append("source = ?")
            values.append(.text(source))
        }
        var sql = "SELECT \(Self.columns) FROM breaks"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY first_seen, code, id"
        if let limit = filter.limit {
            sql += " LIMIT ?"
            values.append(.int(Int64(limit)))
        }
        return try await backend.query(sql, values).map { try Self.stored($0, trail: []) }
    }

    /// Runs recorded for a business date (every date when nil), in the order they ran.
    public func runs(date: FIXDate? = nil) async throws -> [ReconciliationRunRecord] {
        var sql = """
            SELECT id, business_date, source, actor, at, book_trades, external_trades, matched_by_key, \
            matched_by_attributes, matched_by_aggregation, other_date, breaks, new_breaks, reopened, resolved, issues \
            FROM reconciliation_runs
            """
        var values: [SQLValue] = []
        if let date {
            sql += " WHERE business_date = ?"
            values.append(.text(date.description))
        }
        sql += " ORDER BY at, id"
        return try await backend.query(sql, values).map { r in
            guard let date = r[1].text.flatMap(FIXDate.init), let at = r[4].text.flatMap(FIXTimestamp.init) else {
                throw BackOfficeStoreError.data("reconciliation run \(r[0].text ?? "?") has an unreadable date")
            }
            func n(_ i: Int) -> Int { Int(r[i].int ?? 0) }
            var s = ReconciliationStatistics()
            s.bookTrades = n(5)
            s.externalTrades = n(6)
            s.matchedByKey = n(7)
            s.matchedByAttributes = n(8)
            s.matchedByAggregation = n(9)
            s.otherDate = n(10)
            return ReconciliationRunRecord(id: r[0].text ?? "", businessDate: date, source: r[2].text ?? "",
                                           actor: r[3].text ?? "", at: at, statistics: s, breaks: n(11),
                                           newBreaks: n(12), reopened: n(13), resolved: n(14), issues: n(15))
        }
    }

    // MARK: Writing a run

    /// Loads the stored cases the run concerns, merges (`BreakMerge.merge`) and persists the
    /// result in one transaction. A case changed by someone else between the read and the write
    /// fails the whole write with a conflict (`BackOfficeStoreError.isConflict`); the caller runs
    /// again.
    @discardableResult
    public func record(run: ReconciliationResult, actor: String, at time: FIXTimestamp,
                       issues: Int) async throws -> (record: ReconciliationRunRecord, cases: [BreakCase]) {
        let stored = try await casesForMerge(run)
        let merged = BreakMerge.merge(run: run, stored: stored.map(\.breakCase), actor: actor, at: time)
        let record = try await persist(merged, run: run, stored: stored, actor: actor, at: time, issues: issues)
        return (record, merged.upserts)
    }

    /// Writes a merge result in one transaction: the upserted cases (guarded by the versions they
    /// were read at; new cases by their absence), the merge's transitions, a `detected` event per
    /// new break and the run's row.
    public func persist(_ merged: BreakMergeResult, run: ReconciliationResult, stored: [StoredBreak], actor: String,
                        at time: FIXTimestamp, issues: Int) async throws -> ReconciliationRunRecord {
        let date = run.configuration.businessDate
        let source = run.configuration.sourceName
        let runID = "\(date)/\(source)/\(time.nanosecondsSinceEpoch)"
        var versions: [String: Int64] = [:]
        for s in stored { versions[s.breakCase.id] = s.version }
        let now = time.description
        var upsertRows: [[SQLValue]] = []
        var eventRows: [[SQLValue]] = []
        var newBreaks = 0
        for c in merged.upserts {
            // A new row starts at version 1; a stored row keeps the version its guard set.
            upsertRows.append(try Self.values(c) + [.int(1), .text(now)])
            if versions[c.id] == nil {
                newBreaks += 1
                eventRows.append([.text(c.id), .text(now), .text(actor), .text("detected"), .text(c.latest.detail),
                                  .null, .text(try Self.encodeState(.open)), .text(runID)])
            }
        }
        var reopened = 0
        var resolved = 0
        for (id, t) in merged.transitions {
            if case .reopen = t.action { reopened += 1 }
            if case .resolved = t.to { resolved += 1 }
            eventRows.append(try Self.eventValues(id: id, t) + [.text(runID)])
        }
        let s = run.statistics
        let record = ReconciliationRunRecord(id: runID, businessDate: date, source: source, actor: actor, at: time,
                                             statistics: s, breaks: run.breaks.count, newBreaks: newBreaks,
                                             reopened: reopened, resolved: resolved, issues: issues)
        // Guards first, a chunk of ids per statement (a guard runs row by row, so one statement
        // per break would cost a round trip each on PostgreSQL): stored cases must still be at
        // the version read (the guard also increments it), new ones must still be absent. Then
        // one unguarded upsert writes the values, batched by the backend.
        var plan: [SQLStatement] = []
        let existing = merged.upserts.compactMap { c in versions[c.id].map { (c.id, $0) } }
        let fresh = merged.upserts.filter { versions[$0.id] == nil }.map(\.id)
        var start = 0
        while start < existing.count {
            let chunk = existing[start..<min(existing.count, start + Self.idsPerQueryMax)]
            let pairs = Array(repeating: "(?, ?)", count: chunk.count).joined(separator: ", ")
            plan.append(SQLStatement(
                "UPDATE breaks SET version = version + 1 WHERE (id, version) IN (VALUES \(pairs)) RETURNING 1",
                rows: [chunk.flatMap { [SQLValue.text($0.0), .int($0.1)] }], changesRequired: chunk.count))
            start += Self.idsPerQueryMax
        }
        start = 0
        while start < fresh.count {
            let chunk = fresh[start..<min(fresh.count, start + Self.idsPerQueryMax)]
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
            plan.append(SQLStatement(
                "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM breaks WHERE id IN (\(marks)))",
                rows: [chunk.map { .text($0) }], changesRequired: 1))
            start += Self.idsPerQueryMax
        }
        if !upsertRows.isEmpty { plan.append(SQLStatement(Self.upsertSQL, rows: upsertRows)) }
        if !eventRows.isEmpty { plan.append(SQLStatement(Self.eventSQL, rows: eventRows)) }
        plan.append(SQLStatement("""
            INSERT INTO reconciliation_runs (id, business_date, source, actor, at, book_trades, external_trades, \
            matched_by_key, matched_by_attributes, matched_by_aggregation, other_date, breaks, new_breaks, reopened, \
            resolved, issues) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, rows: [[
                .text(runID), .text(date.description), .text(source), .text(actor), .text(now),
                .int(Int64(s.bookTrades)), .int(Int64(s.externalTrades)), .int(Int64(s.matchedByKey)),
                .int(Int64(s.matchedByAttributes)), .int(Int64(s.matchedByAggregation)), .int(Int64(s.otherDate)),
                .int(Int64(run.breaks.count)), .int(Int64(newBreaks)), .int(Int64(reopened)), .int(Int64(resolved)),
                .int(Int64(issues)),
            ]]))
        try await backend.write(plan)
        return record
    }

    // MARK: Lifecycle

    /// Applies a lifecycle action to a stored break and records it, guarded by the version read
    /// (`expectedVersion`, or the version this call reads when nil). Throws the `LifecycleError`
    /// when the state does not allow the action, and a conflict (`isConflict`) when the break
    /// changed since that version.
    @discardableResult
    public func apply(_ action: BreakAction, to id: String, by actor: String, at time: FIXTimestamp,
                      policy: LifecyclePolicy? = nil, expectedVersion: Int64? = nil) async throws -> StoredBreak {
        guard var stored = try await load(id: id) else { throw BackOfficeStoreError.data("no break \(id)") }
        let version = expectedVersion ?? stored.version
        let policy = try await Self.resolve(policy, self)
        let transition = try stored.breakCase.apply(action, by: actor, at: time, policy: policy)
        let state = stored.breakCase.state
        try await backend.write([
            SQLStatement("""
                UPDATE breaks SET state = ?, assignee = ?, state_detail = ?, version = version + 1, updated_at = ? \
                WHERE id = ? AND version = ? RETURNING 1
                """, rows: [[.text(Self.stateName(state)), Self.assignee(state).map { .text($0) } ?? .null,
                             .text(try Self.encodeState(state)), .text(time.description), .text(id), .int(version)]],
                changesRequired: 1),
            SQLStatement(Self.eventSQL, rows: [try Self.eventValues(id: id, transition) + [.null]]),
        ])
        stored.version = version + 1
        return stored
    }

    private static func resolve(_ policy: LifecyclePolicy?, _ store: BreakStore) async throws -> LifecyclePolicy {
        if let policy { return policy }
        return try await store.lifecyclePolicy()
    }

    // MARK: Row mapping

    static let upsertSQL = """
        INSERT INTO breaks (id, code, source, business_date, first_seen, last_seen, state, assignee, state_detail, \
        account, instrument, currency, quantity_difference, amount_difference, book_records, external_records, detail, \
        version, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
        ON CONFLICT (id) DO UPDATE SET code = excluded.code, source = excluded.source, \
        business_date = excluded.business_date, first_seen = excluded.first_seen, last_seen = excluded.last_seen, \
        state = excluded.state, assignee = excluded.assignee, state_detail = excluded.state_detail, \
        account = excluded.account, instrument = excluded.instrument, currency = excluded.currency, \
        quantity_difference = excluded.quantity_difference, amount_difference = excluded.amount_difference, \
        book_records = excluded.book_records, external_records = excluded.external_records, detail = excluded.detail, \
        updated_at = excluded.updated_at
        """

    static let eventSQL = """
        INSERT INTO break_events (break_id, at, actor, action, text, from_state, to_state, run_id) \
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """

    /// The upsert's values up to `detail` (the caller appends the version and `updated_at`). The version is set
    /// by the guard that precedes the upsert.
    static func values(_ c: BreakCase) throws -> [SQLValue] {
        let b = c.latest
        func opt(_ s: String?) -> SQLValue { s.map { .text($0) } ?? .null }
        return [
            .text(b.id), .int(Int64(b.code.number)), .text(b.source), .text(b.businessDate.description),
            .text(c.firstSeen.description), .text(c.lastSeen.description), .text(stateName(c.state)),
            opt(assignee(c.state)), .text(try encodeState(c.state)), opt(b.account), opt(b.instrument), opt(b.currency),
            .text(b.quantityDifference.description), .text(b.amountDifference.description),
            .text(try encodeRecords(b.book)), .text(try encodeRecords(b.external)), .text(b.detail),
        ]
    }

    /// An event row without its run id.
    static func eventValues(id: String, _ t: BreakTransition) throws -> [SQLValue] {
        let (name, text) = actionParts(t.action)
        return [.text(id), .text(t.at.description), .text(t.actor), .text(name), text.map { .text($0) } ?? .null,
                .text(try encodeState(t.from)), .text(try encodeState(t.to))]
    }

    static func stored(_ r: SQLRow, trail: [BreakTransition]) throws -> StoredBreak {
        let id = r[0].text ?? ""
        func fail(_ what: String) -> BackOfficeStoreError { .data("break \(id): unreadable \(what)") }
        guard let number = r[1].int, let code = BreakCode(number: Int(number)) else { throw fail("code") }
        guard let date = r[3].text.flatMap(FIXDate.init), let first = r[4].text.flatMap(FIXDate.init),
              let last = r[5].text.flatMap(FIXDate.init) else { throw fail("date") }
        guard let qd = r[10].text.flatMap(FIXDecimal.init), let ad = r[11].text.flatMap(FIXDecimal.init) else {
            throw fail("difference")
        }
        let latest = Break(id: id, code: code, source: r[2].text ?? "", businessDate: date, account: r[7].text,
                           instrument: r[8].text, currency: r[9].text, book: try decodeRecords(r[12].text ?? "[]"),
                           external: try decodeRecords(r[13].text ?? "[]"), quantityDifference: qd,
                           amountDifference: ad, detail: r[14].text ?? "")
        var comments: [BreakComment] = []
        for t in trail {
            if case .comment(let text) = t.action { comments.append(BreakComment(actor: t.actor, at: t.at, text: text)) }
        }
        let c = BreakCase(latest: latest, firstSeen: first, lastSeen: last, state: try decodeState(r[6].text ?? ""),
                          comments: comments, trail: trail)
        return StoredBreak(breakCase: c, version: r[15].int ?? 0)
    }

    /// The `state` column: what listings filter on.
    static func stateName(_ s: BreakState) -> String {
        BreakReports.stateWord(s)
    }

    static func assignee(_ s: BreakState) -> String? {
        switch s {
        case .assigned(let who): return who
        case .pendingApproval(_, _, .assigned(let who)): return who
        default: return nil
        }
    }

    static func actionParts(_ a: BreakAction) -> (String, String?) {
        switch a {
        case .assign(let who): return ("assign", who)
        case .comment(let text): return ("comment", text)
        case .resolve(let reason): return ("resolve", reason)
        case .forceClose(let reason): return ("force_close", reason)
        case .approve: return ("approve", nil)
        case .reject(let reason): return ("reject", reason)
        case .reopen(let reason): return ("reopen", reason)
        }
    }

    static func action(_ name: String, _ text: String?) -> BreakAction? {
        let t = text ?? ""
        switch name {
        case "assign": return .assign(to: t)
        case "comment": return .comment(t)
        case "resolve": return .resolve(reason: t)
        case "force_close": return .forceClose(reason: t)
        case "approve": return .approve
        case "reject": return .reject(reason: t)
        case "reopen": return .reopen(reason: t)
        default: return nil
        }
    }

    // MARK: JSON columns

    /// A state as stored in `state_detail` and the events' state columns.
    private struct StateJSON: Codable {
        var state: String
        var who: String?
        var reason: String?
        var request: String?
        var requestedBy: String?
        var previous: String?
        var previousWho: String?
    }

    static func encodeState(_ s: BreakState) throws -> String {
        var j = StateJSON(state: stateName(s))
        switch s {
        case .open: break
        case .assigned(let who): j.who = who
        case .pendingApproval(let request, let by, let previous):
            j.requestedBy = by
            switch request {
            case .resolve(let reason): j.request = "resolve"; j.reason = reason
            case .forceClose(let reason): j.request = "force_close"; j.reason = reason
            }
            switch previous {
            case .open: j.previous = "open"
            case .assigned(let who): j.previous = "assigned"; j.previousWho = who
            }
        case .resolved(let reason), .forceClosed(let reason): j.reason = reason
        }
        return try json(j)
    }

    static func decodeState(_ text: String) throws -> BreakState {
        let j = try JSONDecoder().decode(StateJSON.self, from: Data(text.utf8))
        switch j.state {
        case "open": return .open
        case "assigned": return .assigned(to: j.who ?? "")
        case "resolved": return .resolved(reason: j.reason ?? "")
        case "closed": return .forceClosed(reason: j.reason ?? "")
        case "pending":
            let request: BreakRequest = j.request == "force_close" ? .forceClose(reason: j.reason ?? "")
                : .resolve(reason: j.reason ?? "")
            let previous: BreakState.PreviousState = j.previous == "assigned" ? .assigned(to: j.previousWho ?? "") : .open
            return .pendingApproval(request, requestedBy: j.requestedBy ?? "", previous: previous)
        default:
            throw BackOfficeStoreError.data("unknown break state \(j.state)")
        }
    }

    /// One side's record as stored in `book_records` / `external_records`.
    private struct RecordJSON: Codable {
        var origin: String
        var file: String?
        var line: Int?
        var source: String?
        var offset: Int64?
        var fill: Int?
        var key: String
        var side: String?
        var quantity: String?
        var price: String?
        var fees: String?
        var settlementDate: String?
    }

    static func encodeRecords(_ records: [BreakRecord]) throws -> String {
        try json(records.map { r in
            var j = RecordJSON(origin: "", key: r.key)
            switch r.origin {
            case .statement(let file, let line): j.origin = "statement"; j.file = file; j.line = line
            case .fix(let source, let offset): j.origin = "fix"; j.source = source; j.offset = offset
            case .book(let fillID): j.origin = "fill"; j.fill = fillID
            case .bookBalance: j.origin = "book"
            }
            j.side = r.side.map { String(UnicodeScalar($0.rawValue)) }
            j.quantity = r.quantity?.description
            j.price = r.price?.description
            j.fees = r.fees?.description
            j.settlementDate = r.settlementDate?.description
            return j
        })
    }

    static func decodeRecords(_ text: String) throws -> [BreakRecord] {
        try JSONDecoder().decode([RecordJSON].self, from: Data(text.utf8)).map { j in
            let origin: RecordOrigin
            switch j.origin {
            case "statement": origin = .statement(file: j.file ?? "", line: j.line ?? 0)
            case "fix": origin = .fix(source: j.source ?? "", offset: j.offset ?? 0)
            case "fill": origin = .book(fillID: j.fill ?? 0)
            default: origin = .bookBalance
            }
            return BreakRecord(origin: origin, key: j.key,
                               side: j.side.flatMap { $0.utf8.first }.flatMap { Side(rawValue: $0) },
                               quantity: j.quantity.flatMap(FIXDecimal.init), price: j.price.flatMap(FIXDecimal.init),
                               fees: j.fees.flatMap(FIXDecimal.init),
                               settlementDate: j.settlementDate.flatMap(FIXDate.init))
        }
    }

    private static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
