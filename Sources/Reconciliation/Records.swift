import FIXTagValue
import TradeBook

/// One trade as an outside party reports it: a drop-copy execution, a statement line or one side
/// of a TradeCaptureReport.
///
/// ```swift
/// let t = ExternalTrade(origin: .statement(file: "venue.csv", line: 2), account: "ACC1",
///                       instrument: "AAPL", side: .buy, quantity: 100, price: FIXDecimal("191.1")!,
///                       currency: "USD", tradeDate: FIXDate("20260105")!)
/// ```
public struct ExternalTrade: Hashable, Sendable {
    public var origin: RecordOrigin
    public var account: String
    public var instrument: String
    public var side: Side
    public var quantity: FIXDecimal
    public var price: FIXDecimal
    public var currency: String
    public var tradeDate: FIXDate
    public var settlementDate: FIXDate?
    public var transactTime: FIXTimestamp?
    /// Commission plus fees, when the source reports them.
    public var fees: FIXDecimal?
    /// ExecID(17) of the execution, matched against the book's ExecIDs.
    public var execID: String?
    /// A venue trade id or TrdMatchID(880); matched against the book's ExecIDs when no ExecID
    /// matches (venues often use one id for both).
    public var tradeID: String?
    /// The order id (OrderID(37) or the statement's order reference), for per-order aggregation.
    public var orderID: String?

    public init(origin: RecordOrigin, account: String, instrument: String, side: Side, quantity: FIXDecimal,
                price: FIXDecimal, currency: String, tradeDate: FIXDate, settlementDate: FIXDate? = nil,
                transactTime: FIXTimestamp? = nil, fees: FIXDecimal? = nil, execID: String? = nil,
                tradeID: String? = nil, orderID: String? = nil) {
        self.origin = origin
        self.account = account
        self.instrument = instrument
        self.side = side
        self.quantity = quantity
        self.price = price
        self.currency = currency
        self.tradeDate = tradeDate
        self.settlementDate = settlementDate
        self.transactTime = transactTime
        self.fees = fees
        self.execID = execID
        self.tradeID = tradeID
        self.orderID = orderID
    }
}

extension ExternalTrade {
    /// The trade with its account replaced by the client account `accounts` (FIX Account(1) →
    /// client account, the book's account map) gives it. A FIX source reports the account the
    /// order was sent under, as the book's execution reports do, so both sides are mapped the
    /// same way before they are compared. An account the map does not list is left as it is;
    /// with the map's client accounts as `knownAccounts` it becomes an unknown-account break.
    ///
    /// ```swift
    /// let t = dropCopyTrade.mappingAccount(through: ["ACC70049": "CLIENT-7"])   // t.account == "CLIENT-7"
    /// ```
    public func mappingAccount(through accounts: [String: String]) -> ExternalTrade {
        guard let client = accounts[account] else { return self }
        var mapped = self
        mapped.account = client
        return mapped
    }
}

/// One trade as the book holds it, reduced to what reconciliation compares. Build it from a
/// `Fill` with `BookTrade(fill:orderID:)`, or directly when the book comes from a store.
public struct BookTrade: Hashable, Sendable {
    public var fillID: Int
    public var execID: String
    /// The order reference a statement would quote (the broker's OrderID(37) or ClOrdID).
    public var orderID: String?
    /// Nil when the book could not map the FIX account to a client account.
    public var account: String?
    public var instrument: String
    public var side: Side
    public var quantity: FIXDecimal
    public var price: FIXDecimal
    public var currency: String
    public var tradeDate: FIXDate
    public var settlementDate: FIXDate?
    public var transactTime: FIXTimestamp?
    /// Commission plus fees.
    public var fees: FIXDecimal?

    public init(fillID: Int, execID: String, orderID: String?, account: String?, instrument: String, side: Side,
                quantity: FIXDecimal, price: FIXDecimal, currency: String, tradeDate: FIXDate,
                settlementDate: FIXDate? = nil, transactTime: FIXTimestamp? = nil, fees: FIXDecimal? = nil) {
        self.fillID = fillID
        self.execID = execID
        self.orderID = orderID
        self.account = account
        self.instrument = instrument
        self.side = side
        self.quantity = quantity
        self.price = price
        self.currency = currency
        self.tradeDate = tradeDate
        self.settlementDate = settlementDate
        self.transactTime = transactTime
        self.fees = fees
    }

    /// The fill as reconciliation sees it, or nil for a busted fill (it counts for nothing).
    /// A corrected fill already carries its corrected values. `orderID` is the reference the
    /// statements quote for the fill's order (look it up in `TradeBook.orders`).
    public init?(fill: Fill, orderID: String?) {
        if case .busted = fill.state { return nil }
        var fees = fill.commission
        for fee in fill.fees { fees = fees.adding(fee.amount) ?? fees }
        self.init(fillID: fill.id, execID: fill.execID, orderID: orderID, account: fill.clientAccount,
                  instrument: fill.instrument, side: fill.side, quantity: fill.quantity, price: fill.price,
                  currency: fill.currency, tradeDate: fill.tradeDate, settlementDate: fill.settlementDate,
                  transactTime: fill.transactTime, fees: fees)
    }

    /// Every live fill of a book, each with its order's OrderID (or ClOrdID when the broker sent
    /// none).
    public static func all(in book: TradeBook) -> [BookTrade] {
        book.fills.compactMap { fill in
            let order = book.orders.indices.contains(fill.orderID) ? book.orders[fill.orderID] : nil
            return BookTrade(fill: fill, orderID: order?.orderID ?? order?.clOrdID)
        }
    }
}

/// A holding an outside party reports: a PositionReport or a statement position line.
public struct ExternalPosition: Hashable, Sendable {
    public var origin: RecordOrigin
    public var account: String
    public var instrument: String
    /// Signed: positive long, negative short.
    public var quantity: FIXDecimal

    public init(origin: RecordOrigin, account: String, instrument: String, quantity: FIXDecimal) {
        self.origin = origin
        self.account = account
        self.instrument = instrument
        self.quantity = quantity
    }
}

/// A cash balance an outside party reports.
public struct ExternalCash: Hashable, Sendable {
    public var origin: RecordOrigin
    public var account: String
    public var currency: String
    public var amount: FIXDecimal

    public init(origin: RecordOrigin, account: String, currency: String, amount: FIXDecimal) {
        self.origin = origin
        self.account = account
        self.currency = currency
        self.amount = amount
    }
}
