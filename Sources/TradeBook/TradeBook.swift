import FIXTagValue

/// The book of orders, fills, positions and cash built from execution reports.
///
/// `apply` reads one ExecutionReport (35=8) of any FIX version from 4.0 to 5.0 and appends what
/// changed to an event list; a store writes a batch's events in one transaction. The book does
/// no I/O and keeps all its state in plain values: `snapshot` and `init(configuration:restoring:)`
/// let a store rebuild it from its rows.
///
/// ```swift
/// var book = TradeBook(configuration: BookConfiguration(accounts: ["ACC70049": "CLIENT-7"]))
/// var events: [BookEvent] = []
/// decoder.drain { event in
///     guard case .message(let m) = event else { return }
///     book.apply(m.view(), source: SourcePosition(source: "today.fix", offset: m.offset), into: &events)
/// }
/// store.write(events)   // one transaction
/// ```
///
/// Rules, each explained where it is applied:
/// - A report is identified by (session, ExecID), the session being the report's
///   `SenderCompID:TargetCompID`. A report already applied — a resend, a PossDup copy, the same
///   capture replayed — is a no-op that emits nothing. A PossDup(43=Y) report with an ExecID not
///   seen before is new and is applied.
/// - Orders are found by ClOrdID(11), then OrigClOrdID(41), within the session; every ClOrdID
///   of a replace or cancel chain leads to the same order. OrderID(37) is kept but never used to
///   find an order, because a venue may reuse it.
/// - CumQty and AvgPx are the book's own sums over booked fills. A report whose CumQty(14)
///   differs raises `cumQtyMismatch`.
/// - Positions use the average-cost method described in `AverageCost`; a correction or bust
///   re-derives the whole position of that account and instrument from its fills in booking
///   order, so realised P&L is as if the corrected fill had been right from the start. Cash
///   moves by the difference of the fill's cash effect before and after.
public struct TradeBook: Sendable {
    /// Most MiscFees entries a report may carry; more is a malformed report, not a fee schedule.
    public static let miscFeesMax = 32
    /// Largest LastQty a fill may have (10^12 units).
    public static let fillQuantityMax = FIXDecimal(mantissa: 1_000_000_000_000, exponent: 0)
    /// Largest LastQty × LastPx a fill may have (10^13 in its currency). With these bounds a
    /// cash balance or a cost basis would need some 900,000 maximal fills to leave 64 bits.
    public static let fillNotionalMax = FIXDecimal(mantissa: 10_000_000_000_000, exponent: 0)

    static let rangeReason = "LastQty(32) above \(fillQuantityMax) or LastQty × LastPx above \(fillNotionalMax)"

    static func inRange(_ quantity: FIXDecimal, _ price: FIXDecimal) -> Bool {
        quantity <= fillQuantityMax && quantity.times(price) <= fillNotionalMax
    }

    public let configuration: BookConfiguration

    /// Every order, indexed by `Order.id`.
    public internal(set) var orders: [Order] = []
    /// Every fill, indexed by `Fill.id`.
    public internal(set) var fills: [Fill] = []
    /// Every exception raised, oldest first.
    public internal(set) var exceptions: [BookException] = []

    var positionStates: [PositionState] = []
    var cashBalances: [CashBalance] = []
    /// Sessions, client accounts, instruments and currencies as dense ids, so that the tables
    /// below hash a small integer instead of a name wherever they can.
    var names = NameTable()
    var orderIndex: [OrderKey: Int] = [:]
    /// Applied reports → the fill they booked, corrected or busted, or -1 when none: one map
    /// serves both exactly-once and ExecRefID(19) resolution.
    var executions: [ExecKey: Int] = [:]
    var positionIndex: [PositionKey: Int] = [:]
    var cashIndex: [CashKey: Int] = [:]
    /// Per order, indexed like `orders`: where its position and its currency's cash balance sit,
    /// found by its first fill. An order's client account, instrument and currency never change,
    /// so its later fills go straight there instead of through the name and key tables.
    var orderSlots: [OrderSlots] = []
    /// Source positions of malformed reports already raised: such a report has no usable key,
    /// so replaying the same source raises it only once.
    var malformedSeen: Set<SourcePosition> = []
    /// Recently seen sessions by their header bytes (see `sessionName`).
    private var sessionCache: [SessionCache] = []
    /// Sessions remembered by `sessionCache`; beyond it the oldest entry makes room.
    static let sessionCacheMax = 64

    public init(configuration: BookConfiguration) {
        self.configuration = configuration
    }

    /// Positions in creation order.
    public var positions: [Position] { positionStates.map(\.position) }
    /// Cash balances in creation order.
    public var cash: [CashBalance] { cashBalances }

    /// The position of `clientAccount` in `instrument`, or nil when it never traded it.
    public func position(clientAccount: String, instrument: String) -> Position? {
        guard let account = names.existing(clientAccount), let instrument = names.existing(instrument) else {
            return nil
        }
        return positionIndex[PositionKey(account: account, instrument: instrument)].map { positionStates[$0].position }
    }

    /// The cash of `clientAccount` in `currency`, or nil when it never moved.
    public func cash(clientAccount: String, currency: String) -> FIXDecimal? {
        guard let account = names.existing(clientAccount), let currency = names.existing(currency) else { return nil }
        return cashIndex[CashKey(account: account, currency: currency)].map { cashBalances[$0].amount }
    }

    /// The order that `clOrdID` (any ClOrdID of its chain) names in `session`.
    public func order(session: String, clOrdID: String) -> Order? {
        guard let sid = names.existing(session) else { return nil }
        return orderIndex[OrderKey(session: sid, clOrdID: clOrdID)].map { orders[$0] }
    }

    /// The fill booked for `execID` (or corrected by it) in `session`.
    public func fill(session: String, execID: String) -> Fill? {
        guard let sid = names.existing(session) else { return nil }
        return fillID(ExecKey(session: sid, execID: execID)).map { fills[$0] }
    }

    /// True when the report with this key has been applied.
    public func hasApplied(_ key: ExecutionKey) -> Bool {
        guard let sid = names.existing(key.session) else { return false }
        return executions[ExecKey(session: sid, execID: key.execID)] != nil
    }

    // MARK: - Applying reports

    /// Applies one message and appends the resulting events. Messages other than
    /// ExecutionReport (35=8) and ExecType I (order status) are ignored and emit nothing.
    public mutating func apply(_ message: FIXMessage, source: SourcePosition, into events: inout [BookEvent]) {
        // MsgType is the third field: other messages cost three fields, not a full pass.
        guard let msgType = message.msgType, msgType.equals("8") else { return }
        let r = ReportFields(message, partyRole: partyRole)
        let (session, sid) = sessionName(r, source: source)
        let clOrdIDText = r.clOrdID?.string
        guard !r.syntaxError else {
            return malformed("the message's fields cannot all be read", r, session, clOrdIDText, source, &events)
        }
        guard let execIDValue = r.execID else {
            return malformed("ExecID(17) missing", r, session, clOrdIDText, source, &events)
        }
        let lastQty = r.lastQty?.decimal
        guard let action = ReportAction.classify(execType: r.execType?.char, execTransType: r.execTransType?.char,
                                                 ordStatus: r.ordStatus?.char, lastQty: lastQty) else {
            return malformed("ExecType(150) missing or unknown", r, session, clOrdIDText, source, &events)
        }
        if action == .statusOnly { return }
        if let count = r.miscFeeCount, !(0...TradeBook.miscFeesMax).contains(count.int ?? -1) {
            return malformed("NoMiscFees(136) is not a count of 0 to \(TradeBook.miscFeesMax)", r, session,
                             clOrdIDText, source, &events)
        }
        let key = ExecutionKey(session: session, execID: execIDValue.string)
        // Exactly once: resends, PossDup copies and replayed captures stop here.
        if executions[ExecKey(session: sid, execID: key.execID)] != nil { return }
        let execType: Character = r.execTransType.flatMap { v in
            v.char.flatMap { $0 == UInt8(ascii: "1") || $0 == UInt8(ascii: "2") ? Character(Unicode.Scalar($0)) : nil }
        } ?? r.execType?.char.map { Character(Unicode.Scalar($0)) } ?? "?"

        switch action {
        case .correct, .bust:
            applyCorrection(r, action: action, key: key, sid: sid, execType: execType, clOrdID: clOrdIDText,
                            source: source, message: message, events: &events)
        default:
            applyOrderReport(r, action: action, key: key, sid: sid, execType: execType, clOrdID: clOrdIDText,
                             source: source, message: message, events: &events)
        }
    }

    /// `SenderCompID:TargetCompID`, else the source name. A capture interleaves the reports of
    /// a few sessions, so the names of the last `sessionCacheMax` sessions are kept with their
    /// header bytes and found again by comparing bytes: no string is built or hashed for them.
    private mutating func sessionName(_ r: ReportFields, source: SourcePosition) -> (String, Int32) {
        guard let sender = r.sender, let target = r.target else {
            return (source.source, names.id(source.source))
        }
        for entry in sessionCache where sender.equals(entry.sender) && target.equals(entry.target) {
            return (entry.name, entry.id)
        }
        let name = sender.string + ":" + target.string
        let entry = SessionCache(sender: Array(sender.bytes), target: Array(target.bytes), name: name, id: names.id(name))
        if sessionCache.count == TradeBook.sessionCacheMax { sessionCache.removeFirst() }
        sessionCache.append(entry)
        return (name, entry.id)
    }

    /// Reserves room for about this many more applied reports, orders and fills, so that a
    /// large load does not pay for growing the tables as it goes.
    public mutating func reserveCapacity(reports: Int, orders: Int, fills: Int) {
        executions.reserveCapacity(executions.count + reports)
        self.orders.reserveCapacity(self.orders.count + orders)
        orderSlots.reserveCapacity(orderSlots.count + orders)
        orderIndex.reserveCapacity(orderIndex.count + orders)
        self.fills.reserveCapacity(self.fills.count + fills)
    }

    private var partyRole: Int? {
        if case .party(let role) = configuration.accountSource { return role }
        return nil
    }

    private mutating func applyOrderReport(
        _ r: ReportFields, action: ReportAction, key: ExecutionKey, sid: Int32, execType: Character, clOrdID: String?,
        source: SourcePosition, message: FIXMessage, events: inout [BookEvent]
    ) {
        guard let clOrdID = clOrdID ?? r.orderID.map({ "OrderID:" + $0.string }) else {
            return malformed("ClOrdID(11) and OrderID(37) missing", r, key.session, nil, source, &events)
        }
        // Validate everything before changing anything: a malformed report leaves no trace.
        var fillQty = FIXDecimal.zero
        var fillPx = FIXDecimal.zero
        if action == .trade {
            guard let q = r.lastQty?.decimal, q > .zero else {
                return malformed("LastQty(32) missing or not positive on a fill", r, key.session, clOrdID, source,
                                 &events)
            }
            guard let p = r.lastPx?.decimal, p >= .zero else {
                return malformed("LastPx(31) missing or negative on a fill", r, key.session, clOrdID, source, &events)
            }
            guard TradeBook.inRange(q, p) else {
                return malformed(TradeBook.rangeReason, r, key.session, clOrdID, source, &events)
            }
            fillQty = q
            fillPx = p
        }
        let origClOrdID = r.origClOrdID?.string
        var pending: [BookException] = []
        let id: Int
        // An order this report creates always has its first upsert emitted.
        // A report that adds a ClOrdID to the chain changes the order even when nothing else does.
        let created: Bool
        var linked = false
        if let found = find(session: sid, clOrdID: clOrdID, origClOrdID: origClOrdID) {
            id = found
            created = false
            linked = link(found, session: sid, clOrdID: clOrdID, origClOrdID: origClOrdID)
        } else {
            guard let side = r.side?.char.flatMap(Side.init(rawValue:)) else {
                return malformed("Side(54) missing or not bookable", r, key.session, clOrdID, source, &events)
            }
            guard let instrument = instrument(r) else {
                return malformed("Symbol(55) and SecurityID(48) missing", r, key.session, clOrdID, source, &events)
            }
            let expectedFirst: Bool
            switch action {
            case .transition(.new), .transition(.pendingNew), .transition(.rejected): expectedFirst = true
            default: expectedFirst = false
            }
            if !expectedFirst {
                pending.append(exception(.orderUnknown,
                                         "no earlier report for ClOrdID \(clOrdID): order created from this report",
                                         key.session, key.execID, clOrdID, source))
            }
            id = createOrder(r, session: key.session, sid: sid, clOrdID: clOrdID, origClOrdID: origClOrdID,
                             side: side, instrument: instrument)
            created = true
        }
        var order = orders[id]
        if let orderID = r.orderID, order.orderID == nil { order.orderID = orderID.string }

        let fillID: Int? = action == .trade ? fills.count : nil
        executions[ExecKey(session: sid, execID: key.execID)] = fillID ?? -1
        events.append(.executionRecorded(ExecutionRecord(key: key, orderID: id, fillID: fillID, execType: execType,
                                                         source: source)))

        switch action {
        case .trade:
            let fill = makeFill(r, message: message, key: key, order: order, quantity: fillQty, price: fillPx,
                                source: source, exceptions: &pending)
            fills.append(fill)
            events.append(.fillBooked(fill))
            order.cumQty = order.cumQty.plus(fillQty)
            order.notional = order.notional.plus(fillQty.times(fillPx))
            order.status = TradeBook.derivedStatus(order.status, cum: order.cumQty, qty: order.orderQty)
            if fill.clientAccount == nil {
                pending.append(exception(.accountUnknown, "account \(quoted(order.account)) is not a client account: "
                                         + "fill booked without position or cash", key.session, key.execID, clOrdID,
                                         source))
            }
        case .replace, .restate:
            if !TradeBook.isFinal(order.status) {
                if let qty = r.orderQty?.decimal { order.orderQty = qty }
                if let px = r.price?.decimal { order.price = px }
                if action == .replace { order.clOrdID = clOrdID }
                order.status = TradeBook.derivedStatus(order.status == .pendingReplace || order.status == .pendingCancel
                                                       ? .new : order.status, cum: order.cumQty, qty: order.orderQty)
            }
        case .transition(let status):
            if status == .cancelled, !TradeBook.isFinal(order.status) { order.clOrdID = clOrdID }
            order.status = TradeBook.transition(order.status, to: status, cum: order.cumQty, qty: order.orderQty)
        case .correct, .bust, .statusOnly:
            preconditionFailure("not an order report")
        }
        finishOrder(&order, r, key: key, clOrdID: clOrdID, source: source, checkOverfill: action == .trade,
                    exceptions: &pending)
        // Compared with the stored order in place (no copy of the old value is kept).
        if created || linked || order != orders[id] {
            orders[id] = order
            events.append(.orderUpserted(order))
        }
        if action == .trade, let account = fills[fills.count - 1].clientAccount {
            let fill = fills[fills.count - 1]
            bookPosition(fill, account: account, key: key, source: source, events: &events, exceptions: &pending)
            moveCash(account: account, deltas: cashEffect(fill), order: fill.orderID, events: &events)
        }
        raise(pending, &events)
    }

    private mutating func applyCorrection(
        _ r: ReportFields, action: ReportAction, key: ExecutionKey, sid: Int32, execType: Character, clOrdID: String?,
        source: SourcePosition, message: FIXMessage, events: inout [BookEvent]
    ) {
        guard let ref = r.execRefID else {
            return malformed("ExecRefID(19) missing on a correction or bust", r, key.session, clOrdID, source, &events)
        }
        var newQty = FIXDecimal.zero
        var newPx = FIXDecimal.zero
        if action == .correct {
            guard let q = r.lastQty?.decimal, q >= .zero, let p = r.lastPx?.decimal, p >= .zero else {
                return malformed("LastQty(32) or LastPx(31) missing or invalid on a correction", r, key.session,
                                 clOrdID, source, &events)
            }
            guard TradeBook.inRange(q, p) else {
                return malformed(TradeBook.rangeReason, r, key.session, clOrdID, source, &events)
            }
            newQty = q
            newPx = p
        }
        let refKey = ExecKey(session: sid, execID: ref.string)
        guard let fillID = fillID(refKey), case let old = fills[fillID], !isBusted(old) else {
            let knownOrder = clOrdID.flatMap {
                find(session: sid, clOrdID: $0, origClOrdID: r.origClOrdID?.string)
            }
            executions[ExecKey(session: sid, execID: key.execID)] = -1
            events.append(.executionRecorded(ExecutionRecord(key: key, orderID: knownOrder, fillID: nil,
                                                             execType: execType, source: source)))
            let busted = fillID(refKey) != nil
            let reason = busted ? "ExecRefID \(refKey.execID) names a busted fill: not applied"
                                : "ExecRefID \(refKey.execID) names no booked fill: not applied"
            let code: BookException.Code = busted ? .execRefBusted : .execRefUnknown
            raise([exception(code, reason, key.session, key.execID, clOrdID, source)], &events)
            return
        }
        var pending: [BookException] = []
        var fill = old
        if action == .bust {
            fill.quantity = .zero
            fill.state = .busted(by: key.execID)
        } else {
            fill.quantity = newQty
            fill.price = newPx
            fill.state = .corrected(by: key.execID)
            let order = orders[fill.orderID]
            // A correction restates charges only when it carries them; else the old ones stand.
            if r.commission != nil {
                (fill.commission, fill.commissionCurrency) = commission(
                    r, currency: fill.currency, quantity: newQty, gross: newQty.times(newPx), key: key,
                    clOrdID: order.clOrdID, source: source, exceptions: &pending)
            }
            if r.hasMiscFees {
                fill.fees = fees(message, from: r.miscFeesOffset, currency: fill.currency, quantity: newQty,
                                 gross: newQty.times(newPx), key: key, clOrdID: order.clOrdID, source: source,
                                 exceptions: &pending)
            }
            // A restated trade date moves a derived settlement date with it.
            if let date = r.tradeDate?.date {
                fill.tradeDate = date
                fill.settlementDate = configuration.settlement.settlementDate(for: date)
            }
            if let date = r.settlDate?.date { fill.settlementDate = date }
        }
        fills[fillID] = fill
        executions[ExecKey(session: sid, execID: key.execID)] = fillID
        events.append(.executionRecorded(ExecutionRecord(key: key, orderID: fill.orderID, fillID: fillID,
                                                         execType: execType, source: source)))
        events.append(action == .bust ? .fillBusted(fill) : .fillCorrected(fill))

        let before = orders[fill.orderID]
        var order = before
        order.cumQty = order.cumQty.plus(fill.quantity.minus(old.quantity))
        order.notional = order.notional.plus(fill.quantity.times(fill.price)).minus(old.quantity.times(old.price))
        order.status = TradeBook.derivedStatus(order.status, cum: order.cumQty, qty: order.orderQty)
        finishOrder(&order, r, key: key, clOrdID: order.clOrdID, source: source, checkOverfill: action == .correct,
                    exceptions: &pending)
        if order != before {
            orders[order.id] = order
            events.append(.orderUpserted(order))
        }
        if let account = fill.clientAccount {
            rederivePosition(account: account, instrument: fill.instrument, events: &events)
            var deltas = cashEffect(fill)
            for (currency, amount) in cashEffect(old) { add(-amount, currency, to: &deltas) }
            moveCash(account: account, deltas: deltas, order: fill.orderID, events: &events)
        }
        raise(pending, &events)
    }

    func fillID(_ key: ExecKey) -> Int? {
        guard let id = executions[key], id >= 0 else { return nil }
        return id
    }

    // MARK: - Orders

    private func find(session: Int32, clOrdID: String, origClOrdID: String?) -> Int? {
        if let id = orderIndex[OrderKey(session: session, clOrdID: clOrdID)] { return id }
        if let origClOrdID { return orderIndex[OrderKey(session: session, clOrdID: origClOrdID)] }
        return nil
    }

    /// Adds the report's ClOrdID and OrigClOrdID to the order's chain when they are new; true
    /// when it added one.
    private mutating func link(_ id: Int, session: Int32, clOrdID: String, origClOrdID: String?) -> Bool {
        var added = false
        if let origClOrdID { added = link(id, OrderKey(session: session, clOrdID: origClOrdID)) }
        return link(id, OrderKey(session: session, clOrdID: clOrdID)) || added
    }

    private mutating func link(_ id: Int, _ key: OrderKey) -> Bool {
        guard orderIndex[key] == nil else { return false }
        orderIndex[key] = id
        orders[id].clOrdIDs.append(key.clOrdID)
        return true
    }

    private mutating func createOrder(_ r: ReportFields, session: String, sid: Int32, clOrdID: String,
                                      origClOrdID: String?, side: Side, instrument: String) -> Int {
        let id = orders.count
        let account = accountIdentifier(r) ?? ""
        let qty = r.orderQty?.decimal ?? r.cumQty?.decimal ?? r.lastQty?.decimal ?? .zero
        var chain = [String]()
        if let origClOrdID, origClOrdID != clOrdID { chain.append(origClOrdID) }
        chain.append(clOrdID)
        orders.append(Order(
            id: id, session: session, clOrdID: clOrdID, clOrdIDs: chain, orderID: r.orderID?.string,
            account: account, clientAccount: configuration.accounts[account], instrument: instrument,
            side: side, currency: r.currency?.string ?? configuration.defaultCurrency, orderQty: qty,
            price: r.price?.decimal, status: .pendingNew, cumQty: .zero, leavesQty: qty, notional: .zero, avgPx: .zero))
        orderSlots.append(OrderSlots())
        for c in chain { orderIndex[OrderKey(session: sid, clOrdID: c)] = id }
        return id
    }

    /// Leaves, AvgPx and the quantity checks after any change to an order.
    private func finishOrder(_ order: inout Order, _ r: ReportFields, key: ExecutionKey, clOrdID: String,
                             source: SourcePosition, checkOverfill: Bool, exceptions pending: inout [BookException]) {
        order.leavesQty = order.status.isTerminal || order.cumQty >= order.orderQty
            ? .zero : order.orderQty.minus(order.cumQty)
        order.avgPx = order.cumQty == .zero ? .zero
            : AverageCost.proportion(order.notional, part: 1, of: order.cumQty, scale: configuration.priceScale)
        if checkOverfill && order.cumQty > order.orderQty {
            pending.append(exception(.overfill, "CumQty \(order.cumQty) exceeds OrderQty \(order.orderQty)",
                                     key.session, key.execID, clOrdID, source))
        }
        if let reported = r.cumQty?.decimal, reported != order.cumQty {
            pending.append(exception(.cumQtyMismatch,
                                     "report says CumQty \(reported), booked fills sum to \(order.cumQty)",
                                     key.session, key.execID, clOrdID, source))
        }
    }

    /// Cancelled, rejected and expired orders stay so: a late or replayed report of another
    /// kind does not reopen them. Filled stays filled unless a correction or bust lowers CumQty.
    static func isFinal(_ status: OrderStatus) -> Bool {
        status == .cancelled || status == .rejected || status == .expired
    }

    /// The status after a fill or a change of quantity: New, PartiallyFilled and Filled follow
    /// CumQty; a pending or held status stays until the order is fully filled; final ones stay.
    static func derivedStatus(_ status: OrderStatus, cum: FIXDecimal, qty: FIXDecimal) -> OrderStatus {
        switch status {
        case .new, .partiallyFilled, .filled, .pendingNew:
            if cum == .zero { return status == .pendingNew ? .pendingNew : .new }
            return cum >= qty ? .filled : .partiallyFilled
        case .cancelled, .rejected, .expired, .doneForDay:
            return status
        case .pendingCancel, .pendingReplace, .stopped, .suspended, .calculated, .acceptedForBidding:
            return cum > .zero && cum >= qty ? .filled : status
        }
    }

    /// The status after a report whose ExecType names a status.
    static func transition(_ status: OrderStatus, to next: OrderStatus, cum: FIXDecimal,
                           qty: FIXDecimal) -> OrderStatus {
        if isFinal(status) { return status }
        if status == .filled && cum >= qty && cum > .zero { return .filled }
        switch next {
        case .new, .partiallyFilled, .filled:
            return derivedStatus(.new, cum: cum, qty: qty)
        case .pendingNew:
            return cum == .zero && status == .pendingNew ? .pendingNew : derivedStatus(status, cum: cum, qty: qty)
        case .cancelled, .rejected, .expired, .doneForDay:
            return next
        case .pendingCancel, .pendingReplace, .stopped, .suspended, .calculated, .acceptedForBidding:
            return next
        }
    }

    // MARK: - Fills

    private func makeFill(_ r: ReportFields, message: FIXMessage, key: ExecutionKey, order: Order, quantity: FIXDecimal,
                          price: FIXDecimal, source: SourcePosition,
                          exceptions pending: inout [BookException]) -> Fill {
        let currency = r.currency?.string ?? order.currency
        let gross = quantity.times(price)
        let (commission, commissionCurrency) = self.commission(r, currency: currency, quantity: quantity, gross: gross,
                                                               key: key, clOrdID: order.clOrdID, source: source,
                                                               exceptions: &pending)
        let fees = r.hasMiscFees
            ? self.fees(message, from: r.miscFeesOffset, currency: currency, quantity: quantity, gross: gross, key: key,
                        clOrdID: order.clOrdID, source: source, exceptions: &pending)
            : []
        let tradeDate = self.tradeDate(r)
        let settlementDate = r.settlDate?.date ?? configuration.settlement.settlementDate(for: tradeDate)
        let account = accountIdentifier(r) ?? order.account
        return Fill(
            id: fills.count, session: key.session, execID: key.execID, orderID: order.id,
            clientAccount: configuration.accounts[account], instrument: order.instrument, side: order.side,
            quantity: quantity, price: price, currency: currency, commission: commission,
            commissionCurrency: commissionCurrency, fees: fees, tradeDate: tradeDate, settlementDate: settlementDate,
            transactTime: r.transactTime?.timestamp, state: .booked, source: source)
    }

    /// TradeDate(75), else the UTC date of TransactTime(60), else of SendingTime(52). A report
    /// with none of them is dated 1970-01-01, which no real report is: it shows up in any
    /// per-day view at once.
    private func tradeDate(_ r: ReportFields) -> FIXDate {
        if let d = r.tradeDate?.date { return d }
        if let t = r.transactTime?.timestamp { return t.date }
        if let t = r.sendingTime?.timestamp { return t.date }
        return FIXDate(year: 1970, month: 1, day: 1)!
    }

    /// Commission(12) by CommType(13): 1 per unit (× LastQty), 2 percent (of LastQty × LastPx),
    /// 3 absolute, missing → absolute; 4 and 5 (percentage, waived) as 2. Others are taken as
    /// absolute and raise `commissionTypeUnsupported`.
    private func commission(_ r: ReportFields, currency: String, quantity: FIXDecimal, gross: FIXDecimal,
                            key: ExecutionKey, clOrdID: String, source: SourcePosition,
                            exceptions pending: inout [BookException]) -> (FIXDecimal, String) {
        let commissionCurrency = r.commCurrency?.string ?? currency
        guard let value = r.commission?.decimal else { return (.zero, commissionCurrency) }
        let type = r.commType?.char ?? UInt8(ascii: "3")
        let amount: FIXDecimal?
        switch type {
        case UInt8(ascii: "1"): amount = value.times(quantity)
        case UInt8(ascii: "2"), UInt8(ascii: "4"), UInt8(ascii: "5"): amount = percent(value, of: gross)
        case UInt8(ascii: "3"): amount = value
        default:
            pending.append(exception(.commissionTypeUnsupported,
                                     "CommType \(r.commType?.string ?? "") taken as absolute",
                                     key.session, key.execID, clOrdID, source))
            amount = value
        }
        return (amount ?? value, commissionCurrency)
    }

    /// MiscFees by MiscFeeBasis(891): 0 or missing absolute, 1 per unit, 2 percentage.
    private func fees(_ message: FIXMessage, from offset: Int, currency: String, quantity: FIXDecimal, gross: FIXDecimal,
                      key: ExecutionKey, clOrdID: String, source: SourcePosition,
                      exceptions pending: inout [BookException]) -> [Fee] {
        var result: [Fee] = []
        for raw in readMiscFees(message, from: offset) {
            guard let value = raw.amount else { continue }
            let amount: FIXDecimal?
            switch raw.basis ?? 0 {
            case 0: amount = value
            case 1: amount = value.times(quantity)
            case 2: amount = percent(value, of: gross)
            default:
                pending.append(exception(.feeBasisUnsupported, "MiscFeeBasis \(raw.basis ?? 0) taken as absolute",
                                         key.session, key.execID, clOrdID, source))
                amount = value
            }
            result.append(Fee(amount: amount ?? value, currency: raw.currency ?? currency, type: raw.type ?? ""))
        }
        return result
    }

    /// `rate` percent of `amount`: the product with the exponent lowered by two.
    private func percent(_ rate: FIXDecimal, of amount: FIXDecimal) -> FIXDecimal? {
        let product = rate.times(amount)
        return FIXDecimal.fitting(Int128(product.mantissa), exponent: Int(product.exponent) - 2)
    }

    func isBusted(_ fill: Fill) -> Bool {
        if case .busted = fill.state { return true }
        return false
    }

    /// What a fill does to cash, per currency: a buy pays quantity × price, a sell receives it;
    /// commission and every fee are paid in their own currency. A busted fill does nothing.
    func cashEffect(_ fill: Fill) -> [(String, FIXDecimal)] {
        if isBusted(fill) { return [] }
        let gross = fill.quantity.times(fill.price)
        var deltas: [(String, FIXDecimal)] = [(fill.currency, fill.side.sign > 0 ? -gross : gross)]
        if fill.commission != .zero { add(-fill.commission, fill.commissionCurrency, to: &deltas) }
        for fee in fill.fees where fee.amount != .zero { add(-fee.amount, fee.currency, to: &deltas) }
        return deltas
    }

    private func add(_ amount: FIXDecimal, _ currency: String, to deltas: inout [(String, FIXDecimal)]) {
        if let i = deltas.firstIndex(where: { $0.0 == currency }) {
            deltas[i].1 = deltas[i].1.plus(amount)
        } else {
            deltas.append((currency, amount))
        }
    }

    // MARK: - Positions and cash

    private mutating func bookPosition(_ fill: Fill, account: String, key: ExecutionKey, source: SourcePosition,
                                       events: inout [BookEvent], exceptions pending: inout [BookException]) {
        let index: Int
        if orderSlots[fill.orderID].position >= 0 {
            index = Int(orderSlots[fill.orderID].position)
        } else {
            index = findOrMakePosition(account: account, fill: fill)
            orderSlots[fill.orderID].position = Int32(index)
        }
        // A position made by this fill has its currency; one found may have another.
        if positionStates[index].position.currency != fill.currency {
            pending.append(exception(.currencyMismatch, "fill in \(fill.currency), position in "
                                     + positionStates[index].position.currency, key.session, key.execID, nil, source))
        }
        positionStates[index].fillIDs.append(fill.id)
        positionStates[index].cost.apply(signedQuantity: fill.signedQuantity, price: fill.price,
                                         amountScale: configuration.amountScale)
        publishPosition(index, events: &events)
    }

    /// The index of the position of `account` in the fill's instrument, made (flat, in the
    /// fill's currency) when the account never traded it.
    mutating func findOrMakePosition(account: String, fill: Fill) -> Int {
        let pk = PositionKey(account: names.id(account), instrument: names.id(fill.instrument))
        if let i = positionIndex[pk] { return i }
        let index = positionStates.count
        positionIndex[pk] = index
        positionStates.append(PositionState(position: Position(
            clientAccount: account, instrument: fill.instrument, currency: fill.currency, quantity: .zero,
            costBasis: .zero, averageCost: .zero, realisedPnL: .zero)))
        return index
    }

    /// Replays every fill of the position in booking order: average cost is path-dependent, so
    /// a changed past fill changes everything after it.
    private mutating func rederivePosition(account: String, instrument: String, events: inout [BookEvent]) {
        guard let account = names.existing(account), let instrument = names.existing(instrument),
              let index = positionIndex[PositionKey(account: account, instrument: instrument)] else { return }
        var cost = AverageCost()
        for id in positionStates[index].fillIDs {
            let f = fills[id]
            if isBusted(f) { continue }
            cost.apply(signedQuantity: f.signedQuantity, price: f.price, amountScale: configuration.amountScale)
        }
        positionStates[index].cost = cost
        publishPosition(index, events: &events)
    }

    mutating func publishPosition(_ index: Int, events: inout [BookEvent]) {
        let before = positionStates[index].position
        var p = before
        let cost = positionStates[index].cost
        p.quantity = cost.quantity
        p.costBasis = cost.costBasis
        p.realisedPnL = cost.realised
        p.averageCost = cost.averageCost(scale: configuration.priceScale)
        positionStates[index].position = p
        if p != before { events.append(.positionChanged(p)) }
    }

    /// Moves the cash of `account` by each delta; `order` (the fill's) lets the balance in the
    /// order's currency be found through the order's slot.
    mutating func moveCash(account: String, deltas: [(String, FIXDecimal)], order: Int, events: inout [BookEvent]) {
        for (currency, amount) in deltas where amount != .zero {
            let ordersCurrency = currency == orders[order].currency
            let index: Int
            if ordersCurrency && orderSlots[order].cash >= 0 {
                index = Int(orderSlots[order].cash)
            } else {
                let ck = CashKey(account: names.id(account), currency: names.id(currency))
                if let i = cashIndex[ck] {
                    index = i
                } else {
                    index = cashBalances.count
                    cashIndex[ck] = index
                    cashBalances.append(CashBalance(clientAccount: account, currency: currency, amount: .zero))
                }
                if ordersCurrency { orderSlots[order].cash = Int32(index) }
            }
            cashBalances[index].amount = cashBalances[index].amount.plus(amount)
            events.append(.cashChanged(cashBalances[index]))
        }
    }

    // MARK: - Accounts, instruments, exceptions

    /// The configured party's PartyID when the source is a party role and the report has it,
    /// else Account(1).
    private func accountIdentifier(_ r: ReportFields) -> String? {
        (r.partyAccount ?? r.account)?.string
    }

    /// Symbol(55), else SecurityID(48) qualified by its source (22) as `48:22:value`.
    private func instrument(_ r: ReportFields) -> String? {
        if let symbol = r.symbol { return symbol.string }
        if let id = r.securityID { return "48:" + (r.securityIDSource?.string ?? "") + ":" + id.string }
        return nil
    }

    private func exception(_ code: BookException.Code, _ reason: String, _ session: String?, _ execID: String?,
                           _ clOrdID: String?, _ source: SourcePosition) -> BookException {
        BookException(code: code, reason: reason, source: source, session: session, execID: execID, clOrdID: clOrdID)
    }

    private mutating func malformed(_ reason: String, _ r: ReportFields, _ session: String, _ clOrdID: String?,
                                    _ source: SourcePosition, _ events: inout [BookEvent]) {
        guard malformedSeen.insert(source).inserted else { return }
        raise([exception(.reportMalformed, reason, session, r.execID?.string, clOrdID, source)], &events)
    }

    private mutating func raise(_ list: [BookException], _ events: inout [BookEvent]) {
        for e in list {
            exceptions.append(e)
            events.append(.exceptionRaised(e))
        }
    }
}

private func quoted(_ s: String) -> String { s.isEmpty ? "(none)" : s }

struct SessionCache: Sendable {
    var sender: [UInt8]
    var target: [UInt8]
    var name: String
    var id: Int32
}

/// Names (sessions, client accounts, instruments, currencies) as dense ids. One table serves
/// all kinds: a name means the same id wherever it appears, and the keys below say which kind
/// each field is.
struct NameTable: Sendable {
    private(set) var names: [String] = []
    private var ids: [String: Int32] = [:]

    /// The name's id, assigned on first use.
    mutating func id(_ name: String) -> Int32 {
        if let id = ids[name] { return id }
        let id = Int32(names.count)
        names.append(name)
        ids[name] = id
        return id
    }

    /// The name's id, or nil when the book has never seen it.
    func existing(_ name: String) -> Int32? { ids[name] }
}

struct OrderSlots: Sendable {
    var position: Int32 = -1
    var cash: Int32 = -1
}

struct ExecKey: Hashable, Sendable {
    var session: Int32
    var execID: String
}

struct OrderKey: Hashable, Sendable {
    var session: Int32
    var clOrdID: String
}

struct PositionKey: Hashable, Sendable {
    var account: Int32
    var instrument: Int32
}

struct CashKey: Hashable, Sendable {
    var account: Int32
    var currency: Int32
}

/// A position with what it takes to re-derive it: its arithmetic state and its fills.
struct PositionState: Hashable, Sendable {
    var position: Position
    var cost = AverageCost()
    var fillIDs: [Int] = []
}
