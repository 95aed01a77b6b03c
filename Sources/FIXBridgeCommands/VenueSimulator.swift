import FIXSession
import FIXTagValue
import FIXTransport
import NIOConcurrencyHelpers

/// A simulated venue: answers orders the way an exchange's order entry does, for demos, tests
/// and the captures later stages need.
///
/// - NewOrderSingle: Reject (ExecType 8) when a required field is missing or invalid, or when
///   the Symbol is `REJECT`; otherwise an acknowledgement (ExecType 0). A marketable order (a
///   market order, or a limit at or through the symbol's reference price) then gets
///   `fillsPerOrder` executions (partial fills, the last one completing it) at its limit (market
///   orders at the reference price); a limit away from the reference price rests until it is
///   cancelled or replaced to a marketable price. A symbol's reference price is the first limit
///   price seen for it (or `referencePrices`).
/// - OrderCancelRequest: Canceled (ExecType 4) for an open order, OrderCancelReject otherwise.
/// - OrderCancelReplaceRequest: Replaced (ExecType 5) with the new quantity and price.
/// - Text(58) `CORRECT` on an order: after its last fill, a trade correction (ExecType G,
///   ExecRefID = that fill's ExecID, price +1%); `BUST`: a trade cancel (ExecType H).
///
/// FIX 4.0–4.2 sessions get ExecTransType(20) and ExecType 1/2 for partial and full fills (and
/// LastShares); FIX 4.3 and later get ExecType F (Trade) and LastQty.
public final class VenueSimulator: FIXApplication, @unchecked Sendable {
    public let venueID: String
    public let fillsPerOrder: Int
    /// Reference prices by symbol; the first limit price seen sets one that is missing, and
    /// market orders on a symbol without one fill at 100.
    private var referencePrices: [String: FIXDecimal]  // guarded by lock
    public let onEvent: @Sendable (String) -> Void
    /// False leaves out the ORDER and EXEC lines (one per message), which cost more than a
    /// busy venue wants to pay for lines nobody reads.
    public let messageEvents: Bool

    private struct Order {
        var clOrdID: String
        var orderID: String
        var symbol: String
        var side: UInt8
        var quantity: FIXDecimal
        var price: FIXDecimal?
        var cumQty: FIXDecimal = .zero
        var notional: FIXDecimal = .zero
        var open = true
        var account: String?
    }

    private let lock = NIOLock()
    private var orders: [String: Order] = [:]  // by ClOrdID, guarded by lock
    private var nextExec = 1
    private var nextOrder = 1

    public init(venueID: String = "SIMX", fillsPerOrder: Int = 2, referencePrices: [String: FIXDecimal] = [:],
                messageEvents: Bool = true, onEvent: @escaping @Sendable (String) -> Void = { _ in }) {
        precondition(fillsPerOrder >= 1, "an order fills in at least one execution")
        self.referencePrices = referencePrices
        self.venueID = venueID
        self.fillsPerOrder = fillsPerOrder
        self.onEvent = onEvent
        self.messageEvents = messageEvents
    }

    public func onLogon(_ session: FIXSessionRuntime) { onEvent("LOGON \(session.id)") }
    public func onLogout(_ session: FIXSessionRuntime) { onEvent("LOGOUT \(session.id)") }

    public func fromApp(_ message: [UInt8], session: FIXSessionRuntime) {
        message.withUnsafeBytes { raw in
            let view = FIXMessage(unchecked: raw, lenient: true)
            guard let type = view.msgType?.string else { return }
            switch type {
            case "D": newOrder(view, session: session)
            case "F": cancel(view, session: session)
            case "G": replace(view, session: session)
            default: break
            }
        }
    }

    private func newID(_ counter: inout Int, _ prefix: String) -> String {
        defer { counter += 1 }
        return "\(venueID)-\(prefix)\(counter)"
    }

    private func newOrder(_ view: FIXMessage, session: FIXSessionRuntime) {
        // One pass over the order's fields (the first occurrence of each tag counts).
        var clOrdID: String?, symbol: String?, account: String?, instruction: String?
        var side: UInt8?, ordType: UInt8?
        var quantity: FIXDecimal?, price: FIXDecimal?
        for field in view {
            switch field.tag {
            case 1 where account == nil: account = field.value.string
            case 11 where clOrdID == nil: clOrdID = field.value.string
            case 38 where quantity == nil: quantity = field.value.decimal
            case 40 where ordType == nil: ordType = field.value.char
            case 44 where price == nil: price = field.value.decimal
            case 54 where side == nil: side = field.value.char
            case 55 where symbol == nil: symbol = field.value.string
            case 58 where instruction == nil: instruction = field.value.string
            default: break
            }
        }
        var problem: String?
        if clOrdID == nil { problem = "ClOrdID missing" }
        else if symbol == nil || symbol == "REJECT" { problem = "unknown symbol" }
        else if side == nil || !"12".utf8.contains(side!) && !"56".utf8.contains(side!) { problem = "invalid side" }
        else if quantity == nil || quantity! <= .zero { problem = "invalid quantity" }
        else if ordType == UInt8(ascii: "2") && price == nil { problem = "limit order without price" }
        if messageEvents { onEvent("ORDER \(clOrdID ?? "?")") }
        var order = Order(clOrdID: clOrdID ?? "NONE", orderID: "NONE", symbol: symbol ?? "?", side: side ?? UInt8(ascii: "1"),
                          quantity: quantity ?? .zero, price: price, account: account)
        if let problem {
            report(order, execType: "8", status: "8", session: session, text: problem)
            return
        }
        lock.withLock {
            order.orderID = newID(&nextOrder, "O")
            orders[order.clOrdID] = order
        }
        report(order, execType: "0", status: "0", session: session)
        execute(order, instruction: instruction, session: session)
    }

    /// Whether `order` trades against the symbol's reference price (setting it when missing).
    private func isMarketable(_ order: Order) -> (Bool, FIXDecimal) {
        lock.withLock {
            guard let price = order.price else { return (true, referencePrices[order.symbol] ?? FIXDecimal(100)) }
            let reference = referencePrices[order.symbol] ?? price
            referencePrices[order.symbol] = reference
            let buy = order.side == UInt8(ascii: "1")
            return (buy ? price >= reference : price <= reference, price)
        }
    }

    /// Fills a marketable order in `fillsPerOrder` executions; a resting order waits.
    private func execute(_ order: Order, instruction: String?, session: FIXSessionRuntime) {
        var order = order
        let (marketable, fillPrice) = isMarketable(order)
        guard marketable, order.open else { return }
        var lastExecID = ""
        var lastFillQty = FIXDecimal.zero
        for i in 1...fillsPerOrder {
            let remaining = order.quantity - order.cumQty
            let slice = i == fillsPerOrder ? remaining : (order.quantity.divided(by: FIXDecimal(fillsPerOrder), scale: 0) ?? remaining)
            guard slice > .zero else { continue }
            order.cumQty += slice
            order.notional += slice * fillPrice
            let done = order.cumQty == order.quantity
            order.open = !done
            lastFillQty = slice
            lastExecID = report(order, execType: "F", status: done ? "2" : "1", session: session, last: (slice, fillPrice))
        }
        lock.withLock { orders[order.clOrdID] = order }
        if instruction == "CORRECT" || instruction == "BUST" {
            let corrected = instruction == "CORRECT"
            let newPrice = (fillPrice * FIXDecimal("1.01")!).rounded(scale: 2)
            report(order, execType: corrected ? "G" : "H", status: "2", session: session,
                   last: corrected ? (lastFillQty, newPrice) : nil,
                   refExecID: lastExecID)
        }
    }

    private func cancel(_ view: FIXMessage, session: FIXSessionRuntime) {
        guard let orig = view.first(41)?.string, let clOrdID = view.first(11)?.string else { return }
        let found: Order? = lock.withLock {
            guard var order = orders[orig], order.open else { return nil }
            order.open = false
            order.clOrdID = clOrdID
            orders[clOrdID] = order
            return order
        }
        guard let order = found else {
            session.send(msgType: "9") { body in
                body.append(11, clOrdID)
                body.append(37, "NONE")
                body.append(39, char: UInt8(ascii: "8"))
                body.append(41, orig)
                body.append(58, "unknown or closed order")
                body.append(434, char: UInt8(ascii: "1"))
            }
            return
        }
        report(order, execType: "4", status: "4", session: session, orig: orig)
    }

    private func replace(_ view: FIXMessage, session: FIXSessionRuntime) {
        guard let orig = view.first(41)?.string, let clOrdID = view.first(11)?.string else { return }
        let quantity = view.first(38)?.decimal
        let price = view.first(44)?.decimal
        let found: Order? = lock.withLock {
            guard var order = orders[orig], order.open else { return nil }
            if let quantity, quantity > order.cumQty { order.quantity = quantity }
            if let price { order.price = price }
            order.clOrdID = clOrdID
            orders[clOrdID] = order
            return order
        }
        guard let order = found else {
            session.send(msgType: "9") { body in
                body.append(11, clOrdID)
                body.append(37, "NONE")
                body.append(39, char: UInt8(ascii: "8"))
                body.append(41, orig)
                body.append(434, char: UInt8(ascii: "2"))
            }
            return
        }
        report(order, execType: "5", status: order.cumQty > .zero ? "1" : "0", session: session, orig: orig)
        execute(order, instruction: nil, session: session)
    }

    /// Sends one ExecutionReport; returns its ExecID.
    @discardableResult
    private func report(_ order: Order, execType: String, status: String, session: FIXSessionRuntime,
                        last: (qty: FIXDecimal, px: FIXDecimal)? = nil, text: String? = nil, orig: String? = nil,
                        refExecID: String? = nil) -> String {
        let execID = lock.withLock { newID(&nextExec, "E") }
        let legacy = session.id.beginString < "FIX.4.3"  // FIX 4.0–4.2 conventions
        let leaves = order.open ? order.quantity - order.cumQty : FIXDecimal.zero
        let average = order.cumQty > .zero ? (order.notional.divided(by: order.cumQty, scale: 6) ?? .zero) : .zero
        if messageEvents { onEvent("EXEC \(order.clOrdID) \(execType)") }
        session.send(msgType: "8") { body in
            if let account = order.account { body.append(1, account) }
            body.append(6, average)
            body.append(11, order.clOrdID)
            body.append(14, order.cumQty)
            body.append(17, execID)
            if let refExecID { body.append(19, refExecID) }
            if legacy {
                let transType: UInt8 = execType == "G" ? UInt8(ascii: "2") : execType == "H" ? UInt8(ascii: "1") : UInt8(ascii: "0")
                body.append(20, char: transType)
            }
            if let last {
                body.append(31, last.px)
                body.append(32, last.qty)
            }
            body.append(37, order.orderID)
            body.append(38, order.quantity)
            body.append(39, status)
            if let orig { body.append(41, orig) }
            if let price = order.price { body.append(44, price) }
            body.append(54, char: order.side)
            body.append(55, order.symbol)
            if let text { body.append(58, text) }
            body.append(60, WallClock.now().with(precision: .milliseconds))
            var wireExecType = execType
            if legacy && execType == "F" { wireExecType = status == "2" ? "2" : "1" }
            if legacy && (execType == "G" || execType == "H") { wireExecType = "2" }
            body.append(150, wireExecType)
            body.append(151, leaves)
        }
        return execID
    }
}
