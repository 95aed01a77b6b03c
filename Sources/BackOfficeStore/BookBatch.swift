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
                """, count: orders.values.count) { [orders] i, row in Self.write(orders.values[i], to: &row) })
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
                """, count: fills.values.count) { [fills] i, row in
                    Self.write(fills.values[i].fill, origin: fills.values[i].origin, to: &row)
                })
        }
        if !executions.isEmpty {
            plan.append(SQLStatement("""
                INSERT INTO executions (session, exec_id, fill_exec_id, order_origin_clordid, exec_type, source, source_offset)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (session, exec_id) DO NOTHING
                """, count: executions.count) { [executions] i, row in
                    let e = executions[i]
                    row.text(e.record.key.session)
                    row.text(e.record.key.execID)
                    row.text(e.fillExecID)
                    row.text(e.origin)
                    row.text(String(e.record.execType))
                    row.text(e.record.source.source)
                    row.int(e.record.source.offset)
                })
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

    private static func write(_ o: Order, to row: inout SQLRowWriter) {
        row.text(o.session)
        row.text(origin(o))
        row.text(o.clOrdID)
        if o.clOrdIDs.count == 1 {
            row.text(o.clOrdIDs[0])
        } else {
            row.text(o.clOrdIDs.joined(separator: String(BookStore.listSeparator)))
        }
        row.text(o.orderID)
        row.text(o.account)
        row.text(o.clientAccount)
        row.text(o.instrument)
        row.text(String(o.side.fixValue))
        row.text(o.currency)
        row.decimal(o.orderQty)
        row.decimal(o.price)
        row.text(String(o.status.fixValue))
        row.decimal(o.cumQty)
        row.decimal(o.leavesQty)
        row.decimal(o.notional)
        row.decimal(o.avgPx)
    }

    private static func write(_ f: Fill, origin: String, to row: inout SQLRowWriter) {
        let state: (String, String?)
        switch f.state {
        case .booked: state = ("booked", nil)
        case .corrected(let by): state = ("corrected", by)
        case .busted(let by): state = ("busted", by)
        }
        row.text(f.session)
        row.text(f.execID)
        row.text(origin)
        row.text(f.clientAccount)
        row.text(f.instrument)
        row.text(String(f.side.fixValue))
        row.decimal(f.quantity)
        row.decimal(f.price)
        row.text(f.currency)
        row.decimal(f.commission)
        row.text(f.commissionCurrency)
        row.text { BookStore.append(f.fees, to: &$0) }
        row.text(f.tradeDate.description)
        row.text(f.settlementDate.description)
        row.text(f.transactTime?.description)
        row.text(state.0)
        row.text(state.1)
        row.text(f.source.source)
        row.int(f.source.offset)
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
