import GRDB
import GRDBSQLite

/// The embedded default: one SQLite file in WAL mode, opened through GRDB.
///
/// Plans run in one `BEGIN IMMEDIATE … COMMIT` on GRDB's writer; statements are prepared once
/// per connection and kept, and their rows bound straight on the prepared statement, so a batch
/// of thousands of reports costs one fsync per commit (`synchronous = FULL`, the
/// default, makes every commit durable; `.normal` survives a process crash but not a power cut).
public final class SQLiteBackend: SQLBackend {
    public enum Durability: Sendable {
        /// fsync at every commit: a committed batch survives a power cut.
        case full
        /// fsync at WAL checkpoints: a committed batch survives a process crash.
        case normal
    }

    public let dialect = SQLDialect.sqlite
    private let pool: DatabasePool
    public let path: String

    public init(path: String, durability: Durability = .full) throws {
        var configuration = Configuration()
        let synchronous = durability == .full ? "FULL" : "NORMAL"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            // A bulk load touches B-tree pages all over the indexes: a 64 MiB page cache keeps
            // them (SQLite's default is 2 MiB, and every miss is a read), and a checkpoint every
            // ~40 MiB of WAL instead of ~4 MiB copies each hot page back once, not ten times.
            try db.execute(sql: "PRAGMA cache_size = -65536")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 10000")
        }
        configuration.busyMode = .timeout(10)
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw BackOfficeStoreError.backend("cannot open SQLite database \(path): \(error)")
        }
        self.path = path
    }

    public func write(_ plan: [SQLStatement]) async throws {
        do {
            try await pool.write { db in
                for statement in plan { try Self.run(statement, in: db) }
            }
        } catch let error as BackOfficeStoreError {
            throw error
        } catch {
            throw BackOfficeStoreError.backend("\(path): \(error)")
        }
    }

    public func query(_ sql: String, _ values: [SQLValue]) async throws -> [SQLRow] {
        do {
            return try await pool.read { db in
                let statement = try db.makeStatement(sql: sql)
                let handle = statement.sqliteStatement
                try Self.bind(values, to: handle, db: db, sql: sql)
                var rows: [SQLRow] = []
                let columns = sqlite3_column_count(handle)
                while true {
                    let rc = sqlite3_step(handle)
                    if rc == SQLITE_DONE { break }
                    guard rc == SQLITE_ROW else { throw Self.failure(db, sql) }
                    var row: SQLRow = []
                    row.reserveCapacity(Int(columns))
                    for c in 0..<columns {
                        switch sqlite3_column_type(handle, c) {
                        case SQLITE_NULL: row.append(.null)
                        case SQLITE_INTEGER: row.append(.int(sqlite3_column_int64(handle, c)))
                        default:
                            if let p = sqlite3_column_text(handle, c) {
                                let n = Int(sqlite3_column_bytes(handle, c))
                                row.append(.text(String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)))
                            } else {
                                row.append(.null)
                            }
                        }
                    }
                    rows.append(row)
                }
                return rows
            }
        } catch let error as BackOfficeStoreError {
            throw error
        } catch {
            throw BackOfficeStoreError.backend("\(path): \(error)")
        }
    }

    public func close() async throws {
        try pool.close()
    }

    private static func run(_ statement: SQLStatement, in db: Database) throws {
        // The connection keeps prepared statements across plans: a load commits the same few
        // statements thousands of times, and preparing an upsert costs as much as running it
        // for dozens of rows.
        let prepared = try db.cachedStatement(sql: statement.sql)
        let handle = prepared.sqliteStatement
        // Text is bound in place from the row buffer, which the next row reuses: no binding
        // may outlive this statement's run.
        defer { sqlite3_clear_bindings(handle) }
        try statement.forEachRow { row in
            // A guarded statement ends in `RETURNING 1`: count the rows it returns.
            let returned = try row.withBytes { buffer -> Int in
                try bind(row, buffer, to: handle, db: db, sql: statement.sql)
                var returned = 0
                while true {
                    let rc = sqlite3_step(handle)
                    if rc == SQLITE_DONE { break }
                    guard rc == SQLITE_ROW else { throw failure(db, statement.sql) }
                    returned += 1
                }
                return returned
            }
            if let required = statement.changesRequired, returned != required {
                throw BackOfficeStoreError.conflict("\(returned) rows changed, \(required) expected by \(statement.sql)")
            }
        }
    }

    private static func bind(_ values: [SQLValue], to handle: OpaquePointer, db: Database, sql: String) throws {
        var row = SQLRowWriter()
        for value in values { row.append(value) }
        // The query's rows are read after this returns: the text is bound as a copy.
        try row.withBytes { try bind(row, $0, to: handle, db: db, sql: sql, destructor: sqliteTransient) }
    }

    /// Binds a row whose text lives in `buffer`. By default SQLite reads the text in place,
    /// so the buffer must stay valid until the statement has been stepped.
    private static func bind(_ row: SQLRowWriter, _ buffer: UnsafeBufferPointer<UInt8>, to handle: OpaquePointer,
                             db: Database, sql: String, destructor: sqlite3_destructor_type? = sqliteStatic) throws {
        sqlite3_reset(handle)
        for i in 0..<row.count {
            let index = Int32(i + 1)
            let rc: Int32
            switch row.kind(i) {
            case .null: rc = sqlite3_bind_null(handle, index)
            case .int: rc = sqlite3_bind_int64(handle, index, row.int(at: i))
            case .text:
                let text = row.textRange(at: i)
                // An empty string still needs a non-null pointer, or SQLite binds NULL.
                if text.isEmpty {
                    rc = sqlite3_bind_text(handle, index, "", 0, sqliteTransient)
                } else {
                    let base = UnsafeRawPointer(buffer.baseAddress! + text.lowerBound).assumingMemoryBound(to: CChar.self)
                    rc = sqlite3_bind_text(handle, index, base, Int32(text.count), destructor)
                }
            }
            guard rc == SQLITE_OK else { throw failure(db, sql) }
        }
    }

    private static func failure(_ db: Database, _ sql: String) -> BackOfficeStoreError {
        var message = "unknown error"
        if let connection = db.sqliteConnection, let text = sqlite3_errmsg(connection) as UnsafePointer<CChar>? {
            message = String(cString: text)
        }
        return .backend("\(message) in \(sql)")
    }
}

/// SQLite copies a value bound with this destructor before the bind returns.
private let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
/// SQLite reads a value bound with this destructor in place until the statement is reset.
private let sqliteStatic: sqlite3_destructor_type? = nil
