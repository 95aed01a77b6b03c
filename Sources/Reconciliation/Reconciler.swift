import FIXTagValue
import TradeBook

/// How far two values may differ and still match: within `absolute`, or within `relative`
/// times the larger magnitude. Exactly at the tolerance matches; anything over breaks.
public struct Tolerance: Hashable, Sendable {
    public var absolute: FIXDecimal
    /// A fraction: 0.0001 is one basis point.
    public var relative: FIXDecimal

    public init(absolute: FIXDecimal = .zero, relative: FIXDecimal = .zero) {
        self.absolute = absolute
        self.relative = relative
    }

    public static let exact = Tolerance()
}

/// What a reconciliation run compares and how loosely.
public struct ReconciliationConfiguration: Hashable, Sendable {
    /// The business date reconciled: trades of other dates are counted and set aside.
    public var businessDate: FIXDate
    /// The outside source's name (a venue, a clearing broker); part of every break id, so runs
    /// against different sources never share ids.
    public var sourceName: String
    public var quantity = Tolerance.exact
    public var price = Tolerance.exact
    /// For fees, cash and notional.
    public var amount = Tolerance.exact
    /// Pass 2 pairs trades only when their transact times are this close (when both have one).
    public var timeWindowSeconds: Int64? = nil
    /// The client accounts; records for other accounts are unknown-account breaks. Nil takes
    /// every account as known.
    public var knownAccounts: Set<String>? = nil
    /// Book rows pass 2 inspects per outside trade before giving up on it: keeps a pathological
    /// bucket (one account trading one instrument ten thousand times) from going quadratic.
    public var candidateScanMax = 256

    public init(businessDate: FIXDate, sourceName: String) {
        self.businessDate = businessDate
        self.sourceName = sourceName
    }
}

/// Counts from a run, for the summary.
public struct ReconciliationStatistics: Hashable, Sendable {
    public var bookTrades = 0
    public var externalTrades = 0
    public var matchedByKey = 0
    public var matchedByAttributes = 0
    /// Trades matched as part of an order or account × instrument × side × day aggregate.
    public var matchedByAggregation = 0
    /// Trades of another date, not reconciled in this run.
    public var otherDate = 0
    public var bookPositions = 0
    public var externalPositions = 0
    public var bookCashBalances = 0
    public var externalCashBalances = 0

    public init() {}
}

/// The outcome of one run: the breaks, sorted by code then id, and the counts.
public struct ReconciliationResult: Hashable, Sendable {
    public var configuration: ReconciliationConfiguration
    public var breaks: [Break]
    public var statistics: ReconciliationStatistics

    public init(configuration: ReconciliationConfiguration, breaks: [Break], statistics: ReconciliationStatistics) {
        self.configuration = configuration
        self.breaks = breaks
        self.statistics = statistics
    }
}

/// Reconciles the book against one outside source for one business date.
///
/// Add the book's trades, positions and cash, then the source's records, and `run()`. Strings
/// are interned as records are added and every pass is a hash join over compact rows, so a run
/// over millions of trades costs O(n) time and about 90 bytes a trade (a 64-byte row and the
/// text of its keys).
///
/// ```swift
/// var reconciler = Reconciler(configuration: .init(businessDate: date, sourceName: "XLON"))
/// for t in BookTrade.all(in: book) { reconciler.add(t) }
/// for t in statement.trades { reconciler.add(t) }
/// let result = reconciler.run()
/// ```
public struct Reconciler: Sendable {
    /// One trade, either side, in the matcher's compact form: 64 bytes, so ten million trades a
    /// side fit in 1.3 GB. The trade date is not held (every row is of the business date), the
    /// trade and order ids live only in the label arena (hashed when a pass needs them), and
    /// transact times sit in a side array that stays empty when no record has one.
    struct Row {
        var quantity: Int64        // Scale.quantity, > 0
        var price: Int64           // Scale.price
        var fees: Int64            // Scale.amount or Scale.absent
        var position: Int64        // line, byte offset or fill id
        var execKey: UInt64        // FNV-1a of the ExecID; 0 = none
        var labelStart: UInt32     // into the side's label arena
        /// source << 3 | origin kind << 1 | 1 when the side sells.
        var packed: UInt32
        var account: Int32         // interned; -1 when the book could not map it
        var instrument: Int32
        var currency: Int32
        var settleDay: Int32       // Int32.min when absent

        /// +1 buy, -1 sell.
        var side: Int8 { packed & 1 == 0 ? 1 : -1 }
        /// Interned source name.
        var source: Int32 {
            get { Int32(bitPattern: packed >> 3) }
            set { packed = UInt32(bitPattern: newValue) << 3 | packed & 7 }
        }
        /// 0 statement, 1 FIX, 2 book.
        var originKind: UInt8 { UInt8((packed >> 1) & 3) }
    }

    /// A side's rows, the text of their keys, and their transact times, kept apart so rows stay
    /// fixed-size.
    struct RowSet {
        var rows: [Row] = []
        /// "execID \u{1f} tradeID \u{1f} orderID" per row, back to back.
        var labels: [UInt8] = []
        /// Transact times (ns) by row, or empty while no row has one.
        var times: [Int64] = []

        func time(_ i: Int) -> Int64 { times.isEmpty ? Scale.absent : times[i] }

        /// FNV-1a of part 0 (ExecID), 1 (trade id) or 2 (order id) of a row's label; 0 when empty.
        func labelKey(_ i: Int, part: Int) -> UInt64 {
            let start = Int(rows[i].labelStart)
            let end = i + 1 < rows.count ? Int(rows[i + 1].labelStart) : labels.count
            var p = 0
            var h = FNV1a64()
            var empty = true
            var k = start
            while k < end {
                let b = labels[k]
                if b == 0x1f {
                    if p == part { break }
                    p += 1
                } else if p == part {
                    h.combine(byte: b)
                    empty = false
                }
                k += 1
            }
            if empty { return 0 }
            return h.value == 0 ? 1 : h.value
        }
    }

    public let configuration: ReconciliationConfiguration
    var strings = Interner()
    var book = RowSet()
    var external = RowSet()
    var bookPositions: [Int64: Int64] = [:]          // (account, instrument) → Scale.quantity
    var externalPositions: [Int64: (quantity: Int64, origins: [RecordOrigin])] = [:]
    var bookCash: [Int64: Int64] = [:]
    var externalCash: [Int64: (amount: Int64, origins: [RecordOrigin])] = [:]
    var statistics = ReconciliationStatistics()
    private var lastSource: (name: String, id: Int32)?
    private var lastCurrency: (code: String, id: Int32)?
    /// Records whose values the matcher cannot hold (beyond its fixed-point range).
    var unrepresentable: [Break] = []
    /// Outside positions or cash of unknown accounts.
    var earlyBreaks: [Break] = []

    public init(configuration: ReconciliationConfiguration) {
        self.configuration = configuration
    }

    public mutating func reserveCapacity(bookTrades: Int, externalTrades: Int) {
        book.rows.reserveCapacity(bookTrades)
        book.labels.reserveCapacity(bookTrades * 24)
        external.rows.reserveCapacity(externalTrades)
        external.labels.reserveCapacity(externalTrades * 24)
    }

    // MARK: Adding records

    /// Adds a book trade (busted fills should not be added; `BookTrade(fill:orderID:)` skips them).
    public mutating func add(_ trade: BookTrade) {
        guard trade.tradeDate == configuration.businessDate else { statistics.otherDate += 1; return }
        statistics.bookTrades += 1
        let account = trade.account.map { strings.intern($0) } ?? -1
        addRow(isBook: true, account: account, instrument: trade.instrument, side: trade.side,
               quantity: trade.quantity, price: trade.price, fees: trade.fees, currency: trade.currency,
               tradeDate: trade.tradeDate, settlementDate: trade.settlementDate, time: trade.transactTime,
               execID: trade.execID, tradeID: nil, orderID: trade.orderID, origin: .book(fillID: trade.fillID))
    }

    /// Adds a trade the outside source reports.
    public mutating func add(_ trade: ExternalTrade) {
        guard trade.tradeDate == configuration.businessDate else { statistics.otherDate += 1; return }
        statistics.externalTrades += 1
        addRow(isBook: false, account: strings.intern(trade.account), instrument: trade.instrument,
               side: trade.side, quantity: trade.quantity, price: trade.price, fees: trade.fees,
               currency: trade.currency, tradeDate: trade.tradeDate, settlementDate: trade.settlementDate,
               time: trade.transactTime, execID: trade.execID, tradeID: trade.tradeID, orderID: trade.orderID,
               origin: trade.origin)
    }

    /// Adds the book's position (usually every `TradeBook.positions` entry).
    public mutating func add(bookPosition: Position) {
        statistics.bookPositions += 1
        let key = pairKey(bookPosition.clientAccount, bookPosition.instrument)
        let q = Scale.scaled(bookPosition.quantity.rounded(scale: Scale.quantity), Scale.quantity) ?? 0
        bookPositions[key, default: 0] &+= q
    }

    /// Adds a position the outside source reports; several for one account and instrument add up.
    public mutating func add(_ position: ExternalPosition) {
        statistics.externalPositions += 1
        if let b = unknownAccountBreak(position.account, instrument: position.instrument, currency: nil,
                                       origin: position.origin, quantity: position.quantity) {
            earlyBreaks.append(b)
            return
        }
        let key = pairKey(position.account, position.instrument)
        let q = Scale.scaled(position.quantity.rounded(scale: Scale.quantity), Scale.quantity) ?? 0
        var entry = externalPositions[key] ?? (0, [])
        entry.quantity &+= q
        if entry.origins.count < Break.recordsMax { entry.origins.append(position.origin) }
        externalPositions[key] = entry
    }

    /// Adds the book's cash balance (usually every `TradeBook.cash` entry).
    public mutating func add(bookCash balance: CashBalance) {
        statistics.bookCashBalances += 1
        let key = pairKey(balance.clientAccount, balance.currency)
        bookCash[key, default: 0] &+= Scale.scaled(balance.amount.rounded(scale: Scale.amount), Scale.amount) ?? 0
    }

    /// Adds a cash balance the outside source reports.
    public mutating func add(_ cash: ExternalCash) {
        statistics.externalCashBalances += 1
        if let b = unknownAccountBreak(cash.account, instrument: nil, currency: cash.currency, origin: cash.origin,
                                       quantity: nil) {
            earlyBreaks.append(b)
            return
        }
        let key = pairKey(cash.account, cash.currency)
        var entry = externalCash[key] ?? (0, [])
        entry.amount &+= Scale.scaled(cash.amount.rounded(scale: Scale.amount), Scale.amount) ?? 0
        if entry.origins.count < Break.recordsMax { entry.origins.append(cash.origin) }
        externalCash[key] = entry
    }

    private mutating func pairKey(_ a: String, _ b: String) -> Int64 {
        Int64(strings.intern(a)) << 32 | Int64(UInt32(bitPattern: strings.intern(b)))
    }

    private func isKnown(_ account: String) -> Bool {
        configuration.knownAccounts?.contains(account) ?? true
    }

    private func unknownAccountBreak(_ account: String, instrument: String?, currency: String?, origin: RecordOrigin,
                                     quantity: FIXDecimal?) -> Break? {
        guard !isKnown(account) else { return nil }
        let record = BreakRecord(origin: origin, key: "", side: nil, quantity: quantity, price: nil, fees: nil,
                                 settlementDate: nil)
        return Break(id: Break.makeID(date: configuration.businessDate, code: .unknownAccount,
                                      keys: [configuration.sourceName, account, instrument ?? currency ?? "",
                                             origin.description]),
                     code: .unknownAccount, source: configuration.sourceName, businessDate: configuration.businessDate, account: account,
                     instrument: instrument, currency: currency, book: [], external: [record],
                     quantityDifference: quantity ?? .zero, amountDifference: .zero,
                     detail: "account \(account) is not a client account")
    }

    private mutating func addRow(isBook: Bool, account: Int32, instrument: String,
                                 side direction: Side, quantity: FIXDecimal, price: FIXDecimal,
                                 fees: FIXDecimal?, currency: String, tradeDate: FIXDate, settlementDate: FIXDate?,
                                 time: FIXTimestamp?, execID: String?, tradeID: String?, orderID: String?,
                                 origin: RecordOrigin) {
        // Values with more fractional digits than the matcher's scales are rounded to them.
        let q = Scale.scaled(quantity, Scale.quantity) ?? Scale.scaled(quantity.rounded(scale: Scale.quantity), Scale.quantity)
        let p = Scale.scaled(price, Scale.price) ?? Scale.scaled(price.rounded(scale: Scale.price), Scale.price)
        let f = fees.map { Scale.scaled($0, Scale.amount) ?? Scale.scaled($0.rounded(scale: Scale.amount), Scale.amount) }
        guard let q, let p, q > 0, f == nil || f! != nil else {
            let record = BreakRecord(origin: origin, key: execID ?? tradeID ?? "", side: direction,
                                     quantity: quantity, price: price, fees: fees, settlementDate: settlementDate)
            let code: BreakCode = isBook ? .missingAtVenue : .missingInBook
            unrepresentable.append(Break(
                id: Break.makeID(date: tradeDate, code: code, keys: [configuration.sourceName, origin.description]),
                code: code, source: configuration.sourceName, businessDate: tradeDate, account: account >= 0 ? strings[account] : nil,
                instrument: instrument, currency: currency, book: isBook ? [record] : [],
                external: isBook ? [] : [record], quantityDifference: .zero, amountDifference: .zero,
                detail: "quantity, price or fees outside the range reconciliation compares"))
            return
        }
        let (sourceName, position, kind): (String, Int64, UInt8) = {
            switch origin {
            case .statement(let file, let line): return (file, Int64(line), 0)
            case .fix(let source, let offset): return (source, offset, 1)
            case .book(let fillID): return ("", Int64(fillID), 2)
            case .bookBalance: return ("", 0, 2)
            }
        }()
        let labelStart = UInt32(truncatingIfNeeded: isBook ? book.labels.count : external.labels.count)
        if isBook {
            Reconciler.appendLabels(&book.labels, execID, tradeID, orderID)
        } else {
            Reconciler.appendLabels(&external.labels, execID, tradeID, orderID)
        }
        let sourceID = internSource(sourceName)
        let row = Row(
            quantity: q, price: p, fees: f.map { $0! } ?? Scale.absent, position: position,
            execKey: execID.map(FNV1a64.hash) ?? 0, labelStart: labelStart,
            packed: UInt32(bitPattern: sourceID) << 3 | UInt32(kind) << 1 | (direction.sign < 0 ? 1 : 0),
            account: account, instrument: strings.intern(instrument), currency: internCurrency(currency),
            settleDay: settlementDate.map { Int32($0.daysSinceEpoch) } ?? Int32.min)
        let nanos = time?.nanosecondsSinceEpoch ?? Scale.absent
        if isBook {
            Reconciler.appendTime(&book, nanos)
        } else {
            Reconciler.appendTime(&external, nanos)
        }
        if isBook { book.rows.append(row) } else { external.rows.append(row) }
    }

    /// Nearly every trade of a day is in one currency, so the last one is remembered.
    private mutating func internCurrency(_ code: String) -> Int32 {
        if let last = lastCurrency, last.code == code { return last.id }
        let id = strings.intern(code)
        lastCurrency = (code, id)
        return id
    }

    /// Consecutive records nearly always share a source, so the last one is remembered.
    private mutating func internSource(_ name: String) -> Int32 {
        if let last = lastSource, last.name == name { return last.id }
        let id = strings.intern(name)
        lastSource = (name, id)
        return id
    }

    /// Times are kept only once some row has one; earlier rows are then filled as absent.
    private static func appendTime(_ set: inout RowSet, _ nanos: Int64) {
        if set.times.isEmpty {
            guard nanos != Scale.absent else { return }
            set.times = [Int64](repeating: Scale.absent, count: set.rows.count)
        }
        set.times.append(nanos)
    }

    private static func appendLabels(_ labels: inout [UInt8], _ execID: String?, _ tradeID: String?,
                                     _ orderID: String?) {
        if let execID { labels.append(contentsOf: execID.utf8) }
        labels.append(0x1f)
        if let tradeID { labels.append(contentsOf: tradeID.utf8) }
        labels.append(0x1f)
        if let orderID { labels.append(contentsOf: orderID.utf8) }
    }

    // MARK: Combining

    /// Adds everything `other` holds (built with the same configuration), as if its records had
    /// been added here after this one's. Lets a caller load the book and a large statement on
    /// two threads into two reconcilers and join them before `run()`; interned ids are remapped
    /// in one pass over the absorbed rows.
    ///
    /// Pass the other reconciler as its last use (`absorb(other)` then drop it): when this one
    /// holds no rows of a side, that side's rows are taken over and remapped in place rather than
    /// copied, so peak memory stays at one copy of each side.
    public mutating func absorb(_ other: consuming Reconciler) {
        precondition(other.configuration == configuration, "absorbing a reconciler of another configuration")
        var remap = [Int32](repeating: -1, count: other.strings.strings.count)
        for (id, text) in other.strings.strings.enumerated() { remap[id] = strings.intern(text) }
        func move(_ from: inout RowSet, into to: inout RowSet) {
            if to.rows.isEmpty && to.labels.isEmpty {
                swap(&to, &from)
                for i in to.rows.indices {
                    if to.rows[i].account >= 0 { to.rows[i].account = remap[Int(to.rows[i].account)] }
                    to.rows[i].instrument = remap[Int(to.rows[i].instrument)]
                    to.rows[i].currency = remap[Int(to.rows[i].currency)]
                    to.rows[i].source = remap[Int(to.rows[i].source)]
                }
                return
            }
            if !from.times.isEmpty || !to.times.isEmpty {
                if to.times.isEmpty { to.times = [Int64](repeating: Scale.absent, count: to.rows.count) }
                to.times += from.times.isEmpty ? [Int64](repeating: Scale.absent, count: from.rows.count) : from.times
            }
            let labelBase = UInt32(truncatingIfNeeded: to.labels.count)
            to.rows.reserveCapacity(to.rows.count + from.rows.count)
            for var row in from.rows {
                if row.account >= 0 { row.account = remap[Int(row.account)] }
                row.instrument = remap[Int(row.instrument)]
                row.currency = remap[Int(row.currency)]
                row.source = remap[Int(row.source)]
                row.labelStart &+= labelBase
                to.rows.append(row)
            }
            to.labels.append(contentsOf: from.labels)
        }
        move(&other.book, into: &book)
        move(&other.external, into: &external)
        func key(_ k: Int64) -> Int64 {
            Int64(remap[Int(k >> 32)]) << 32 | Int64(UInt32(bitPattern: remap[Int(k & 0xffff_ffff)]))
        }
        for (k, q) in other.bookPositions { bookPositions[key(k), default: 0] &+= q }
        for (k, c) in other.bookCash { bookCash[key(k), default: 0] &+= c }
        for (k, e) in other.externalPositions {
            var entry = externalPositions[key(k)] ?? (0, [])
            entry.quantity &+= e.quantity
            entry.origins += e.origins.prefix(max(0, Break.recordsMax - entry.origins.count))
            externalPositions[key(k)] = entry
        }
        for (k, e) in other.externalCash {
            var entry = externalCash[key(k)] ?? (0, [])
            entry.amount &+= e.amount
            entry.origins += e.origins.prefix(max(0, Break.recordsMax - entry.origins.count))
            externalCash[key(k)] = entry
        }
        let o = other.statistics
        statistics.bookTrades += o.bookTrades
        statistics.externalTrades += o.externalTrades
        statistics.otherDate += o.otherDate
        statistics.bookPositions += o.bookPositions
        statistics.externalPositions += o.externalPositions
        statistics.bookCashBalances += o.bookCashBalances
        statistics.externalCashBalances += o.externalCashBalances
        unrepresentable += other.unrepresentable
        earlyBreaks += other.earlyBreaks
    }

    // MARK: Running

    /// Runs every pass and returns the breaks. Pure: the same records added in the same order
    /// give the same breaks with the same ids.
    public func run() -> ReconciliationResult {
        var pass = MatchPass(reconciler: self)
        pass.run()
        var breaks = unrepresentable + earlyBreaks + pass.breaks
        breaks.sort { ($0.code, $0.id) < ($1.code, $1.id) }
        var stats = statistics
        stats.matchedByKey = pass.matchedByKey
        stats.matchedByAttributes = pass.matchedByAttributes
        stats.matchedByAggregation = pass.matchedByAggregation
        return ReconciliationResult(configuration: configuration, breaks: breaks, statistics: stats)
    }
}
