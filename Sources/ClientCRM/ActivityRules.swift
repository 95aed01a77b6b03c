import FIXTagValue
import TradeBook

/// What the activity rules record and when they raise an alert.
///
/// ```swift
/// var settings = ActivitySettings()
/// settings.granularity = [.perFill, .dailySummary]
/// settings.largeTradeNotional = 1_000_000
/// settings.largeTradeNotionalBySegment["retail"] = 50_000
/// ```
public struct ActivitySettings: Hashable, Sendable {
    /// Which routine entries the rules write; alerts are written whatever this holds.
    public struct Granularity: OptionSet, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// One entry per booked, corrected or busted fill.
        public static let perFill = Granularity(rawValue: 1)
        /// One entry per order when it ends: filled, cancelled, expired or rejected.
        public static let perOrder = Granularity(rawValue: 2)
        /// One entry per account and trade date, written by `ActivityEngine.closeDay`.
        public static let dailySummary = Granularity(rawValue: 4)
    }

    public var granularity: Granularity = [.perOrder, .dailySummary]
    /// A fill whose quantity × price reaches this is a large trade (in the fill's currency; the
    /// rules do no currency conversion). Nil: no global threshold.
    public var largeTradeNotional: FIXDecimal?
    /// Thresholds by client segment; a segment listed here uses its own value instead of the
    /// global one.
    public var largeTradeNotionalBySegment: [String: FIXDecimal] = [:]
    /// Alert on fills of clients whose KYC is expired or not verified.
    public var kycAlerts = true
    /// Alert on reconciliation breaks that touch a client's account.
    public var breakAlerts = true
    /// Alert when a client's day is far above its own history; nil turns the rule off.
    public var unusualActivity: UnusualActivitySettings? = UnusualActivitySettings()

    public init() {}

    /// The large-trade threshold that applies to a client of `segment`.
    public func largeTradeThreshold(segment: String) -> FIXDecimal? {
        largeTradeNotionalBySegment[segment] ?? largeTradeNotional
    }
}

/// The unusual-activity rule.
///
/// For a client and a trade date D, the rule compares the day's running totals — notional
/// (sum of quantity × price over fills booked for D, all currencies added as numbers) and fill
/// count — with the averages over the client's trailing history: the last `trailingDays` dates
/// before D on which the client had at least one fill. With fewer than `historyDaysMin` such
/// dates the rule stays silent. When a total first exceeds `factor` × its average, the rule
/// writes one alert for that measure and day; later fills of the same day add nothing.
/// Corrections and busts do not change the totals: the rule looks at activity, not at the
/// final book.
public struct UnusualActivitySettings: Hashable, Sendable {
    public static let trailingDaysMax = 366

    public var factor: FIXDecimal = 3
    public var historyDaysMin = 5
    public var trailingDays = 20

    public init(factor: FIXDecimal = 3, historyDaysMin: Int = 5, trailingDays: Int = 20) {
        precondition(historyDaysMin >= 1 && trailingDays >= historyDaysMin && trailingDays <= Self.trailingDaysMax,
                     "need 1 <= historyDaysMin <= trailingDays <= \(Self.trailingDaysMax)")
        self.factor = factor
        self.historyDaysMin = historyDaysMin
        self.trailingDays = trailingDays
    }
}

/// Rule names, as written in `InteractionEntry.rule` and hashed into ids. Never renamed: a new
/// name would give replayed activity new ids.
public enum ActivityRule {
    public static let fill = "fill"
    public static let fillCorrected = "fill-corrected"
    public static let fillBusted = "fill-busted"
    public static let orderEnded = "order-ended"
    public static let dailySummary = "daily-summary"
    public static let largeTrade = "large-trade"
    public static let kycExpiredStatus = "kyc-expired-status"
    public static let kycExpiredDate = "kyc-expired-date"
    public static let kycNotVerified = "kyc-not-verified"
    public static let breakTouchingClient = "break"
    public static let unusualNotional = "unusual-notional"
    public static let unusualFillCount = "unusual-fill-count"
}

/// Turns book events and break notices into interaction entries.
///
/// The engine is a value: it keeps what the daily summaries and the unusual-activity rule need
/// (open account days, each client's recent daily totals) and nothing else, so a store can
/// rebuild it by replaying the fills of the last `trailingDays` dates.
///
/// ```swift
/// var engine = ActivityEngine(directory: directory, settings: settings)
/// let entries = engine.process(events, breaks: notices, observedAt: now)
/// let items = OutboxItem.items(for: history.insert(entries), destinations: ["crm"])
/// // at end of day:
/// let summaries = engine.closeDay(tradeDate, at: now)
/// ```
public struct ActivityEngine: Sendable {
    /// Most account-days the engine keeps open before `closeDay`; past it, the oldest
    /// date is closed early and its summaries are returned with the next batch.
    public static let openAccountDaysMax = 100_000

    public var directory: ClientDirectory
    public var settings: ActivitySettings

    struct DayTotals: Hashable, Sendable {
        var date: FIXDate
        var notional: FIXDecimal = .zero
        var fills = 0
        var notionalAlerted = false
        var countAlerted = false
    }

    struct AccountDayKey: Hashable, Sendable {
        var accountID: String
        var date: FIXDate
    }

    struct AccountDay: Sendable {
        var clientID: String
        var fills = 0
        var ordersEnded = 0
        /// currency → (bought notional, sold notional)
        var notional: [String: (bought: FIXDecimal, sold: FIXDecimal)] = [:]
        var instruments: Set<String> = []
    }

    /// Per client, daily totals sorted by date, at most `trailingDays + 1` of them.
    var clientDays: [String: [DayTotals]] = [:]
    var accountDays: [AccountDayKey: AccountDay] = [:]
    /// Summaries of days closed early because of `openAccountDaysMax`.
    var closedEarly: [InteractionEntry] = []
    /// Book order index → `session/first ClOrdID` for live orders, so that fill entries link
    /// orders by a key that outlives the book. Forgotten when the order ends.
    var orderKeys: [Int: String] = [:]
    /// Most live orders whose keys the engine remembers; past it, fills link `session/#index`.
    public static let liveOrdersMax = 1_000_000

    public init(directory: ClientDirectory, settings: ActivitySettings = ActivitySettings()) {
        self.directory = directory
        self.settings = settings
    }

    /// Entries for one batch of book events and break notices, in event order (breaks last).
    /// `observedAt` dates entries whose cause carries no time (an order's end without a fill in
    /// the batch, a break). Events of accounts no client owns write nothing: the book has
    /// already raised an exception for them.
    public mutating func process(_ events: [BookEvent], breaks: [BreakNotice] = [],
                                 observedAt: FIXTimestamp) -> [InteractionEntry] {
        var out = closedEarly
        closedEarly = []
        var lastFillTime: [Int: FIXTimestamp] = [:]
        // An order's key (session and first ClOrdID) never changes: it is made once.
        for case .orderUpserted(let order) in events where orderKeys[order.id] == nil
            && orderKeys.count < Self.liveOrdersMax {
            orderKeys[order.id] = "\(order.session)/\(order.clOrdIDs.first ?? order.clOrdID)"
        }
        defer {
            for case .orderUpserted(let order) in events where order.status.isTerminal { orderKeys[order.id] = nil }
        }
        for event in events {
            switch event {
            case .fillBooked(let fill):
                let time = Self.time(of: fill)
                lastFillTime[fill.orderID] = time
                booked(fill, time: time, into: &out)
            case .fillCorrected(let fill):
                amended(fill, into: &out)
            case .fillBusted(let fill):
                amended(fill, into: &out)
            case .orderUpserted(let order):
                ended(order, time: lastFillTime[order.id] ?? observedAt, into: &out)
            case .executionRecorded, .positionChanged, .cashChanged, .exceptionRaised:
                break
            }
        }
        if settings.breakAlerts {
            for notice in breaks { breakTouched(notice, time: observedAt, into: &out) }
        }
        // A rule keyed by client and day (KYC) fires on every fill of the day; the id says
        // it is one entry, so a batch returns it once and the history drops later repeats.
        var seen: Set<String> = []
        return out.filter { seen.insert($0.id).inserted }
    }

    /// The daily summaries of every account-day on or before `date`, dated `at`; forgets those
    /// days. Writes nothing unless `granularity` holds `.dailySummary`.
    public mutating func closeDay(_ date: FIXDate, at time: FIXTimestamp) -> [InteractionEntry] {
        var out = closedEarly
        closedEarly = []
        let keys = accountDays.keys.filter { $0.date <= date }.sorted {
            ($0.date, $0.accountID) < ($1.date, $1.accountID)
        }
        for key in keys {
            guard let day = accountDays.removeValue(forKey: key) else { continue }
            out.append(summary(of: day, key: key, time: time))
        }
        return out
    }

    // MARK: - Rules

    static func time(of fill: Fill) -> FIXTimestamp {
        fill.transactTime ?? FIXTimestamp(
            nanosecondsSinceEpoch: Int64(fill.tradeDate.daysSinceEpoch) * FIXTimestamp.nanosecondsPerDay)
    }

    static func fillKey(_ fill: Fill) -> String { "\(fill.session)/\(fill.execID)" }

    func orderLink(_ fill: Fill) -> String { Self.orderLink(fill, key: orderKeys[fill.orderID]) }

    /// The order's link: its key when known, else the session and the book's order id.
    static func orderLink(_ fill: Fill, key: String?) -> String { key ?? "\(fill.session)/#\(fill.orderID)" }

    private func owner(of accountName: String?) -> (ClientAccount, Client)? {
        guard let name = accountName, let account = directory.account(named: name),
              let client = directory.clients[account.clientID] else { return nil }
        return (account, client)
    }

    private mutating func booked(_ fill: Fill, time: FIXTimestamp, into out: inout [InteractionEntry]) {
        guard let (account, client) = owner(of: fill.clientAccount) else { return }
        let notional = fill.quantity.multiplied(by: fill.price)
        // Made only when a rule writes an entry: most fills only add to a daily summary.
        lazy var key = Self.fillKey(fill)
        lazy var facts: [String: String] = {
            var facts = Self.facts(of: fill)
            if let notional { facts["notional"] = notional.description }
            return facts
        }()
        let orderKey = orderKeys[fill.orderID]
        lazy var links = InteractionLinks(orders: [Self.orderLink(fill, key: orderKey)], fills: [key])

        if settings.granularity.contains(.perFill) {
            out.append(InteractionEntry(
                id: StableID.make(ActivityRule.fill, [fill.session, fill.execID]), clientID: client.id,
                accountID: account.id, time: time, channel: .trade, direction: .internal, rule: ActivityRule.fill,
                summary: "\(Self.verb(fill.side)) \(fill.quantity) \(fill.instrument) @ \(fill.price) \(fill.currency)",
                details: "Fill \(key) booked on account \(account.id), trade date \(fill.tradeDate).",
                facts: facts, links: links, author: "system"))
        }

        if let threshold = settings.largeTradeThreshold(segment: client.segment), let notional,
           notional >= threshold {
            var f = facts
            f["threshold"] = threshold.description
            f["segment"] = client.segment
            out.append(InteractionEntry(
                id: StableID.make(ActivityRule.largeTrade, [fill.session, fill.execID]), clientID: client.id,
                accountID: account.id, time: time, channel: .compliance, direction: .internal, severity: .alert,
                rule: ActivityRule.largeTrade,
                summary: "Large trade: \(notional) \(fill.currency) in \(fill.instrument)",
                details: "Fill \(key) has notional \(notional) \(fill.currency), at or above the \(client.segment) "
                    + "threshold \(threshold).",
                facts: f, links: links, author: "system"))
        }

        if settings.kycAlerts, let breach = client.kycBreach(on: fill.tradeDate) {
            let rule: String
            let why: String
            switch breach {
            case .expiredStatus:
                rule = ActivityRule.kycExpiredStatus
                why = "KYC status is expired"
            case .expiredDate(let expiry):
                rule = ActivityRule.kycExpiredDate
                why = "KYC review date \(expiry) is before trade date \(fill.tradeDate)"
            case .notVerified(let status):
                rule = ActivityRule.kycNotVerified
                why = "KYC status is \(status.rawValue), not verified"
            }
            var f = facts
            f["kycStatus"] = client.kyc.status.rawValue
            if let expiry = client.kyc.expiresOn { f["kycExpiresOn"] = expiry.description }
            // One alert per client, breach and trade date: the first fill of the day names it.
            out.append(InteractionEntry(
                id: StableID.make(rule, [client.id, fill.tradeDate.description]), clientID: client.id,
                accountID: account.id, time: time, channel: .compliance, direction: .internal, severity: .alert,
                rule: rule, summary: "Trading on account \(account.id) while \(why)",
                details: "Fill \(key) on \(fill.tradeDate): \(why).", facts: f, links: links, author: "system"))
        }

        if let unusual = settings.unusualActivity, let notional {
            unusualActivity(client: client, account: account, fill: fill, notional: notional, settings: unusual,
                            time: time, links: links, into: &out)
        }

        if settings.granularity.contains(.dailySummary) {
            let dayKey = AccountDayKey(accountID: account.id, date: fill.tradeDate)
            if accountDays[dayKey] == nil && accountDays.count >= Self.openAccountDaysMax,
               let oldest = accountDays.keys.map(\.date).min() {
                closedEarly += closeDay(oldest, at: time)
            }
            var day = accountDays[dayKey] ?? AccountDay(clientID: client.id)
            day.fills += 1
            day.instruments.insert(fill.instrument)
            if let notional {
                var pair = day.notional[fill.currency] ?? (.zero, .zero)
                if fill.side.sign > 0 {
                    pair.bought = pair.bought.adding(notional) ?? pair.bought
                } else {
                    pair.sold = pair.sold.adding(notional) ?? pair.sold
                }
                day.notional[fill.currency] = pair
            }
            accountDays[dayKey] = day
        }
    }

    private mutating func unusualActivity(
        client: Client, account: ClientAccount, fill: Fill, notional: FIXDecimal, settings: UnusualActivitySettings,
        time: FIXTimestamp, links: @autoclosure () -> InteractionLinks, into out: inout [InteractionEntry]
    ) {
        var days = clientDays[client.id] ?? []
        let date = fill.tradeDate
        let index: Int
        if let i = days.firstIndex(where: { $0.date == date }) {
            index = i
        } else {
            // A date older than everything kept is beyond the trailing window: not counted.
            if days.count > settings.trailingDays, let first = days.first, date < first.date { return }
            let insertAt = days.firstIndex(where: { date < $0.date }) ?? days.count
            days.insert(DayTotals(date: date), at: insertAt)
            if days.count > settings.trailingDays + 1 { days.removeFirst(days.count - settings.trailingDays - 1) }
            guard let i = days.firstIndex(where: { $0.date == date }) else { clientDays[client.id] = days; return }
            index = i
        }
        days[index].notional = days[index].notional.adding(notional) ?? days[index].notional
        days[index].fills += 1
        let history = days[..<index].suffix(settings.trailingDays)
        defer { clientDays[client.id] = days }
        guard history.count >= settings.historyDaysMin else { return }
        let n = FIXDecimal(history.count)
        var historyNotional = FIXDecimal.zero
        var historyFills = 0
        for day in history {
            historyNotional = historyNotional.adding(day.notional) ?? historyNotional
            historyFills += day.fills
        }
        let today = days[index]
        // Compare day × n with factor × sum, so no rounding enters the decision.
        if !today.notionalAlerted, let lhs = today.notional.multiplied(by: n),
           let rhs = settings.factor.multiplied(by: historyNotional), lhs > rhs {
            days[index].notionalAlerted = true
            let average = historyNotional.divided(by: n, scale: 2) ?? .zero
            out.append(InteractionEntry(
                id: StableID.make(ActivityRule.unusualNotional, [client.id, date.description]), clientID: client.id,
                accountID: account.id, time: time, channel: .compliance, direction: .internal, severity: .warning,
                rule: ActivityRule.unusualNotional,
                summary: "Unusual activity: notional \(today.notional) on \(date) vs trailing average \(average)",
                details: "Day notional exceeds \(settings.factor)× the average of the last \(history.count) "
                    + "trading days.",
                facts: ["date": date.description, "dayNotional": today.notional.description,
                        "trailingAverage": average.description, "factor": settings.factor.description,
                        "historyDays": String(history.count)],
                links: links(), author: "system"))
        }
        if !today.countAlerted, let lhs = FIXDecimal(today.fills).multiplied(by: n),
           let rhs = settings.factor.multiplied(by: FIXDecimal(historyFills)), lhs > rhs {
            days[index].countAlerted = true
            let average = FIXDecimal(historyFills).divided(by: n, scale: 2) ?? .zero
            out.append(InteractionEntry(
                id: StableID.make(ActivityRule.unusualFillCount, [client.id, date.description]), clientID: client.id,
                accountID: account.id, time: time, channel: .compliance, direction: .internal, severity: .warning,
                rule: ActivityRule.unusualFillCount,
                summary: "Unusual activity: \(today.fills) fills on \(date) vs trailing average \(average)",
                details: "Day fill count exceeds \(settings.factor)× the average of the last \(history.count) "
                    + "trading days.",
                facts: ["date": date.description, "dayFills": String(today.fills),
                        "trailingAverage": average.description, "factor": settings.factor.description,
                        "historyDays": String(history.count)],
                links: links(), author: "system"))
        }
    }

    private func amended(_ fill: Fill, into out: inout [InteractionEntry]) {
        guard settings.granularity.contains(.perFill), let (account, client) = owner(of: fill.clientAccount) else {
            return
        }
        let rule: String
        let by: String
        let summary: String
        switch fill.state {
        case .corrected(let execID):
            rule = ActivityRule.fillCorrected
            by = execID
            summary = "Fill corrected: now \(Self.verb(fill.side)) \(fill.quantity) \(fill.instrument) @ \(fill.price)"
        case .busted(let execID):
            rule = ActivityRule.fillBusted
            by = execID
            summary = "Fill busted: \(fill.instrument), ExecID \(fill.execID)"
        case .booked:
            return
        }
        var facts = Self.facts(of: fill)
        facts["amendedBy"] = by
        out.append(InteractionEntry(
            id: StableID.make(rule, [fill.session, fill.execID, by]), clientID: client.id, accountID: account.id,
            time: Self.time(of: fill), channel: .trade, direction: .internal, severity: .warning, rule: rule,
            summary: summary, details: "Fill \(Self.fillKey(fill)) amended by ExecID \(by).", facts: facts,
            links: InteractionLinks(orders: [orderLink(fill)],
                                    fills: [Self.fillKey(fill), "\(fill.session)/\(by)"]),
            author: "system"))
    }

    private mutating func ended(_ order: Order, time: FIXTimestamp, into out: inout [InteractionEntry]) {
        switch order.status {
        case .filled, .cancelled, .expired, .rejected: break
        default: return
        }
        guard let (account, client) = owner(of: order.clientAccount ?? order.account) else { return }
        if settings.granularity.contains(.dailySummary) {
            let key = AccountDayKey(accountID: account.id, date: time.date)
            if var day = accountDays[key] { day.ordersEnded += 1; accountDays[key] = day }
        }
        guard settings.granularity.contains(.perOrder) else { return }
        let first = order.clOrdIDs.first ?? order.clOrdID
        let status = Self.statusName(order.status)
        out.append(InteractionEntry(
            id: StableID.make(ActivityRule.orderEnded, [order.session, first, status]), clientID: client.id,
            accountID: account.id, time: time, channel: .order, direction: .internal,
            severity: order.status == .rejected ? .warning : .info, rule: ActivityRule.orderEnded,
            summary: "Order \(status): \(Self.verb(order.side)) \(order.cumQty)/\(order.orderQty) \(order.instrument)"
                + (order.cumQty > .zero ? " avg \(order.avgPx) \(order.currency)" : ""),
            details: "Order \(order.session)/\(first) (ClOrdID \(order.clOrdID)) on account \(account.id) is \(status).",
            facts: ["status": status, "instrument": order.instrument, "side": Self.sideName(order.side),
                    "orderQty": order.orderQty.description, "cumQty": order.cumQty.description,
                    "avgPx": order.avgPx.description, "currency": order.currency],
            links: InteractionLinks(orders: ["\(order.session)/\(first)"]), author: "system"))
    }

    private func breakTouched(_ notice: BreakNotice, time: FIXTimestamp, into out: inout [InteractionEntry]) {
        guard let (account, client) = owner(of: notice.account) else { return }
        var facts = ["code": String(notice.codeNumber), "codeName": notice.codeName,
                     "businessDate": notice.businessDate.description]
        if let instrument = notice.instrument { facts["instrument"] = instrument }
        out.append(InteractionEntry(
            id: StableID.make(ActivityRule.breakTouchingClient, [notice.id]), clientID: client.id,
            accountID: account.id, time: time, channel: .break, direction: .internal, severity: .alert,
            rule: ActivityRule.breakTouchingClient,
            summary: "Break \(notice.codeNumber) \(notice.codeName) on account \(account.id)",
            details: notice.summary, facts: facts, links: InteractionLinks(breaks: [notice.id]), author: "system"))
    }

    private func summary(of day: AccountDay, key: AccountDayKey, time: FIXTimestamp) -> InteractionEntry {
        var facts = ["date": key.date.description, "fills": String(day.fills),
                     "ordersEnded": String(day.ordersEnded), "instruments": String(day.instruments.count)]
        var parts: [String] = []
        for currency in day.notional.keys.sorted() {
            guard let pair = day.notional[currency] else { continue }
            facts["bought.\(currency)"] = pair.bought.description
            facts["sold.\(currency)"] = pair.sold.description
            parts.append("bought \(pair.bought) / sold \(pair.sold) \(currency)")
        }
        return InteractionEntry(
            id: StableID.make(ActivityRule.dailySummary, [key.accountID, key.date.description]),
            clientID: day.clientID, accountID: key.accountID, time: time, channel: .system, direction: .internal,
            rule: ActivityRule.dailySummary,
            summary: "\(key.date): \(day.fills) fills in \(day.instruments.count) instruments on \(key.accountID)",
            details: parts.joined(separator: "; "), facts: facts, author: "system")
    }

    static func facts(of fill: Fill) -> [String: String] {
        ["instrument": fill.instrument, "side": sideName(fill.side), "quantity": fill.quantity.description,
         "price": fill.price.description, "currency": fill.currency, "tradeDate": fill.tradeDate.description]
    }

    static func verb(_ side: Side) -> String { side.sign > 0 ? "Bought" : "Sold" }

    static func sideName(_ side: Side) -> String {
        switch side {
        case .buy: return "buy"
        case .sell: return "sell"
        case .buyMinus: return "buy-minus"
        case .sellPlus: return "sell-plus"
        case .sellShort: return "sell-short"
        case .sellShortExempt: return "sell-short-exempt"
        }
    }

    static func statusName(_ status: OrderStatus) -> String {
        switch status {
        case .filled: return "filled"
        case .cancelled: return "cancelled"
        case .expired: return "expired"
        case .rejected: return "rejected"
        default: return "open"
        }
    }
}
