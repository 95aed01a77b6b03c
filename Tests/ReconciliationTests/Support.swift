import Foundation
import FIXTagValue
import Reconciliation
import TradeBook

/// Small builders so each test states only what it is about.
enum Fixture {
    static let date = FIXDate(year: 2026, month: 1, day: 5)!
    static let settle = FIXDate(year: 2026, month: 1, day: 6)!

    static func d(_ text: String) -> FIXDecimal { FIXDecimal(text)! }

    static func book(_ exec: String, account: String? = "ACC1", instrument: String = "AAPL", side: Side = .buy,
                     qty: String = "100", px: String = "10", fees: String? = nil, order: String? = nil,
                     settle: FIXDate? = Fixture.settle, time: FIXTimestamp? = nil, fill: Int = 0,
                     date: FIXDate = Fixture.date) -> BookTrade {
        BookTrade(fillID: fill, execID: exec, orderID: order, account: account, instrument: instrument, side: side,
                  quantity: d(qty), price: d(px), currency: "USD", tradeDate: date, settlementDate: settle,
                  transactTime: time, fees: fees.map(d))
    }

    static func ext(_ exec: String?, trade: String? = nil, account: String = "ACC1", instrument: String = "AAPL",
                    side: Side = .buy, qty: String = "100", px: String = "10", fees: String? = nil,
                    order: String? = nil, settle: FIXDate? = Fixture.settle, time: FIXTimestamp? = nil,
                    line: Int = 2, date: FIXDate = Fixture.date) -> ExternalTrade {
        ExternalTrade(origin: .statement(file: "venue.csv", line: line), account: account, instrument: instrument,
                      side: side, quantity: d(qty), price: d(px), currency: "USD", tradeDate: date,
                      settlementDate: settle, transactTime: time, fees: fees.map(d), execID: exec, tradeID: trade,
                      orderID: order)
    }

    static func run(book: [BookTrade], external: [ExternalTrade], date: FIXDate = Fixture.date,
                    configure: (inout ReconciliationConfiguration) -> Void = { _ in }) -> ReconciliationResult {
        var config = ReconciliationConfiguration(businessDate: date, sourceName: "XVEN")
        configure(&config)
        var r = Reconciler(configuration: config)
        for b in book { r.add(b) }
        for e in external { r.add(e) }
        return r.run()
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let repository = directory.deletingLastPathComponent().deletingLastPathComponent()

    static func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent("Fixtures").appendingPathComponent(name)))
    }

    static func mapping(_ name: String) throws -> StatementMapping {
        let url = repository.appendingPathComponent("Specs/mappings").appendingPathComponent(name)
        return try StatementMapping(parsing: String(decoding: try Data(contentsOf: url), as: UTF8.self), fileName: name)
    }

    static func time(_ text: String) -> FIXTimestamp { FIXTimestamp(text)! }
}
