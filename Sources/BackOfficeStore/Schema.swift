/// The schema, as numbered migrations written once for both dialects.
///
/// A migration is applied in one transaction together with its row in `schema_migrations`;
/// numbers are never reused and an applied migration is never edited — a change is a new
/// migration. On PostgreSQL the runner holds an advisory lock so that instances starting
/// together migrate once.
public struct Migration: Sendable {
    public var version: Int
    public var name: String
    public var statements: @Sendable (SQLDialect) -> [String]

    public init(version: Int, name: String, statements: @escaping @Sendable (SQLDialect) -> [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }
}

public enum Schema {
    /// Every migration, in order. Other parts of the back office (reconciliation, CRM) append
    /// theirs here.
    public static var migrations: [Migration] {
        ([book] + ReconciliationSchema.migrations + CRMSchema.migrations).sorted { $0.version < $1.version }
    }

    /// 1 — the book: account map, orders, fills, applied executions, exceptions, positions,
    /// cash, and how far each capture has been loaded.
    static let book = Migration(version: 1, name: "book") { d in
        [
            """
            CREATE TABLE accounts (
                fix_account TEXT PRIMARY KEY,
                client_account TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE orders (
                id \(d.identityColumn),
                session TEXT NOT NULL,
                origin_clordid TEXT NOT NULL,
                clordid TEXT NOT NULL,
                clordids TEXT NOT NULL,
                order_id TEXT,
                account TEXT NOT NULL,
                client_account TEXT,
                instrument TEXT NOT NULL,
                side TEXT NOT NULL,
                currency TEXT NOT NULL,
                order_qty TEXT NOT NULL,
                price TEXT,
                status TEXT NOT NULL,
                cum_qty TEXT NOT NULL,
                leaves_qty TEXT NOT NULL,
                notional TEXT NOT NULL,
                avg_px TEXT NOT NULL,
                UNIQUE (session, origin_clordid)
            )
            """,
            "CREATE INDEX orders_account ON orders (client_account)",
            """
            CREATE TABLE fills (
                id \(d.identityColumn),
                session TEXT NOT NULL,
                exec_id TEXT NOT NULL,
                order_origin_clordid TEXT NOT NULL,
                client_account TEXT,
                instrument TEXT NOT NULL,
                side TEXT NOT NULL,
                quantity TEXT NOT NULL,
                price TEXT NOT NULL,
                currency TEXT NOT NULL,
                commission TEXT NOT NULL,
                commission_currency TEXT NOT NULL,
                fees TEXT NOT NULL,
                trade_date TEXT NOT NULL,
                settlement_date TEXT NOT NULL,
                transact_time TEXT,
                state TEXT NOT NULL,
                state_exec_id TEXT,
                source TEXT NOT NULL,
                source_offset \(d.bigint) NOT NULL,
                UNIQUE (session, exec_id)
            )
            """,
            "CREATE INDEX fills_account_date ON fills (client_account, trade_date)",
            "CREATE INDEX fills_date ON fills (trade_date)",
            """
            CREATE TABLE executions (
                session TEXT NOT NULL,
                exec_id TEXT NOT NULL,
                fill_exec_id TEXT,
                order_origin_clordid TEXT,
                exec_type TEXT NOT NULL,
                source TEXT NOT NULL,
                source_offset \(d.bigint) NOT NULL,
                PRIMARY KEY (session, exec_id)
            )
            """,
            """
            CREATE TABLE exceptions (
                id \(d.identityColumn),
                code \(d.bigint) NOT NULL,
                reason TEXT NOT NULL,
                source TEXT NOT NULL,
                source_offset \(d.bigint) NOT NULL,
                session TEXT,
                exec_id TEXT,
                clordid TEXT,
                UNIQUE (source, source_offset, code)
            )
            """,
            """
            CREATE TABLE positions (
                client_account TEXT NOT NULL,
                instrument TEXT NOT NULL,
                currency TEXT NOT NULL,
                quantity TEXT NOT NULL,
                cost_basis TEXT NOT NULL,
                average_cost TEXT NOT NULL,
                realised_pnl TEXT NOT NULL,
                PRIMARY KEY (client_account, instrument)
            )
            """,
            """
            CREATE TABLE cash (
                client_account TEXT NOT NULL,
                currency TEXT NOT NULL,
                amount TEXT NOT NULL,
                PRIMARY KEY (client_account, currency)
            )
            """,
            """
            CREATE TABLE load_progress (
                source TEXT PRIMARY KEY,
                committed_offset \(d.bigint) NOT NULL,
                reports \(d.bigint) NOT NULL
            )
            """,
        ]
    }

    /// Applies the migrations the database does not have yet; returns the versions applied.
    @discardableResult
    public static func migrate(_ backend: any SQLBackend, migrations: [Migration] = Schema.migrations) async throws -> [Int] {
        try await backend.write([SQLStatement(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version \(backend.dialect.bigint) PRIMARY KEY, name TEXT NOT NULL)")])
        var applied: [Int] = []
        for attempt in 0..<2 {
            let have = Set(try await backend.query("SELECT version FROM schema_migrations", []).compactMap { $0.first?.int })
            if let newest = have.max(), let known = migrations.map(\.version).max(), newest > known {
                throw BackOfficeStoreError.migration(
                    "the database has schema version \(newest), newer than this program's \(known): upgrade FIXBridge")
            }
            do {
                for m in migrations where !have.contains(Int64(m.version)) {
                    var plan: [SQLStatement] = []
                    if backend.dialect == .postgres {
                        plan.append(SQLStatement("SELECT pg_advisory_xact_lock(7460001)"))
                    }
                    plan += m.statements(backend.dialect).map { SQLStatement($0) }
                    plan.append(SQLStatement("INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                                             rows: [[.int(Int64(m.version)), .text(m.name)]]))
                    do {
                        try await backend.write(plan)
                    } catch {
                        throw BackOfficeStoreError.migration("\(m.version) \(m.name): \(error)")
                    }
                    applied.append(m.version)
                }
                return applied
            } catch where attempt == 0 && backend.dialect == .postgres {
                // Another instance migrated at the same moment: read the versions again.
                continue
            }
        }
        return applied
    }
}
