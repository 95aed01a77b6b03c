import ClientCRM
import FIXTagValue
import Foundation
import TradeBook

/// Clients, interaction history and the webhook outbox in the back office's database
/// (migrations 200…299).
public enum CRMSchema {
    public static let migrations: [Migration] = [crm, outboxClaimIndex]

    /// 200 — clients with their KYC standing, accounts and documents; the interaction history;
    /// the outbox of webhook messages.
    ///
    /// Times are nanoseconds since the epoch (`…_ns`, 64-bit) so that SQL can compare them; the
    /// history also keeps an ISO 8601 text of the time for people reading the table. Facts,
    /// links and an account's FIX Account values are JSON text.
    static let crm = Migration(version: 200, name: "crm") { d in
        [
            """
            CREATE TABLE clients (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                segment TEXT NOT NULL,
                relationship_manager TEXT,
                risk_rating TEXT,
                kyc_status TEXT NOT NULL,
                kyc_expires_on TEXT,
                email TEXT,
                phone TEXT,
                country TEXT
            )
            """,
            """
            CREATE TABLE client_accounts (
                id TEXT PRIMARY KEY,
                client_id TEXT NOT NULL,
                fix_accounts TEXT NOT NULL
            )
            """,
            "CREATE INDEX client_accounts_client ON client_accounts (client_id)",
            """
            CREATE TABLE client_documents (
                client_id TEXT NOT NULL,
                position \(d.bigint) NOT NULL,
                kind TEXT NOT NULL,
                reference TEXT NOT NULL,
                expires_on TEXT,
                PRIMARY KEY (client_id, position)
            )
            """,
            """
            CREATE TABLE interactions (
                id TEXT PRIMARY KEY,
                client_id TEXT NOT NULL,
                account_id TEXT,
                time TEXT NOT NULL,
                time_ns \(d.bigint) NOT NULL,
                channel TEXT NOT NULL,
                direction TEXT NOT NULL,
                severity TEXT NOT NULL,
                rule TEXT NOT NULL,
                summary TEXT NOT NULL,
                details TEXT NOT NULL,
                facts TEXT NOT NULL,
                links TEXT NOT NULL,
                author TEXT NOT NULL
            )
            """,
            "CREATE INDEX interactions_client_time ON interactions (client_id, time_ns, id)",
            """
            CREATE TABLE outbox (
                sequence \(d.identityColumn),
                entry_id TEXT NOT NULL,
                destination TEXT NOT NULL,
                client_id TEXT NOT NULL,
                payload TEXT NOT NULL,
                state TEXT NOT NULL,
                attempts \(d.bigint) NOT NULL,
                next_attempt_ns \(d.bigint),
                lease_until_ns \(d.bigint),
                done_at_ns \(d.bigint),
                last_error TEXT,
                claim TEXT,
                UNIQUE (entry_id, destination)
            )
            """,
            "CREATE INDEX outbox_lane ON outbox (destination, client_id, state, sequence)",
            "CREATE INDEX outbox_state ON outbox (state, sequence)",
            "CREATE INDEX outbox_claim ON outbox (claim)",
        ]
    }

    /// 201 — the claim index keeps claimed items only: a new item has no claim, and the book
    /// enqueues one per CRM entry, so indexing its NULL claim was one B-tree insert per entry
    /// for nothing (`claim = ?` implies the index's condition, so the claim query still uses it).
    static let outboxClaimIndex = Migration(version: 201, name: "outbox claim index: claimed items only") { _ in
        [
            "DROP INDEX outbox_claim",
            "CREATE INDEX outbox_claim ON outbox (claim) WHERE claim IS NOT NULL",
        ]
    }
}

/// The CRM's tables: clients and accounts, the interaction history, and (through
/// `SQLOutboxStore`) the outbox.
///
/// Entries made while loading the book are written by `statements(for:destinations:)`, whose
/// statements the caller commits together with the book batch, so that the book, the history and
/// the outbox never disagree after a crash:
///
/// ```swift
/// let crm = CRMStore(backend: backend)
/// var engine = ActivityEngine(directory: try await crm.directory())
/// let entries = engine.process(events, observedAt: now)
/// try await BookStore(backend: backend).commit(batch, extra: CRMStore.statements(for: entries, destinations: ["crm"]))
/// let recent = try await crm.timeline(clientID: "C-1001", limit: 20)     // newest first
/// ```
public struct CRMStore: Sendable {
    /// Most entries one timeline query returns.
    public static let timelineLimitMax = InteractionHistory.timelineLimitMax

    public let backend: any SQLBackend

    public init(backend: any SQLBackend) {
        self.backend = backend
    }

    /// The outbox on the same database.
    public var outbox: SQLOutboxStore { SQLOutboxStore(backend: backend) }

    // MARK: Clients

    /// Imports a clients file (see `ClientCSV`) into the stored directory, in one transaction.
    ///
    /// The file is read against the stored clients, so an account another stored client holds is
    /// refused; a client already stored is replaced. Refused rows are in the report's problems and
    /// write nothing; the other rows are written. The FIX Account values of every written account
    /// replace that account's rows in the book's `accounts` map, so the book books them to it.
    public func importClients(csv text: String) async throws -> ClientImportReport {
        let before = try await directory()
        var after = before
        let report = ClientCSV.import(text, into: &after)
        try await save(after, changedSince: before)
        return report
    }

    /// Writes the clients and accounts of `directory` that differ from `old` (all of them when
    /// `old` is empty), in one transaction.
    public func save(_ directory: ClientDirectory, changedSince old: ClientDirectory = ClientDirectory()) async throws {
        let newAccounts = Self.accountsByClient(directory)
        let oldAccounts = Self.accountsByClient(old)
        var changed: [String] = []
        for (id, client) in directory.clients {
            if old.clients[id] != client || newAccounts[id, default: []] != oldAccounts[id, default: []] {
                changed.append(id)
            }
        }
        guard !changed.isEmpty else { return }
        changed.sort()
        let existing = changed.filter { old.clients[$0] != nil }
        var clientRows: [[SQLValue]] = []
        var documentRows: [[SQLValue]] = []
        var accountRows: [[SQLValue]] = []
        var mapRows: [[SQLValue]] = []
        for id in changed {
            guard let c = directory.clients[id] else { continue }
            clientRows.append([
                .text(c.id), .text(c.name), .text(c.segment), Self.text(c.relationshipManager),
                Self.text(c.riskRating?.rawValue), .text(c.kyc.status.rawValue), Self.text(c.kyc.expiresOn?.description),
                Self.text(c.profile.email), Self.text(c.profile.phone), Self.text(c.profile.country),
            ])
            for (i, doc) in c.documents.enumerated() {
                documentRows.append([.text(c.id), .int(Int64(i)), .text(doc.kind), .text(doc.reference),
                                     Self.text(doc.expiresOn?.description)])
            }
            for account in newAccounts[id, default: []] {
                accountRows.append([.text(account.id), .text(id), .text(Self.jsonArray(account.fixAccounts))])
                // An account listed without FIX accounts is its own FIX account (as in the directory).
                for fix in account.fixAccounts.isEmpty ? [account.id] : account.fixAccounts {
                    mapRows.append([.text(fix), .text(account.id)])
                }
            }
        }
        var plan: [SQLStatement] = []
        if !existing.isEmpty {
            // A stored client is replaced as a whole: its documents, accounts and their FIX
            // Account mappings are written again below.
            let keys = existing.map { [SQLValue.text($0)] }
            plan.append(SQLStatement(
                "DELETE FROM accounts WHERE client_account IN (SELECT id FROM client_accounts WHERE client_id = ?)",
                rows: keys))
            plan.append(SQLStatement("DELETE FROM client_accounts WHERE client_id = ?", rows: keys))
            plan.append(SQLStatement("DELETE FROM client_documents WHERE client_id = ?", rows: keys))
        }
        plan.append(SQLStatement("""
            INSERT INTO clients (id, name, segment, relationship_manager, risk_rating, kyc_status, kyc_expires_on,
                email, phone, country)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, segment = excluded.segment,
                relationship_manager = excluded.relationship_manager, risk_rating = excluded.risk_rating,
                kyc_status = excluded.kyc_status, kyc_expires_on = excluded.kyc_expires_on, email = excluded.email,
                phone = excluded.phone, country = excluded.country
            """, rows: clientRows))
        if !documentRows.isEmpty {
            plan.append(SQLStatement(
                "INSERT INTO client_documents (client_id, position, kind, reference, expires_on) VALUES (?, ?, ?, ?, ?)",
                rows: documentRows))
        }
        if !accountRows.isEmpty {
            // An account moved from another client (possible only when that client gave it up
            // in the same directory) is taken over.
            plan.append(SQLStatement("""
                INSERT INTO client_accounts (id, client_id, fix_accounts) VALUES (?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET client_id = excluded.client_id, fix_accounts = excluded.fix_accounts
                """, rows: accountRows))
        }
        if !mapRows.isEmpty {
            plan.append(SQLStatement("""
                INSERT INTO accounts (fix_account, client_account) VALUES (?, ?)
                ON CONFLICT (fix_account) DO UPDATE SET client_account = excluded.client_account
                """, rows: mapRows))
        }
        try await backend.write(plan)
    }

    /// Every stored client and account.
    public func directory() async throws -> ClientDirectory {
        var clients: [Client] = []
        var byID: [String: Int] = [:]
        let clientRows = try await backend.query("""
            SELECT id, name, segment, relationship_manager, risk_rating, kyc_status, kyc_expires_on, email, phone, country
            FROM clients ORDER BY id
            """, [])
        for r in clientRows {
            let id = r[0].text ?? ""
            guard let status = r[5].text.flatMap(KYCStatus.init(rawValue:)) else {
                throw BackOfficeStoreError.data("client \(id) has an unknown KYC status \(r[5])")
            }
            byID[id] = clients.count
            clients.append(Client(
                id: id, name: r[1].text ?? "",
                profile: ClientProfile(email: r[7].text, phone: r[8].text, country: r[9].text),
                segment: r[2].text ?? "unassigned", relationshipManager: r[3].text,
                kyc: KYC(status: status, expiresOn: r[6].text.flatMap(FIXDate.init)), documents: [],
                riskRating: r[4].text.flatMap(RiskRating.init(rawValue:))))
        }
        for r in try await backend.query(
            "SELECT client_id, kind, reference, expires_on FROM client_documents ORDER BY client_id, position", []) {
            guard let i = r[0].text.flatMap({ byID[$0] }) else { continue }
            clients[i].documents.append(ClientDocument(kind: r[1].text ?? "", reference: r[2].text ?? "",
                                                       expiresOn: r[3].text.flatMap(FIXDate.init)))
        }
        var accounts: [ClientAccount] = []
        for r in try await backend.query("SELECT id, client_id, fix_accounts FROM client_accounts ORDER BY id", []) {
            accounts.append(ClientAccount(id: r[0].text ?? "", clientID: r[1].text ?? "",
                                          fixAccounts: try Self.decode([String].self, r[2], what: "fix_accounts")))
        }
        do {
            return try ClientDirectory(clients: clients, accounts: accounts)
        } catch {
            throw BackOfficeStoreError.data("stored clients: \(error)")
        }
    }

    // MARK: Interaction history

    /// The statements that insert `entries` and their outbox items for `destinations`; entries
    /// and items already stored are left as they are (`ON CONFLICT … DO NOTHING`), so the
    /// statements of a replayed batch change nothing. Commit them with the book batch
    /// (`BookStore.commit(batch, extra:)`) or on their own (`backend.write`).
    public static func statements(for entries: [InteractionEntry], destinations: [String]) -> [SQLStatement] {
        guard !entries.isEmpty else { return [] }
        // The rows (and their JSON) are made by the backend as it runs the statements, on the
        // thread that commits, not by the caller that books the next batch.
        var plan = [SQLStatement("""
            INSERT INTO interactions (id, client_id, account_id, time, time_ns, channel, direction, severity, rule,
                summary, details, facts, links, author)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING
            """, count: entries.count) { i, row in write(entries[i], to: &row) }]
        if !destinations.isEmpty {
            let perEntry = destinations.count
            plan.append(SQLStatement(Self.outboxInsert, count: entries.count * perEntry) { i, row in
                let entry = entries[i / perEntry]
                row.text(entry.id)
                row.text(destinations[i % perEntry])
                row.text(entry.clientID)
                // Empty: the payload is the entry's, which the row above holds (see `SQLOutboxStore`).
                row.text("")
                row.text("pending")
                row.int(0)
            })
        }
        return plan
    }

    /// Every value is bound (no literals in `VALUES`), so that PostgreSQL can send many rows in
    /// one multi-row INSERT.
    static let outboxInsert = """
        INSERT INTO outbox (entry_id, destination, client_id, payload, state, attempts)
        VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (entry_id, destination) DO NOTHING
        """

    /// Writes `entries` and their outbox items in one transaction (a note typed in, say).
    public func insert(_ entries: [InteractionEntry], destinations: [String]) async throws {
        try await backend.write(Self.statements(for: entries, destinations: destinations))
    }

    /// Adds a note to a client's history (and to the outbox for `destinations`); returns the
    /// entry. The id hashes the client, author, time and text (rule `manual`): the same note for
    /// the same client at the same instant is one note, while the same text sent to several
    /// clients at once gives one entry each (`StableID.manual` alone would give them one id).
    @discardableResult
    public func addNote(clientID: String, text: String, author: String, channel: InteractionChannel = .note,
                        direction: InteractionDirection = .internal, at time: FIXTimestamp,
                        destinations: [String]) async throws -> InteractionEntry {
        guard try await backend.query("SELECT 1 FROM clients WHERE id = ?", [.text(clientID)]).first != nil else {
            throw BackOfficeStoreError.data("no client \(clientID)")
        }
        let entry = InteractionEntry(
            id: StableID.make("manual", [clientID, author, String(time.nanosecondsSinceEpoch), text]),
            clientID: clientID, time: time,
            channel: channel, direction: direction, rule: "manual", summary: text, author: author)
        try await insert([entry], destinations: destinations)
        return entry
    }

    /// A client's entries, newest first (by time, then id), at most `limit` (capped at
    /// `timelineLimitMax`); `before` pages back from an earlier answer's last time.
    public func timeline(clientID: String, before: FIXTimestamp? = nil, limit: Int = 100) async throws -> [InteractionEntry] {
        var sql = """
            SELECT id, client_id, account_id, time_ns, channel, direction, severity, rule, summary, details, facts,
                   links, author FROM interactions WHERE client_id = ?
            """
        var values: [SQLValue] = [.text(clientID)]
        if let before {
            sql += " AND time_ns < ?"
            values.append(.int(before.nanosecondsSinceEpoch))
        }
        sql += " ORDER BY time_ns DESC, id DESC LIMIT ?"
        values.append(.int(Int64(max(0, min(limit, Self.timelineLimitMax)))))
        return try await backend.query(sql, values).map(Self.entry)
    }

    /// The entry with `id`, if stored.
    public func entry(id: String) async throws -> InteractionEntry? {
        try await backend.query("""
            SELECT id, client_id, account_id, time_ns, channel, direction, severity, rule, summary, details, facts,
                   links, author FROM interactions WHERE id = ?
            """, [.text(id)]).first.map(Self.entry)
    }

    // MARK: Activity history

    /// Feeds the engine the fills it would have seen over its trailing window, so that the
    /// unusual-activity rule compares a new day with the same history after a restart.
    ///
    /// For each client account the fills of its last `trailingDays + 1` trade dates are replayed
    /// in booking order, with every rule but unusual activity turned off (the replay writes no
    /// entries and opens no daily summaries). Fills are replayed as booked, so a fill corrected
    /// since counts with its corrected quantity and price, where the live rule counted the
    /// original. Nothing happens when the rule is off. Returns the number of fills replayed.
    @discardableResult
    public func restoreActivityHistory(into engine: inout ActivityEngine) async throws -> Int {
        guard let unusual = engine.settings.unusualActivity else { return 0 }
        let window = unusual.trailingDays + 1
        var datesByAccount: [String: [String]] = [:]
        for r in try await backend.query(
            "SELECT DISTINCT client_account, trade_date FROM fills WHERE client_account IS NOT NULL", []) {
            guard let account = r[0].text, let date = r[1].text else { continue }
            datesByAccount[account, default: []].append(date)
        }
        var cutoff: [String: String] = [:]
        for (account, dates) in datesByAccount {
            let sorted = dates.sorted(by: >)
            cutoff[account] = sorted[min(window, sorted.count) - 1]
        }
        guard let earliest = cutoff.values.min() else { return 0 }
        let book = BookStore(backend: backend)
        var fills: [Fill] = []
        for r in try await backend.query(
            "SELECT DISTINCT trade_date FROM fills WHERE trade_date >= ? ORDER BY trade_date", [.text(earliest)]) {
            guard let date = r[0].text.flatMap(FIXDate.init) else { continue }
            for fill in try await book.fills(BookFilter(tradeDate: date)) {
                guard let account = fill.clientAccount, let from = cutoff[account],
                      fill.tradeDate.description >= from else { continue }
                fills.append(fill)
            }
        }
        fills.sort { $0.id < $1.id }
        var replay = engine
        replay.settings.granularity = []
        replay.settings.kycAlerts = false
        replay.settings.largeTradeNotional = nil
        replay.settings.largeTradeNotionalBySegment = [:]
        let chunk = 10_000
        var start = 0
        while start < fills.count {
            let end = min(start + chunk, fills.count)
            let events = fills[start..<end].map { BookEvent.fillBooked($0) }
            _ = replay.process(events, observedAt: FIXTimestamp(nanosecondsSinceEpoch: 0))
            start = end
        }
        replay.settings = engine.settings
        engine = replay
        return fills.count
    }

    // MARK: Row mapping

    static func write(_ e: InteractionEntry, to row: inout SQLRowWriter) {
        row.text(e.id)
        row.text(e.clientID)
        row.text(e.accountID)
        row.text { InteractionPayload.appendISO8601(e.time, to: &$0) }
        row.int(e.time.nanosecondsSinceEpoch)
        row.text(e.channel.rawValue)
        row.text(e.direction.rawValue)
        row.text(e.severity.rawValue)
        row.text(e.rule)
        row.text(e.summary)
        row.text(e.details)
        row.json { InteractionPayload.writeFacts(e.facts, to: &$0) }
        row.json { InteractionPayload.writeLinks(e.links, to: &$0) }
        row.text(e.author)
    }

    static func entry(_ r: SQLRow) throws -> InteractionEntry {
        let id = r[0].text ?? ""
        guard let channel = r[4].text.flatMap(InteractionChannel.init(rawValue:)),
              let direction = r[5].text.flatMap(InteractionDirection.init(rawValue:)),
              let severity = r[6].text.flatMap(InteractionSeverity.init(rawValue:)) else {
            throw BackOfficeStoreError.data("interaction \(id) has an unknown channel, direction or severity")
        }
        let links = try decode(StoredLinks.self, r[11], what: "links of \(id)")
        return InteractionEntry(
            id: id, clientID: r[1].text ?? "", accountID: r[2].text,
            time: FIXTimestamp(nanosecondsSinceEpoch: r[3].int ?? 0), channel: channel, direction: direction,
            severity: severity, rule: r[7].text ?? "", summary: r[8].text ?? "", details: r[9].text ?? "",
            facts: try decode([String: String].self, r[10], what: "facts of \(id)"),
            links: InteractionLinks(orders: links.orders, fills: links.fills, breaks: links.breaks),
            author: r[12].text ?? "")
    }

    private struct StoredLinks: Decodable {
        var orders: [String]
        var fills: [String]
        var breaks: [String]
    }

    static func accountsByClient(_ directory: ClientDirectory) -> [String: [ClientAccount]] {
        var out: [String: [ClientAccount]] = [:]
        for account in directory.accounts.values { out[account.clientID, default: []].append(account) }
        for key in out.keys { out[key]?.sort { $0.id < $1.id } }
        return out
    }

    static func text(_ s: String?) -> SQLValue { s.map(SQLValue.text) ?? .null }

    static func decode<T: Decodable>(_ type: T.Type, _ value: SQLValue, what: String) throws -> T {
        guard let text = value.text else { throw BackOfficeStoreError.data("\(what) is missing") }
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw BackOfficeStoreError.data("\(what) is not the JSON expected: \(error)")
        }
    }

    static func jsonArray(_ values: [String]) -> String {
        var w = JSONWriter()
        w.array(values)
        return String(decoding: w.bytes, as: UTF8.self)
    }
}

/// `OutboxStore` on the back office's database: the same contract and transitions as
/// `InMemoryOutboxStore` (they are `OutboxRecord`'s), safe for several workers at once.
///
/// Items are added by `CRMStore.statements(for:destinations:)` in the book's transaction (or
/// by `enqueue`). `fetchDue` claims lane heads in one statement: an item is a head when no
/// earlier item of its (destination, client) lane is pending, in flight or failed. On
/// PostgreSQL the claim skips rows another worker is claiming (`FOR UPDATE SKIP LOCKED`); on
/// SQLite claims are serialised by the database's single writer. Every other transition reads
/// the item, applies the `OutboxRecord` transition and writes it back only if the item has not
/// changed meanwhile (else it reads again).
///
/// ```swift
/// let outbox = SQLOutboxStore(backend: backend, destinations: ["crm"])
/// let worker = WebhookDeliveryWorker(store: outbox, settings: settings, httpClient: .shared)
/// ```
public struct SQLOutboxStore: OutboxStore {
    /// Times a transition is retried when another worker changed the item meanwhile.
    static let conflictRetriesMax = 8

    public let backend: any SQLBackend
    /// When set, `fetchDue` hands out only items for these destinations (a worker that has
    /// endpoints for some destinations leaves the others alone rather than dead-lettering them).
    public let destinations: [String]?

    public init(backend: any SQLBackend, destinations: [String]? = nil) {
        self.backend = backend
        self.destinations = destinations
    }

    /// An item's columns, then those of its interaction entry when its payload is empty: the
    /// book's items store no payload of their own, since it is the entry's JSON
    /// (`InteractionPayload.json`), made again when the item is read. That keeps the bytes the
    /// receiver gets (and signs) exactly those of an item enqueued with its payload, and saves a
    /// copy of the entry (about 590 bytes) per item that a book batch writes.
    static let columns = """
        o.sequence, o.entry_id, o.destination, o.client_id, o.payload, o.state, o.attempts, o.next_attempt_ns,
        o.lease_until_ns, o.done_at_ns, o.last_error, i.id, i.client_id, i.account_id, i.time_ns, i.channel,
        i.direction, i.severity, i.rule, i.summary, i.details, i.facts, i.links, i.author
        """
    /// The outbox with each item's entry. The conditions of the queries name outbox columns only,
    /// none of which the interactions table has.
    static let items = "outbox o LEFT JOIN interactions i ON o.payload = '' AND i.id = o.entry_id"
    static let active = "('pending', 'delivering', 'failed')"

    public func enqueue(_ items: [OutboxItem]) async throws -> Int {
        guard !items.isEmpty else { return 0 }
        // Counted before and after: ON CONFLICT DO NOTHING reports no per-row outcome through
        // the backend interface. The count is exact unless another writer adds items meanwhile;
        // the book's path (`CRMStore.statements`) does not use it.
        let before = try await count()
        try await backend.write([SQLStatement(CRMStore.outboxInsert, count: items.count) { i, row in
            let item = items[i]
            row.text(item.key.entryID)
            row.text(item.key.destination)
            row.text(item.clientID)
            row.text { bytes in bytes.append(contentsOf: item.payload) }
            row.text("pending")
            row.int(0)
        }])
        return try await count() - before
    }

    public func fetchDue(limit: Int, now: FIXTimestamp, leaseUntil: FIXTimestamp) async throws -> [OutboxRecord] {
        let cap = max(0, min(limit, OutboxTable.fetchLimitMax))
        guard cap > 0 else { return [] }
        let token = Self.claimToken()
        var filter = ""
        var values: [SQLValue] = [.int(leaseUntil.nanosecondsSinceEpoch), .text(token),
                                  .int(now.nanosecondsSinceEpoch), .int(now.nanosecondsSinceEpoch)]
        if let destinations {
            guard !destinations.isEmpty else { return [] }
            filter = " AND o.destination IN (" + destinations.map { _ in "?" }.joined(separator: ", ") + ")"
            values += destinations.map(SQLValue.text)
        }
        values.append(.int(Int64(cap)))
        let lock = backend.dialect == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
        try await backend.write([SQLStatement("""
            UPDATE outbox SET state = 'delivering', attempts = attempts + 1, lease_until_ns = ?, claim = ?
            WHERE sequence IN (
                SELECT o.sequence FROM outbox o
                WHERE o.state IN \(Self.active)
                  AND (o.state = 'pending' OR (o.state = 'failed' AND o.next_attempt_ns <= ?)
                       OR (o.state = 'delivering' AND o.lease_until_ns <= ?))\(filter)
                  AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.destination = o.destination
                      AND e.client_id = o.client_id AND e.state IN \(Self.active) AND e.sequence < o.sequence)
                ORDER BY o.sequence LIMIT ?\(lock))
            """, rows: [values])])
        return try await backend.query(
            "SELECT \(Self.columns) FROM \(Self.items) WHERE claim = ? AND state = 'delivering' ORDER BY sequence",
            [.text(token)]).map(Self.record)
    }

    public func markDelivered(_ key: OutboxKey, at time: FIXTimestamp) async throws {
        try await transition(key) { (r: inout OutboxRecord) throws(CRMError) in try r.markDelivered(at: time) }
    }

    public func markFailed(_ key: OutboxKey, nextAttemptAt: FIXTimestamp, error: String) async throws {
        try await transition(key) { (r: inout OutboxRecord) throws(CRMError) in
            try r.markFailed(nextAttemptAt: nextAttemptAt, error: error)
        }
    }

    public func deadLetter(_ key: OutboxKey, reason: String, at time: FIXTimestamp) async throws {
        try await transition(key) { (r: inout OutboxRecord) throws(CRMError) in try r.deadLetter(reason: reason, at: time) }
    }

    public func redrive(_ keys: [OutboxKey]) async throws -> Int {
        var moved = 0
        for key in keys {
            guard let r = try await record(key) else { throw Self.unknown(key) }
            guard case .deadLettered = r.state else { continue }
            try await transition(key) { (r: inout OutboxRecord) throws(CRMError) in
                if case .deadLettered = r.state { try r.redrive() }
            }
            moved += 1
        }
        return moved
    }

    /// Re-drives every dead-lettered item (of `destinations` when set); returns how many moved.
    public func redriveAll() async throws -> Int {
        var moved = 0
        // Each page leaves the dead-lettered state, so the next page is the next items.
        while true {
            let page = try await deadLettered(limit: OutboxTable.fetchLimitMax)
            guard !page.isEmpty else { return moved }
            moved += try await redrive(page.map(\.item.key))
        }
    }

    public func deadLettered(limit: Int) async throws -> [OutboxRecord] {
        try await list(states: ["dead-lettered"], limit: limit)
    }

    /// Items not yet delivered nor dead-lettered (pending, in flight, failed), oldest first.
    public func undelivered(limit: Int) async throws -> [OutboxRecord] {
        try await list(states: ["pending", "delivering", "failed"], limit: limit)
    }

    public func record(_ key: OutboxKey) async throws -> OutboxRecord? {
        try await backend.query("SELECT \(Self.columns) FROM \(Self.items) WHERE entry_id = ? AND destination = ?",
                                [.text(key.entryID), .text(key.destination)]).first.map(Self.record)
    }

    /// Dead-lettered items of entry `entryID`, whatever their destination.
    public func deadLettered(entryID: String) async throws -> [OutboxRecord] {
        try await backend.query(
            "SELECT \(Self.columns) FROM \(Self.items) WHERE entry_id = ? AND state = 'dead-lettered' ORDER BY sequence",
            [.text(entryID)]).map(Self.record)
    }

    /// Items per state name (`pending`, `delivering`, `delivered`, `failed`, `dead-lettered`).
    public func counts() async throws -> [String: Int] {
        var out: [String: Int] = [:]
        var sql = "SELECT state, COUNT(*) FROM outbox"
        var values: [SQLValue] = []
        if let destinations {
            sql += " WHERE destination IN (" + destinations.map { _ in "?" }.joined(separator: ", ") + ")"
            values = destinations.map(SQLValue.text)
            if destinations.isEmpty { return [:] }
        }
        for r in try await backend.query(sql + " GROUP BY state", values) {
            if let s = r[0].text { out[s] = Int(r[1].int ?? 0) }
        }
        return out
    }

    // MARK: Internals

    private func count() async throws -> Int {
        Int(try await backend.query("SELECT COUNT(*) FROM outbox", []).first?.first?.int ?? 0)
    }

    private func list(states: [String], limit: Int) async throws -> [OutboxRecord] {
        let cap = max(0, min(limit, OutboxTable.fetchLimitMax))
        var sql = "SELECT \(Self.columns) FROM \(Self.items) WHERE state IN ("
            + states.map { _ in "?" }.joined(separator: ", ") + ")"
        var values = states.map(SQLValue.text)
        if let destinations {
            guard !destinations.isEmpty else { return [] }
            sql += " AND destination IN (" + destinations.map { _ in "?" }.joined(separator: ", ") + ")"
            values += destinations.map(SQLValue.text)
        }
        values.append(.int(Int64(cap)))
        return try await backend.query(sql + " ORDER BY sequence LIMIT ?", values).map(Self.record)
    }

    /// Reads the item, applies `change` and writes the new state if the stored one is still the
    /// one read (same state and attempt count); reads again when another worker got there first.
    private func transition(_ key: OutboxKey,
                            _ change: (inout OutboxRecord) throws(CRMError) -> Void) async throws {
        for _ in 0..<Self.conflictRetriesMax {
            guard let old = try await record(key) else { throw Self.unknown(key) }
            var new = old
            try change(&new)
            guard new.state != old.state else { return }
            let c = Self.stateColumns(new.state)
            do {
                try await backend.write([SQLStatement("""
                    UPDATE outbox SET state = ?, attempts = ?, next_attempt_ns = ?, lease_until_ns = ?, done_at_ns = ?,
                        last_error = COALESCE(?, last_error)
                    WHERE entry_id = ? AND destination = ? AND state = ? AND attempts = ? RETURNING 1
                    """, rows: [[.text(new.state.name), .int(Int64(new.state.attempts)), c.next, c.lease, c.done, c.error,
                                 .text(key.entryID), .text(key.destination), .text(old.state.name),
                                 .int(Int64(old.state.attempts))]], changesRequired: 1)])
                return
            } catch let error as BackOfficeStoreError where error.isConflict {
                continue
            }
        }
        throw BackOfficeStoreError.conflict("outbox item \(key) kept changing; try again")
    }

    /// The error `OutboxTable` gives for an unknown key, so that every store throws the same one.
    static func unknown(_ key: OutboxKey) -> CRMError {
        var empty = OutboxTable()
        do {
            try empty.markDelivered(key, at: FIXTimestamp(nanosecondsSinceEpoch: 0))
        } catch {
            return error
        }
        preconditionFailure("an empty outbox table knows no item")
    }

    static func claimToken() -> String {
        String(UInt64.random(in: 0...UInt64.max), radix: 16) + "-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }

    /// The state-specific columns. `last_error` is nil when the state carries no error text, and
    /// the stored text is kept (so a re-driven item still shows why it was dead-lettered).
    static func stateColumns(_ state: OutboxState) -> (next: SQLValue, lease: SQLValue, done: SQLValue, error: SQLValue) {
        switch state {
        case .pending:
            return (.null, .null, .null, .null)
        case .delivering(_, let lease):
            return (.null, .int(lease.nanosecondsSinceEpoch), .null, .null)
        case .delivered(_, let at):
            return (.null, .null, .int(at.nanosecondsSinceEpoch), .null)
        case .failed(_, let next, let error):
            return (.int(next.nanosecondsSinceEpoch), .null, .null, .text(error))
        case .deadLettered(_, let reason, let at):
            return (.null, .null, .int(at.nanosecondsSinceEpoch), .text(reason))
        }
    }

    static func record(_ r: SQLRow) throws -> OutboxRecord {
        let key = OutboxKey(entryID: r[1].text ?? "", destination: r[2].text ?? "")
        let attempts = Int(r[6].int ?? 0)
        func time(_ v: SQLValue) -> FIXTimestamp { FIXTimestamp(nanosecondsSinceEpoch: v.int ?? 0) }
        let state: OutboxState
        switch r[5].text {
        case "pending": state = .pending(attempts: attempts)
        case "delivering": state = .delivering(attempt: attempts, leaseUntil: time(r[8]))
        case "delivered": state = .delivered(attempts: attempts, at: time(r[9]))
        case "failed": state = .failed(attempts: attempts, nextAttemptAt: time(r[7]), lastError: r[10].text ?? "")
        case "dead-lettered": state = .deadLettered(attempts: attempts, reason: r[10].text ?? "", at: time(r[9]))
        default: throw BackOfficeStoreError.data("outbox item \(key) has an unknown state \(r[5])")
        }
        var payload = Array((r[4].text ?? "").utf8)
        if payload.isEmpty {
            guard r.count > 11, r[11] != .null else {
                throw BackOfficeStoreError.data("outbox item \(key) has no payload and its interaction entry is missing")
            }
            payload = InteractionPayload.json(try CRMStore.entry(Array(r[11...])))
        }
        let item = OutboxItem(key: key, clientID: r[3].text ?? "", payload: payload)
        return OutboxRecord(sequence: r[0].int ?? 0, item: item, state: state)
    }
}

extension SQLRowWriter {
    /// JSON text that `build` writes, made in place in the row buffer.
    mutating func json(_ build: (inout JSONWriter) -> Void) {
        text { bytes in
            var writer = JSONWriter()
            swap(&writer.bytes, &bytes)
            build(&writer)
            swap(&writer.bytes, &bytes)
        }
    }
}
