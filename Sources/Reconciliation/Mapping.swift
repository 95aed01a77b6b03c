import FIXTagValue
import TradeBook

/// How a statement file's columns become trades, positions or cash balances, read from a small
/// INI-like text (see the README's "Statement mapping format").
///
/// ```swift
/// let mapping = try StatementMapping(parsing: text, fileName: "clearing-broker.ini")
/// ```
public struct StatementMapping: Hashable, Sendable {
    /// What each data line of the statement is.
    public enum Kind: String, Hashable, Sendable {
        case trades, positions, cash
    }

    /// How a negative number is written.
    public enum NegativeStyle: String, Hashable, Sendable {
        /// A leading or trailing '-'.
        case minus
        /// "(12.50)".
        case parentheses
        /// Either.
        case both
    }

    /// A column named by its header text or by its 1-based position.
    public enum Column: Hashable, Sendable {
        case named(String)
        case position(Int)
    }

    /// Lines longer than this are reported malformed, not read.
    public static let lineBytesMax = 65_536
    /// Columns beyond this are reported malformed.
    public static let columnsMax = 512
    /// Entries in a mapping's code tables.
    public static let tableEntriesMax = 100_000

    public var name: String
    public var kind: Kind = .trades
    public var delimiter: UInt8 = UInt8(ascii: ",")
    /// Nil when fields are never quoted.
    public var quote: UInt8? = UInt8(ascii: "\"")
    public var hasHeader = true
    public var skipLines = 0
    public var commentPrefix: String?
    public var dateFormat = DateFormat(pattern: "yyyyMMdd")!
    public var decimalSeparator: UInt8 = UInt8(ascii: ".")
    public var thousandsSeparator: UInt8?
    public var negative: NegativeStyle = .minus
    /// The side is the quantity's sign (negative sells) when there is no side column.
    public var sideFromQuantitySign = false
    /// Currency for lines without a currency column.
    public var defaultCurrency: String?
    /// Field name (`account`, `quantity`, …) → column.
    public var columns: [String: Column] = [:]
    /// Statement side code → side; codes compare case-insensitively.
    public var sides: [String: Side] = [:]
    /// Statement instrument code (an ISIN, a venue code) → the book's instrument; codes not
    /// listed are taken as they are.
    public var instruments: [String: String] = [:]
    /// Statement account code → the book's client account; codes not listed are taken as they are.
    public var accounts: [String: String] = [:]

    /// Field names a mapping may name in `[columns]`.
    public static let fieldNames: Set<String> = [
        "account", "instrument", "side", "quantity", "price", "currency", "trade_date", "settlement_date",
        "exec_id", "trade_id", "order_id", "commission", "fees", "amount", "long_quantity", "short_quantity",
    ]

    static let requiredFields: [Kind: [String]] = [
        .trades: ["account", "instrument", "quantity", "price", "trade_date"],
        .positions: ["account", "instrument"],
        .cash: ["account", "amount"],
    ]

    public init(name: String) { self.name = name }

    /// Parses a mapping; errors name the file and line.
    public init(parsing text: String, fileName: String) throws(MappingError) {
        self.init(name: fileName)
        var section = ""
        var lineNumber = 0
        var tableEntries = 0
        var lastContentLine = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            lastContentLine = lineNumber
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else { throw MappingError(.syntax, fileName, lineNumber, "unclosed section") }
                section = String(line.dropFirst().dropLast()).trimmingSpaces().lowercased()
                guard ["format", "columns", "sides", "instruments", "accounts"].contains(section) else {
                    throw MappingError(.unknownKey, fileName, lineNumber, "unknown section [\(section)]")
                }
                continue
            }
            guard let eq = line.firstIndex(of: "=") else {
                throw MappingError(.syntax, fileName, lineNumber, "expected key = value")
            }
            let key = String(line[..<eq]).trimmingSpaces()
            let value = String(line[line.index(after: eq)...]).trimmingSpaces()
            guard !key.isEmpty else { throw MappingError(.syntax, fileName, lineNumber, "empty key") }
            switch section {
            case "format":
                try applyFormat(key: key.lowercased(), value: value, fileName: fileName, line: lineNumber)
            case "columns":
                let field = key.lowercased()
                guard StatementMapping.fieldNames.contains(field) else {
                    throw MappingError(.unknownKey, fileName, lineNumber, "unknown column field '\(key)'")
                }
                if value.isEmpty { continue }
                if value.hasPrefix("#"), let n = Int(value.dropFirst()), n >= 1, n <= StatementMapping.columnsMax {
                    columns[field] = .position(n)
                } else if !hasHeader, let n = Int(value), n >= 1, n <= StatementMapping.columnsMax {
                    columns[field] = .position(n)
                } else if value.hasPrefix("#") {
                    throw MappingError(.badValue, fileName, lineNumber, "column position '\(value)' out of range")
                } else {
                    columns[field] = .named(value)
                }
            case "sides":
                tableEntries += 1
                switch value.lowercased() {
                case "buy", "b", "1": sides[key.uppercased()] = .buy
                case "sell", "s", "2": sides[key.uppercased()] = .sell
                case "sell short", "short", "5": sides[key.uppercased()] = .sellShort
                default: throw MappingError(.badValue, fileName, lineNumber, "side '\(value)' is not buy, sell or short")
                }
            case "instruments":
                tableEntries += 1
                instruments[key] = value
            case "accounts":
                tableEntries += 1
                accounts[key] = value
            default:
                throw MappingError(.syntax, fileName, lineNumber, "key outside a section")
            }
            if tableEntries > StatementMapping.tableEntriesMax {
                throw MappingError(.limit, fileName, lineNumber, "more than \(StatementMapping.tableEntriesMax) table entries")
            }
        }
        lineNumber = lastContentLine
        for field in StatementMapping.requiredFields[kind] ?? [] where columns[field] == nil {
            throw MappingError(.missingKey, fileName, lineNumber, "[columns] lacks '\(field)' for \(kind.rawValue)")
        }
        if kind == .positions && columns["quantity"] == nil && columns["long_quantity"] == nil {
            throw MappingError(.missingKey, fileName, lineNumber, "[columns] lacks 'quantity' or 'long_quantity'")
        }
        if kind == .trades && columns["side"] == nil && !sideFromQuantitySign {
            throw MappingError(.missingKey, fileName, lineNumber, "[columns] lacks 'side' and side_from_sign is off")
        }
        if kind == .trades && columns["side"] != nil && sides.isEmpty {
            sides = ["B": .buy, "BUY": .buy, "1": .buy, "S": .sell, "SELL": .sell, "2": .sell]
        }
        if !hasHeader {
            for (field, column) in columns {
                if case .named(let name) = column {
                    throw MappingError(.badValue, fileName, lineNumber,
                                       "column '\(field)' is named '\(name)' but header = false")
                }
            }
        }
    }

    private mutating func applyFormat(key: String, value: String, fileName: String, line: Int) throws(MappingError) {
        func bad(_ what: String) -> MappingError { MappingError(.badValue, fileName, line, what) }
        switch key {
        case "kind":
            guard let k = Kind(rawValue: value.lowercased()) else { throw bad("kind '\(value)' is not trades, positions or cash") }
            kind = k
        case "delimiter":
            guard let d = StatementMapping.character(value) else { throw bad("delimiter '\(value)' is not one character") }
            delimiter = d
        case "quote":
            if value.lowercased() == "none" { quote = nil; return }
            guard let q = StatementMapping.character(value) else { throw bad("quote '\(value)' is not one character") }
            quote = q
        case "header":
            guard let b = StatementMapping.bool(value) else { throw bad("header '\(value)' is not true or false") }
            hasHeader = b
        case "skip_lines":
            guard let n = Int(value), n >= 0, n <= 1000 else { throw bad("skip_lines '\(value)' is not 0…1000") }
            skipLines = n
        case "comment_prefix":
            commentPrefix = value.isEmpty ? nil : value
        case "date_format":
            guard let f = DateFormat(pattern: value) else { throw bad("date_format '\(value)' needs yyyy (or yy), MM and dd") }
            dateFormat = f
        case "decimal_separator":
            guard let d = StatementMapping.character(value) else { throw bad("decimal_separator '\(value)'") }
            decimalSeparator = d
        case "thousands_separator":
            if value.lowercased() == "none" || value.isEmpty { thousandsSeparator = nil; return }
            guard let t = StatementMapping.character(value) else { throw bad("thousands_separator '\(value)'") }
            thousandsSeparator = t
        case "negative":
            guard let n = NegativeStyle(rawValue: value.lowercased()) else { throw bad("negative '\(value)' is not minus, parentheses or both") }
            negative = n
        case "side_from_sign":
            guard let b = StatementMapping.bool(value) else { throw bad("side_from_sign '\(value)' is not true or false") }
            sideFromQuantitySign = b
        case "currency":
            defaultCurrency = value.isEmpty ? nil : value
        default:
            throw MappingError(.unknownKey, fileName, line, "unknown [format] key '\(key)'")
        }
    }

    static func character(_ value: String) -> UInt8? {
        switch value.lowercased() {
        case "tab", "\\t": return 0x09
        case "comma": return UInt8(ascii: ",")
        case "semicolon": return UInt8(ascii: ";")
        case "pipe": return UInt8(ascii: "|")
        case "space": return 0x20
        case "dot", "period": return UInt8(ascii: ".")
        case "apostrophe": return UInt8(ascii: "'")
        default:
            let bytes = Array(value.utf8)
            return bytes.count == 1 && bytes[0] < 0x80 ? bytes[0] : nil
        }
    }

    static func bool(_ value: String) -> Bool? {
        switch value.lowercased() {
        case "true", "yes", "1": return true
        case "false", "no", "0": return false
        default: return nil
        }
    }
}

/// A date layout made of `yyyy`, `yy`, `MM`, `dd` and literal characters: `yyyyMMdd`,
/// `yyyy-MM-dd`, `dd/MM/yyyy`, `MM/dd/yy`. Two-digit years are 20yy.
public struct DateFormat: Hashable, Sendable {
    private enum Piece: Hashable, Sendable {
        case year4, year2, month, day
        case literal(UInt8)
    }

    private let pieces: [Piece]
    public let pattern: String

    public init?(pattern: String) {
        var pieces: [Piece] = []
        let bytes = Array(pattern.utf8)
        var i = 0
        func at(_ text: String) -> Bool {
            let t = Array(text.utf8)
            return i + t.count <= bytes.count && Array(bytes[i..<i + t.count]) == t
        }
        while i < bytes.count {
            if at("yyyy") { pieces.append(.year4); i += 4 }
            else if at("yy") { pieces.append(.year2); i += 2 }
            else if at("MM") { pieces.append(.month); i += 2 }
            else if at("dd") { pieces.append(.day); i += 2 }
            else { pieces.append(.literal(bytes[i])); i += 1 }
        }
        let has = { (p: Piece) in pieces.contains(p) }
        guard has(.year4) || has(.year2), has(.month), has(.day) else { return nil }
        self.pieces = pieces
        self.pattern = pattern
    }

    /// The date in `bytes`, or nil when they do not follow the pattern or name no real day.
    public func parse(_ bytes: some Collection<UInt8>) -> FIXDate? {
        var it = bytes.makeIterator()
        var year = 0, month = 0, day = 0
        func digits(_ n: Int) -> Int? {
            var v = 0
            for _ in 0..<n {
                guard let c = it.next(), c >= 0x30, c <= 0x39 else { return nil }
                v = v * 10 + Int(c - 0x30)
            }
            return v
        }
        for piece in pieces {
            switch piece {
            case .year4: guard let v = digits(4) else { return nil }; year = v
            case .year2: guard let v = digits(2) else { return nil }; year = 2000 + v
            case .month: guard let v = digits(2) else { return nil }; month = v
            case .day: guard let v = digits(2) else { return nil }; day = v
            case .literal(let c): guard it.next() == c else { return nil }
            }
        }
        guard it.next() == nil else { return nil }
        return FIXDate(year: year, month: month, day: day)
    }
}

/// A mapping file that cannot be used: the file, the line and why.
public struct MappingError: Error, Hashable, Sendable, CustomStringConvertible {
    fileprivate enum Base: Hashable, Sendable {
        case syntax, unknownKey, badValue, missingKey, limit
    }

    private let base: Base
    public let fileName: String
    public let line: Int
    public let reason: String

    fileprivate init(_ base: Base, _ fileName: String, _ line: Int, _ reason: String) {
        self.base = base
        self.fileName = fileName
        self.line = line
        self.reason = reason
    }

    public var description: String { "\(fileName):\(line): \(reason)" }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}
