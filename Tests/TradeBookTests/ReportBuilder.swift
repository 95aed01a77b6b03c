import FIXTagValue
import FIXTestSupport
import TradeBook

/// Which execution report semantics a test speaks.
enum Dialect: String, CaseIterable, Sendable {
    /// ExecTransType(20) for corrections and busts, ExecType 1/2 for fills.
    case fix42 = "FIX.4.2"
    /// ExecType F/G/H.
    case fix44 = "FIX.4.4"
}

/// Builds execution reports from a few semantic arguments, in either dialect, numbering
/// ExecIDs and sequence numbers itself.
struct ReportBuilder {
    var dialect: Dialect
    var account = "ACC1"
    var symbol = "AAPL"
    var side = "1"
    var currency = "USD"
    var sender = "BRKR"
    var target = "CLTA"
    var sendingTime = "20240315-10:00:00.000"
    var execCounter = 0
    var seqNum = 0

    init(_ dialect: Dialect = .fix44) {
        self.dialect = dialect
    }

    /// The next ExecID this builder will use.
    var nextExecID: String { "E\(execCounter + 1)" }

    /// A report with the standard header and the given body (pipe-separated `tag=value|`).
    mutating func raw(_ body: String) -> [UInt8] {
        seqNum += 1
        return TestMessages.make("8=\(dialect.rawValue)|35=8|49=\(sender)|56=\(target)|34=\(seqNum)|52=\(sendingTime)|"
                                 + body)
    }

    /// A report about order `clOrdID`: ExecType/ExecTransType chosen by the dialect.
    mutating func report(
        _ kind: Kind, clOrdID: String, orig: String? = nil, orderQty: String = "100", cum: String, leaves: String,
        status: String, lastQty: String? = nil, lastPx: String? = nil, ref: String? = nil, extra: String = ""
    ) -> [UInt8] {
        execCounter += 1
        var body = "37=O-\(clOrdID)|11=\(clOrdID)|"
        if let orig { body += "41=\(orig)|" }
        body += "17=E\(execCounter)|"
        if let ref { body += "19=\(ref)|" }
        switch dialect {
        case .fix42:
            body += "20=\(kind.execTransType42)|150=\(kind.execType42(status: status))|"
        case .fix44:
            body += "150=\(kind.execType44)|"
        }
        body += "39=\(status)|1=\(account)|55=\(symbol)|54=\(side)|38=\(orderQty)|15=\(currency)|"
        if let lastQty { body += "32=\(lastQty)|" }
        if let lastPx { body += "31=\(lastPx)|" }
        body += "151=\(leaves)|14=\(cum)|6=0|60=\(sendingTime)|" + extra
        return raw(body)
    }

    enum Kind {
        case new, partial, fill, cancel, replace, reject, expire, doneForDay, pendingCancel, pendingReplace
        case pendingNew, stopped, suspended, restated, correct, bust, status

        var execType44: String {
            switch self {
            case .new: return "0"
            case .partial, .fill: return "F"
            case .cancel: return "4"
            case .replace: return "5"
            case .reject: return "8"
            case .expire: return "C"
            case .doneForDay: return "3"
            case .pendingCancel: return "6"
            case .pendingReplace: return "E"
            case .pendingNew: return "A"
            case .stopped: return "7"
            case .suspended: return "9"
            case .restated: return "D"
            case .correct: return "G"
            case .bust: return "H"
            case .status: return "I"
            }
        }

        var execTransType42: String {
            switch self {
            case .correct: return "2"
            case .bust: return "1"
            case .status: return "3"
            default: return "0"
            }
        }

        /// In FIX 4.2 a correction's or bust's ExecType shows the order's state after it.
        func execType42(status: String) -> String {
            switch self {
            case .partial: return "1"
            case .fill: return "2"
            case .correct, .bust, .status: return status
            default: return execType44
            }
        }
    }

    mutating func new(_ clOrdID: String, qty: String = "100") -> [UInt8] {
        report(.new, clOrdID: clOrdID, orderQty: qty, cum: "0", leaves: qty, status: "0")
    }

    /// A fill of `qty` at `px`; the builder does not track CumQty, the test says it.
    mutating func fill(_ clOrdID: String, qty: String, px: String, cum: String, orderQty: String = "100",
                       extra: String = "") -> [UInt8] {
        let done = FIXDecimal(cum)! >= FIXDecimal(orderQty)!
        let leaves = done ? "0" : (FIXDecimal(orderQty)! - FIXDecimal(cum)!).description
        return report(done ? .fill : .partial, clOrdID: clOrdID, orderQty: orderQty, cum: cum, leaves: leaves,
                      status: done ? "2" : "1", lastQty: qty, lastPx: px, extra: extra)
    }
}

/// A book with a source that advances, so every applied message has its own position.
struct Harness {
    var book: TradeBook
    var source = "test.fix"
    var offset: Int64 = 0

    init(accounts: [String: String] = ["ACC1": "C1", "ACC2": "C2"],
         configure: (inout BookConfiguration) -> Void = { _ in }) {
        var config = BookConfiguration(accounts: accounts)
        configure(&config)
        book = TradeBook(configuration: config)
    }

    /// Applies `bytes` at the next offset of the source and returns the events.
    @discardableResult
    mutating func apply(_ bytes: [UInt8]) -> [BookEvent] {
        let events = apply(bytes, at: offset)
        offset += Int64(bytes.count)
        return events
    }

    /// Applies `bytes` as found at `offset` (to replay a message from the same place).
    mutating func apply(_ bytes: [UInt8], at offset: Int64) -> [BookEvent] {
        var events: [BookEvent] = []
        bytes.withUnsafeBytes { raw in
            let position = SourcePosition(source: source, offset: offset)
            book.apply(FIXMessage(unchecked: raw), source: position, into: &events)
        }
        return events
    }

    func order(_ clOrdID: String, session: String = "BRKR:CLTA") -> Order? {
        book.order(session: session, clOrdID: clOrdID)
    }
}

extension [BookEvent] {
    var exceptions: [BookException] {
        compactMap { if case .exceptionRaised(let e) = $0 { return e } else { return nil } }
    }
    var exceptionCodes: [BookException.Code] { exceptions.map(\.code) }
    var fillsBooked: [Fill] { compactMap { if case .fillBooked(let f) = $0 { return f } else { return nil } } }
    var positionsChanged: [Position] {
        compactMap { if case .positionChanged(let p) = $0 { return p } else { return nil } }
    }
    var cashChanged: [CashBalance] { compactMap { if case .cashChanged(let c) = $0 { return c } else { return nil } } }
    var ordersUpserted: [Order] { compactMap { if case .orderUpserted(let o) = $0 { return o } else { return nil } } }
}

/// Shorthand for exact decimals in expectations.
func d(_ text: String) -> FIXDecimal { FIXDecimal(text)! }
