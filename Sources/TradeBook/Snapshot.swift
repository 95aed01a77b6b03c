import FIXTagValue

/// Everything a store must keep to rebuild a `TradeBook`: the orders, the fills, the key of
/// every applied report and the exceptions. Positions and cash are not in it: they are
/// functions of the fills, and `TradeBook(configuration:restoring:)` re-derives them, so a
/// store's position and cash rows are a cache it may check against the rebuilt book.
///
/// ```swift
/// let snapshot = BookSnapshot(orders: store.orders(), fills: store.fills(),
///                             executions: store.appliedExecutions(), exceptions: store.exceptions())
/// var book = TradeBook(configuration: config, restoring: snapshot)
/// ```
public struct BookSnapshot: Hashable, Sendable {
    /// Orders with dense ids 0..<count, in id order.
    public var orders: [Order]
    /// Fills with dense ids 0..<count, in id (booking) order.
    public var fills: [Fill]
    /// Every applied report, in any order.
    public var executions: [AppliedExecution]
    public var exceptions: [BookException]

    public init(orders: [Order], fills: [Fill], executions: [AppliedExecution], exceptions: [BookException]) {
        self.orders = orders
        self.fills = fills
        self.executions = executions
        self.exceptions = exceptions
    }
}

extension TradeBook {
    /// The book's state as plain values; executions are sorted by session and ExecID so that
    /// two equal books give equal snapshots.
    public var snapshot: BookSnapshot {
        let applied = executions.map {
            AppliedExecution(key: ExecutionKey(session: names.names[Int($0.key.session)], execID: $0.key.execID),
                             fillID: $0.value >= 0 ? $0.value : nil)
        }
            .sorted { ($0.key.session, $0.key.execID) < ($1.key.session, $1.key.execID) }
        return BookSnapshot(orders: orders, fills: fills, executions: applied, exceptions: exceptions)
    }

    /// Rebuilds a book from a snapshot (typically read back from a store). Ids must be dense
    /// and in order: anything else is a store bug, so it is a precondition.
    public init(configuration: BookConfiguration, restoring snapshot: BookSnapshot) {
        self.init(configuration: configuration)
        for (i, order) in snapshot.orders.enumerated() {
            precondition(order.id == i, "snapshot orders must have dense ids in order")
            let sid = names.id(order.session)
            for c in order.clOrdIDs { orderIndex[OrderKey(session: sid, clOrdID: c)] = i }
        }
        orders = snapshot.orders
        orderSlots = Array(repeating: OrderSlots(), count: orders.count)
        fills = snapshot.fills
        exceptions = snapshot.exceptions
        for e in snapshot.executions {
            executions[ExecKey(session: names.id(e.key.session), execID: e.key.execID)] = e.fillID ?? -1
        }
        for e in snapshot.exceptions where e.code == .reportMalformed { malformedSeen.insert(e.source) }
        var ignored: [BookEvent] = []
        for (i, fill) in snapshot.fills.enumerated() {
            precondition(fill.id == i, "snapshot fills must have dense ids in order")
            precondition(fill.orderID >= 0 && fill.orderID < orders.count, "snapshot fill names no order")
            guard let account = fill.clientAccount else { continue }
            let index = findOrMakePosition(account: account, fill: fill)
            positionStates[index].fillIDs.append(i)
            if !isBusted(fill) {
                positionStates[index].cost.apply(signedQuantity: fill.signedQuantity, price: fill.price,
                                                 amountScale: configuration.amountScale)
            }
            publishPosition(index, events: &ignored)
            moveCash(account: account, deltas: cashEffect(fill), order: fill.orderID, events: &ignored)
            ignored.removeAll(keepingCapacity: true)
        }
    }
}
