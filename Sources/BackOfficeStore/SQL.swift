import FIXTagValue

/// The small internal interface both SQL backends (SQLite through GRDB, PostgreSQL through
/// postgres-nio) implement. Everything above it — schema, migrations, the book's tables — is
/// written once; the dialect differences sit in `SQLDialect`.
///
/// Writes are plans: a list of statements, each with its rows of values, prepared once and
/// executed in one transaction. The book emits full upserts (no read-before-write), so a batch
/// of execution reports becomes one plan and one commit.

/// A value bound to or read from a statement.
public enum SQLValue: Hashable, Sendable {
    case null
    case int(Int64)
    case text(String)

    public var text: String? {
        switch self {
        case .text(let s): return s
        case .int(let i): return String(i)
        case .null: return nil
        }
    }

    public var int: Int64? {
        switch self {
        case .int(let i): return i
        case .text(let s): return Int64(s)
        case .null: return nil
        }
    }
}

/// One result row: values in the order of the SELECT list.
public typealias SQLRow = [SQLValue]

/// One statement of a write plan, executed once per row of values (or once with no values).
///
/// The rows are either given as values or made one at a time by `generated`, which writes
/// row `i` into a reused `SQLRowWriter` while the backend runs the statement: a batch of
/// thousands of book rows then needs neither an array nor a `String` per value.
///
/// `changesRequired` makes the statement a guard (it must end in `RETURNING 1`): when a row's
/// execution returns another number of rows, the whole plan rolls back with `BackOfficeStoreError.conflict` (optimistic
/// concurrency for read-then-write operations such as a break's lifecycle).
public struct SQLStatement: Sendable {
    public var sql: String
    public var rows: [[SQLValue]]
    public var generated: SQLRows?
    public var changesRequired: Int?

    public init(_ sql: String, rows: [[SQLValue]] = [[]], changesRequired: Int? = nil) {
        self.sql = sql
        self.rows = rows
        self.changesRequired = changesRequired
    }

    /// A statement whose `count` rows `write` makes on demand.
    public init(_ sql: String, count: Int, write: @escaping @Sendable (Int, inout SQLRowWriter) -> Void) {
        self.sql = sql
        self.rows = []
        self.generated = SQLRows(count: count, write: write)
    }

    /// How many times the statement runs.
    public var rowCount: Int { generated?.count ?? rows.count }

    /// The rows as values (a generated statement's rows are made here).
    public var valueRows: [[SQLValue]] {
        guard generated != nil else { return rows }
        var out: [[SQLValue]] = []
        out.reserveCapacity(rowCount)
        forEachRow { row in out.append((0..<row.count).map(row.value)) }
        return out
    }

    /// Calls `body` with each row in turn, in one writer that is reset between rows.
    public func forEachRow(_ body: (SQLRowWriter) throws -> Void) rethrows {
        var writer = SQLRowWriter()
        if let generated {
            for i in 0..<generated.count {
                writer.reset()
                generated.write(i, &writer)
                try body(writer)
            }
        } else {
            for row in rows {
                writer.reset()
                for value in row { writer.append(value) }
                try body(writer)
            }
        }
    }
}

/// Rows made on demand: `write(i, &writer)` writes the values of row `i`.
public struct SQLRows: Sendable {
    public var count: Int
    public var write: @Sendable (Int, inout SQLRowWriter) -> Void
}

/// The values of one row, written into reused buffers: text (and decimals as their text) as
/// bytes in one array, so that a backend can bind them without copying them into strings.
public struct SQLRowWriter {
    public enum Kind: UInt8, Sendable {
        case null
        case int
        case text
    }

    private(set) var kinds: [Kind] = []
    /// The integer, or the start of the text in `bytes`.
    private(set) var numbers: [Int64] = []
    /// Text lengths (0 for the other kinds).
    private(set) var lengths: [Int] = []
    private(set) var bytes: [UInt8] = []

    public init() {}

    public var count: Int { kinds.count }

    mutating func reset() {
        kinds.removeAll(keepingCapacity: true)
        numbers.removeAll(keepingCapacity: true)
        lengths.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
    }

    public mutating func null() { push(.null, 0, 0) }

    public mutating func int(_ value: Int64) { push(.int, value, 0) }

    public mutating func text(_ value: String) {
        let start = bytes.count
        bytes.append(contentsOf: value.utf8)
        push(.text, Int64(start), bytes.count - start)
    }

    public mutating func text(_ value: String?) {
        if let value { text(value) } else { null() }
    }

    /// Text that `build` appends to the row buffer it is given (UTF-8), made in place.
    public mutating func text(_ build: (inout [UInt8]) -> Void) {
        let start = bytes.count
        build(&bytes)
        push(.text, Int64(start), bytes.count - start)
    }

    /// A decimal as its FIX text ("191.10").
    public mutating func decimal(_ value: FIXDecimal) {
        let start = bytes.count
        value.appendText(to: &bytes)
        push(.text, Int64(start), bytes.count - start)
    }

    public mutating func decimal(_ value: FIXDecimal?) {
        if let value { decimal(value) } else { null() }
    }

    public mutating func append(_ value: SQLValue) {
        switch value {
        case .null: null()
        case .int(let v): int(v)
        case .text(let s): text(s)
        }
    }

    private mutating func push(_ kind: Kind, _ number: Int64, _ length: Int) {
        kinds.append(kind)
        numbers.append(number)
        lengths.append(length)
    }

    public func kind(_ i: Int) -> Kind { kinds[i] }

    public func int(at i: Int) -> Int64 { numbers[i] }

    /// Where text value `i` lies in the row buffer (see `withBytes`).
    public func textRange(at i: Int) -> Range<Int> {
        let start = Int(numbers[i])
        return start..<start + lengths[i]
    }

    /// Value `i` as an `SQLValue` (for a backend that binds values one by one).
    public func value(_ i: Int) -> SQLValue {
        switch kinds[i] {
        case .null: return .null
        case .int: return .int(numbers[i])
        case .text: return .text(String(decoding: bytes[textRange(at: i)], as: UTF8.self))
        }
    }

    /// Calls `body` with the row's byte buffer, valid for the duration of the call: text value
    /// `i` is at `textRange(at: i)` in it.
    func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try bytes.withUnsafeBufferPointer(body)
    }
}

/// The SQL spoken by a backend. Statements are written with `?` placeholders and the
/// SQLite-and-PostgreSQL common subset (`INSERT … ON CONFLICT … DO UPDATE SET x = excluded.x`);
/// what differs is here.
public enum SQLDialect: Sendable {
    case sqlite
    case postgres

    /// A surrogate key column that numbers rows in insertion order.
    var identityColumn: String {
        switch self {
        case .sqlite: return "INTEGER PRIMARY KEY"
        case .postgres: return "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
        }
    }

    /// A 64-bit integer column.
    var bigint: String {
        switch self {
        case .sqlite: return "INTEGER"
        case .postgres: return "BIGINT"
        }
    }

    /// `?` placeholders as the backend wants them (`$1`, `$2`, … for PostgreSQL).
    func placeholders(_ sql: String) -> String {
        guard self == .postgres else { return sql }
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var n = 0
        var inQuote = false
        for c in sql {
            if c == "'" { inQuote.toggle() }
            if c == "?" && !inQuote {
                n += 1
                out += "$\(n)"
            } else {
                out.append(c)
            }
        }
        return out
    }
}

/// A backend: runs write plans in one transaction each and answers queries.
public protocol SQLBackend: Sendable {
    var dialect: SQLDialect { get }
    /// Runs every statement of the plan, in order, in one transaction: all or nothing.
    func write(_ plan: [SQLStatement]) async throws
    /// Runs one query and returns its rows.
    func query(_ sql: String, _ values: [SQLValue]) async throws -> [SQLRow]
    func close() async throws
}

/// A store failure, naming the backend, the statement and the cause.
public struct BackOfficeStoreError: Error, CustomStringConvertible, Sendable {
    private enum Kind: Sendable {
        case location(String)
        case backend(String)
        case migration(String)
        case data(String)
        case conflict(String)
    }

    private let kind: Kind

    private init(_ kind: Kind) { self.kind = kind }

    static func location(_ s: String) -> BackOfficeStoreError { .init(.location(s)) }
    static func backend(_ s: String) -> BackOfficeStoreError { .init(.backend(s)) }
    static func migration(_ s: String) -> BackOfficeStoreError { .init(.migration(s)) }
    static func data(_ s: String) -> BackOfficeStoreError { .init(.data(s)) }
    static func conflict(_ s: String) -> BackOfficeStoreError { .init(.conflict(s)) }

    /// True when a guarded statement found the row changed by someone else: re-read and retry.
    public var isConflict: Bool {
        if case .conflict = kind { return true }
        return false
    }

    public var description: String {
        switch kind {
        case .location(let s): return "store location: \(s)"
        case .backend(let s): return "database: \(s)"
        case .migration(let s): return "migration: \(s)"
        case .data(let s): return "stored data: \(s)"
        case .conflict(let s): return "changed meanwhile: \(s)"
        }
    }
}
