import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// PostgreSQL through postgres-nio: the backend for several FIXBridge instances sharing one book.
///
/// One connection, used by one plan or query at a time (the actor serialises them). A plan runs
/// between `BEGIN` and `COMMIT`; its multi-row statements are sent as multi-row `VALUES` lists
/// (up to `rowsPerStatementMax` rows and 65,535 parameters), so a batch of thousands of reports
/// is a handful of round trips.
public actor PostgresBackend: SQLBackend {
    public nonisolated let dialect = SQLDialect.postgres
    /// Rows sent in one multi-row INSERT.
    public static let rowsPerStatementMax = 1_000
    private static let parametersMax = 65_535

    private let connection: PostgresConnection
    private let logger: Logger
    public nonisolated let location: String

    /// Connects to `postgres://user[:password]@host[:port]/database[?sslmode=disable]`.
    public init(url: String) async throws {
        guard let parsed = PostgresURL(url) else {
            throw BackOfficeStoreError.location("\(url) is not postgres://user[:password]@host[:port]/database")
        }
        var logger = Logger(label: "fixbridge.store.postgres")
        logger.logLevel = .error
        self.logger = logger
        self.location = parsed.redacted
        let configuration = PostgresConnection.Configuration(
            host: parsed.host, port: parsed.port, username: parsed.user, password: parsed.password,
            database: parsed.database, tls: .disable)
        do {
            connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        } catch {
            throw BackOfficeStoreError.backend("cannot connect to \(parsed.redacted): \(String(reflecting: error))")
        }
        _ = try? await connection.query("SET client_min_messages TO WARNING", logger: logger)
    }

    public func write(_ plan: [SQLStatement]) async throws {
        do {
            try await connection.query("BEGIN", logger: logger)
            for statement in plan { try await run(statement) }
            try await connection.query("COMMIT", logger: logger)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            if let e = error as? BackOfficeStoreError { throw e }
            throw BackOfficeStoreError.backend("\(location): \(String(reflecting: error))")
        }
    }

    public func query(_ sql: String, _ values: [SQLValue]) async throws -> [SQLRow] {
        do {
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: dialect.placeholders(sql), binds: Self.bindings(values)), logger: logger)
            var result: [SQLRow] = []
            for try await row in rows {
                var out: SQLRow = []
                for cell in row {
                    out.append(try Self.value(cell))
                }
                result.append(out)
            }
            return result
        } catch {
            if let e = error as? BackOfficeStoreError { throw e }
            throw BackOfficeStoreError.backend("\(location): \(String(reflecting: error)) in \(sql)")
        }
    }

    public func close() async throws {
        guard !closed else { return }
        closed = true
        try await connection.close()
    }

    private var closed = false

    deinit {
        // A backend dropped without close() (an error path) still releases its connection.
        let connection = self.connection
        if !closed { connection.close().whenComplete { _ in withExtendedLifetime(connection) {} } }
    }

    private func run(_ statement: SQLStatement) async throws {
        let sql = dialect.placeholders(statement.sql)
        let rows = statement.valueRows
        // A guarded statement runs row by row, counting the rows it returns (`RETURNING 1`).
        if let required = statement.changesRequired {
            for row in rows {
                let returned = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: Self.bindings(row)), logger: logger)
                var n = 0
                for try await _ in returned { n += 1 }
                guard n == required else {
                    throw BackOfficeStoreError.conflict("\(n) rows changed, \(required) expected by \(statement.sql)")
                }
            }
            return
        }
        if rows.count > 1, let group = MultiRow(statement.sql), !rows[0].isEmpty {
            let width = rows[0].count
            let chunk = max(1, min(Self.rowsPerStatementMax, Self.parametersMax / width))
            var start = 0
            while start < rows.count {
                let end = min(start + chunk, rows.count)
                var binds = PostgresBindings(capacity: (end - start) * width)
                for row in rows[start..<end] { Self.append(row, to: &binds) }
                let text = group.sql(rows: end - start, width: width)
                try await connection.query(PostgresQuery(unsafeSQL: text, binds: binds), logger: logger)
                start = end
            }
            return
        }
        for row in rows {
            try await connection.query(PostgresQuery(unsafeSQL: sql, binds: Self.bindings(row)), logger: logger)
        }
    }

    private static func bindings(_ values: [SQLValue]) -> PostgresBindings {
        var binds = PostgresBindings(capacity: values.count)
        append(values, to: &binds)
        return binds
    }

    private static func append(_ values: [SQLValue], to binds: inout PostgresBindings) {
        for v in values {
            switch v {
            case .null: binds.appendNull()
            case .int(let i): binds.append(i)
            case .text(let s): binds.append(s)
            }
        }
    }

    private static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .int(try cell.decode(Int64.self))
        case .bool: return .int(try cell.decode(Bool.self) ? 1 : 0)
        default: return .text(try cell.decode(String.self))
        }
    }
}

/// An `INSERT … VALUES (?, …) [ON CONFLICT …]` split around its one row group, so that it can
/// be repeated for many rows.
private struct MultiRow {
    let head: String
    let tail: String

    init?(_ sql: String) {
        guard sql.hasPrefix("INSERT"), let values = sql.range(of: "VALUES (") else { return nil }
        guard let close = sql[values.upperBound...].firstIndex(of: ")") else { return nil }
        head = String(sql[..<values.upperBound].dropLast())  // "… VALUES "
        tail = String(sql[sql.index(after: close)...])
    }

    func sql(rows: Int, width: Int) -> String {
        var out = head
        out.reserveCapacity(head.utf8.count + tail.utf8.count + rows * width * 7)
        var n = 0
        for r in 0..<rows {
            if r > 0 { out += ", " }
            out += "("
            for c in 0..<width {
                n += 1
                out += c == 0 ? "$\(n)" : ", $\(n)"
            }
            out += ")"
        }
        out += tail
        return out
    }
}

/// `postgres://user[:password]@host[:port]/database`, percent-decoding user and password.
struct PostgresURL {
    var user: String
    var password: String?
    var host: String
    var port: Int
    var database: String

    init?(_ text: String) {
        var rest: Substring
        if text.hasPrefix("postgres://") {
            rest = text.dropFirst("postgres://".count)
        } else if text.hasPrefix("postgresql://") {
            rest = text.dropFirst("postgresql://".count)
        } else {
            return nil
        }
        if let q = rest.firstIndex(of: "?") { rest = rest[..<q] }
        guard let at = rest.lastIndex(of: "@") else { return nil }
        let credentials = rest[..<at]
        var hostPart = rest[rest.index(after: at)...]
        if let colon = credentials.firstIndex(of: ":") {
            user = Self.decode(credentials[..<colon])
            password = Self.decode(credentials[credentials.index(after: colon)...])
        } else {
            user = Self.decode(credentials)
            password = nil
        }
        guard let slash = hostPart.firstIndex(of: "/") else { return nil }
        database = String(hostPart[hostPart.index(after: slash)...])
        hostPart = hostPart[..<slash]
        if let colon = hostPart.lastIndex(of: ":") {
            guard let p = Int(hostPart[hostPart.index(after: colon)...]), (1...65535).contains(p) else { return nil }
            port = p
            host = String(hostPart[..<colon])
        } else {
            port = 5432
            host = String(hostPart)
        }
        guard !user.isEmpty, !host.isEmpty, !database.isEmpty else { return nil }
    }

    var redacted: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    private static func decode(_ s: Substring) -> String {
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%"), it.count >= 2,
               let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(v)
                it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
