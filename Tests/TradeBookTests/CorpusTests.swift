import FIXTagValue
import FIXTestSupport
import Foundation
import Testing
import TradeBook

/// The benchmark corpus through the book, checking invariants that hold whatever the mix.
///
/// What the generator produces (see its docstring and `er()`): every order is acknowledged
/// (ExecType 0) before any fill, replace or cancel, or rejected (ExecType 8) instead of
/// acknowledged; fills never exceed OrderQty; CumQty(14) is the exact sum of LastQty(32); every
/// ExecID is unique; a replace carries OrigClOrdID and a cancel that answers a cancel request
/// carries the request's ClOrdID with OrigClOrdID; every account is one of 240 `ACCnnnnn`
/// accounts; about 0.2 % of messages carry PossDupFlag=Y but with fresh ExecIDs, so they are new
/// reports and are booked. No corrections or busts. So on this data the book must raise no
/// exception at all: an unknown order, a CumQty mismatch or an overfill would be a book bug.
@Suite struct CorpusTests {
    /// The generator's account list: `ACC%05d` of `10007 × i mod 99991` for i in 1...240.
    static let accounts: [String: String] = {
        var map: [String: String] = [:]
        for i in 1...240 {
            let n = 10007 * i % 99991
            let digits = String(n)
            map["ACC" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits] = "CL\(i)"
        }
        return map
    }()

    /// Applies every message of `bytes` to `book`, named `source`.
    static func run(_ book: inout TradeBook, _ bytes: [UInt8], source: String) -> (events: [BookEvent], reports: Int) {
        var decoder = CaptureDecoder()
        var events: [BookEvent] = []
        var reports = 0
        var errors = 0
        bytes.withUnsafeBytes { decoder.append($0) }
        decoder.finish()
        decoder.drain { event in
            switch event {
            case .message(let m):
                let view = m.view()
                if view.msgType?.equals("8") == true { reports += 1 }
                book.apply(view, source: SourcePosition(source: source, offset: m.offset), into: &events)
            case .error:
                errors += 1
            }
        }
        #expect(errors == 0)
        return (events, reports)
    }

    static func sample() throws -> [UInt8] {
        Array(try Data(contentsOf: SharedData.shared("bench/sample-1k.fix")))
    }

    /// Runs the generator; nil (and a recorded issue, so the test fails loudly) without python3.
    static func generate(version: String, count: Int) throws -> [UInt8]? {
        let script = SharedData.shared("bench/gen_fix_corpus.py")
        let out = FileManager.default.temporaryDirectory
            .appendingPathComponent("tradebook-\(version)-\(count)-\(ProcessInfo.processInfo.processIdentifier).fix")
        defer { try? FileManager.default.removeItem(at: out) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "--count", String(count), "--version", version, "-o", out.path]
        do {
            try process.run()
        } catch {
            Issue.record("python3 could not be started: \(error); the generated-corpus check did not run")
            return nil
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            Issue.record("python3 and the corpus generator are needed (exit \(process.terminationStatus))")
            return nil
        }
        return Array(try Data(contentsOf: out))
    }

    /// The invariants every book must satisfy.
    static func checkInvariants(_ book: TradeBook, _ label: String) {
        var fillSum: [Int: FIXDecimal] = [:]
        var positionSum: [String: FIXDecimal] = [:]
        for fill in book.fills {
            fillSum[fill.orderID, default: .zero] += fill.quantity
            if let account = fill.clientAccount {
                positionSum[account + "|" + fill.instrument, default: .zero] += fill.signedQuantity
            }
        }
        for order in book.orders {
            #expect(order.cumQty == fillSum[order.id] ?? .zero, "\(label): CumQty of \(order.clOrdID)")
            if !order.status.isTerminal {
                #expect(order.leavesQty == order.orderQty - order.cumQty, "\(label): LeavesQty of \(order.clOrdID)")
            } else {
                #expect(order.leavesQty == .zero, "\(label): LeavesQty of done \(order.clOrdID)")
            }
            if order.cumQty > .zero {
                let avg = order.notional.divided(by: order.cumQty, scale: 8)!
                #expect(order.avgPx == avg, "\(label): AvgPx of \(order.clOrdID)")
            }
        }
        for position in book.positions {
            #expect(position.quantity == positionSum[position.clientAccount + "|" + position.instrument] ?? .zero,
                    "\(label): position \(position.clientAccount) \(position.instrument)")
            if position.quantity == .zero { #expect(position.costBasis == .zero, "\(label): flat with cost") }
        }
        #expect(book.positions.count == Set(positionSum.keys).count)
    }

    @Test func sampleCorpusBooksWithoutExceptionsAndReplaysAsNoOp() throws {
        let bytes = try Self.sample()
        var book = TradeBook(configuration: BookConfiguration(accounts: Self.accounts))
        let first = Self.run(&book, bytes, source: "sample-1k.fix")
        #expect(first.events.exceptions.isEmpty, "\(first.events.exceptions.prefix(3))")
        #expect(first.reports > 500)
        #expect(book.fills.count > 100)
        #expect(book.orders.contains { $0.status == .filled })
        #expect(book.orders.contains { $0.status == .cancelled })
        #expect(book.orders.contains { $0.status == .rejected })
        #expect(book.orders.contains { $0.clOrdIDs.count > 1 })
        #expect(book.fills.contains { !$0.fees.isEmpty })
        Self.checkInvariants(book, "sample-1k")

        // The same capture again, under another name (a replay): nothing happens.
        let snapshot = book.snapshot
        let second = Self.run(&book, bytes, source: "sample-1k-replay.fix")
        #expect(second.events.isEmpty)
        #expect(book.snapshot == snapshot)
    }

    @Test func sampleCorpusRestoredFromSnapshotHasTheSamePositionsAndCash() throws {
        let bytes = try Self.sample()
        let config = BookConfiguration(accounts: Self.accounts)
        var book = TradeBook(configuration: config)
        _ = Self.run(&book, bytes, source: "sample-1k.fix")
        let restored = TradeBook(configuration: config, restoring: book.snapshot)
        #expect(restored.positions == book.positions)
        #expect(restored.cash == book.cash)
    }

    @Test func cashEqualsTradesLessCharges() throws {
        let bytes = try Self.sample()
        var book = TradeBook(configuration: BookConfiguration(accounts: Self.accounts))
        _ = Self.run(&book, bytes, source: "sample-1k.fix")
        var expected: [String: FIXDecimal] = [:]
        for fill in book.fills {
            guard let account = fill.clientAccount else { continue }
            let gross = fill.quantity * fill.price
            expected[account + "|" + fill.currency, default: .zero] += fill.side.sign > 0 ? -gross : gross
            expected[account + "|" + fill.commissionCurrency, default: .zero] -= fill.commission
            for fee in fill.fees { expected[account + "|" + fee.currency, default: .zero] -= fee.amount }
        }
        for balance in book.cash {
            #expect(balance.amount == expected[balance.clientAccount + "|" + balance.currency])
        }
    }

    @Test func partyRoleAccountsBookPerClientFirm() throws {
        // Role 3 (client ID) holds the client firm in the generator's Parties group.
        var config = BookConfiguration(accounts: ["CLTA": "A", "CLTB": "B", "HFND": "H", "PENS": "P", "RETL": "R",
                                                  "QUNT": "Q"])
        config.accountSource = .party(role: 3)
        var book = TradeBook(configuration: config)
        let run = Self.run(&book, try Self.sample(), source: "sample-1k.fix")
        #expect(run.events.exceptions.isEmpty)
        #expect(Set(book.positions.map(\.clientAccount)).isSubset(of: ["A", "B", "H", "P", "R", "Q"]))
        Self.checkInvariants(book, "party role")
    }

    @Test(arguments: ["4.2", "5.0SP2"])
    func generatedCorpusKeepsTheInvariants(version: String) throws {
        guard let bytes = try Self.generate(version: version, count: 2000) else { return }
        var book = TradeBook(configuration: BookConfiguration(accounts: Self.accounts))
        let first = Self.run(&book, bytes, source: "gen-\(version).fix")
        #expect(first.events.exceptions.isEmpty, "\(version): \(first.events.exceptions.prefix(3))")
        #expect(book.fills.count > 200)
        Self.checkInvariants(book, version)
        let second = Self.run(&book, bytes, source: "gen-\(version).fix")
        #expect(second.events.isEmpty)
    }

    /// FIX 5.0SP2 differs from 4.4 in the generator only by the header (FIXT.1.1, ApplVerID),
    /// drawing the same random numbers: the same 1,000 messages must give the same book.
    @Test func fix50AndFix44CorporaGiveTheSameBook() throws {
        guard let v50 = try Self.generate(version: "5.0SP2", count: 1000) else { return }
        var a = TradeBook(configuration: BookConfiguration(accounts: Self.accounts))
        _ = Self.run(&a, try Self.sample(), source: "v44")
        var b = TradeBook(configuration: BookConfiguration(accounts: Self.accounts))
        _ = Self.run(&b, v50, source: "v50")
        #expect(a.fills.count > 100)
        #expect(a.orders == b.orders)
        #expect(a.positions == b.positions)
        #expect(a.cash == b.cash)
        func strip(_ fills: [Fill]) -> [Fill] {
            fills.map { var f = $0; f.source = SourcePosition(source: "", offset: 0); return f }
        }
        #expect(strip(a.fills) == strip(b.fills))
    }
}
