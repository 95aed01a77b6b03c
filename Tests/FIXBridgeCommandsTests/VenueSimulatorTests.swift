import FIXSession
import FIXTagValue
import FIXTestSupport
import FIXTransport
import Testing

@testable import FIXBridgeCommands

/// Runs the simulator against a session that is not connected: what it sends is then stored,
/// not written, so the store holds exactly its replies.
struct VenueHarness {
    let store = InMemoryMessageStore()
    let runtime: FIXSessionRuntime
    let venue: VenueSimulator

    init(begin: String = "FIX.4.4", fills: Int = 2) {
        venue = VenueSimulator(venueID: "T", fillsPerOrder: fills)
        let config = FIXSessionConfiguration(id: FIXSessionID(beginString: begin, senderCompID: "T", targetCompID: "BRKR"),
                                             connectionType: .acceptor)
        runtime = FIXSessionRuntime(session: FIXSession(configuration: config), store: store, application: venue)
    }

    func send(_ fields: String) {
        venue.fromApp(TestMessages.make("8=FIX.4.4|35=" + fields), session: runtime)
    }

    /// Each reply as a tag → value map.
    var replies: [[Int: String]] {
        (try! store.messages(from: 1, through: 1000)).map { entry in
            var fields: [Int: String] = [:]
            entry.message.withUnsafeBytes { raw in
                for field in FIXMessage(unchecked: raw) { fields[field.tag] = field.value.string }
            }
            return fields
        }
    }
}

@Suite struct VenueSimulatorTests {
    @Test func acknowledgesThenFillsInPartsAtTheLimitPrice() {
        let h = VenueHarness(fills: 2)
        h.send("D|11=A1|1=ACC1|55=MSFT|54=1|38=100|40=2|44=101.5|")
        let r = h.replies
        #expect(r.map { $0[150] } == ["0", "F", "F"])
        #expect(r.map { $0[39] } == ["0", "1", "2"])
        #expect(r[1][32] == "50" && r[1][31] == "101.5" && r[2][151] == "0" && r[2][14] == "100")
        #expect(r.allSatisfy { $0[11] == "A1" && $0[1] == "ACC1" && $0[37] == "T-O1" })
        #expect(Set(r.map { $0[17]! }).count == 3)
    }

    @Test func fix42UsesExecTransTypeAndFillExecTypes() {
        let h = VenueHarness(begin: "FIX.4.2", fills: 2)
        h.send("D|11=A1|55=MSFT|54=2|38=10|40=1|")
        let r = h.replies
        #expect(r.map { $0[150] } == ["0", "1", "2"])
        #expect(r.allSatisfy { $0[20] == "0" })
        #expect(r[1][31] == "100")  // market order without a reference price
    }

    @Test func rejectsInvalidOrders() {
        let h = VenueHarness()
        h.send("D|11=A1|55=REJECT|54=1|38=10|40=1|")
        h.send("D|11=A2|55=MSFT|54=1|38=0|40=1|")
        h.send("D|11=A3|55=MSFT|54=1|38=5|40=2|")
        let r = h.replies
        #expect(r.map { $0[150] } == ["8", "8", "8"])
        #expect(r.map { $0[58] } == ["unknown symbol", "invalid quantity", "limit order without price"])
    }

    @Test func restsLimitsAwayFromTheMarketThenCancelsAndReplacesThem() {
        let h = VenueHarness(fills: 1)
        h.send("D|11=A1|55=MSFT|54=1|38=10|40=2|44=100|")  // sets the reference price, fills
        h.send("D|11=B1|55=MSFT|54=1|38=10|40=2|44=99|")   // a bid below the market rests
        #expect(h.replies.map { $0[150] } == ["0", "F", "0"])
        h.send("G|11=B2|41=B1|55=MSFT|54=1|38=20|40=2|44=98|")  // still away: replaced, resting
        #expect(h.replies.last?[150] == "5" && h.replies.last?[38] == "20" && h.replies.last?[41] == "B1")
        h.send("F|11=B3|41=B2|55=MSFT|54=1|")
        #expect(h.replies.last?[150] == "4" && h.replies.last?[39] == "4" && h.replies.last?[151] == "0")
        h.send("F|11=B4|41=B3|55=MSFT|54=1|")  // already cancelled
        #expect(h.replies.last?[35] == "9" && h.replies.last?[434] == "1")
        h.send("D|11=C1|55=MSFT|54=1|38=10|40=2|44=99|")
        h.send("G|11=C2|41=C1|55=MSFT|54=1|38=10|40=2|44=100|")  // replaced to marketable: fills
        #expect(h.replies.suffix(2).map { $0[150] } == ["5", "F"])
        #expect(h.replies.last?[39] == "2" && h.replies.last?[11] == "C2")
    }

    @Test func correctsOrBustsTheLastFillOnRequest() {
        let h = VenueHarness(fills: 2)
        h.send("D|11=A1|55=MSFT|54=1|38=100|40=2|44=100|58=CORRECT|")
        let r = h.replies
        #expect(r.last?[150] == "G" && r.last?[19] == r[2][17] && r.last?[31] == "101.00")
        let b = VenueHarness(fills: 1)
        b.send("D|11=B1|55=MSFT|54=1|38=100|40=2|44=100|58=BUST|")
        #expect(b.replies.last?[150] == "H" && b.replies.last?[19] == b.replies[1][17])
    }
}
