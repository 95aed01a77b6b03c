import FIXTagValue

/// A trading day to record (`fixbridge venue record`): the sessions, the venue's instruments,
/// charges and rules, then what happens, minute by minute, on both sides of the session, and the
/// differences the venue's drop copy and end-of-day statement carry on purpose.
///
/// One statement per line; `#` starts a comment; words are separated by spaces. Lines that start
/// with a time (`HH:MM:SS` or `HH:MM:SS.mmm`, UTC) are events, in time order; the others are
/// settings, read before anything runs wherever they stand. The format is described in full in
/// the README ("Recording a trading day"); `Specs/scenarios/day-20240315.txt` is an example.
struct DayScenario: Sendable {
    /// Limits on a scenario file, so that a wrong file fails early instead of running for hours.
    static let linesMax = 100_000
    static let ordersMax = 10_000
    static let rewindMax = 1_000

    struct Instrument: Sendable {
        var symbol: String
        var currency: String
        var reference: FIXDecimal
        /// Digits after the point in prices.
        var decimals: Int
        var fees: [Fee]
    }

    /// A fee charged on fills (MiscFees group): MiscFeeType(139), a rate on the notional, and
    /// the sides it applies to.
    struct Fee: Sendable {
        var type: String
        var rate: FIXDecimal
        var onBuys: Bool
        var onSells: Bool
    }

    enum Side: Sendable {
        case buy, sell
        var fix: UInt8 { self == .buy ? UInt8(ascii: "1") : UInt8(ascii: "2") }
        var statement: String { self == .buy ? "B" : "S" }
    }

    struct OrderEntry: Sendable {
        var ref: String
        var account: String
        var side: Side
        var quantity: FIXDecimal
        var symbol: String
        /// Nil for a market order.
        var limit: FIXDecimal?
        /// Settlement on the next business day (SettlType 2) instead of the regular cycle.
        var nextDay: Bool
    }

    enum Action: Sendable {
        case logon
        case logout
        case order(OrderEntry)
        /// An order entered at the venue's desk under the venue's own ClOrdID: on the drop copy
        /// only, never on the broker's session.
        case desk(OrderEntry, clOrdID: String)
        case cancel(ref: String, pending: Bool)
        case cancelled(ref: String)
        case replace(ref: String, quantity: FIXDecimal, limit: FIXDecimal)
        case fill(ref: String, quantity: FIXDecimal, price: FIXDecimal)
        case correct(ref: String, fill: Int, quantity: FIXDecimal, price: FIXDecimal)
        case bust(ref: String, fill: Int)
        case expire(ref: String)
        /// A market's close (a `close` setting): the venue expires the open orders of its symbols.
        case close(symbols: [String])
        case drop
        case reconnect(rewind: Int)
    }

    struct Event: Sendable {
        /// Milliseconds after midnight UTC of the day.
        var millisecond: Int
        var action: Action
        var line: Int
    }

    /// One fill of one order, as `REF FILLNO` names it (1 is the order's first fill).
    struct FillRef: Hashable, Sendable {
        var ref: String
        var fill: Int
    }

    enum StatementSeed: Sendable {
        case quantity(FIXDecimal)
        case fee(FIXDecimal)
        case settlement(FIXDate)
        case omit
        case duplicate
    }

    var file: String
    var day: FIXDate = FIXDate(year: 2024, month: 1, day: 1)!
    var beginString = "FIX.4.4"
    var venueCompID = "SIMX"
    var brokerCompID = "BRKR"
    var dropCopyCompID: String?
    var heartbeatSeconds = 30
    var clOrdIDPrefix = "ORD-"
    var clOrdIDStart = 1
    var orderIDPrefix = "O-"
    var orderIDStart = 1
    var execIDPrefix = "E-"
    var execIDStart = 1
    /// Business days from trade date to settlement.
    var settlementDays = 2
    var commissionRate: FIXDecimal = .zero
    var commissionMinimum: FIXDecimal = .zero
    /// Limit orders further than this percentage from the reference price are rejected.
    var collarPercent: FIXDecimal?
    var rejectedAccounts: [String: String] = [:]
    var instruments: [String: Instrument] = [:]
    var events: [Event] = []
    var statementSeeds: [(FillRef, StatementSeed, line: Int)] = []
    /// Market closes: at each time the venue expires the open orders of the symbols.
    var closes: [(millisecond: Int, symbols: [String], line: Int)] = []
    var dropCopyPrices: [FillRef: (price: FIXDecimal, line: Int)] = [:]

    /// A scenario that cannot be read: file, line and what is wrong.
    struct ParseError: Error, CustomStringConvertible, Sendable {
        var file: String
        var line: Int
        var message: String
        var description: String { "\(file):\(line): \(message)" }
    }

    init(text: String, file: String) throws {
        self.file = file
        var sawDay = false
        var lastTime = -1
        var refs: Set<String> = []
        var lineNumber = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            guard lineNumber <= Self.linesMax else {
                throw ParseError(file: file, line: lineNumber, message: "more than \(Self.linesMax) lines")
            }
            let content = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            guard let first = words.first else { continue }
            var reader = WordReader(words: words, file: file, line: lineNumber)
            if let time = Self.parseTime(first) {
                guard sawDay else { throw reader.error("an event before the `day` line") }
                guard time >= lastTime else { throw reader.error("\(first) is earlier than the event before it") }
                lastTime = time
                reader.index = 1
                let action = try Self.parseAction(&reader, refs: &refs)
                try reader.end()
                events.append(Event(millisecond: time, action: action, line: lineNumber))
                continue
            }
            reader.index = 1
            switch first {
            case "day":
                let text = try reader.word("a date (YYYY-MM-DD)")
                guard let date = Self.parseDate(text) else { throw reader.error("\(text): not a date (YYYY-MM-DD)") }
                day = date
                sawDay = true
            case "begin-string": beginString = try reader.word("a BeginString")
            case "venue": venueCompID = try reader.word("the venue's CompID")
            case "broker": brokerCompID = try reader.word("the broker's CompID")
            case "drop-copy":
                let what = try reader.word("a CompID, or `price`")
                if what == "price" {
                    let fill = try reader.fillRef()
                    dropCopyPrices[fill] = (try reader.decimal("a price"), lineNumber)
                } else {
                    dropCopyCompID = what
                }
            case "heartbeat":
                heartbeatSeconds = try reader.integer("seconds", in: 1...3600)
            case "clordids":
                clOrdIDPrefix = try reader.word("a prefix")
                clOrdIDStart = try reader.integer("the first number", in: 0...999_999_999)
            case "orderids":
                orderIDPrefix = try reader.word("a prefix")
                orderIDStart = try reader.integer("the first number", in: 0...999_999_999)
            case "execids":
                execIDPrefix = try reader.word("a prefix")
                execIDStart = try reader.integer("the first number", in: 0...999_999_999)
            case "settlement":
                settlementDays = try reader.integer("business days after the trade date", in: 0...10)
            case "commission":
                commissionRate = try reader.decimal("a rate on the notional")
                try reader.keyword("minimum")
                commissionMinimum = try reader.decimal("a minimum amount")
            case "collar":
                collarPercent = try reader.decimal("a percentage")
            case "reject-account":
                let account = try reader.word("an account")
                let text = reader.rest()
                rejectedAccounts[account] = text.isEmpty ? "Unknown account" : text
                reader.index = words.count
            case "close":
                let text = try reader.word("a time (HH:MM:SS)")
                guard let time = Self.parseTime(text) else { throw reader.error("\(text): not a time (HH:MM:SS)") }
                var symbols: [String] = []
                while reader.hasMore { symbols.append(try reader.word("a symbol")) }
                guard !symbols.isEmpty else { throw reader.error("close \(text): no symbols") }
                closes.append((time, symbols, lineNumber))
            case "instrument":
                let symbol = try reader.word("a symbol")
                let currency = try reader.word("a currency")
                let reference = try reader.decimal("a reference price")
                let decimals = try reader.integer("price decimals", in: 0...8)
                var fees: [Fee] = []
                while reader.hasMore {
                    try reader.keyword("fee")
                    let type = try reader.word("a MiscFeeType")
                    let rate = try reader.decimal("a rate on the notional")
                    let sides = try reader.word("buy, sell or both")
                    guard ["buy", "sell", "both"].contains(sides) else {
                        throw reader.error("\(sides): buy, sell or both")
                    }
                    fees.append(Fee(type: type, rate: rate, onBuys: sides != "sell", onSells: sides != "buy"))
                }
                instruments[symbol] = Instrument(symbol: symbol, currency: currency, reference: reference,
                                                 decimals: decimals, fees: fees)
            case "statement":
                let kind = try reader.word("quantity, fee, settlement, omit or duplicate")
                let fill = try reader.fillRef()
                let seed: StatementSeed
                switch kind {
                case "quantity": seed = .quantity(try reader.decimal("a quantity to add"))
                case "fee": seed = .fee(try reader.decimal("an amount to add"))
                case "settlement":
                    let text = try reader.word("a date")
                    guard let date = Self.parseDate(text) else {
                        throw reader.error("\(text): not a date (YYYY-MM-DD)")
                    }
                    seed = .settlement(date)
                case "omit": seed = .omit
                case "duplicate": seed = .duplicate
                default: throw reader.error("\(kind): quantity, fee, settlement, omit or duplicate")
                }
                statementSeeds.append((fill, seed, lineNumber))
            default:
                throw reader.error("\(first): not a setting or a time")
            }
            try reader.end()
        }
        guard sawDay else { throw ParseError(file: file, line: lineNumber, message: "no `day` line") }
        guard !events.isEmpty else { throw ParseError(file: file, line: lineNumber, message: "no events") }
        // A close comes after the events of the same instant, in the order of the `close` lines.
        for (time, symbols, line) in closes {
            for symbol in symbols where instruments[symbol] == nil {
                throw ParseError(file: file, line: line, message: "\(symbol): no `instrument` line for it")
            }
            let index = events.firstIndex { $0.millisecond > time } ?? events.count
            events.insert(Event(millisecond: time, action: .close(symbols: symbols), line: line), at: index)
        }
        try check()
    }

    /// Checks what needs the whole file: instruments of orders, references to orders and fills.
    private func check() throws {
        var orders: [String: OrderEntry] = [:]
        var fills: [String: Int] = [:]
        var loggedOn = false
        for event in events {
            func fail(_ message: String) -> ParseError { ParseError(file: file, line: event.line, message: message) }
            func known(_ ref: String) throws -> OrderEntry {
                guard let order = orders[ref] else { throw fail("\(ref): no such order before this line") }
                return order
            }
            switch event.action {
            case .close:
                break
            case .logon:
                guard !loggedOn else { throw fail("logon while logged on") }
                loggedOn = true
            case .reconnect:
                guard !loggedOn else { throw fail("reconnect while connected (drop first)") }
                loggedOn = true
            case .drop, .logout:
                guard loggedOn else { throw fail("not logged on here") }
                loggedOn = false
            case .order(let entry), .desk(let entry, _):
                guard instruments[entry.symbol] != nil else {
                    throw fail("\(entry.symbol): no `instrument` line for it")
                }
                if case .order = event.action, !loggedOn { throw fail("an order while the broker is not logged on") }
                orders[entry.ref] = entry
                fills[entry.ref] = 0
            case .fill(let ref, _, _):
                _ = try known(ref)
                fills[ref, default: 0] += 1
            case .correct(let ref, let fill, _, _), .bust(let ref, let fill):
                _ = try known(ref)
                guard fill >= 1, fill <= fills[ref, default: 0] else {
                    throw fail("\(ref) has no fill \(fill) before this line")
                }
            case .cancel(let ref, _), .cancelled(let ref), .replace(let ref, _, _), .expire(let ref):
                _ = try known(ref)
                if case .cancel = event.action, !loggedOn { throw fail("a cancel while the broker is not logged on") }
                if case .replace = event.action, !loggedOn { throw fail("a replace while the broker is not logged on") }
            }
        }
        if loggedOn { throw ParseError(file: file, line: events.last!.line, message: "the day ends without `logout`") }
        for (fill, _, line) in statementSeeds where orders[fill.ref] == nil {
            throw ParseError(file: file, line: line, message: "\(fill.ref): no such order")
        }
    }

    private static func parseAction(_ reader: inout WordReader, refs: inout Set<String>) throws -> Action {
        let verb = try reader.word("an event")
        func newRef() throws -> String {
            let ref = try reader.word("an order reference")
            guard refs.insert(ref).inserted else {
                throw reader.error("\(ref): an order of that reference exists already")
            }
            guard refs.count <= ordersMax else { throw reader.error("more than \(ordersMax) orders") }
            return ref
        }
        func entry(_ ref: String) throws -> OrderEntry {
            let account = try reader.word("an account")
            let sideText = try reader.word("buy or sell")
            guard let side: Side = sideText == "buy" ? .buy : sideText == "sell" ? .sell : nil else {
                throw reader.error("\(sideText): buy or sell")
            }
            let quantity = try reader.decimal("a quantity")
            guard quantity > .zero else { throw reader.error("the quantity must be above zero") }
            let symbol = try reader.word("a symbol")
            let kind = try reader.word("limit PRICE or market")
            var limit: FIXDecimal?
            switch kind {
            case "limit": limit = try reader.decimal("a limit price")
            case "market": limit = nil
            default: throw reader.error("\(kind): limit PRICE or market")
            }
            var nextDay = false
            if reader.hasMore {
                try reader.keyword("next-day")
                nextDay = true
            }
            return OrderEntry(ref: ref, account: account, side: side, quantity: quantity, symbol: symbol, limit: limit,
                              nextDay: nextDay)
        }
        switch verb {
        case "logon": return .logon
        case "logout": return .logout
        case "drop": return .drop
        case "reconnect":
            try reader.keyword("rewind")
            return .reconnect(rewind: try reader.integer("messages", in: 0...rewindMax))
        case "order":
            return .order(try entry(try newRef()))
        case "desk":
            let ref = try newRef()
            let clOrdID = try reader.word("the desk's ClOrdID")
            return .desk(try entry(ref), clOrdID: clOrdID)
        case "cancel":
            let ref = try reader.word("an order reference")
            var pending = false
            if reader.hasMore {
                try reader.keyword("pending")
                pending = true
            }
            return .cancel(ref: ref, pending: pending)
        case "cancelled": return .cancelled(ref: try reader.word("an order reference"))
        case "replace":
            let ref = try reader.word("an order reference")
            let quantity = try reader.decimal("a quantity")
            try reader.keyword("limit")
            return .replace(ref: ref, quantity: quantity, limit: try reader.decimal("a limit price"))
        case "fill":
            let ref = try reader.word("an order reference")
            let quantity = try reader.decimal("a quantity")
            guard quantity > .zero else { throw reader.error("the quantity must be above zero") }
            return .fill(ref: ref, quantity: quantity, price: try reader.decimal("a price"))
        case "correct":
            let fill = try reader.fillRef()
            let quantity = try reader.decimal("a quantity")
            return .correct(ref: fill.ref, fill: fill.fill, quantity: quantity, price: try reader.decimal("a price"))
        case "bust":
            let fill = try reader.fillRef()
            return .bust(ref: fill.ref, fill: fill.fill)
        case "expire": return .expire(ref: try reader.word("an order reference"))
        default:
            throw reader.error("\(verb): not an event (logon, order, desk, cancel, cancelled, replace, fill, correct, "
                               + "bust, expire, drop, reconnect, logout)")
        }
    }

    /// `HH:MM:SS` or `HH:MM:SS.mmm` as milliseconds after midnight; nil when not a time.
    static func parseTime(_ text: String) -> Int? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return nil }
        let hms = parts[0].split(separator: ":", omittingEmptySubsequences: false)
        guard hms.count == 3, hms.allSatisfy({ $0.count == 2 }),
              let h = Int(hms[0]), let m = Int(hms[1]), let s = Int(hms[2]),
              (0...23).contains(h), (0...59).contains(m), (0...59).contains(s) else { return nil }
        var millis = 0
        if parts.count == 2 {
            guard parts[1].count == 3, let ms = Int(parts[1]), ms >= 0 else { return nil }
            millis = ms
        }
        return ((h * 60 + m) * 60 + s) * 1000 + millis
    }

    static func parseDate(_ text: String) -> FIXDate? {
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              (1...12).contains(m), (1...31).contains(d) else { return nil }
        return FIXDate(year: y, month: m, day: d)
    }
}

/// Reads the words of one scenario line, with errors that name the file and line.
private struct WordReader {
    let words: [String]
    let file: String
    let line: Int
    var index = 0

    var hasMore: Bool { index < words.count }

    func error(_ message: String) -> DayScenario.ParseError {
        DayScenario.ParseError(file: file, line: line, message: message)
    }

    mutating func word(_ what: String) throws -> String {
        guard index < words.count else { throw error("\(words.first ?? ""): \(what) missing") }
        defer { index += 1 }
        return words[index]
    }

    mutating func keyword(_ expected: String) throws {
        let found = try word("`\(expected)`")
        guard found == expected else { throw error("\(found): expected `\(expected)`") }
    }

    mutating func decimal(_ what: String) throws -> FIXDecimal {
        let text = try word(what)
        // A sign in front reads well for the amounts added to statement lines (+100, +2.50).
        guard let value = FIXDecimal(text.hasPrefix("+") ? String(text.dropFirst()) : text) else {
            throw error("\(text): not a number (\(what))")
        }
        return value
    }

    mutating func integer(_ what: String, in range: ClosedRange<Int>) throws -> Int {
        let text = try word(what)
        guard let value = Int(text), range.contains(value) else {
            throw error("\(text): not a whole number in \(range.lowerBound)…\(range.upperBound) (\(what))")
        }
        return value
    }

    /// `REF FILLNO`.
    mutating func fillRef() throws -> DayScenario.FillRef {
        let ref = try word("an order reference")
        return DayScenario.FillRef(ref: ref, fill: try integer("a fill number", in: 1...10_000))
    }

    /// The remaining words joined by single spaces (a free text), consumed.
    mutating func rest() -> String {
        defer { index = words.count }
        return words[index...].joined(separator: " ")
    }

    func end() throws {
        guard index >= words.count else { throw error("\(words[index]): unexpected (the line should end here)") }
    }
}
