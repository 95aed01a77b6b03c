import FIXTagValue
import FIXTestSupport
import Testing
@testable import TradeBook

/// One row of the order state table: from a starting CumQty, a report of `kind` leads to
/// `status` with `leaves` and `orderQty`.
struct TransitionCase: Sendable, CustomTestStringConvertible {
    var name: String
    var startCum: String
    var kind: ReportBuilder.Kind
    var sentStatus: String
    var orderQty = "100"
    var lastQty: String?
    var expected: OrderStatus
    var leaves: String
    var cum: String
    var changesOrder = true

    var testDescription: String { name }
}

@Suite struct OrderStateTests {
    static let fromNew: [TransitionCase] = [
        TransitionCase(name: "pending cancel", startCum: "0", kind: .pendingCancel, sentStatus: "6",
                       expected: .pendingCancel, leaves: "100", cum: "0"),
        TransitionCase(name: "pending replace", startCum: "0", kind: .pendingReplace, sentStatus: "E",
                       expected: .pendingReplace, leaves: "100", cum: "0"),
        TransitionCase(name: "cancelled", startCum: "0", kind: .cancel, sentStatus: "4",
                       expected: .cancelled, leaves: "0", cum: "0"),
        TransitionCase(name: "expired", startCum: "0", kind: .expire, sentStatus: "C",
                       expected: .expired, leaves: "0", cum: "0"),
        TransitionCase(name: "done for day", startCum: "0", kind: .doneForDay, sentStatus: "3",
                       expected: .doneForDay, leaves: "0", cum: "0"),
        TransitionCase(name: "stopped", startCum: "0", kind: .stopped, sentStatus: "7",
                       expected: .stopped, leaves: "100", cum: "0"),
        TransitionCase(name: "suspended", startCum: "0", kind: .suspended, sentStatus: "9",
                       expected: .suspended, leaves: "100", cum: "0"),
        TransitionCase(name: "rejected after ack", startCum: "0", kind: .reject, sentStatus: "8",
                       expected: .rejected, leaves: "0", cum: "0"),
        TransitionCase(name: "replaced up", startCum: "0", kind: .replace, sentStatus: "0", orderQty: "150",
                       expected: .new, leaves: "150", cum: "0"),
        TransitionCase(name: "restated down", startCum: "0", kind: .restated, sentStatus: "0", orderQty: "80",
                       expected: .new, leaves: "80", cum: "0"),
        TransitionCase(name: "partial fill", startCum: "0", kind: .partial, sentStatus: "1", lastQty: "40",
                       expected: .partiallyFilled, leaves: "60", cum: "40"),
        TransitionCase(name: "full fill", startCum: "0", kind: .fill, sentStatus: "2", lastQty: "100",
                       expected: .filled, leaves: "0", cum: "100"),
        TransitionCase(name: "partially filled then cancelled", startCum: "40", kind: .cancel, sentStatus: "4",
                       expected: .cancelled, leaves: "0", cum: "40"),
        TransitionCase(name: "partially filled then replaced", startCum: "40", kind: .replace, sentStatus: "1",
                       orderQty: "150", expected: .partiallyFilled, leaves: "110", cum: "40"),
        TransitionCase(name: "partially filled replaced down to its fills", startCum: "40", kind: .replace,
                       sentStatus: "2", orderQty: "40", expected: .filled, leaves: "0", cum: "40"),
        TransitionCase(name: "late new ack after a fill", startCum: "40", kind: .new, sentStatus: "1",
                       expected: .partiallyFilled, leaves: "60", cum: "40", changesOrder: false),
        TransitionCase(name: "partially filled pending cancel", startCum: "40", kind: .pendingCancel, sentStatus: "6",
                       expected: .pendingCancel, leaves: "60", cum: "40"),
        TransitionCase(name: "pending cancel filled", startCum: "40", kind: .fill, sentStatus: "2", lastQty: "60",
                       expected: .filled, leaves: "0", cum: "100"),
        TransitionCase(name: "partially filled expired", startCum: "40", kind: .expire, sentStatus: "C",
                       expected: .expired, leaves: "0", cum: "40"),
    ]

    @Test(arguments: fromNew, Dialect.allCases)
    func reportMovesOrderToStatus(_ row: TransitionCase, dialect: Dialect) {
        var h = Harness()
        var b = ReportBuilder(dialect)
        h.apply(b.new("A"))
        if row.startCum != "0" { h.apply(b.fill("A", qty: row.startCum, px: "10", cum: row.startCum)) }
        if row.name == "pending cancel filled" {
            h.apply(b.report(.pendingCancel, clOrdID: "A", cum: "40", leaves: "60", status: "6"))
        }
        let cum = row.cum
        let clOrdID = row.kind == .replace ? "B" : "A"
        let orig: String? = row.kind == .replace ? "A" : nil
        let events = h.apply(b.report(row.kind, clOrdID: clOrdID, orig: orig, orderQty: row.orderQty, cum: cum,
                                      leaves: row.leaves, status: row.sentStatus, lastQty: row.lastQty,
                                      lastPx: row.lastQty == nil ? nil : "10"))
        let order = h.order(clOrdID)
        #expect(order?.status == row.expected)
        #expect(order?.leavesQty == d(row.leaves))
        #expect(order?.cumQty == d(cum))
        #expect(order?.orderQty == d(row.orderQty))
        #expect(events.exceptions.isEmpty)
        #expect(events.ordersUpserted.count == (row.changesOrder ? 1 : 0))
    }

    @Test(arguments: Dialect.allCases)
    func orderStatusReportChangesNothing(dialect: Dialect) {
        var h = Harness()
        var b = ReportBuilder(dialect)
        h.apply(b.new("A"))
        let events = h.apply(b.report(.status, clOrdID: "A", cum: "0", leaves: "100", status: "0"))
        #expect(events.isEmpty)
        #expect(h.order("A")?.status == .new)
    }

    @Test func finalStatusesAreNotReopened() {
        var h = Harness()
        var b = ReportBuilder()
        h.apply(b.new("A"))
        h.apply(b.report(.cancel, clOrdID: "A", cum: "0", leaves: "0", status: "4"))
        // A late ack and a pending status with new ExecIDs: recorded, but the order stays cancelled.
        let late = h.apply(b.new("A"))
        h.apply(b.report(.pendingReplace, clOrdID: "A", cum: "0", leaves: "0", status: "E"))
        #expect(h.order("A")?.status == .cancelled)
        #expect(h.order("A")?.leavesQty == .zero)
        #expect(late.ordersUpserted.isEmpty)
        #expect(late.count == 1)  // only executionRecorded
    }

    @Test func rejectedNewOrderIsCreatedWithoutException() {
        var h = Harness()
        var b = ReportBuilder()
        let events = h.apply(b.report(.reject, clOrdID: "A", cum: "0", leaves: "0", status: "8", extra: "103=0|58=No|"))
        #expect(events.exceptions.isEmpty)
        #expect(h.order("A")?.status == .rejected)
        #expect(h.order("A")?.leavesQty == .zero)
    }

    @Test func orderCreatedByPendingNewIsUpserted() {
        var h = Harness()
        var b = ReportBuilder()
        let events = h.apply(b.report(.pendingNew, clOrdID: "A", cum: "0", leaves: "100", status: "A"))
        #expect(events.ordersUpserted.map(\.status) == [.pendingNew])
    }

    @Test func aNewClOrdIDAloneIsAnOrderChange() {
        var h = Harness()
        var b = ReportBuilder()
        h.apply(b.new("A"))
        h.apply(b.report(.pendingCancel, clOrdID: "C", orig: "A", cum: "0", leaves: "100", status: "6"))
        let events = h.apply(b.report(.pendingCancel, clOrdID: "D", orig: "C", cum: "0", leaves: "100", status: "6"))
        #expect(events.ordersUpserted.map(\.clOrdIDs) == [["A", "C", "D"]])
    }

    @Test func pendingNewThenNew() {
        var h = Harness()
        var b = ReportBuilder()
        h.apply(b.report(.pendingNew, clOrdID: "A", cum: "0", leaves: "100", status: "A"))
        #expect(h.order("A")?.status == .pendingNew)
        h.apply(b.new("A"))
        #expect(h.order("A")?.status == .new)
    }
}

@Suite struct FillTests {
    @Test func lifeCycleBuildsCumQtyLeavesAndAveragePrice() {
        var h = Harness()
        var b = ReportBuilder()
        h.apply(b.new("A"))
        h.apply(b.fill("A", qty: "30", px: "10.10", cum: "30"))
        h.apply(b.fill("A", qty: "70", px: "10.20", cum: "100"))
        let order = h.order("A")!
        #expect(order.status == .filled)
        #expect(order.cumQty == 100)
        #expect(order.leavesQty == .zero)
        // (30 × 10.10 + 70 × 10.20) / 100 = 10.17
        #expect(order.avgPx == d("10.17"))
        #expect(h.book.fills.map(\.quantity) == [30, 70])
    }

    @Test func averagePriceIsRoundedToPriceScale() {
        var h = Harness()
        var b = ReportBuilder()
        h.apply(b.new("A", qty: "3"))
        h.apply(b.fill("A", qty: "1", px: "1", cum: "1", orderQty: "3"))
        h.apply(b.fill("A", qty: "2", px: "2", cum: "3", orderQty: "3"))
        #expect(h.order("A")!.avgPx == d("1.66666667"))
    }

    @Test func replaceAndCancelChainsLeadToOneOrder() {
        var h = Harness()
        var b = ReportBuilder()
        h.apply(b.new("A"))
        h.apply(b.fill("A", qty: "10", px: "5", cum: "10"))
        h.apply(b.report(.replace, clOrdID: "B", orig: "A", orderQty: "200", cum: "10", leaves: "190", status: "1"))
        h.apply(b.fill("B", qty: "20", px: "5", cum: "30", orderQty: "200"))
        let events = h.apply(b.report(.cancel, clOrdID: "C", orig: "B", orderQty: "200", cum: "30", leaves: "0",
                                      status: "4"))
        #expect(events.exceptions.isEmpty)
        #expect(h.book.orders.count == 1)
        let order = h.order("A")!
        #expect(order.clOrdIDs == ["A", "B", "C"])
        #expect(order.clOrdID == "C")
        #expect(h.order("B")?.id == order.id && h.order("C")?.id == order.id)
        #expect(order.status == .cancelled)
        #expect(order.cumQty == 30)
        #expect(order.orderQty == 200)
    }

    @Test func sameReportTwiceIsANoOp() {
        var h = Harness()
        var b = ReportBuilder()
        h.apply(b.new("A"))
        let fill = b.fill("A", qty: "10", px: "5", cum: "10")
        let first = h.apply(fill)
        let second = h.apply(fill)
        #expect(!first.isEmpty)
        #expect(second.isEmpty)
        #expect(h.book.fills.count == 1)
        #expect(h.order("A")!.cumQty == 10)
    }

    @Test func possDupCopyWithSameExecIDIsIgnored() {
        var h = Harness()
        var b = ReportBuilder()
        h.apply(b.new("A"))
        let execID = b.nextExecID
        h.apply(b.fill("A", qty: "10", px: "5", cum: "10"))
        // The same execution resent with PossDupFlag and OrigSendingTime, new sequence number.
        let copy = b.raw("43=Y|122=20240315-10:00:00.000|37=O-A|11=A|17=\(execID)|150=F|39=1|1=ACC1|55=AAPL|"
                         + "54=1|38=100|15=USD|32=10|31=5|151=90|14=10|6=5|60=20240315-10:00:00.000|")
        #expect(h.apply(copy).isEmpty)
        #expect(h.book.fills.count == 1)
    }

    @Test func possDupWithNewExecIDIsBooked() {
        var h = Harness()
        var b = ReportBuilder()
        h.apply(b.new("A"))
        let events = h.apply(b.fill("A", qty: "10", px: "5", cum: "10", extra: "43=Y|"))
        #expect(events.fillsBooked.count == 1)
    }

    @Test func sameExecIDOnAnotherSessionIsAnotherFill() {
        var h = Harness()
        var b = ReportBuilder()
        h.apply(b.new("A"))
        h.apply(b.fill("A", qty: "10", px: "5", cum: "10"))
        var other = ReportBuilder()
        other.target = "CLTB"
        h.apply(other.new("A"))
        let events = h.apply(other.fill("A", qty: "10", px: "5", cum: "10"))
        #expect(events.fillsBooked.count == 1)
        #expect(h.book.orders.count == 2)
        #expect(h.book.position(clientAccount: "C1", instrument: "AAPL")?.quantity == 20)
    }

    @Test func unknownAccountFillIsBookedAsException() {
        var h = Harness()
        var b = ReportBuilder()
        b.account = "NOPE"
        h.apply(b.new("A"))
        let start = h.offset
        let events = h.apply(b.fill("A", qty: "10", px: "5", cum: "10"))
        #expect(events.exceptionCodes == [.accountUnknown])
        #expect(events.exceptions.first?.source == SourcePosition(source: "test.fix", offset: start))
        #expect(events.exceptions.first?.execID == "E2")
        #expect(events.fillsBooked.first?.clientAccount == nil)
        #expect(events.positionsChanged.isEmpty && events.cashChanged.isEmpty)
        #expect(h.order("A")!.cumQty == 10)
        #expect(h.book.positions.isEmpty)
    }

    @Test func accountFromConfiguredPartyRole() {
        var h = Harness(accounts: ["CUST9": "C9"]) { $0.accountSource = .party(role: 24) }
        var b = ReportBuilder()
        b.account = "IGNORED"
        h.apply(b.new("A"))
        let events = h.apply(b.fill("A", qty: "10", px: "5", cum: "10",
                                    extra: "453=2|448=BRKRGB2L|447=B|452=1|448=CUST9|447=D|452=24|"))
        #expect(events.exceptions.isEmpty)
        #expect(events.fillsBooked.first?.clientAccount == "C9")
        #expect(h.book.position(clientAccount: "C9", instrument: "AAPL")?.quantity == 10)
    }

    @Test func fillForUnknownOrderCreatesTheOrder() {
        var h = Harness()
        var b = ReportBuilder()
        let events = h.apply(b.fill("Z", qty: "10", px: "5", cum: "10"))
        #expect(events.exceptionCodes == [.orderUnknown])
        let order = h.order("Z")!
        #expect(order.cumQty == 10 && order.orderQty == 100 && order.status == .partiallyFilled)
        #expect(h.book.position(clientAccount: "C1", instrument: "AAPL")?.quantity == 10)
    }

    @Test func overfillIsBookedAndRaised() {
        var h = Harness()
        var b = ReportBuilder()
        h.apply(b.new("A"))
        h.apply(b.fill("A", qty: "100", px: "5", cum: "100"))
        let events = h.apply(b.fill("A", qty: "5", px: "5", cum: "105"))
        #expect(events.exceptionCodes == [.overfill])
        let order = h.order("A")!
        #expect(order.cumQty == 105 && order.leavesQty == .zero && order.status == .filled)
    }

    @Test func reportedCumQtyDifferentFromBookedFillsIsRaised() {
        var h = Harness()
        var b = ReportBuilder()
        h.apply(b.new("A"))
        // The venue says 30 done but only this 10 reached the book: a fill is missing.
        let events = h.apply(b.fill("A", qty: "10", px: "5", cum: "30"))
        #expect(events.exceptionCodes == [.cumQtyMismatch])
        #expect(h.order("A")!.cumQty == 10)
    }

    @Test func malformedReportIsRaisedOncePerSourcePosition() {
        var h = Harness()
        var b = ReportBuilder()
        h.apply(b.new("A"))
        let bad = b.report(.partial, clOrdID: "A", cum: "10", leaves: "90", status: "1", lastQty: "10")  // no LastPx
        let events = h.apply(bad, at: 4242)
        #expect(events.exceptionCodes == [.reportMalformed])
        #expect(events.exceptions.first?.source.offset == 4242)
        #expect(events.exceptions.first?.reason.contains("LastPx(31)") == true)
        #expect(h.apply(bad, at: 4242).isEmpty)
        #expect(h.book.fills.isEmpty && h.order("A")!.cumQty == .zero)
        // Not marked as applied: a good report with that ExecID is still booked.
        #expect(!h.book.hasApplied(ExecutionKey(session: "BRKR:CLTA", execID: "E2")))
    }

    @Test(arguments: [
        ("missing ExecID", "37=O|11=A|150=0|39=0|1=ACC1|55=AAPL|54=1|38=100|", "ExecID(17)"),
        ("unknown ExecType", "37=O|11=A|17=X1|150=Z|39=0|1=ACC1|55=AAPL|54=1|38=100|", "ExecType(150)"),
        ("no side", "37=O|11=A|17=X1|150=0|39=0|1=ACC1|55=AAPL|38=100|", "Side(54)"),
        ("cross side", "37=O|11=A|17=X1|150=0|39=0|1=ACC1|55=AAPL|54=8|38=100|", "Side(54)"),
        ("no instrument", "37=O|11=A|17=X1|150=0|39=0|1=ACC1|54=1|38=100|", "Symbol(55)"),
        ("no order id", "17=X1|150=0|39=0|1=ACC1|55=AAPL|54=1|38=100|", "ClOrdID(11)"),
        ("zero LastQty", "37=O|11=A|17=X1|150=F|39=1|1=ACC1|55=AAPL|54=1|38=100|32=0|31=5|", "LastQty(32)"),
        ("bust without ref", "37=O|11=A|17=X1|150=H|39=0|1=ACC1|55=AAPL|54=1|38=100|", "ExecRefID(19)"),
        ("huge quantity", "37=O|11=A|17=X1|150=F|39=1|1=ACC1|55=AAPL|54=1|38=100|32=1000000000001|31=1|",
         "LastQty(32) above"),
        ("huge notional", "37=O|11=A|17=X1|150=F|39=1|1=ACC1|55=AAPL|54=1|38=100|32=1000000|31=10000001|",
         "LastQty × LastPx above"),
        ("too many fees", "37=O|11=A|17=X1|150=F|39=1|1=ACC1|55=AAPL|54=1|38=100|32=1|31=1|136=33|", "NoMiscFees(136)"),
        ("unreadable field", "37=O|11=A|17=X1|150=0|39=0|1=ACC1|55=AAPL|54=1|38=100|x=1|", "cannot all be read"),
    ])
    func malformedReportsNameTheMissingTag(_ name: String, body: String, tag: String) {
        var h = Harness()
        var b = ReportBuilder()
        let events = h.apply(b.raw(body))
        #expect(events.exceptionCodes == [.reportMalformed], "\(name)")
        let reason = events.exceptions.first?.reason ?? ""
        #expect(reason.contains(tag), "\(name): \(reason)")
        #expect(h.book.orders.isEmpty)
    }

    @Test func otherMessageTypesAreIgnored() {
        var h = Harness()
        let events = h.apply(TestMessages.make("8=FIX.4.4|35=D|49=CLTA|56=BRKR|34=1|52=20240315-10:00:00.000|11=A|"
                                               + "1=ACC1|55=AAPL|54=1|38=100|40=1|60=20240315-10:00:00.000|"))
        #expect(events.isEmpty)
    }

    @Test func eventsComeInDocumentedOrder() {
        var h = Harness()
        var b = ReportBuilder()
        h.apply(b.new("A"))
        let events = h.apply(b.fill("A", qty: "10", px: "5", cum: "10", extra: "12=1|13=3|"))
        let kinds = events.map { event -> String in
            switch event {
            case .executionRecorded: return "exec"
            case .fillBooked: return "fill"
            case .orderUpserted: return "order"
            case .positionChanged: return "position"
            case .cashChanged: return "cash"
            default: return "other"
            }
        }
        #expect(kinds == ["exec", "fill", "order", "position", "cash"])
    }
}

@Suite struct DialectTests {
    /// The same life cycle — new, partial, replace, partial, correction, bust, fill of the
    /// rest, a second order cancelled — written in FIX 4.2 and in FIX 4.4.
    static func lifeCycle(_ dialect: Dialect) -> [[UInt8]] {
        var b = ReportBuilder(dialect)
        var out: [[UInt8]] = []
        out.append(b.new("A"))
        out.append(b.fill("A", qty: "40", px: "10.5", cum: "40", extra: "12=4|13=3|75=20240315|"))
        out.append(b.report(.replace, clOrdID: "B", orig: "A", orderQty: "120", cum: "40", leaves: "80", status: "1"))
        out.append(b.fill("B", qty: "30", px: "10.6", cum: "70", orderQty: "120"))
        out.append(b.report(.correct, clOrdID: "B", orderQty: "120", cum: "65", leaves: "55", status: "1",
                            lastQty: "25", lastPx: "10.55", ref: "E4"))
        out.append(b.report(.bust, clOrdID: "B", orderQty: "120", cum: "25", leaves: "95", status: "1", ref: "E2"))
        out.append(b.fill("B", qty: "95", px: "10.7", cum: "120", orderQty: "120"))
        b.side = "2"
        out.append(b.new("S"))
        out.append(b.fill("S", qty: "50", px: "11", cum: "50"))
        out.append(b.report(.cancel, clOrdID: "S2", orig: "S", cum: "50", leaves: "0", status: "4"))
        return out
    }

    @Test func fix42AndFix44LifeCyclesGiveTheSameBook() {
        var books: [TradeBook] = []
        for dialect in Dialect.allCases {
            var h = Harness()
            var exceptions: [BookException] = []
            for message in Self.lifeCycle(dialect) { exceptions += h.apply(message).exceptions }
            #expect(exceptions.isEmpty, "\(dialect): \(exceptions)")
            books.append(h.book)
        }
        let (a, b) = (books[0], books[1])
        #expect(a.orders == b.orders)
        #expect(a.positions == b.positions)
        #expect(a.cash == b.cash)
        // Fills differ only in where they were read (the 4.2 messages are longer).
        func strip(_ fills: [Fill]) -> [Fill] {
            fills.map { var f = $0; f.source = SourcePosition(source: "", offset: 0); return f }
        }
        #expect(strip(a.fills) == strip(b.fills))
        let order = a.order(session: "BRKR:CLTA", clOrdID: "A")!
        #expect(order.cumQty == 120 && order.status == .filled)
        // 25 × 10.55 + 95 × 10.7 = 263.75 + 1016.5 = 1280.25; / 120 = 10.66875
        #expect(order.avgPx == d("10.66875"))
        #expect(a.position(clientAccount: "C1", instrument: "AAPL")?.quantity == 70)
    }
}

@Suite struct Fix40Tests {
    /// FIX 4.0 has no ExecType: ExecTransType and OrdStatus say what happened.
    @Test func lifeCycleWithoutExecType() {
        var h = Harness()
        func m(_ body: String) -> [UInt8] {
            TestMessages.make("8=FIX.4.0|35=8|49=BRKR|56=CLTA|34=1|52=20240315-10:00:00|" + body)
        }
        let common = "1=ACC1|55=IBM|54=1|38=100|"
        h.apply(m("37=O|11=A|17=1|20=0|39=0|" + common + "32=0|31=0|14=0|6=0|"))
        #expect(h.order("A")?.status == .new)
        h.apply(m("37=O|11=A|17=2|20=0|39=1|" + common + "32=40|31=50|14=40|6=50|"))
        h.apply(m("37=O|11=A|17=3|20=0|39=2|" + common + "32=60|31=51|14=100|6=50.6|"))
        #expect(h.order("A")?.status == .filled)
        #expect(h.order("A")?.avgPx == d("50.6"))
        let bust = h.apply(m("37=O|11=A|17=4|20=1|19=2|39=1|" + common + "32=40|31=50|14=60|6=51|"))
        #expect(bust.exceptions.isEmpty)
        #expect(h.order("A")?.cumQty == 60 && h.order("A")?.status == .partiallyFilled)
        #expect(h.book.position(clientAccount: "C1", instrument: "IBM")?.quantity == 60)
        #expect(h.book.cash(clientAccount: "C1", currency: "USD") == d("-3060"))
    }
}

@Suite struct CorrectionTests {
    /// Buy 100 @ 10, sell 50 @ 12: realised 50 × (12 − 10) = 100.
    static func start(_ dialect: Dialect) -> (Harness, ReportBuilder) {
        var h = Harness()
        var b = ReportBuilder(dialect)
        h.apply(b.new("B1"))
        h.apply(b.fill("B1", qty: "100", px: "10", cum: "100"))  // E2
        b.side = "2"
        h.apply(b.new("S1"))
        h.apply(b.fill("S1", qty: "50", px: "12", cum: "50"))    // E4
        return (h, b)
    }

    @Test(arguments: Dialect.allCases)
    func correctingAPastBuyRederivesPnLAndMovesCash(dialect: Dialect) {
        var (h, b) = Self.start(dialect)
        let before = h.book.position(clientAccount: "C1", instrument: "AAPL")!
        #expect(before.realisedPnL == 100)
        #expect(h.book.cash(clientAccount: "C1", currency: "USD") == d("-400"))  // −1000 + 600
        b.side = "1"
        let events = h.apply(b.report(.correct, clOrdID: "B1", cum: "100", leaves: "0", status: "2",
                                      lastQty: "100", lastPx: "11", ref: "E2"))
        #expect(events.exceptions.isEmpty)
        let corrected = h.book.fill(session: "BRKR:CLTA", execID: "E2")!
        #expect(corrected.price == 11 && corrected.state == .corrected(by: "E5"))
        #expect(h.order("B1")!.avgPx == 11)
        let after = h.book.position(clientAccount: "C1", instrument: "AAPL")!
        #expect(after.quantity == 50)
        #expect(after.averageCost == 11)
        #expect(after.realisedPnL == 50)  // 50 × (12 − 11)
        #expect(h.book.cash(clientAccount: "C1", currency: "USD") == d("-500"))
        #expect(events.cashChanged.map(\.amount) == [d("-500")])
    }

    @Test(arguments: Dialect.allCases)
    func correctingQuantityChangesCumQtyAndStatus(dialect: Dialect) {
        var (h, b) = Self.start(dialect)
        b.side = "1"
        h.apply(b.report(.correct, clOrdID: "B1", cum: "80", leaves: "20", status: "1",
                         lastQty: "80", lastPx: "10", ref: "E2"))
        let order = h.order("B1")!
        #expect(order.cumQty == 80 && order.status == .partiallyFilled && order.leavesQty == 20)
        let p = h.book.position(clientAccount: "C1", instrument: "AAPL")!
        #expect(p.quantity == 30 && p.realisedPnL == 100)
        #expect(h.book.cash(clientAccount: "C1", currency: "USD") == d("-200"))
    }

    @Test(arguments: Dialect.allCases)
    func bustingASellRestoresPositionAndCash(dialect: Dialect) {
        var (h, b) = Self.start(dialect)
        let events = h.apply(b.report(.bust, clOrdID: "S1", cum: "0", leaves: "100", status: "0", ref: "E4"))
        #expect(events.exceptions.isEmpty)
        #expect(h.book.fill(session: "BRKR:CLTA", execID: "E4")?.state == .busted(by: "E5"))
        let order = h.order("S1")!
        #expect(order.cumQty == .zero && order.status == .new && order.leavesQty == 100 && order.avgPx == .zero)
        let p = h.book.position(clientAccount: "C1", instrument: "AAPL")!
        #expect(p.quantity == 100 && p.realisedPnL == .zero && p.averageCost == 10)
        #expect(h.book.cash(clientAccount: "C1", currency: "USD") == d("-1000"))
    }

    @Test func correctingAFillOfAnUnknownAccountMovesNoPositionOrCash() {
        var h = Harness()
        var b = ReportBuilder()
        b.account = "NOPE"
        h.apply(b.new("A"))
        h.apply(b.fill("A", qty: "10", px: "5", cum: "10"))
        let events = h.apply(b.report(.correct, clOrdID: "A", cum: "8", leaves: "92", status: "1", lastQty: "8",
                                      lastPx: "5", ref: "E2"))
        #expect(events.exceptions.isEmpty)
        #expect(events.positionsChanged.isEmpty && events.cashChanged.isEmpty)
        #expect(h.order("A")?.cumQty == 8)
        #expect(h.book.positions.isEmpty && h.book.cash.isEmpty)
    }

    @Test func fillInAnotherCurrencyThanThePositionIsRaised() {
        var h = Harness()
        var b = ReportBuilder()
        h.apply(b.new("A"))
        h.apply(b.fill("A", qty: "10", px: "5", cum: "10"))
        b.currency = "EUR"
        let events = h.apply(b.fill("A", qty: "10", px: "5", cum: "20"))
        #expect(events.exceptionCodes == [.currencyMismatch])
        #expect(h.book.position(clientAccount: "C1", instrument: "AAPL")?.quantity == 20)
        #expect(h.book.cash(clientAccount: "C1", currency: "EUR") == d("-50"))
    }

    @Test func correctionOfACorrectionFollowsTheChain() {
        var (h, b) = Self.start(.fix44)
        b.side = "1"
        h.apply(b.report(.correct, clOrdID: "B1", cum: "100", leaves: "0", status: "2",
                         lastQty: "100", lastPx: "11", ref: "E2"))  // E5
        let events = h.apply(b.report(.correct, clOrdID: "B1", cum: "100", leaves: "0", status: "2",
                                      lastQty: "100", lastPx: "9", ref: "E5"))
        #expect(events.exceptions.isEmpty)
        #expect(h.book.fills.count == 2)
        #expect(h.book.fill(session: "BRKR:CLTA", execID: "E2")?.price == 9)
        #expect(h.book.position(clientAccount: "C1", instrument: "AAPL")?.realisedPnL == 150)
    }

    @Test func bustOfUnknownExecutionIsRaised() {
        var (h, b) = Self.start(.fix44)
        let bust = b.report(.bust, clOrdID: "S1", cum: "0", leaves: "100", status: "0", ref: "E999")
        let events = h.apply(bust)
        #expect(events.exceptionCodes == [.execRefUnknown])
        #expect(h.book.position(clientAccount: "C1", instrument: "AAPL")?.quantity == 50)
        #expect(h.apply(bust).isEmpty)
    }

    @Test func bustOfABustedFillIsRaised() {
        var (h, b) = Self.start(.fix42)
        h.apply(b.report(.bust, clOrdID: "S1", cum: "0", leaves: "100", status: "0", ref: "E4"))
        let events = h.apply(b.report(.bust, clOrdID: "S1", cum: "0", leaves: "100", status: "0", ref: "E4"))
        #expect(events.exceptionCodes == [.execRefBusted])
        #expect(h.book.cash(clientAccount: "C1", currency: "USD") == d("-1000"))
    }

    @Test func correctionOnALaterDayKeepsTheTradeDate() {
        var (h, b) = Self.start(.fix44)
        b.side = "1"
        b.sendingTime = "20240318-09:00:00.000"
        h.apply(b.report(.correct, clOrdID: "B1", cum: "100", leaves: "0", status: "2",
                         lastQty: "100", lastPx: "11", ref: "E2"))
        let fill = h.book.fill(session: "BRKR:CLTA", execID: "E2")!
        #expect(fill.tradeDate == FIXDate(year: 2024, month: 3, day: 15)!)
        #expect(fill.settlementDate == FIXDate(year: 2024, month: 3, day: 18)!)
        #expect(h.book.position(clientAccount: "C1", instrument: "AAPL")?.realisedPnL == 50)
    }

    @Test func correctionWithATradeDateMovesTheSettlementDate() {
        var (h, b) = Self.start(.fix44)
        b.side = "1"
        h.apply(b.report(.correct, clOrdID: "B1", cum: "100", leaves: "0", status: "2",
                         lastQty: "100", lastPx: "10", ref: "E2", extra: "75=20240314|"))
        let fill = h.book.fill(session: "BRKR:CLTA", execID: "E2")!
        #expect(fill.tradeDate == FIXDate(year: 2024, month: 3, day: 14)!)
        #expect(fill.settlementDate == FIXDate(year: 2024, month: 3, day: 15)!)
    }

    @Test func correctionRestatesChargesOnlyWhenItCarriesThem() {
        var h = Harness()
        var b = ReportBuilder()
        h.apply(b.new("A"))
        h.apply(b.fill("A", qty: "10", px: "5", cum: "10", extra: "12=2|13=3|"))  // E2: cash −52
        h.apply(b.report(.correct, clOrdID: "A", cum: "10", leaves: "90", status: "1", lastQty: "10", lastPx: "6",
                         ref: "E2"))
        #expect(h.book.cash(clientAccount: "C1", currency: "USD") == d("-62"))
        h.apply(b.report(.correct, clOrdID: "A", cum: "10", leaves: "90", status: "1", lastQty: "10", lastPx: "6",
                         ref: "E3", extra: "12=1|13=3|"))
        #expect(h.book.cash(clientAccount: "C1", currency: "USD") == d("-61"))
    }
}

@Suite struct ChargesAndDatesTests {
    @Test func buyPaysGrossCommissionAndFees() {
        var h = Harness()
        var b = ReportBuilder()
        h.apply(b.new("A"))
        // Gross 100 × 10.25 = 1025; commission 0.35 absolute; fees 0.03 absolute + 0.0025 per unit
        // (0.25) in USD, and 1.50 in GBP.
        let events = h.apply(b.fill("A", qty: "100", px: "10.25", cum: "100", extra:
            "12=0.35|13=3|136=3|137=0.03|138=USD|139=1|891=0|137=0.0025|138=USD|139=7|891=1|137=1.50|138=GBP|139=5|"))
        #expect(events.exceptions.isEmpty)
        let fill = events.fillsBooked[0]
        #expect(fill.commission == d("0.35"))
        #expect(fill.fees.map(\.amount) == [d("0.03"), d("0.25"), d("1.50")])
        #expect(fill.fees.map(\.type) == ["1", "7", "5"])
        #expect(h.book.cash(clientAccount: "C1", currency: "USD") == d("-1025.63"))
        #expect(h.book.cash(clientAccount: "C1", currency: "GBP") == d("-1.5"))
        #expect(Set(events.cashChanged.map(\.currency)) == ["USD", "GBP"])
    }

    @Test func sellReceivesGrossLessCharges() {
        var h = Harness()
        var b = ReportBuilder()
        b.side = "2"
        h.apply(b.new("A"))
        h.apply(b.fill("A", qty: "100", px: "10", cum: "100", extra: "12=0.02|13=1|"))  // per unit: 2
        #expect(h.book.cash(clientAccount: "C1", currency: "USD") == d("998"))
        #expect(h.book.position(clientAccount: "C1", instrument: "AAPL")?.quantity == -100)
    }

    @Test func percentageCommissionAndFee() {
        var h = Harness()
        var b = ReportBuilder()
        h.apply(b.new("A"))
        // 0.1 % of 2000 = 2; fee 0.05 % = 1
        h.apply(b.fill("A", qty: "100", px: "20", cum: "100", extra: "12=0.1|13=2|136=1|137=0.05|139=4|891=2|"))
        #expect(h.book.cash(clientAccount: "C1", currency: "USD") == d("-2003"))
    }

    @Test func commissionInItsOwnCurrency() {
        var h = Harness()
        var b = ReportBuilder()
        h.apply(b.new("A"))
        h.apply(b.fill("A", qty: "1", px: "20", cum: "1", extra: "12=3|13=3|479=EUR|"))
        #expect(h.book.cash(clientAccount: "C1", currency: "USD") == d("-20"))
        #expect(h.book.cash(clientAccount: "C1", currency: "EUR") == d("-3"))
    }

    @Test func unsupportedCommissionTypeIsTakenAsAbsolute() {
        var h = Harness()
        var b = ReportBuilder()
        h.apply(b.new("A"))
        let events = h.apply(b.fill("A", qty: "1", px: "20", cum: "1", extra: "12=3|13=6|136=1|137=1|891=9|"))
        #expect(events.exceptionCodes == [.commissionTypeUnsupported, .feeBasisUnsupported])
        #expect(h.book.cash(clientAccount: "C1", currency: "USD") == d("-24"))
    }

    @Test func tradeDateFromTradeDateThenTransactTimeThenSendingTime() {
        var h = Harness()
        var b = ReportBuilder()
        b.sendingTime = "20240316-23:59:00.000"
        h.apply(b.new("A"))
        let explicit = h.apply(b.fill("A", qty: "1", px: "1", cum: "1", extra: "75=20240314|"))
        // The builder writes TransactTime = SendingTime.
        let fromTransact = h.apply(b.fill("A", qty: "1", px: "1", cum: "2"))
        let noTimes = b.raw("37=O|11=A|17=N1|150=F|39=1|1=ACC1|55=AAPL|54=1|38=100|32=1|31=1|14=3|")
        let fromSending = h.apply(noTimes)
        #expect(explicit.fillsBooked[0].tradeDate == FIXDate(year: 2024, month: 3, day: 14)!)
        #expect(fromTransact.fillsBooked[0].tradeDate == FIXDate(year: 2024, month: 3, day: 16)!)
        #expect(fromSending.fillsBooked[0].tradeDate == FIXDate(year: 2024, month: 3, day: 16)!)
        // Thursday + 1 = Friday; Saturday counts from Monday, + 1 = Tuesday.
        #expect(explicit.fillsBooked[0].settlementDate == FIXDate(year: 2024, month: 3, day: 15)!)
        #expect(fromTransact.fillsBooked[0].settlementDate == FIXDate(year: 2024, month: 3, day: 19)!)
    }

    @Test func settlementDateFromTheReportWins() {
        var h = Harness { $0.settlement = SettlementCalendar(cycleDays: 2) }
        var b = ReportBuilder()
        h.apply(b.new("A"))
        let explicit = h.apply(b.fill("A", qty: "1", px: "1", cum: "1", extra: "64=20240325|"))
        let derived = h.apply(b.fill("A", qty: "1", px: "1", cum: "2", extra: "75=20240314|"))
        #expect(explicit.fillsBooked[0].settlementDate == FIXDate(year: 2024, month: 3, day: 25)!)
        #expect(derived.fillsBooked[0].settlementDate == FIXDate(year: 2024, month: 3, day: 18)!)  // Thu T+2
    }
}

/// Session names are found by their header bytes among the recently seen sessions; more
/// sessions than that cache holds, interleaved, still book under their own names exactly once.
@Suite struct SessionNameTests {
    @Test func moreInterleavedSessionsThanTheCacheHoldBookUnderTheirOwnNames() {
        var h = Harness()
        let sessions = TradeBook.sessionCacheMax + 6
        var builders = (0..<sessions).map { i -> ReportBuilder in
            var b = ReportBuilder()
            b.target = "CL\(i)"
            return b
        }
        var reports: [[UInt8]] = []
        for i in 0..<sessions { reports.append(builders[i].new("A")) }
        for i in 0..<sessions { reports.append(builders[i].fill("A", qty: "10", px: "5", cum: "10")) }
        for r in reports { h.apply(r) }
        #expect(h.book.orders.count == sessions)
        #expect(h.book.fills.count == sessions)
        for i in 0..<sessions {
            #expect(h.book.fill(session: "BRKR:CL\(i)", execID: "E2")?.quantity == FIXDecimal("10"))
            #expect(h.order("A", session: "BRKR:CL\(i)")?.cumQty == FIXDecimal("10"))
        }
        // Replayed in another order, after the cache has moved on: nothing is applied again.
        for r in reports.reversed() { #expect(h.apply(r).isEmpty) }
        #expect(h.book.fills.count == sessions)
    }
}
