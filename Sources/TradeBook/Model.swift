import FIXTagValue

/// Where a report came from: a source name (a capture file, a session log) and the byte offset
/// of the message in it. Exceptions carry it so that an operator can find the message.
public struct SourcePosition: Hashable, Sendable, CustomStringConvertible {
    public var source: String
    public var offset: Int64

    public init(source: String, offset: Int64) {
        self.source = source
        self.offset = offset
    }

    public var description: String { "\(source)@\(offset)" }
}

/// The side of an order, reduced to the direction it moves a position.
///
/// FIX Side(54) values 1 and 3 (buy, buy minus) buy; 2, 4, 5 and 6 (sell, sell plus, sell
/// short, sell short exempt) sell. Other sides (cross, undisclosed, …) are not bookable.
public enum Side: UInt8, Hashable, Sendable {
    case buy = 0x31
    case sell = 0x32
    case buyMinus = 0x33
    case sellPlus = 0x34
    case sellShort = 0x35
    case sellShortExempt = 0x36

    /// +1 for a buy, -1 for a sell.
    public var sign: Int {
        switch self {
        case .buy, .buyMinus: return 1
        case .sell, .sellPlus, .sellShort, .sellShortExempt: return -1
        }
    }

    /// The FIX Side(54) character.
    public var fixValue: Character { Character(Unicode.Scalar(rawValue)) }
}

/// An order's state, as FIX OrdStatus(39) names it; `rawValue` is the FIX character.
///
/// The quantities (`OrderQty`, `CumQty`, `LeavesQty`) apply to every state, so they live beside
/// the status in `Order` rather than in the cases.
public enum OrderStatus: UInt8, Hashable, Sendable, CaseIterable {
    case new = 0x30               // 0
    case partiallyFilled = 0x31   // 1
    case filled = 0x32            // 2
    case doneForDay = 0x33        // 3
    case cancelled = 0x34         // 4
    case pendingCancel = 0x36     // 6
    case stopped = 0x37           // 7
    case rejected = 0x38          // 8
    case suspended = 0x39         // 9
    case pendingNew = 0x41        // A
    case calculated = 0x42        // B
    case expired = 0x43           // C
    case acceptedForBidding = 0x44  // D
    case pendingReplace = 0x45    // E

    /// True when the order can no longer trade: it has no leaves.
    public var isTerminal: Bool {
        switch self {
        case .filled, .doneForDay, .cancelled, .rejected, .expired: return true
        default: return false
        }
    }

    /// The FIX OrdStatus(39) character.
    public var fixValue: Character { Character(Unicode.Scalar(rawValue)) }
}

/// One order as the book knows it, built from the execution reports about it.
///
/// `cumQty` and `avgPx` are derived from the order's booked fills (not copied from the
/// report), so they stay right when a fill is corrected or busted; `leavesQty` is
/// `orderQty - cumQty` while the order is live and zero once it is terminal.
public struct Order: Hashable, Sendable {
    /// Dense index of the order in the book (0, 1, 2, … in creation order).
    public var id: Int
    /// The session the reports came on (`SenderCompID:TargetCompID` of the reports).
    public var session: String
    /// The latest ClOrdID(11) of the chain.
    public var clOrdID: String
    /// Every ClOrdID the order has had, oldest first (replace and cancel requests add one).
    public var clOrdIDs: [String]
    /// The broker's OrderID(37), when reported.
    public var orderID: String?
    /// The FIX account identifier (Account(1) or the configured party) as reported.
    public var account: String
    /// The client account it maps to; nil when unknown (its fills are exceptions).
    public var clientAccount: String?
    public var instrument: String
    public var side: Side
    public var currency: String
    public var orderQty: FIXDecimal
    public var price: FIXDecimal?
    public var status: OrderStatus
    public var cumQty: FIXDecimal
    public var leavesQty: FIXDecimal
    /// Sum of quantity × price over the booked fills: AvgPx is this over `cumQty`.
    public var notional: FIXDecimal
    public var avgPx: FIXDecimal

    public init(
        id: Int, session: String, clOrdID: String, clOrdIDs: [String], orderID: String?, account: String,
        clientAccount: String?, instrument: String, side: Side, currency: String, orderQty: FIXDecimal,
        price: FIXDecimal?, status: OrderStatus, cumQty: FIXDecimal, leavesQty: FIXDecimal,
        notional: FIXDecimal, avgPx: FIXDecimal
    ) {
        self.id = id
        self.session = session
        self.clOrdID = clOrdID
        self.clOrdIDs = clOrdIDs
        self.orderID = orderID
        self.account = account
        self.clientAccount = clientAccount
        self.instrument = instrument
        self.side = side
        self.currency = currency
        self.orderQty = orderQty
        self.price = price
        self.status = status
        self.cumQty = cumQty
        self.leavesQty = leavesQty
        self.notional = notional
        self.avgPx = avgPx
    }
}

/// A fee from the MiscFees group (NoMiscFees 136: MiscFeeAmt 137, MiscFeeCurr 138,
/// MiscFeeType 139), already converted to an absolute amount.
public struct Fee: Hashable, Sendable {
    public var amount: FIXDecimal
    public var currency: String
    /// MiscFeeType(139) as sent (1 regulatory, 4 exchange, 5 stamp, 7 other, …).
    public var type: String

    public init(amount: FIXDecimal, currency: String, type: String) {
        self.amount = amount
        self.currency = currency
        self.type = type
    }
}

/// Where a fill stands after corrections and busts.
public enum FillState: Hashable, Sendable {
    /// As first booked.
    case booked
    /// Corrected by the report with this ExecID (the latest correction).
    case corrected(by: String)
    /// Busted by the report with this ExecID: it counts for nothing any more.
    case busted(by: String)
}

/// One execution, booked exactly once per (session, ExecID).
///
/// A fill for an unknown client account is booked with `clientAccount == nil`: it counts for
/// its order but moves no position and no cash until the account is known.
public struct Fill: Hashable, Sendable {
    /// Dense index of the fill in the book (0, 1, 2, … in booking order).
    public var id: Int
    public var session: String
    public var execID: String
    /// `Order.id` of the order it fills.
    public var orderID: Int
    public var clientAccount: String?
    public var instrument: String
    public var side: Side
    /// LastQty(32); zero once busted.
    public var quantity: FIXDecimal
    /// LastPx(31).
    public var price: FIXDecimal
    public var currency: String
    /// Commission(12) as an absolute amount in `commissionCurrency`.
    public var commission: FIXDecimal
    public var commissionCurrency: String
    public var fees: [Fee]
    public var tradeDate: FIXDate
    public var settlementDate: FIXDate
    public var transactTime: FIXTimestamp?
    public var state: FillState
    public var source: SourcePosition

    public init(
        id: Int, session: String, execID: String, orderID: Int, clientAccount: String?, instrument: String,
        side: Side, quantity: FIXDecimal, price: FIXDecimal, currency: String, commission: FIXDecimal,
        commissionCurrency: String, fees: [Fee], tradeDate: FIXDate, settlementDate: FIXDate,
        transactTime: FIXTimestamp?, state: FillState, source: SourcePosition
    ) {
        self.id = id
        self.session = session
        self.execID = execID
        self.orderID = orderID
        self.clientAccount = clientAccount
        self.instrument = instrument
        self.side = side
        self.quantity = quantity
        self.price = price
        self.currency = currency
        self.commission = commission
        self.commissionCurrency = commissionCurrency
        self.fees = fees
        self.tradeDate = tradeDate
        self.settlementDate = settlementDate
        self.transactTime = transactTime
        self.state = state
        self.source = source
    }

    /// Quantity with the side's sign: positive bought, negative sold.
    public var signedQuantity: FIXDecimal { side.sign > 0 ? quantity : -quantity }
}

/// A client account's holding of one instrument, by the average-cost method (see `Position`
/// arithmetic in the book's documentation).
public struct Position: Hashable, Sendable {
    public var clientAccount: String
    public var instrument: String
    /// Currency of the fills, in which cost and P&L are expressed.
    public var currency: String
    /// Signed: positive long, negative short.
    public var quantity: FIXDecimal
    /// Signed total cost of the open quantity (negative for a short: the proceeds basis).
    public var costBasis: FIXDecimal
    /// `costBasis / quantity` rounded to the configured price scale; zero when flat.
    public var averageCost: FIXDecimal
    /// Realised P&L, gross of commission and fees (those go to cash).
    public var realisedPnL: FIXDecimal

    public init(clientAccount: String, instrument: String, currency: String, quantity: FIXDecimal,
                costBasis: FIXDecimal, averageCost: FIXDecimal, realisedPnL: FIXDecimal) {
        self.clientAccount = clientAccount
        self.instrument = instrument
        self.currency = currency
        self.quantity = quantity
        self.costBasis = costBasis
        self.averageCost = averageCost
        self.realisedPnL = realisedPnL
    }
}

/// A client account's cash in one currency.
public struct CashBalance: Hashable, Sendable {
    public var clientAccount: String
    public var currency: String
    public var amount: FIXDecimal

    public init(clientAccount: String, currency: String, amount: FIXDecimal) {
        self.clientAccount = clientAccount
        self.currency = currency
        self.amount = amount
    }
}

/// The identity of an applied execution report: a report with the same key is a duplicate.
public struct ExecutionKey: Hashable, Sendable {
    public var session: String
    public var execID: String

    public init(session: String, execID: String) {
        self.session = session
        self.execID = execID
    }
}

/// One applied execution report, as the book's journal records it.
public struct ExecutionRecord: Hashable, Sendable {
    public var key: ExecutionKey
    /// `Order.id` of the order it concerned; nil when the book could not tell (a correction of
    /// an unknown execution for an unknown order).
    public var orderID: Int?
    /// `Fill.id` of the fill it booked, corrected or busted; nil for a report that moved no fill.
    public var fillID: Int?
    /// ExecType(150) as sent, or ExecTransType(20) for a FIX 4.2 correction or bust.
    public var execType: Character
    public var source: SourcePosition

    public init(key: ExecutionKey, orderID: Int?, fillID: Int?, execType: Character, source: SourcePosition) {
        self.key = key
        self.orderID = orderID
        self.fillID = fillID
        self.execType = execType
        self.source = source
    }
}

/// An applied report's key and the fill it booked, corrected or busted: what the book must
/// remember of each report to stay exactly-once and to resolve ExecRefID(19).
public struct AppliedExecution: Hashable, Sendable {
    public var key: ExecutionKey
    public var fillID: Int?

    public init(key: ExecutionKey, fillID: Int?) {
        self.key = key
        self.fillID = fillID
    }
}
