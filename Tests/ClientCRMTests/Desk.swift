import ClientCRM
import FIXTagValue
import FIXTestSupport
import TradeBook

/// A trading desk for tests: a real TradeBook fed with execution reports built from text, so
/// the rules see the events the book really emits.
struct Desk {
    var book: TradeBook
    var seqNum = 0
    var execCounter = 0
    var offset: Int64 = 0
    var session = (sender: "BRKR", target: "CLTA")

    /// FIX Account → client account, as the book is configured.
    static let accounts = ["FIX-A1": "A1", "FIX-A2": "A2", "FIX-B1": "B1", "FIX-X": "X1", "FIX-Z": "Z1"]

    init() {
        book = TradeBook(configuration: BookConfiguration(accounts: Desk.accounts))
    }

    /// Applies a report with the standard header and `body`, returning the events.
    mutating func send(_ body: String, time: String) -> [BookEvent] {
        seqNum += 1
        let bytes = TestMessages.make(
            "8=FIX.4.4|35=8|49=\(session.sender)|56=\(session.target)|34=\(seqNum)|52=\(time)|" + body)
        var events: [BookEvent] = []
        bytes.withUnsafeBytes { raw in
            book.apply(FIXMessage(unchecked: raw), source: SourcePosition(source: "desk.fix", offset: offset),
                       into: &events)
        }
        offset += Int64(bytes.count)
        return events
    }

    mutating func fill(
        _ clOrdID: String, account: String = "FIX-A1", qty: String, px: String, cum: String, orderQty: String = "100",
        date: String = "20240315", time: String = "10:00:00.000", symbol: String = "AAPL", side: String = "1"
    ) -> [BookEvent] {
        execCounter += 1
        let done = FIXDecimal(cum)! >= FIXDecimal(orderQty)!
        let leaves = done ? "0" : (FIXDecimal(orderQty)! - FIXDecimal(cum)!).description
        let stamp = "\(date)-\(time)"
        return send("37=O-\(clOrdID)|11=\(clOrdID)|17=E\(execCounter)|150=F|39=\(done ? "2" : "1")|1=\(account)|"
                    + "55=\(symbol)|54=\(side)|38=\(orderQty)|15=USD|32=\(qty)|31=\(px)|151=\(leaves)|14=\(cum)|6=\(px)|"
                    + "75=\(date)|60=\(stamp)|", time: stamp)
    }

    mutating func new(_ clOrdID: String, account: String = "FIX-A1", orderQty: String = "100",
                      date: String = "20240315", symbol: String = "AAPL") -> [BookEvent] {
        execCounter += 1
        let stamp = "\(date)-09:00:00.000"
        return send("37=O-\(clOrdID)|11=\(clOrdID)|17=E\(execCounter)|150=0|39=0|1=\(account)|55=\(symbol)|54=1|"
                    + "38=\(orderQty)|15=USD|151=\(orderQty)|14=0|6=0|60=\(stamp)|", time: stamp)
    }

    mutating func cancel(_ clOrdID: String, account: String = "FIX-A1", orderQty: String = "100", cum: String = "0",
                         date: String = "20240315") -> [BookEvent] {
        execCounter += 1
        let stamp = "\(date)-11:00:00.000"
        return send("37=O-\(clOrdID)|11=C-\(clOrdID)|41=\(clOrdID)|17=E\(execCounter)|150=4|39=4|1=\(account)|55=AAPL|"
                    + "54=1|38=\(orderQty)|15=USD|151=0|14=\(cum)|6=0|60=\(stamp)|", time: stamp)
    }

    mutating func correct(_ clOrdID: String, ref: String, qty: String, px: String, account: String = "FIX-A1",
                          date: String = "20240315") -> [BookEvent] {
        execCounter += 1
        let stamp = "\(date)-12:00:00.000"
        return send("37=O-\(clOrdID)|11=\(clOrdID)|17=E\(execCounter)|19=\(ref)|150=G|39=1|1=\(account)|55=AAPL|"
                    + "54=1|38=100|15=USD|32=\(qty)|31=\(px)|151=\(100 - Int(qty)!)|14=\(qty)|6=\(px)|75=\(date)|"
                    + "60=\(stamp)|", time: stamp)
    }

    mutating func bust(_ clOrdID: String, ref: String, account: String = "FIX-A1", date: String = "20240315")
        -> [BookEvent] {
        execCounter += 1
        let stamp = "\(date)-12:00:00.000"
        return send("37=O-\(clOrdID)|11=\(clOrdID)|17=E\(execCounter)|19=\(ref)|150=H|39=0|1=\(account)|55=AAPL|"
                    + "54=1|38=100|15=USD|32=0|31=0|151=100|14=0|6=0|60=\(stamp)|", time: stamp)
    }
}

enum Fixtures {
    static func date(_ text: String) -> FIXDate { FIXDate(text)! }
    static func time(_ text: String) -> FIXTimestamp { FIXTimestamp(text)! }

    /// C1 verified until 2030 (retail, accounts A1 and A2), C2 institutional (B1), C3 with
    /// expired status (X1), C4 pending (Z1).
    static func directory(kycC1: KYC = KYC(status: .verified, expiresOn: FIXDate("20301231"))) -> ClientDirectory {
        try! ClientDirectory(
            clients: [
                Client(id: "C1", name: "Ada Retail", segment: "retail", relationshipManager: "rm1", kyc: kycC1),
                Client(id: "C2", name: "Big Fund", segment: "institutional", kyc: KYC(status: .verified)),
                Client(id: "C3", name: "Lapsed Ltd", segment: "retail", kyc: KYC(status: .expired)),
                Client(id: "C4", name: "New Co", segment: "retail", kyc: KYC(status: .pending)),
            ],
            accounts: [
                ClientAccount(id: "A1", clientID: "C1", fixAccounts: ["FIX-A1"]),
                ClientAccount(id: "A2", clientID: "C1", fixAccounts: ["FIX-A2"]),
                ClientAccount(id: "B1", clientID: "C2", fixAccounts: ["FIX-B1"]),
                ClientAccount(id: "X1", clientID: "C3", fixAccounts: ["FIX-X"]),
                ClientAccount(id: "Z1", clientID: "C4", fixAccounts: ["FIX-Z"]),
            ])
    }

    static func settings(_ granularity: ActivitySettings.Granularity) -> ActivitySettings {
        var s = ActivitySettings()
        s.granularity = granularity
        s.unusualActivity = nil
        return s
    }

    static let now = FIXTimestamp("20240315-18:00:00.000")!
}

extension [InteractionEntry] {
    var rules: [String] { map(\.rule) }
    func with(rule: String) -> [InteractionEntry] { filter { $0.rule == rule } }
}
