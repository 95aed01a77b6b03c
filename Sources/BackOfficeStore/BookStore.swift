import FIXTagValue
import TradeBook

/// Where the back office keeps its data: `sqlite:PATH` (or a plain path) or a PostgreSQL URL.
public enum StoreLocation: Hashable, Sendable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String)

    /// The default: `fixbridge.sqlite` in the working directory.
    public static let defaultLocation = StoreLocation.sqlite(path: "fixbridge.sqlite")

    public init(_ text: String) throws {
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            guard PostgresURL(text) != nil else {
                throw BackOfficeStoreError.location("\(text) is not postgres://user[:password]@host[:port]/database")
            }
            self = .postgres(url: text)
        } else if text.hasPrefix("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw BackOfficeStoreError.location("sqlite: needs a file path (sqlite:book.sqlite)") }
            self = .sqlite(path: path)
        } else if text.contains("://") {
            throw BackOfficeStoreError.location("\(text): use sqlite:PATH or postgres://user@host/database")
        } else {
            self = .sqlite(path: text)
        }
    }

    public var description: String {
        switch self {
        case .sqlite(let path): return "sqlite:\(path)"
        case .postgres(let url): return PostgresURL(url)?.redacted ?? "postgres"
        }
    }

    /// Opens the backend and brings its schema up to date.
    public func open(durability: SQLiteBackend.Durability = .full) async throws -> any SQLBackend {
        let backend: any SQLBackend
        switch self {
        case .sqlite(let path): backend = try SQLiteBackend(path: path, durability: durability)
        case .postgres(let url): backend = try await PostgresBackend(url: url)
        }
        try await Schema.migrate(backend)
        return backend
    }
}

/// Filters of the book's listings; nil matches everything.
public struct BookFilter: Sendable {
    public var clientAccount: String?
    public var tradeDate: FIXDate?

    public init(clientAccount: String? = nil, tradeDate: FIXDate? = nil) {
        self.clientAccount = clientAccount
        self.tradeDate = tradeDate
    }
}

/// The book's tables: writes a batch of book events in one transaction, reads the book back.
///
/// ```swift
/// let store = BookStore(backend: try await StoreLocation("sqlite:book.sqlite").open())
/// var book = TradeBook(configuration: config, restoring: try await store.snapshot())
/// var batch = BookBatch()
/// book.apply(report, source: position, into: &events); batch.add(events)
/// try await store.commit(batch)                 // one transaction, one fsync
/// ```
public struct BookStore: Sendable {
    public let backend: any SQLBackend

    public init(backend: any SQLBackend) {
        self.backend = backend
    }

    // MARK: Writing

    /// Commits the batch's book events, its load progress and `extra` statements (CRM entries,
    /// outbox rows) in one transaction: all of them or none.
    public func commit(_ batch: BookBatch, extra: [SQLStatement] = []) async throws {
        try await backend.write(batch.plan() + extra)
    }

    /// Adds or replaces FIX account → client account mappings.
    public func setAccounts(_ mappings: [(fixAccount: String, clientAccount: String)]) async throws {
        guard !mappings.isEmpty else { return }
        try await backend.write([SQLStatement(
            "INSERT INTO accounts (fix_account, client_account) VALUES (?, ?) ON CONFLICT (fix_account) DO UPDATE SET client_account = excluded.client_account",
            rows: mappings.map { [.text($0.fixAccount), .text($0.clientAccount)] })])
    }

    /// FIX account → client account.
    public func accounts() async throws -> [String: String] {
        var map: [String: String] = [:]
        for row in try await backend.query("SELECT fix_account, client_account FROM accounts", []) {
            if let f = row[0].text, let c = row[1].text { map[f] = c }
        }
        return map
    }

    /// The byte offset up to which `source` has been committed (0 when never loaded).
    public func committedOffset(source: String) async throws -> Int64 {
        try await backend.query("SELECT committed_offset FROM load_progress WHERE source = ?", [.text(source)])
            .first?.first?.int ?? 0
    }

    // MARK: Reading

    /// Everything needed to rebuild the `TradeBook`: orders and fills in booking order with dense
    /// ids, every applied report, the exceptions.
    public func snapshot() async throws -> BookSnapshot {
        let orders = try await self.orders(BookFilter())
        var orderIndex: [OrderKey: Int] = [:]
        orderIndex.reserveCapacity(orders.count)
        var dense: [Order] = []
        dense.reserveCapacity(orders.count)
        for (i, stored) in orders.enumerated() {
            var o = stored
            orderIndex[OrderKey(session: o.session, origin: o.clOrdIDs.first ?? o.clOrdID)] = i
            o.id = i
            dense.append(o)
        }
        let fillRows = try await backend.query(Self.fillSelect + " ORDER BY id", [])
        var fills: [Fill] = []
        fills.reserveCapacity(fillRows.count)
        var fillIndex: [OrderKey: Int] = [:]
        for row in fillRows {
            let origin = row[3].text ?? ""
            guard let orderID = orderIndex[OrderKey(session: row[1].text ?? "", origin: origin)] else {
                throw BackOfficeStoreError.data("fill \(row[2].text ?? "?") names order \(origin), which is not stored")
            }
            var fill = try Self.fill(row, orderID: orderID)
            fill.id = fills.count
            fillIndex[OrderKey(session: fill.session, origin: fill.execID)] = fill.id
            fills.append(fill)
        }
        // Reports that booked a fill are applied executions by their fill row; the table
        // `executions` holds the others (see `BookBatch`).
        var executions = fills.map {
            AppliedExecution(key: ExecutionKey(session: $0.session, execID: $0.execID), fillID: $0.id)
        }
        for row in try await backend.query("SELECT session, exec_id, fill_exec_id FROM executions", []) {
            let session = row[0].text ?? ""
            let fillID = row[2].text.flatMap { fillIndex[OrderKey(session: session, origin: $0)] }
            executions.append(AppliedExecution(key: ExecutionKey(session: session, execID: row[1].text ?? ""), fillID: fillID))
        }
        return BookSnapshot(orders: dense, fills: fills, executions: executions, exceptions: try await exceptions(BookFilter()))
    }

    public func orders(_ filter: BookFilter) async throws -> [Order] {
        var sql = """
            SELECT id, session, origin_clordid, clordid, clordids, order_id, account, client_account, instrument,
                   side, currency, order_qty, price, status, cum_qty, leaves_qty, notional, avg_px FROM orders
            """
        let values = Self.filtered(&sql, filter, account: "client_account = ?", date:
            "EXISTS (SELECT 1 FROM fills f WHERE f.session = orders.session AND f.order_origin_clordid = orders.origin_clordid AND f.trade_date = ?)")
        sql += " ORDER BY id"
        return try await backend.query(sql, values).map { r in
            guard let side = Self.side(r[9]), let status = r[13].text?.utf8.first.flatMap(OrderStatus.init(rawValue:)) else {
                throw BackOfficeStoreError.data("order \(r[3].text ?? "?") has an unknown side or status")
            }
            let ids = (r[4].text ?? "").split(separator: Self.listSeparator, omittingEmptySubsequences: false).map(String.init)
            return Order(
                id: Int(r[0].int ?? 0), session: r[1].text ?? "", clOrdID: r[3].text ?? "", clOrdIDs: ids,
                orderID: r[5].text, account: r[6].text ?? "", clientAccount: r[7].text, instrument: r[8].text ?? "",
                side: side, currency: r[10].text ?? "", orderQty: try Self.decimal(r[11]), price: try r[12].text.map { try Self.decimal(.text($0)) },
                status: status, cumQty: try Self.decimal(r[14]), leavesQty: try Self.decimal(r[15]),
                notional: try Self.decimal(r[16]), avgPx: try Self.decimal(r[17]))
        }
    }

    public func fills(_ filter: BookFilter) async throws -> [Fill] {
        var sql = Self.fillSelect
        let values = Self.filtered(&sql, filter, account: "client_account = ?", date: "trade_date = ?")
        sql += " ORDER BY id"
        return try await backend.query(sql, values).map { try Self.fill($0, orderID: -1) }
    }

    public func positions(_ filter: BookFilter) async throws -> [Position] {
        var sql = "SELECT client_account, instrument, currency, quantity, cost_basis, average_cost, realised_pnl FROM positions"
        let values = Self.filtered(&sql, filter, account: "client_account = ?", date: nil)
        sql += " ORDER BY client_account, instrument"
        return try await backend.query(sql, values).map { r in
            Position(clientAccount: r[0].text ?? "", instrument: r[1].text ?? "", currency: r[2].text ?? "",
                     quantity: try Self.decimal(r[3]), costBasis: try Self.decimal(r[4]),
                     averageCost: try Self.decimal(r[5]), realisedPnL: try Self.decimal(r[6]))
        }
    }

    public func cash(_ filter: BookFilter) async throws -> [CashBalance] {
        var sql = "SELECT client_account, currency, amount FROM cash"
        let values = Self.filtered(&sql, filter, account: "client_account = ?", date: nil)
        sql += " ORDER BY client_account, currency"
        return try await backend.query(sql, values).map { r in
            CashBalance(clientAccount: r[0].text ?? "", currency: r[1].text ?? "", amount: try Self.decimal(r[2]))
        }
    }

    public func exceptions(_ filter: BookFilter) async throws -> [BookException] {
        var sql = "SELECT code, reason, source, source_offset, session, exec_id, clordid FROM exceptions"
        // An exception names no client account; filter by the reports of the account's orders.
        let values = Self.filtered(&sql, filter, account: "clordid IN (SELECT clordid FROM orders WHERE client_account = ? OR account = ?)", date: nil)
        sql += " ORDER BY id"
        return try await backend.query(sql, values).map { r in
            guard let code = r[0].int.flatMap({ BookException.Code(number: Int($0)) }) else {
                throw BackOfficeStoreError.data("exception code \(r[0]) is unknown to this program")
            }
            return BookException(code: code, reason: r[1].text ?? "",
                                 source: SourcePosition(source: r[2].text ?? "", offset: r[3].int ?? 0),
                                 session: r[4].text, execID: r[5].text, clOrdID: r[6].text)
        }
    }

    /// Appends the WHERE clause of `filter` to `sql` and returns its values; every `?` of the
    /// account condition takes the account, the date condition's takes the date.
    private static func filtered(_ sql: inout String, _ filter: BookFilter, account: String, date: String?) -> [SQLValue] {
        var conditions: [String] = []
        var values: [SQLValue] = []
        if let a = filter.clientAccount {
            conditions.append(account)
            values += Array(repeating: .text(a), count: account.filter { $0 == "?" }.count)
        }
        if let date, let d = filter.tradeDate {
            conditions.append(date)
            values.append(.text(d.description))
        }
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        return values
    }

    // MARK: Row mapping

    static let listSeparator: Character = "\u{1F}"
    static let fillSelect = """
        SELECT id, session, exec_id, order_origin_clordid, client_account, instrument, side, quantity, price, currency,
               commission, commission_currency, fees, trade_date, settlement_date, transact_time, state, state_exec_id,
               source, source_offset FROM fills
        """

    private struct OrderKey: Hashable {
        var session: String
        var origin: String
    }

    private static func fill(_ r: SQLRow, orderID: Int) throws -> Fill {
        guard let side = side(r[6]) else { throw BackOfficeStoreError.data("fill \(r[2].text ?? "?") has an unknown side") }
        guard let tradeDate = r[13].text.flatMap(FIXDate.init), let settlementDate = r[14].text.flatMap(FIXDate.init) else {
            throw BackOfficeStoreError.data("fill \(r[2].text ?? "?") has an unreadable date")
        }
        let state: FillState
        switch r[16].text {
        case "corrected": state = .corrected(by: r[17].text ?? "")
        case "busted": state = .busted(by: r[17].text ?? "")
        default: state = .booked
        }
        return Fill(
            id: Int(r[0].int ?? 0), session: r[1].text ?? "", execID: r[2].text ?? "", orderID: orderID,
            clientAccount: r[4].text, instrument: r[5].text ?? "", side: side, quantity: try decimal(r[7]),
            price: try decimal(r[8]), currency: r[9].text ?? "", commission: try decimal(r[10]),
            commissionCurrency: r[11].text ?? "", fees: try fees(r[12].text ?? ""), tradeDate: tradeDate,
            settlementDate: settlementDate, transactTime: r[15].text.flatMap(FIXTimestamp.init), state: state,
            source: SourcePosition(source: r[18].text ?? "", offset: r[19].int ?? 0))
    }

    static func decimal(_ v: SQLValue) throws -> FIXDecimal {
        guard let t = v.text, let d = FIXDecimal(t) else { throw BackOfficeStoreError.data("\(v) is not a decimal") }
        return d
    }

    private static func side(_ v: SQLValue) -> Side? {
        v.text?.utf8.first.flatMap(Side.init(rawValue:))
    }

    /// The fees as stored: amount, currency and type separated by US (0x1F), fees by RS (0x1E).
    static func append(_ fees: [Fee], to bytes: inout [UInt8]) {
        for (i, fee) in fees.enumerated() {
            if i > 0 { bytes.append(0x1E) }
            fee.amount.appendText(to: &bytes)
            bytes.append(0x1F)
            bytes.append(contentsOf: fee.currency.utf8)
            bytes.append(0x1F)
            bytes.append(contentsOf: fee.type.utf8)
        }
    }

    private static func fees(_ text: String) throws -> [Fee] {
        guard !text.isEmpty else { return [] }
        return try text.split(separator: "\u{1E}").map { item in
            let parts = item.split(separator: "\u{1F}", omittingEmptySubsequences: false)
            guard parts.count == 3, let amount = FIXDecimal(String(parts[0])) else {
                throw BackOfficeStoreError.data("fee \(item) is unreadable")
            }
            return Fee(amount: amount, currency: String(parts[1]), type: String(parts[2]))
        }
    }
}
