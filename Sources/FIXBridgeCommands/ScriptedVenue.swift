import FIXSession
import FIXTagValue
import FIXTransport
import NIOConcurrencyHelpers

/// The venue of a recorded day (`fixbridge venue record`): answers the broker's orders by the
/// venue's rules, and executes, corrects, busts and expires them when the scenario says so.
///
/// - NewOrderSingle: Reject (ExecType 8) for an unknown symbol, an account the venue refuses
///   (`reject-account`), or a limit outside the price collar around the reference price;
///   otherwise New (ExecType 0). Orders rest until the scenario fills them.
/// - OrderCancelRequest: Canceled (4), or Pending Cancel (6) first when the scenario asks for it;
///   OrderCancelReject for an unknown or closed order.
/// - OrderCancelReplaceRequest: Replaced (5) with the new quantity and limit.
/// - Fills (F) carry Commission(12)/CommType(13)=3, the instrument's MiscFees group and
///   SettlDate(64) (SettlType(63)=2 for next-day settlement); a correction (G) and a bust (H)
///   name the fill by ExecRefID(19).
///
/// Every ExecutionReport also goes out on the drop-copy session with CopyMsgIndicator(797)=Y and
/// without the charges (a drop copy reports executions); the desk's orders go out there only.
/// The venue keeps a register of its executions, from which it writes its end-of-day statement.
final class ScriptedVenue: FIXApplication, @unchecked Sendable {
    struct Fill {
        var execID: String
        var quantity: FIXDecimal
        var price: FIXDecimal
        var live = true
        var charges: Charges
    }

    struct Charges {
        var commission: FIXDecimal
        /// Amount, currency, MiscFeeType(139).
        var fees: [(amount: FIXDecimal, currency: String, type: String)]
        var total: FIXDecimal { fees.reduce(commission) { $0 + $1.amount } }
    }

    final class Order {
        let entry: DayScenario.OrderEntry
        let instrument: DayScenario.Instrument
        var clOrdID: String
        var origClOrdID: String?
        var orderID: String
        var quantity: FIXDecimal
        var limit: FIXDecimal?
        var status = "0"
        var fills: [Fill] = []
        /// False once cancelled, expired, rejected or filled.
        var open = true
        /// Entered at the venue's desk: reported on the drop copy only.
        let desk: Bool
        let settlement: FIXDate

        init(entry: DayScenario.OrderEntry, instrument: DayScenario.Instrument, clOrdID: String, orderID: String,
             desk: Bool, settlement: FIXDate) {
            self.entry = entry
            self.instrument = instrument
            self.clOrdID = clOrdID
            self.orderID = orderID
            self.quantity = entry.quantity
            self.limit = entry.limit
            self.desk = desk
            self.settlement = settlement
        }

        var cumQty: FIXDecimal { fills.filter(\.live).reduce(FIXDecimal.zero) { $0 + $1.quantity } }

        var averagePrice: FIXDecimal {
            let live = fills.filter(\.live)
            let cum = cumQty
            guard cum > .zero else { return .zero }
            let notional = live.reduce(FIXDecimal.zero) { $0 + $1.quantity * $1.price }
            return (notional.divided(by: cum, scale: 6) ?? .zero).normalized
        }
    }

    /// One execution in the venue's register, in the order it happened.
    struct Execution {
        var order: Order
        var fillIndex: Int
    }

    let scenario: DayScenario
    private let lock = NIOLock()
    private var orders: [String: Order] = [:]  // by every ClOrdID of its chain; guarded by lock
    private var ordersInOrder: [Order] = []  // as accepted; guarded by lock
    private var holdCancels: Set<String> = []  // ClOrdIDs whose next cancel is pending first; guarded by lock
    private(set) var register: [Execution] = []  // guarded by lock
    private var nextOrder: Int
    private var nextExec: Int
    /// Set by the recorder once the sessions exist.
    var orderSession: FIXSessionRuntime?
    var dropCopySession: FIXSessionRuntime?
    let clock: any FIXRuntimeClock

    init(scenario: DayScenario, clock: any FIXRuntimeClock) {
        self.scenario = scenario
        self.clock = clock
        nextOrder = scenario.orderIDStart
        nextExec = scenario.execIDStart
    }

    // MARK: The broker's messages

    func fromApp(_ message: [UInt8], session: FIXSessionRuntime) {
        message.withUnsafeBytes { raw in
            let view = FIXMessage(unchecked: raw, lenient: true)
            switch view.msgType?.string {
            case "D": newOrder(view)
            case "F": cancelRequest(view)
            case "G": replaceRequest(view)
            default: break
            }
        }
    }

    private func newOrder(_ view: FIXMessage) {
        let clOrdID = view.first(11)?.string ?? "NONE"
        let symbol = view.first(55)?.string ?? ""
        let account = view.first(1)?.string ?? ""
        let side: DayScenario.Side = view.first(54)?.char == UInt8(ascii: "2") ? .sell : .buy
        let limit = view.first(44)?.decimal
        let entry = DayScenario.OrderEntry(ref: clOrdID, account: account, side: side,
                                           quantity: view.first(38)?.decimal ?? .zero, symbol: symbol, limit: limit,
                                           nextDay: view.first(63)?.string == "2")
        guard let instrument = scenario.instruments[symbol] else {
            let unknown = DayScenario.Instrument(symbol: symbol, currency: "", reference: .zero, decimals: 2, fees: [])
            rejectOrder(entry, instrument: unknown, clOrdID: clOrdID, text: "Unknown symbol")
            return
        }
        if let text = scenario.rejectedAccounts[account] {
            rejectOrder(entry, instrument: instrument, clOrdID: clOrdID, text: text)
            return
        }
        if let collar = scenario.collarPercent, let limit {
            let band = (instrument.reference * collar).divided(by: FIXDecimal(100), scale: 8) ?? .zero
            if limit < instrument.reference - band || limit > instrument.reference + band {
                rejectOrder(entry, instrument: instrument, clOrdID: clOrdID, text: "Price outside collar")
                return
            }
        }
        let order = accept(entry, instrument: instrument, clOrdID: clOrdID, desk: false)
        report(order, execType: "0")
    }

    private func rejectOrder(_ entry: DayScenario.OrderEntry, instrument: DayScenario.Instrument, clOrdID: String,
                             text: String) {
        let order = accept(entry, instrument: instrument, clOrdID: clOrdID, desk: false)
        lock.withLock {
            order.open = false
            order.status = "8"
        }
        report(order, execType: "8", text: text)
    }

    /// Registers an order under the next OrderID.
    private func accept(_ entry: DayScenario.OrderEntry, instrument: DayScenario.Instrument, clOrdID: String,
                        desk: Bool) -> Order {
        lock.withLock {
            let orderID = scenario.orderIDPrefix + String(nextOrder)
            nextOrder += 1
            let order = Order(entry: entry, instrument: instrument, clOrdID: clOrdID, orderID: orderID, desk: desk,
                              settlement: settlementDate(nextDay: entry.nextDay))
            orders[clOrdID] = order
            ordersInOrder.append(order)
            return order
        }
    }

    private func cancelRequest(_ view: FIXMessage) {
        guard let orig = view.first(41)?.string, let clOrdID = view.first(11)?.string else { return }
        let found: (Order, Bool)? = lock.withLock {
            guard let order = orders[orig], order.open else { return nil }
            order.origClOrdID = order.clOrdID
            order.clOrdID = clOrdID
            orders[clOrdID] = order
            return (order, holdCancels.remove(orig) != nil)
        }
        guard let (order, pending) = found else {
            cancelReject(clOrdID: clOrdID, orig: orig, responseTo: "1")
            return
        }
        if pending {
            lock.withLock { order.status = "6" }
            report(order, execType: "6", withOrig: true)
        } else {
            finishCancel(order)
        }
    }

    private func finishCancel(_ order: Order) {
        lock.withLock {
            order.open = false
            order.status = "4"
        }
        report(order, execType: "4", withOrig: true)
    }

    private func replaceRequest(_ view: FIXMessage) {
        guard let orig = view.first(41)?.string, let clOrdID = view.first(11)?.string else { return }
        let quantity = view.first(38)?.decimal
        let limit = view.first(44)?.decimal
        let found: Order? = lock.withLock {
            guard let order = orders[orig], order.open else { return nil }
            if let quantity, quantity > order.cumQty { order.quantity = quantity }
            if let limit { order.limit = limit }
            order.origClOrdID = order.clOrdID
            order.clOrdID = clOrdID
            orders[clOrdID] = order
            order.status = Self.fillStatus(order)
            return order
        }
        guard let order = found else {
            cancelReject(clOrdID: clOrdID, orig: orig, responseTo: "2")
            return
        }
        report(order, execType: "5", withOrig: true)
    }

    private func cancelReject(clOrdID: String, orig: String, responseTo: String) {
        orderSession?.send(msgType: "9") { body in
            body.append(11, clOrdID)
            body.append(37, "NONE")
            body.append(39, "8")
            body.append(41, orig)
            body.append(58, "Unknown or closed order")
            body.append(434, responseTo)
        }
    }

    // MARK: The scenario's venue actions

    /// The next cancel request for the order of `clOrdID` is answered Pending Cancel; the
    /// scenario's `cancelled` line completes it.
    func holdNextCancel(of clOrdID: String) {
        _ = lock.withLock { holdCancels.insert(clOrdID) }
    }

    /// Completes a pending cancel.
    func completeCancel(of clOrdID: String) throws {
        guard let order = lock.withLock({ orders[clOrdID] }), order.status == "6" else {
            throw CommandError("no pending cancel for \(clOrdID)")
        }
        finishCancel(order)
    }

    /// An order entered at the venue's desk: New on the drop copy only.
    func deskOrder(_ entry: DayScenario.OrderEntry, clOrdID: String) throws {
        guard let instrument = scenario.instruments[entry.symbol] else {
            throw CommandError("\(entry.symbol): no `instrument` line for it")
        }
        let order = accept(entry, instrument: instrument, clOrdID: clOrdID, desk: true)
        report(order, execType: "0")
    }

    /// An execution of `quantity` at `price`; returns its ExecID. `copyPrice` is the LastPx the
    /// drop copy reports instead of the true one (a seeded difference).
    func fill(_ clOrdID: String, quantity: FIXDecimal, price: FIXDecimal, copyPrice: FIXDecimal?) throws -> String {
        let (order, execID): (Order, String) = try lock.withLock {
            guard let order = orders[clOrdID], order.open else {
                throw CommandError("\(clOrdID): no open order to fill")
            }
            guard order.cumQty + quantity <= order.quantity else {
                throw CommandError("\(clOrdID): a fill of \(quantity) exceeds the order's open quantity")
            }
            let execID = newExecID()
            let charges = Self.charges(order.instrument, side: order.entry.side, quantity: quantity, price: price,
                                       scenario: scenario)
            order.fills.append(Fill(execID: execID, quantity: quantity, price: price, charges: charges))
            register.append(Execution(order: order, fillIndex: order.fills.count - 1))
            order.status = Self.fillStatus(order)
            if order.status == "2" { order.open = false }
            return (order, execID)
        }
        report(order, execType: "F", execID: execID, last: (quantity, price), charges: order.fills.last!.charges,
               copyPrice: copyPrice)
        return execID
    }

    /// A trade correction of the order's fill number `fill` (1 is the first).
    func correct(_ clOrdID: String, fill: Int, quantity: FIXDecimal, price: FIXDecimal) throws {
        let (order, ref, charges): (Order, String, Charges) = try lock.withLock {
            guard let order = orders[clOrdID], fill >= 1, fill <= order.fills.count, order.fills[fill - 1].live else {
                throw CommandError("\(clOrdID): no live fill \(fill) to correct")
            }
            let charges = Self.charges(order.instrument, side: order.entry.side, quantity: quantity, price: price,
                                       scenario: scenario)
            order.fills[fill - 1].quantity = quantity
            order.fills[fill - 1].price = price
            order.fills[fill - 1].charges = charges
            if order.status != "4" && order.status != "C" {
                order.status = Self.fillStatus(order)
                order.open = order.status != "2"
            }
            return (order, order.fills[fill - 1].execID, charges)
        }
        report(order, execType: "G", refExecID: ref, last: (quantity, price), charges: charges)
    }

    /// A trade cancel (bust) of the order's fill number `fill`.
    func bust(_ clOrdID: String, fill: Int) throws {
        let (order, ref): (Order, String) = try lock.withLock {
            guard let order = orders[clOrdID], fill >= 1, fill <= order.fills.count, order.fills[fill - 1].live else {
                throw CommandError("\(clOrdID): no live fill \(fill) to bust")
            }
            order.fills[fill - 1].live = false
            if order.status != "4" && order.status != "C" {
                order.status = Self.fillStatus(order)
                order.open = order.status != "2"
            }
            return (order, order.fills[fill - 1].execID)
        }
        report(order, execType: "H", refExecID: ref, settlement: true)
    }

    /// The rest of a day order expires.
    func expire(_ clOrdID: String) throws {
        let order: Order = try lock.withLock {
            guard let order = orders[clOrdID], order.open else {
                throw CommandError("\(clOrdID): no open order to expire")
            }
            order.open = false
            order.status = "C"
            return order
        }
        report(order, execType: "C")
    }

    /// A market's close: every open order of `symbols` expires (day orders), in the order the
    /// venue accepted them.
    func close(symbols: Set<String>) {
        let expiring: [Order] = lock.withLock {
            let open = ordersInOrder.filter { $0.open && symbols.contains($0.entry.symbol) }
            for order in open {
                order.open = false
                order.status = "C"
            }
            return open
        }
        for order in expiring { report(order, execType: "C") }
    }

    // MARK: Reports

    private func newExecID() -> String {
        defer { nextExec += 1 }
        return scenario.execIDPrefix + String(nextExec)
    }

    static func fillStatus(_ order: Order) -> String {
        let cum = order.cumQty
        return cum >= order.quantity ? "2" : cum > .zero ? "1" : "0"
    }

    /// Commission (at least the minimum) and the instrument's fees (at least 0.01 each), rounded
    /// to cents.
    static func charges(_ instrument: DayScenario.Instrument, side: DayScenario.Side, quantity: FIXDecimal,
                        price: FIXDecimal, scenario: DayScenario) -> Charges {
        let notional = quantity * price
        let cent = FIXDecimal(mantissa: 1, exponent: -2)
        let commission = max((notional * scenario.commissionRate).rounded(scale: 2),
                             scenario.commissionMinimum.rounded(scale: 2))
        var fees: [(FIXDecimal, String, String)] = []
        for fee in instrument.fees where side == .buy ? fee.onBuys : fee.onSells {
            fees.append((max((notional * fee.rate).rounded(scale: 2), cent), instrument.currency, fee.type))
        }
        return Charges(commission: commission, fees: fees)
    }

    /// The settlement date: `settlementDays` business days after the trade date (one for
    /// next-day settlement), Saturdays and Sundays skipped.
    func settlementDate(nextDay: Bool) -> FIXDate {
        var date = scenario.day
        var left = nextDay ? 1 : scenario.settlementDays
        while left > 0 {
            date = date.adding(days: 1)
            if date.weekday <= 5 { left -= 1 }
        }
        return date
    }

    /// Sends one ExecutionReport on the order session (unless a desk order) and its copy on the
    /// drop-copy session.
    private func report(_ order: Order, execType: String, execID: String? = nil, refExecID: String? = nil,
                        last: (FIXDecimal, FIXDecimal)? = nil, charges: Charges? = nil, text: String? = nil,
                        withOrig: Bool = false, settlement: Bool = false, copyPrice: FIXDecimal? = nil) {
        let snapshot: (status: String, clOrdID: String, orig: String?, quantity: FIXDecimal, limit: FIXDecimal?,
                       cum: FIXDecimal, avg: FIXDecimal, execID: String) = lock.withLock {
            (order.status, order.clOrdID, order.origClOrdID, order.quantity, order.limit, order.cumQty,
             order.averagePrice, execID ?? newExecID())
        }
        let now = clock.now().with(precision: .milliseconds)
        let terminal = ["2", "4", "8", "C"].contains(snapshot.status)
        let leaves = terminal ? FIXDecimal.zero : snapshot.quantity - snapshot.cum
        let instrument = order.instrument
        func body(_ w: inout FIXWriter, copy: Bool) {
            w.append(37, order.orderID)
            w.append(11, snapshot.clOrdID)
            if withOrig, let orig = snapshot.orig { w.append(41, orig) }
            w.append(17, snapshot.execID)
            if let refExecID { w.append(19, refExecID) }
            w.append(150, execType)
            w.append(39, snapshot.status)
            w.append(1, order.entry.account)
            w.append(55, order.entry.symbol)
            w.append(54, char: order.entry.side.fix)
            w.append(38, snapshot.quantity)
            w.append(40, char: snapshot.limit == nil ? UInt8(ascii: "1") : UInt8(ascii: "2"))
            if let limit = snapshot.limit { w.append(44, limit.rounded(scale: instrument.decimals)) }
            w.append(59, char: UInt8(ascii: "0"))
            if let (quantity, price) = last {
                w.append(32, quantity)
                w.append(31, (copy ? copyPrice ?? price : price).rounded(scale: instrument.decimals))
            }
            w.append(151, leaves)
            w.append(14, snapshot.cum)
            w.append(6, snapshot.avg)
            w.append(15, instrument.currency)
            w.append(75, scenario.day)
            w.append(60, now)
            if last != nil || settlement {
                if order.entry.nextDay { w.append(63, char: UInt8(ascii: "2")) }
                w.append(64, order.settlement)
            }
            if let charges, !copy {
                w.append(12, charges.commission)
                w.append(13, char: UInt8(ascii: "3"))
            }
            if let text { w.append(58, text) }
            if let charges, !copy, !charges.fees.isEmpty {
                w.append(136, charges.fees.count)
                for fee in charges.fees {
                    w.append(137, fee.amount)
                    w.append(138, fee.currency)
                    w.append(139, fee.type)
                }
            }
            if copy { w.append(797, true) }
        }
        if !order.desk { orderSession?.send(msgType: "8") { body(&$0, copy: false) } }
        dropCopySession?.send(msgType: "8") { body(&$0, copy: true) }
    }

    // MARK: The end-of-day statement

    /// The venue's end-of-day trade statement in the layout of
    /// `Specs/mappings/venue-daily-trades.ini`: one line per live execution (corrections applied,
    /// busts left out), with the scenario's seeded differences applied to the executions named.
    func statement(seeds: [String: [DayScenario.StatementSeed]]) -> String {
        var lines = ["TradeDate,ExecId,OrderId,Account,Symbol,Side,Qty,Price,Currency,SettleDate,Fee"]
        lock.withLock {
            for execution in register {
                let order = execution.order
                let fill = order.fills[execution.fillIndex]
                guard fill.live else { continue }
                var quantity = fill.quantity
                var fee = fill.charges.total
                var settle = order.settlement
                var copies = 1
                for seed in seeds[fill.execID] ?? [] {
                    switch seed {
                    case .quantity(let delta): quantity = quantity + delta
                    case .fee(let delta): fee = fee + delta
                    case .settlement(let date): settle = date
                    case .omit: copies = 0
                    case .duplicate: copies = 2
                    }
                }
                let line = [
                    scenario.day.description, fill.execID, order.orderID, order.entry.account, order.entry.symbol,
                    order.entry.side.statement, quantity.description,
                    fill.price.rounded(scale: order.instrument.decimals).description, order.instrument.currency,
                    settle.description, fee.rounded(scale: 2).description,
                ].joined(separator: ",")
                for _ in 0..<copies { lines.append(line) }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// The broker's side of a recorded day: its sessions only record; the recorder sends its orders.
final class RecordingBroker: FIXApplication, @unchecked Sendable {
    func fromApp(_ message: [UInt8], session: FIXSessionRuntime) {}
}
