import FIXTagValue
import TradeBook

/// A statement line the reader could not use: the file, the 1-based line, the column when one
/// field was at fault, and why. The run goes on; the reader counts these.
public struct StatementIssue: Error, Hashable, Sendable, CustomStringConvertible {
    fileprivate enum Base: Hashable, Sendable {
        case lineTooLong, tooManyColumns, unclosedQuote, missingColumn, badField, badHeader
    }

    private let base: Base
    public let fileName: String
    public let line: Int
    /// 1-based column, when one field was at fault.
    public let column: Int?
    /// The mapping's field name (`price`, `trade_date`, …), when one field was at fault.
    public let field: String?
    public let reason: String

    fileprivate init(_ base: Base, _ fileName: String, _ line: Int, column: Int? = nil, field: String? = nil,
                     _ reason: String) {
        self.base = base
        self.fileName = fileName
        self.line = line
        self.column = column
        self.field = field
        self.reason = reason
    }

    /// True when the header itself was unusable, so no line of the file could be read.
    public var isHeaderIssue: Bool { base == .badHeader }

    public var description: String {
        var where_ = "\(fileName):\(line)"
        if let column { where_ += ":\(column)" }
        if let field { return "\(where_): \(field): \(reason)" }
        return "\(where_): \(reason)"
    }
}

/// One result of reading a statement line.
public enum StatementRecord: Hashable, Sendable {
    case trade(ExternalTrade)
    case position(ExternalPosition)
    case cash(ExternalCash)
    case malformed(StatementIssue)
}

/// Everything a statement held, for callers that read a whole file at once.
public struct StatementContents: Hashable, Sendable {
    public var trades: [ExternalTrade] = []
    public var positions: [ExternalPosition] = []
    public var cash: [ExternalCash] = []
    public var issues: [StatementIssue] = []
    /// Data lines read (good and malformed; blank, comment and header lines not counted).
    public var linesRead = 0

    public init() {}
}

/// Reads a delimited statement file by a `StatementMapping`. Pure: it is handed bytes, in one
/// piece or in chunks, and hands back records; it never touches the file system.
///
/// ```swift
/// let contents = StatementReader.read(bytes, fileName: "venue-20260105.csv", mapping: mapping)
/// for issue in contents.issues { print(issue) }   // venue-20260105.csv:7:5: price: "12,x" is not a number
/// ```
public struct StatementReader: Sendable {
    private enum State: Sendable {
        case skipping(remaining: Int)
        case awaitingHeader
        case reading(columns: [Int])
        /// The header was unusable: later lines are counted but not read.
        case failed
    }

    public let mapping: StatementMapping
    public let fileName: String
    private var state: State
    /// 1-based number of the last line consumed.
    private(set) var lineNumber = 0
    public private(set) var linesRead = 0
    public private(set) var issueCount = 0
    // Reused per line so reading allocates nothing per field.
    private var fieldStarts: [Int] = []
    private var fieldEnds: [Int] = []
    private var fieldQuoted: [Bool] = []
    private var scratch: [UInt8] = []
    /// The mapping's side codes, upper-cased bytes, compared without building strings.
    private var sideCodes: [([UInt8], Side)] = []

    public init(mapping: StatementMapping, fileName: String) {
        self.mapping = mapping
        self.fileName = fileName
        if mapping.skipLines > 0 {
            state = .skipping(remaining: mapping.skipLines)
        } else if mapping.hasHeader {
            state = .awaitingHeader
        } else {
            var table = [Int](repeating: -1, count: Field.allCases.count)
            for field in Field.allCases {
                if case .position(let p) = mapping.columns[field.name] { table[field.rawValue] = p - 1 }
            }
            state = .reading(columns: table)
        }
        sideCodes = mapping.sides.map { (Array($0.key.utf8).map(StatementReader.upper), $0.value) }
        fieldStarts.reserveCapacity(64)
        fieldEnds.reserveCapacity(64)
        fieldQuoted.reserveCapacity(64)
        scratch.reserveCapacity(64)
    }

    static func positions(_ mapping: StatementMapping) -> [Int] {
        var table = [Int](repeating: -1, count: Field.allCases.count)
        for field in Field.allCases {
            if case .position(let p) = mapping.columns[field.name] { table[field.rawValue] = p - 1 }
        }
        return table
    }

    /// Reads a whole statement.
    public static func read(_ bytes: [UInt8], fileName: String, mapping: StatementMapping) -> StatementContents {
        var reader = StatementReader(mapping: mapping, fileName: fileName)
        var contents = StatementContents()
        bytes.withUnsafeBytes { raw in
            _ = reader.read(raw, isFinal: true) { record in
                switch record {
                case .trade(let t): contents.trades.append(t)
                case .position(let p): contents.positions.append(p)
                case .cash(let c): contents.cash.append(c)
                case .malformed(let issue): contents.issues.append(issue)
                }
            }
        }
        contents.linesRead = reader.linesRead
        return contents
    }

    /// Reads the complete lines of `bytes` and returns how many bytes it consumed; the caller
    /// passes the rest again with the next chunk. With `isFinal` the last line needs no newline.
    /// A quoted field may span lines; the record is then numbered by its first line.
    public mutating func read(_ bytes: UnsafeRawBufferPointer, isFinal: Bool,
                              _ emit: (StatementRecord) -> Void) -> Int {
        let n = bytes.count
        var start = 0
        // A quote byte that never occurs when the mapping has none, so the scan needs no optional.
        let quote: Int = mapping.quote.map(Int.init) ?? 256
        while start < n {
            // The common line has no quote: find its newline eight bytes at a time and, when no
            // quote byte precedes it, take it whole.
            if let nl = StatementReader.find(0x0a, bytes, from: start, to: min(n, start + StatementMapping.lineBytesMax + 1)),
               quote > 255 || StatementReader.find(UInt8(quote), bytes, from: start, to: nl) == nil {
                lineNumber += 1
                var recordEnd = nl
                if recordEnd > start && bytes[recordEnd - 1] == 0x0d { recordEnd -= 1 }
                handle(bytes, start, recordEnd, line: lineNumber, emit)
                start = nl + 1
                continue
            }
            // Find the end of the record: a newline outside quotes.
            var i = start
            var inQuotes = false
            var newlines = 0
            var end = -1
            while i < n {
                let c = bytes[i]
                if Int(c) == quote {
                    inQuotes.toggle()
                } else if c == 0x0a {
                    if !inQuotes { end = i; break }
                    newlines += 1
                }
                i += 1
                if i - start > StatementMapping.lineBytesMax { break }
            }
            if end < 0 {
                if i - start > StatementMapping.lineBytesMax {
                    // Skip to the next newline and report the overlong line.
                    var j = i
                    while j < n && bytes[j] != 0x0a { j += 1 }
                    if j == n && !isFinal { return start }
                    lineNumber += 1
                    linesRead += 1
                    report(StatementIssue(.lineTooLong, fileName, lineNumber,
                                          "line longer than \(StatementMapping.lineBytesMax) bytes"), emit)
                    start = j + 1
                    continue
                }
                guard isFinal else { return start }
                end = n
            }
            lineNumber += 1
            let firstLine = lineNumber
            lineNumber += newlines
            var recordEnd = end
            if recordEnd > start && bytes[recordEnd - 1] == 0x0d { recordEnd -= 1 }
            if end == n && inQuotes {
                linesRead += 1
                report(StatementIssue(.unclosedQuote, fileName, firstLine, "quoted field not closed before end of file"), emit)
            } else {
                handle(bytes, start, recordEnd, line: firstLine, emit)
            }
            start = end + 1
        }
        return n
    }

    /// The index of the first `byte` in `bytes[from..<to]`, testing eight bytes per step.
    static func find(_ byte: UInt8, _ bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> Int? {
        var i = from
        let pattern = UInt64(byte) &* 0x0101_0101_0101_0101
        while i + 8 <= to {
            let word = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ pattern
            // A zero byte in `word` marks a match (the classic has-zero-byte test).
            let found = (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080
            if found != 0 { return i + (UInt64(littleEndian: found).trailingZeroBitCount >> 3) }
            i += 8
        }
        while i < to {
            if bytes[i] == byte { return i }
            i += 1
        }
        return nil
    }

    private mutating func report(_ issue: StatementIssue, _ emit: (StatementRecord) -> Void) {
        issueCount += 1
        emit(.malformed(issue))
    }

    private mutating func handle(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int, line: Int,
                                 _ emit: (StatementRecord) -> Void) {
        switch state {
        case .skipping(let remaining):
            state = remaining > 1 ? .skipping(remaining: remaining - 1)
                : (mapping.hasHeader ? .awaitingHeader : .reading(columns: StatementReader.positions(mapping)))
            return
        default: break
        }
        // Blank and comment lines carry nothing.
        var k = start
        while k < end && (bytes[k] == 0x20 || bytes[k] == 0x09) { k += 1 }
        if k == end { return }
        if let prefix = mapping.commentPrefix, hasPrefix(bytes, k, end, prefix) { return }
        guard split(bytes, start, end) else {
            linesRead += 1
            report(StatementIssue(.tooManyColumns, fileName, line, "more than \(StatementMapping.columnsMax) columns"), emit)
            return
        }
        switch state {
        case .skipping: return
        case .failed:
            linesRead += 1
        case .awaitingHeader:
            var names: [String: Int] = [:]
            for f in 0..<fieldStarts.count {
                names[text(bytes, f).trimmingSpaces().lowercased()] = f
            }
            var resolved: [String: Int] = [:]
            for (field, column) in mapping.columns {
                switch column {
                case .position(let p): resolved[field] = p - 1
                case .named(let name):
                    guard let index = names[name.lowercased()] else {
                        state = .failed
                        report(StatementIssue(.badHeader, fileName, line, field: field,
                                              "header has no column '\(name)'"), emit)
                        return
                    }
                    resolved[field] = index
                }
            }
            var table = [Int](repeating: -1, count: Field.allCases.count)
            for field in Field.allCases { table[field.rawValue] = resolved[field.name] ?? -1 }
            state = .reading(columns: table)
        case .reading(let columns):
            linesRead += 1
            let record = convert(bytes, table: columns, line: line)
            if case .malformed = record { issueCount += 1 }
            emit(record)
        }
    }

    private func hasPrefix(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ prefix: String) -> Bool {
        var i = start
        for b in prefix.utf8 {
            guard i < end, bytes[i] == b else { return false }
            i += 1
        }
        return true
    }

    /// Splits a record into field ranges; quoted fields keep their quotes' inside.
    private mutating func split(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Bool {
        fieldStarts.removeAll(keepingCapacity: true)
        fieldEnds.removeAll(keepingCapacity: true)
        fieldQuoted.removeAll(keepingCapacity: true)
        var i = start
        while true {
            if fieldStarts.count >= StatementMapping.columnsMax { return false }
            if let q = mapping.quote, i < end, bytes[i] == q {
                let fieldStart = i + 1
                var j = fieldStart
                while j < end {
                    if bytes[j] == q {
                        if j + 1 < end && bytes[j + 1] == q { j += 2; continue }
                        break
                    }
                    j += 1
                }
                fieldStarts.append(fieldStart)
                fieldEnds.append(min(j, end))
                fieldQuoted.append(true)
                // Skip to the delimiter after the closing quote.
                while j < end && bytes[j] != mapping.delimiter { j += 1 }
                if j >= end { return true }
                i = j + 1
            } else {
                var j = i
                while j < end && bytes[j] != mapping.delimiter { j += 1 }
                fieldStarts.append(i)
                fieldEnds.append(j)
                fieldQuoted.append(false)
                if j >= end { return true }
                i = j + 1
            }
        }
    }

    /// Field text with doubled quotes undone and surrounding spaces kept (callers trim).
    private func text(_ bytes: UnsafeRawBufferPointer, _ f: Int) -> String {
        let slice = UnsafeRawBufferPointer(rebasing: bytes[fieldStarts[f]..<fieldEnds[f]])
        if fieldQuoted[f], let q = mapping.quote, slice.contains(q) {
            var out: [UInt8] = []
            var i = 0
            while i < slice.count {
                out.append(slice[i])
                i += (slice[i] == q && i + 1 < slice.count && slice[i + 1] == q) ? 2 : 1
            }
            return String(decoding: out, as: UTF8.self)
        }
        return String(decoding: slice, as: UTF8.self)
    }

    private func convert(_ bytes: UnsafeRawBufferPointer, table: [Int], line: Int) -> StatementRecord {
        let reader = FieldReader(owner: self, bytes: bytes, columns: table, line: line)
        do {
            switch mapping.kind {
            case .trades: return .trade(try reader.trade())
            case .positions: return .position(try reader.position())
            case .cash: return .cash(try reader.cash())
            }
        } catch {
            return .malformed(error)
        }
    }

    /// The fields a mapping may name, as dense indexes so a line's columns are an array lookup.
    enum Field: Int, CaseIterable {
        case account, instrument, side, quantity, price, currency, tradeDate, settlementDate, execID, tradeID
        case orderID, commission, fees, amount, longQuantity, shortQuantity

        var name: String {
            switch self {
            case .account: return "account"
            case .instrument: return "instrument"
            case .side: return "side"
            case .quantity: return "quantity"
            case .price: return "price"
            case .currency: return "currency"
            case .tradeDate: return "trade_date"
            case .settlementDate: return "settlement_date"
            case .execID: return "exec_id"
            case .tradeID: return "trade_id"
            case .orderID: return "order_id"
            case .commission: return "commission"
            case .fees: return "fees"
            case .amount: return "amount"
            case .longQuantity: return "long_quantity"
            case .shortQuantity: return "short_quantity"
            }
        }
    }

    /// Reads one line's fields; each failure names the field and column. Works on byte ranges:
    /// only the text fields a record keeps become strings.
    private struct FieldReader {
        let owner: StatementReader
        let bytes: UnsafeRawBufferPointer
        let columns: [Int]
        let line: Int
        var mapping: StatementMapping { owner.mapping }

        func fail(_ field: Field, _ reason: String) -> StatementIssue {
            let index = columns[field.rawValue]
            return StatementIssue(.badField, owner.fileName, line, column: index >= 0 ? index + 1 : nil,
                                  field: field.name, reason)
        }

        /// The field's byte range with surrounding spaces trimmed; nil when the mapping has no
        /// such column or the field is empty.
        func range(_ field: Field) throws(StatementIssue) -> Range<Int>? {
            let index = columns[field.rawValue]
            guard index >= 0 else { return nil }
            guard index < owner.fieldStarts.count else {
                throw StatementIssue(.missingColumn, owner.fileName, line, column: index + 1, field: field.name,
                                     "line has \(owner.fieldStarts.count) columns")
            }
            var a = owner.fieldStarts[index]
            var b = owner.fieldEnds[index]
            while a < b && (bytes[a] == 0x20 || bytes[a] == 0x09) { a += 1 }
            while b > a && (bytes[b - 1] == 0x20 || bytes[b - 1] == 0x09) { b -= 1 }
            return a < b ? a..<b : nil
        }

        func optional(_ field: Field) throws(StatementIssue) -> String? {
            guard let r = try range(field) else { return nil }
            let index = columns[field.rawValue]
            if owner.fieldQuoted[index], let q = mapping.quote, bytes[r].contains(q) {
                return owner.text(bytes, index).trimmingSpaces()
            }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[r]), as: UTF8.self)
        }

        func required(_ field: Field) throws(StatementIssue) -> String {
            guard let t = try optional(field) else { throw fail(field, "empty") }
            return t
        }

        func requiredRange(_ field: Field) throws(StatementIssue) -> Range<Int> {
            guard let r = try range(field) else { throw fail(field, "empty") }
            return r
        }

        func number(_ field: Field, _ r: Range<Int>) throws(StatementIssue) -> FIXDecimal {
            let slice = UnsafeRawBufferPointer(rebasing: bytes[r])
            // Plain FIX-style numbers ("-12.5") need no rewriting.
            if mapping.decimalSeparator == UInt8(ascii: "."), mapping.negative != .parentheses,
               let last = slice.last, last >= 0x30 && last <= 0x39,
               mapping.thousandsSeparator.map({ !slice.contains($0) }) ?? true,
               let d = FIXDecimal(ascii: slice) {
                return d
            }
            let text = String(decoding: slice, as: UTF8.self)
            guard let d = StatementReader.parseNumber(text, mapping: mapping) else {
                throw fail(field, "\"\(text)\" is not a number")
            }
            return d
        }

        func optionalNumber(_ field: Field) throws(StatementIssue) -> FIXDecimal? {
            guard let r = try range(field) else { return nil }
            return try number(field, r)
        }

        func date(_ field: Field, _ r: Range<Int>) throws(StatementIssue) -> FIXDate {
            guard let d = mapping.dateFormat.parse(UnsafeRawBufferPointer(rebasing: bytes[r])) else {
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[r]), as: UTF8.self)
                throw fail(field, "\"\(text)\" is not a date in \(mapping.dateFormat.pattern)")
            }
            return d
        }

        func account() throws(StatementIssue) -> String {
            let a = try required(.account)
            return mapping.accounts.isEmpty ? a : mapping.accounts[a] ?? a
        }

        func instrument() throws(StatementIssue) -> String {
            let i = try required(.instrument)
            return mapping.instruments.isEmpty ? i : mapping.instruments[i] ?? i
        }

        func currency() throws(StatementIssue) -> String {
            if let c = try optional(.currency) { return c }
            if let c = mapping.defaultCurrency { return c }
            throw fail(.currency, "empty and the mapping names no default currency")
        }

        func side() throws(StatementIssue) -> Side? {
            guard let r = try range(.side) else { return nil }
            let slice = UnsafeRawBufferPointer(rebasing: bytes[r])
            for (code, side) in owner.sideCodes where code.count == slice.count {
                var same = true
                for i in 0..<code.count where code[i] != StatementReader.upper(slice[i]) {
                    same = false
                    break
                }
                if same { return side }
            }
            let text = String(decoding: slice, as: UTF8.self)
            throw fail(.side, "\"\(text)\" is not in the mapping's [sides] table")
        }

        func trade() throws(StatementIssue) -> ExternalTrade {
            let account = try account()
            let instrument = try instrument()
            var quantity = try number(.quantity, try requiredRange(.quantity))
            var side = try side()
            if side == nil {
                guard mapping.sideFromQuantitySign else { throw fail(.side, "empty") }
                side = quantity.mantissa < 0 ? .sell : .buy
            }
            if quantity.mantissa < 0 {
                guard mapping.sideFromQuantitySign else { throw fail(.quantity, "negative quantity \(quantity)") }
                quantity = -quantity
            }
            guard quantity.mantissa != 0 else { throw fail(.quantity, "zero quantity") }
            let price = try number(.price, try requiredRange(.price))
            guard price.mantissa >= 0 else { throw fail(.price, "negative price \(price)") }
            let currency = try currency()
            let tradeDate = try date(.tradeDate, try requiredRange(.tradeDate))
            var settlementDate: FIXDate?
            if let r = try range(.settlementDate) { settlementDate = try date(.settlementDate, r) }
            let commission = try optionalNumber(.commission)
            let fees = try optionalNumber(.fees)
            var total: FIXDecimal?
            if commission != nil || fees != nil {
                guard let sum = (commission ?? .zero).adding(fees ?? .zero) else { throw fail(.fees, "too large") }
                total = sum.mantissa < 0 ? -sum : sum
            }
            return ExternalTrade(origin: .statement(file: owner.fileName, line: line), account: account,
                                 instrument: instrument, side: side!, quantity: quantity, price: price,
                                 currency: currency, tradeDate: tradeDate, settlementDate: settlementDate,
                                 transactTime: nil, fees: total, execID: try optional(.execID),
                                 tradeID: try optional(.tradeID), orderID: try optional(.orderID))
        }

        func position() throws(StatementIssue) -> ExternalPosition {
            let account = try account()
            let instrument = try instrument()
            var quantity: FIXDecimal
            if let r = try range(.quantity) {
                quantity = try number(.quantity, r)
            } else {
                let long = try optionalNumber(.longQuantity) ?? .zero
                let short = try optionalNumber(.shortQuantity) ?? .zero
                guard let q = long.adding(short.mantissa < 0 ? short : -short) else {
                    throw fail(.quantity, "too large")
                }
                quantity = q
            }
            if let side = try side(), side.sign < 0, quantity.mantissa > 0 { quantity = -quantity }
            return ExternalPosition(origin: .statement(file: owner.fileName, line: line), account: account,
                                    instrument: instrument, quantity: quantity)
        }

        func cash() throws(StatementIssue) -> ExternalCash {
            let account = try account()
            let currency = try currency()
            let amount = try number(.amount, try requiredRange(.amount))
            return ExternalCash(origin: .statement(file: owner.fileName, line: line), account: account,
                                currency: currency, amount: amount)
        }
    }

    @inline(__always)
    static func upper(_ b: UInt8) -> UInt8 { b >= 0x61 && b <= 0x7a ? b - 0x20 : b }

    /// A number in the mapping's conventions (decimal and thousands separators, a leading or
    /// trailing '-', parentheses, a leading '+') as an exact decimal.
    static func parseNumber(_ text: String, mapping: StatementMapping) -> FIXDecimal? {
        var bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 64 else { return nil }
        var negative = false
        if bytes.first == UInt8(ascii: "("), bytes.last == UInt8(ascii: ")") {
            guard mapping.negative != .minus else { return nil }
            negative = true
            bytes = Array(bytes.dropFirst().dropLast())
        } else if bytes.first == UInt8(ascii: "-") || bytes.last == UInt8(ascii: "-") {
            guard mapping.negative != .parentheses else { return nil }
            negative = true
            bytes = bytes.first == UInt8(ascii: "-") ? Array(bytes.dropFirst()) : Array(bytes.dropLast())
        } else if bytes.first == UInt8(ascii: "+") {
            bytes = Array(bytes.dropFirst())
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 1)
        if negative { out.append(UInt8(ascii: "-")) }
        var sawDecimal = false
        for b in bytes {
            if b == mapping.decimalSeparator && !sawDecimal {
                out.append(UInt8(ascii: "."))
                sawDecimal = true
            } else if let t = mapping.thousandsSeparator, b == t, !sawDecimal {
                continue
            } else if b >= 0x30 && b <= 0x39 {
                out.append(b)
            } else {
                return nil
            }
        }
        return out.withUnsafeBytes { FIXDecimal(ascii: $0) }
    }
}
