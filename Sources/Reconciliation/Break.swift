import FIXTagValue
import TradeBook

/// A difference between the book and an outside source that needs an operator, with a stable
/// numbered code and an id that stays the same when the same inputs are reconciled again.
///
/// ```swift
/// for b in result.breaks where b.code == .quantity {
///     print(b.id, b.code.number, b.account ?? "-", b.quantityDifference)  // 3f2a… 3 ACC1 -100
/// }
/// ```
public struct Break: Hashable, Sendable {
    /// 16 hex digits: FNV-1a 64 of the business date, the code and the matching keys.
    public var id: String
    public var code: BreakCode
    /// The outside source the break was found against (`ReconciliationConfiguration.sourceName`).
    public var source: String
    /// The date the break belongs to: the trade date for a trade break, the run's business
    /// date for position and cash breaks.
    public var businessDate: FIXDate
    public var account: String?
    public var instrument: String?
    public var currency: String?
    /// The book's records involved (fills), at most `Break.recordsMax`.
    public var book: [BreakRecord]
    /// The outside records involved, at most `Break.recordsMax`.
    public var external: [BreakRecord]
    /// External minus book quantity (signed by side for trades, as held for positions).
    public var quantityDifference: FIXDecimal
    /// External minus book amount: notional for trades, fees for a fee break, cash for cash.
    public var amountDifference: FIXDecimal
    /// A sentence for the operator.
    public var detail: String

    /// Records listed per side of one break; an aggregate beyond it is summarised by `detail`.
    public static let recordsMax = 50

    public init(id: String, code: BreakCode, source: String, businessDate: FIXDate, account: String?, instrument: String?,
                currency: String?, book: [BreakRecord], external: [BreakRecord], quantityDifference: FIXDecimal,
                amountDifference: FIXDecimal, detail: String) {
        self.id = id
        self.code = code
        self.source = source
        self.businessDate = businessDate
        self.account = account
        self.instrument = instrument
        self.currency = currency
        self.book = book
        self.external = external
        self.quantityDifference = quantityDifference
        self.amountDifference = amountDifference
        self.detail = detail
    }

    /// The id for a break: the same date, code and keys always give the same id.
    /// Position and cash breaks pass no date: the same difference on the next business date is
    /// the same break, so it keeps its first-seen date and ages.
    public static func makeID(date: FIXDate?, code: BreakCode, keys: [String]) -> String {
        var h = FNV1a64()
        h.combineField(date?.description ?? "")
        h.combineField(String(code.number))
        for key in keys { h.combineField(key) }
        return FNV1a64.hex(h.value)
    }
}

/// One record on one side of a break, with the values reconciliation compared.
public struct BreakRecord: Hashable, Sendable {
    public var origin: RecordOrigin
    /// ExecID, trade id or other key the record was matched by; empty when it had none.
    public var key: String
    public var side: Side?
    public var quantity: FIXDecimal?
    public var price: FIXDecimal?
    public var fees: FIXDecimal?
    public var settlementDate: FIXDate?

    public init(origin: RecordOrigin, key: String, side: Side?, quantity: FIXDecimal?, price: FIXDecimal?,
                fees: FIXDecimal?, settlementDate: FIXDate?) {
        self.origin = origin
        self.key = key
        self.side = side
        self.quantity = quantity
        self.price = price
        self.fees = fees
        self.settlementDate = settlementDate
    }
}

/// A stable break code. Numbers are never reused; a retired code keeps its number.
public struct BreakCode: Hashable, Sendable, Comparable, CustomStringConvertible {
    private enum Base: Int, CaseIterable {
        case missingAtVenue = 1
        case missingInBook = 2
        case quantity = 3
        case price = 4
        case side = 5
        case fees = 6
        case settlementDate = 7
        case duplicate = 8
        case position = 9
        case cash = 10
        case unknownAccount = 11
    }

    private let base: Base

    private init(_ base: Base) { self.base = base }

    /// The code from its number, or nil for a number this version does not know.
    public init?(number: Int) {
        guard let base = Base(rawValue: number) else { return nil }
        self.base = base
    }

    /// The stable number, for storage and reports.
    public var number: Int { base.rawValue }

    /// Every code, in number order.
    public static var all: [BreakCode] { Base.allCases.map(BreakCode.init) }

    /// 1 — a book fill no outside source reports.
    public static let missingAtVenue = BreakCode(.missingAtVenue)
    /// 2 — an outside trade the book does not hold.
    public static let missingInBook = BreakCode(.missingInBook)
    /// 3 — matched records whose quantities differ beyond tolerance.
    public static let quantity = BreakCode(.quantity)
    /// 4 — matched records whose prices differ beyond tolerance.
    public static let price = BreakCode(.price)
    /// 5 — records matched by a strong key on opposite sides.
    public static let side = BreakCode(.side)
    /// 6 — matched records whose commission plus fees differ beyond tolerance.
    public static let fees = BreakCode(.fees)
    /// 7 — matched records with different settlement dates.
    public static let settlementDate = BreakCode(.settlementDate)
    /// 8 — one outside source reports the same key more than once.
    public static let duplicate = BreakCode(.duplicate)
    /// 9 — a position differs between the book and an outside report.
    public static let position = BreakCode(.position)
    /// 10 — a cash balance differs between the book and an outside report.
    public static let cash = BreakCode(.cash)
    /// 11 — a record for an account that is not a client account.
    public static let unknownAccount = BreakCode(.unknownAccount)

    /// A short name for reports.
    public var name: String {
        switch base {
        case .missingAtVenue: return "missing at venue"
        case .missingInBook: return "missing in book"
        case .quantity: return "quantity"
        case .price: return "price"
        case .side: return "side"
        case .fees: return "fees"
        case .settlementDate: return "settlement date"
        case .duplicate: return "duplicate"
        case .position: return "position"
        case .cash: return "cash"
        case .unknownAccount: return "unknown account"
        }
    }

    public var description: String { "\(name)(\(number))" }

    public static func < (a: BreakCode, b: BreakCode) -> Bool { a.number < b.number }
}
