import FIXTagValue

/// How the book reads reports and which client accounts exist.
///
/// ```swift
/// var config = BookConfiguration(accounts: ["ACC70049": "CLIENT-7"])
/// config.accountSource = .party(role: 24)        // customer account in the Parties group
/// config.settlement = SettlementCalendar(cycleDays: 2, holidays: [FIXDate(year: 2024, month: 3, day: 29)!])
/// var book = TradeBook(configuration: config)
/// ```
public struct BookConfiguration: Sendable {
    /// Where the FIX account identifier is read.
    public enum AccountSource: Hashable, Sendable {
        /// Account(1).
        case account
        /// The PartyID(448) whose PartyRole(452) is `role` in the Parties group (453); a report
        /// without that party falls back to Account(1).
        case party(role: Int)
    }

    /// FIX account identifier → client account. An identifier not listed is unknown: its fills
    /// are exceptions.
    public var accounts: [String: String]
    public var accountSource: AccountSource = .account
    /// Settlement date when a fill has no SettlDate(64).
    public var settlement = SettlementCalendar()
    /// Currency of a report without Currency(15).
    public var defaultCurrency = "USD"
    /// Fraction digits of AvgPx and average cost (both are rounded half away from zero).
    public var priceScale = 8
    /// Fraction digits of the cost released when a position is reduced (see `TradeBook`).
    public var amountScale = 8

    public init(accounts: [String: String]) {
        self.accounts = accounts
    }
}

/// Settlement dates: trade date plus a number of business days, skipping weekends and the
/// listed holidays.
///
/// ```swift
/// let cal = SettlementCalendar()                             // T+1
/// cal.settlementDate(for: FIXDate(year: 2024, month: 3, day: 15)!)  // Friday → Monday 20240318
/// ```
public struct SettlementCalendar: Hashable, Sendable {
    /// Longest settlement cycle accepted; longer is a configuration error.
    public static let cycleDaysMax = 30

    public var cycleDays: Int
    public var holidays: Set<FIXDate>

    public init(cycleDays: Int = 1, holidays: Set<FIXDate> = []) {
        precondition(cycleDays >= 0 && cycleDays <= SettlementCalendar.cycleDaysMax, "settlement cycle out of range")
        self.cycleDays = cycleDays
        self.holidays = holidays
    }

    /// True on Monday to Friday when the day is not a holiday.
    public func isBusinessDay(_ date: FIXDate) -> Bool {
        !isWeekend(date) && !holidays.contains(date)
    }

    /// `tradeDate` plus `cycleDays` business days. A trade date that is itself not a business
    /// day counts from the next business day, so T+0 on a Saturday settles on Monday.
    public func settlementDate(for tradeDate: FIXDate) -> FIXDate {
        var date = tradeDate
        while !isBusinessDay(date) { date = date.adding(days: 1) }
        var remaining = cycleDays
        while remaining > 0 {
            date = date.adding(days: 1)
            if isBusinessDay(date) { remaining -= 1 }
        }
        return date
    }

    /// Saturday or Sunday (`FIXDate.weekday` is ISO: 1 Monday … 7 Sunday).
    func isWeekend(_ date: FIXDate) -> Bool {
        date.weekday >= 6
    }
}
