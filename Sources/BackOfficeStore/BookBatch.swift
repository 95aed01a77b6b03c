import FIXTagValue
import TradeBook

/// The book events of a batch of execution reports, turned into one write plan.
///
/// Upserts are coalesced: an order, fill, position or cash balance touched many times in the
/// batch is written once, with its last value, in the order it was first touched (so fills keep
/// their booking order in the table). Applied-report keys and exceptions are inserted as they
/// come. Every statement is idempotent (`ON CONFLICT`), so committing a batch twice — a crash
/// after the commit but before the caller learned of it — changes nothing.
public struct BookBatch: Sendable {
    /// An applied report as the journal stores it, with the names its row needs from the book.
    private struct Execution: Sendable {
        var record: ExecutionRecord
        var fillExecID: String?
        var origin: String?
    }

    private var executions: [Execution] = []
    private var exceptions: [BookException] = []
    private var orders = Coalesced<Int, Order>()
    private var fills = Coalesced<Int, (fill: Fill, origin: String)>()
    private var positions = Coalesced<Key2, Position>()
    private var cash = Coalesced<Key2, CashBalance>()
    private var progress: [String: (offset: Int64, reports: Int64)] = [:]
    public private(set) var reports = 0
    public private(set) var eventCount = 0

    public init() {}

    public var isEmpty: Bool { reports == 0 && eventCount == 0 && progress.isEmpty }

    /// Adds the events `book.apply` produced for one report. `book` is the book after applying
    /// it (fills and orders are looked up by their dense ids).
    ///
    /// Only the values are kept here (copies that share their strings with the book); the SQL
    /// rows are made by `plan()`, so a loader can build the next batch while another thread
    /// turns this one into rows and commits it.
    public mutating func add(_ events: [BookEvent], book: TradeBook) {
        reports += 1
        eventCount += events.count
        for event in events {
            switch event {
            case .executionRecorded(let r):
                // A report that booked its own fill is kept by that fill's row, unique by
                // (session, exec_id); `BookStore.snapshot()` reads it back from there. Only the
                // other reports (acknowledgements, cancels, corrections, busts…) need a row here.
                if let f = r.fillID {
                    let fill = book.fills[f]
                    if fill.execID == r.key.execID && fill.session == r.key.session { continue }
                }
                executions.append(Execution(
                    record: r, fillExecID: r.fillID.map { book.fills[$0].execID },
                    origin: r.orderID.map { Self.origin(book.orders[$0]) }))
            case .orderUpserted(let o):
                orders.set(o.id, o)
            case .fillBooked(let f), .fillCorrected(let f), .fillBusted(let f):
                fills.set(f.id, (f, Self.origin(book.orders[f.orderID])))
            case .positionChanged(let p):
                positions.set(Key2(p.clientAccount, p.instrument), p)
            case .cashChanged(let c):
                cash.set(Key2(c.clientAccount, c.currency), c)
            case .exceptionRaised(let e):
                exceptions.append(e)
            }
        }
    }

    /// Records that `source` is committed up to `offset` (the end of the last report read).
    public mutating func markProgress(source: String, offset: Int64, reports: Int64) {
        progress[source] = (offset, reports)
    }

    /// The statements, in an order that respects references (orders before fills).
    public func plan() -> [SQLStatement] {
        var plan: [SQLStatement] = []
        if !orders.values.isEmpty {
            plan.append(SQLStatement("""
                INSERT INTO orders (session, origin_clordid, clordid, clordids, order_id, account, client_account, instrument,
                    side, currency, order_qty, price, status, cum_qty, leaves_qty, notional, avg_px)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (session, origin_clordid) DO UPDATE SET clordid = excluded.clordid, clordids = excluded.clordids,
                    order_id = excluded.order_id, account = excluded.account, client_account = excluded.client_account,
                    instrument = excluded.instrument, side = excluded.side, currency = excluded.currency,
                    order_qty = excluded.order_qty, price = excluded.price, status = excluded.status,
                    cum_qty = excluded.cum_qty, leaves_qty = excluded.leaves_qty, notional = excluded.notional,
                    avg_px = excluded.avg_px
                """, rows: orders.values.map { Self.row($0) }))
        }
        if !fills.values.isEmpty {
            plan.append(SQLStatement("""
                INSERT INTO fills (session, exec_id, order_origin_clordid, client_account, instrument, side, quantity, price,
                    currency, commission, commission_currency, fees, trade_date, settlement_date, transact_time, state,
                    state_exec_id, source, source_offset)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (session, exec_id) DO UPDATE SET client_account = excluded.client_account,
                    quantity = excluded.quantity, price = excluded.price, commission = excluded.commission,
                    commission_currency = excluded.commission_currency, fees = excluded.fees,
                    trade_date = excluded.trade_date, settlement_date = excluded.settlement_date,
                    transact_time = excluded.transact_time, state = excluded.state, state_exec_id = excluded.state_exec_id
                """, rows: fills.values.map { Self.row($0.fill, origin: $0.origin) }))
        }
        if !executions.isEmpty {
            plan.append(SQLStatement("""
                INSERT INTO executions (session, exec_id, fill_exec_id, order_origin_clordid, exec_type, source, source_offset)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (session, exec_id) DO NOTHING
                """, rows: executions.map { e in
                    let r = e.record
                    return [
                        .text(r.key.session), .text(r.key.execID), e.fillExecID.map(SQLValue.text) ?? .null,
                        e.origin.map(SQLValue.text) ?? .null, .text(String(r.execType)), .text(r.source.source),
                        .int(r.source.offset),
                    ]
                }))
        }
        if !positions.values.isEmpty {
            plan.append(SQLStatement("""
                INSERT INTO positions (client_account, instrument, currency, quantity, cost_basis, average_cost, realised_pnl)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (client_account, instrument) DO UPDATE SET currency = excluded.currency,
                    quantity = excluded.quantity, cost_basis = excluded.cost_basis,
                    average_cost = excluded.average_cost, realised_pnl = excluded.realised_pnl
                """, rows: positions.values.map { p in
                    [
                        .text(p.clientAccount), .text(p.instrument), .text(p.currency), .text(p.quantity.description),
                        .text(p.costBasis.description), .text(p.averageCost.description),
                        .text(p.realisedPnL.description),
                    ]
                }))
        }
        if !cash.values.isEmpty {
            plan.append(SQLStatement("""
                INSERT INTO cash (client_account, currency, amount) VALUES (?, ?, ?)
                ON CONFLICT (client_account, currency) DO UPDATE SET amount = excluded.amount
                """, rows: cash.values.map { c in
                    [.text(c.clientAccount), .text(c.currency), .text(c.amount.description)]
                }))
        }
        if !exceptions.isEmpty {
            plan.append(SQLStatement("""
                INSERT INTO exceptions (code, reason, source, source_offset, session, exec_id, clordid)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, source_offset, code) DO NOTHING
                """, rows: exceptions.map { e in
                    [
                        .int(Int64(e.code.number)), .text(e.reason), .text(e.source.source), .int(e.source.offset),
                        e.session.map(SQLValue.text) ?? .null, e.execID.map(SQLValue.text) ?? .null,
                        e.clOrdID.map(SQLValue.text) ?? .null,
                    ]
                }))
        }
        if !progress.isEmpty {
            plan.append(SQLStatement("""
                INSERT INTO load_progress (source, committed_offset, reports) VALUES (?, ?, ?)
                ON CONFLICT (source) DO UPDATE SET committed_offset = excluded.committed_offset,
                    reports = load_progress.reports + excluded.reports
                """, rows: progress.keys.sorted().map { k in
                    let p = progress[k]!
                    return [.text(k), .int(p.offset), .int(p.reports)]
                }))
        }
        return plan
    }

    static func origin(_ o: Order) -> String { o.clOrdIDs.first ?? o.clOrdID }

    private static func row(_ o: Order) -> [SQLValue] {
        [
            .text(o.session), .text(origin(o)), .text(o.clOrdID),
            .text(o.clOrdIDs.joined(separator: String(BookStore.listSeparator))), o.orderID.map(SQLValue.text) ?? .null,
            .text(o.account), o.clientAccount.map(SQLValue.text) ?? .null, .text(o.instrument),
            .text(String(o.side.fixValue)), .text(o.currency), .text(o.orderQty.description),
            o.price.map { .text($0.description) } ?? .null, .text(String(o.status.fixValue)),
            .text(o.cumQty.description), .text(o.leavesQty.description), .text(o.notional.description),
            .text(o.avgPx.description),
        ]
    }

    private static func row(_ f: Fill, origin: String) -> [SQLValue] {
        let state: (String, String?)
        switch f.state {
        case .booked: state = ("booked", nil)
        case .corrected(let by): state = ("corrected", by)
        case .busted(let by): state = ("busted", by)
        }
        return [
            .text(f.session), .text(f.execID), .text(origin), f.clientAccount.map(SQLValue.text) ?? .null,
            .text(f.instrument), .text(String(f.side.fixValue)), .text(f.quantity.description), .text(f.price.description),
            .text(f.currency), .text(f.commission.description), .text(f.commissionCurrency),
            .text(BookStore.encode(f.fees)), .text(f.tradeDate.description), .text(f.settlementDate.description),
            f.transactTime.map { .text($0.description) } ?? .null, .text(state.0), state.1.map(SQLValue.text) ?? .null,
            .text(f.source.source), .int(f.source.offset),
        ]
    }
}

private struct Key2: Hashable, Sendable {
    var a: String
    var b: String
    init(_ a: String, _ b: String) {
        self.a = a
        self.b = b
    }
}

/// Values keyed by identity: the last value wins, the first position stays.
private struct Coalesced<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private var index: [Key: Int] = [:]
    private(set) var values: [Value] = []

    mutating func set(_ key: Key, _ value: Value) {
        if let i = index[key] {
            values[i] = value
        } else {
            index[key] = values.count
            values.append(value)
        }
    }
}
