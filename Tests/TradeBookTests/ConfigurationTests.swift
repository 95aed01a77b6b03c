import FIXTagValue
import Testing
import TradeBook

@Suite struct SettlementCalendarTests {
    static func date(_ text: String) -> FIXDate { FIXValueText.date(text) }

    @Test(arguments: [
        ("20240311", 1, [String](), "20240312", "Monday T+1"),
        ("20240315", 1, [], "20240318", "Friday T+1 skips the weekend"),
        ("20240314", 2, [], "20240318", "Thursday T+2 skips the weekend"),
        ("20240316", 1, [], "20240319", "Saturday counts from Monday"),
        ("20240317", 0, [], "20240318", "Sunday T+0 settles Monday"),
        ("20240315", 0, [], "20240315", "Friday T+0"),
        ("20240328", 1, ["20240329", "20240401"], "20240402", "Easter holidays"),
        ("20241231", 1, [], "20250101", "year end without holidays"),
        ("20241231", 1, ["20250101"], "20250102", "New Year holiday"),
        ("20240228", 2, [], "20240301", "leap day is a business day"),
        ("20240315", 3, [], "20240320", "T+3"),
    ])
    func settlementDate(_ trade: String, cycle: Int, holidays: [String], expected: String, name: String) {
        let calendar = SettlementCalendar(cycleDays: cycle, holidays: Set(holidays.map(Self.date)))
        #expect(calendar.settlementDate(for: Self.date(trade)) == Self.date(expected), "\(name)")
    }

    @Test func businessDays() {
        let calendar = SettlementCalendar(holidays: [Self.date("20240329")])
        #expect(calendar.isBusinessDay(Self.date("20240315")))
        #expect(!calendar.isBusinessDay(Self.date("20240316")))
        #expect(!calendar.isBusinessDay(Self.date("20240317")))
        #expect(!calendar.isBusinessDay(Self.date("20240329")))
    }

    @Test func defaultConfiguration() {
        let config = BookConfiguration(accounts: [:])
        #expect(config.settlement.cycleDays == 1)
        #expect(config.accountSource == .account)
        #expect(config.defaultCurrency == "USD")
    }
}

/// Reads test dates from `YYYYMMDD` text.
enum FIXValueText {
    static func date(_ text: String) -> FIXDate {
        let y = Int(text.prefix(4))!, m = Int(text.dropFirst(4).prefix(2))!, d = Int(text.suffix(2))!
        return FIXDate(year: y, month: m, day: d)!
    }
}
