import FIXTestSupport
import FIXTagValue
import Testing

@testable import FIXSession

/// Drives a session with a manual clock and a scripted counterparty: messages in as readable
/// text, actions carried out against an in-memory store, sent messages kept as text.
struct SessionHarness {
    var session: FIXSession
    let store = InMemoryMessageStore()
    var now = FIXTimestamp("20240315-08:00:00.000")!
    var sent: [String] = []
    var delivered: [String] = []
    var disconnected: String?
    var timer: FIXTimestamp?
    var notices: [SessionNotice] = []
    /// The counterparty's CompIDs (ours reversed).
    let theirs: String
    let ours: String
    let begin: String

    init(_ type: FIXConnectionType = .acceptor, begin: String = "FIX.4.4", configure: (inout FIXSessionConfiguration) -> Void = { _ in }) {
        var config = FIXSessionConfiguration(
            id: FIXSessionID(beginString: begin, senderCompID: "BRKR", targetCompID: "VENUE"), connectionType: type)
        config.heartBtIntSeconds = 30
        configure(&config)
        session = FIXSession(configuration: config)
        theirs = "VENUE"
        ours = "BRKR"
        self.begin = begin
    }

    mutating func apply(_ actions: [SessionAction]) {
        for action in actions {
            switch action {
            case .send(let bytes, let sequence, let persist):
                if persist { try! store.save(sequence: sequence, message: bytes) }
                sent.append(TestMessages.show(bytes))
            case .persist(let bytes, let sequence): try! store.save(sequence: sequence, message: bytes)
            case .storeSequences(let s, let t): try! store.setSequences(nextSender: s, nextTarget: t)
            case .resetStore: try! store.reset(creationTime: now)
            case .deliver(let bytes): delivered.append(TestMessages.show(bytes))
            case .setTimer(let deadline): timer = deadline
            case .disconnect(let reason): disconnected = reason
            case .notice(let notice): notices.append(notice)
            }
        }
    }

    mutating func connect() {
        var actions: [SessionAction] = []
        session.connected(now: now, into: &actions)
        apply(actions)
    }

    /// The counterparty sends `fields` (after the standard header, which is filled in unless given).
    mutating func receive(_ fields: String, seq: Int, sendingTime: FIXTimestamp? = nil, header: String = "") {
        let time = (sendingTime ?? now).description
        let text = "8=\(begin)|" + fields.split(separator: "|", maxSplits: 1).first!
            + "|34=\(seq)|49=\(theirs)|52=\(time)|56=\(ours)|" + header
            + (fields.split(separator: "|", maxSplits: 1).dropFirst().first.map { $0 + "|" } ?? "")
        let bytes = TestMessages.make(text)
        var actions: [SessionAction] = []
        let store = self.store
        bytes.withUnsafeBytes { raw in
            session.received(raw, now: now, stored: { try store.messages(from: $0, through: $1) }, into: &actions)
        }
        apply(actions)
    }

    mutating func advance(seconds: Double) {
        now = FIXTimestamp(nanosecondsSinceEpoch: now.nanosecondsSinceEpoch + Int64(seconds * 1e9), precision: .milliseconds)
        if let deadline = timer, deadline <= now {
            var actions: [SessionAction] = []
            session.timerFired(now: now, into: &actions)
            apply(actions)
        }
    }

    mutating func sendApplication(_ type: String, _ body: @escaping (inout FIXWriter) -> Void) {
        var actions: [SessionAction] = []
        session.send(msgType: type, now: now, into: &actions, body: body)
        apply(actions)
    }

    mutating func logon(heartBtInt: Int = 30) {
        connect()
        receive("35=A|98=0|108=\(heartBtInt)", seq: 1)
    }

    /// Sent messages as `[tag: value]` of the last one, for field checks.
    var last: [String: String] {
        guard let text = sent.last else { return [:] }
        var fields: [String: String] = [:]
        for part in text.split(separator: "|") {
            let kv = part.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { fields[String(kv[0])] = String(kv[1]) }
        }
        return fields
    }

    func fields(_ index: Int) -> [String: String] {
        var fields: [String: String] = [:]
        for part in sent[index].split(separator: "|") {
            let kv = part.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { fields[String(kv[0])] = String(kv[1]) }
        }
        return fields
    }
}

@Suite struct SessionLogonTests {
    @Test func acceptorAnswersLogonWithTheInitiatorsHeartBtInt() {
        var h = SessionHarness()
        h.logon(heartBtInt: 17)
        #expect(h.session.isLoggedOn)
        #expect(h.sent.count == 1)
        #expect(h.sent[0].hasPrefix("8=FIX.4.4|9="))
        #expect(h.sent[0].contains("|35=A|34=1|49=BRKR|52=20240315-08:00:00.000|56=VENUE|98=0|108=17|10="))
        #expect(h.session.nextTargetSequence == 2 && h.store.nextTargetSequence == 2)
        #expect(h.notices.contains(.loggedOn(heartBtIntSeconds: 17)))
    }

    @Test func initiatorSendsLogonOnConnectAndGivesUpWithoutAReply() {
        var h = SessionHarness(.initiator) { $0.logonTimeoutSeconds = 10; $0.username = "u1"; $0.password = "p1" }
        h.connect()
        #expect(h.last["35"] == "A" && h.last["108"] == "30" && h.last["553"] == "u1" && h.last["554"] == "p1")
        h.advance(seconds: 9)
        #expect(h.disconnected == nil)
        h.advance(seconds: 1)
        #expect(h.disconnected?.contains("Logon reply") == true)
    }

    @Test func initiatorIsLoggedOnByTheReply() {
        var h = SessionHarness(.initiator)
        h.connect()
        h.receive("35=A|98=0|108=30", seq: 1)
        #expect(h.session.isLoggedOn && h.sent.count == 1)
    }

    @Test func resetOnLogonSendsResetSeqNumFlagAndStartsAtOne() {
        var h = SessionHarness(.initiator) { $0.resetOnLogon = true }
        _ = h.session
        h.connect()
        #expect(h.last["141"] == "Y" && h.last["34"] == "1")
    }

    @Test func firstMessageThatIsNotALogonDisconnects() {
        var h = SessionHarness()
        h.connect()
        h.receive("35=0", seq: 1)
        #expect(h.disconnected != nil && h.sent.isEmpty)
    }

    @Test func logonWithBadSendingTimeDisconnectsWithoutReply() {
        var h = SessionHarness()
        h.connect()
        h.receive("35=A|98=0|108=30", seq: 1, sendingTime: FIXTimestamp("20240315-07:00:00.000")!)
        #expect(h.disconnected != nil && h.sent.isEmpty)
    }

    @Test func logonWithSequenceTooHighIsAnsweredThenAGapIsRequested() {
        var h = SessionHarness()
        h.connect()
        h.receive("35=A|98=0|108=30", seq: 5)
        #expect(h.sent.count == 2)
        #expect(h.fields(1)["35"] == "2" && h.fields(1)["7"] == "1" && h.fields(1)["16"] == "0")
    }
}

@Suite struct SessionSequenceTests {
    @Test func gapIsRequestedAndQueuedMessagesAreProcessedWhenFilled() {
        var h = SessionHarness()
        h.logon()
        h.receive("35=D|11=A", seq: 4)  // 2 and 3 are missing
        #expect(h.last["35"] == "2" && h.last["7"] == "2" && h.last["16"] == "0")
        #expect(h.delivered.isEmpty)
        h.receive("35=D|11=B", seq: 5)  // still in the gap: no second ResendRequest
        #expect(h.sent.filter { $0.contains("|35=2|") }.count == 1)
        h.receive("35=4|123=Y|36=3", seq: 2, header: "43=Y|122=\(h.now)|")
        h.receive("35=D|11=C", seq: 3, header: "43=Y|122=\(h.now)|")
        #expect(h.delivered.map { $0.contains("|11=C|") } == [true, false, false])
        #expect(h.delivered.count == 3 && h.delivered[1].contains("|11=A|") && h.delivered[2].contains("|11=B|"))
        #expect(h.session.nextTargetSequence == 6)
    }

    @Test func fix41GapRequestUsesTheInfiniteEndSeqNo() {
        var h = SessionHarness(begin: "FIX.4.1")
        h.logon()
        h.receive("35=0", seq: 3)
        #expect(h.last["16"] == "999999")
    }

    @Test func resendRequestChunksFollowOneAnother() {
        var h = SessionHarness { $0.resendRequestChunkSize = 2 }
        h.logon()
        h.receive("35=0", seq: 7)  // 2...6 missing
        #expect(h.last["7"] == "2" && h.last["16"] == "3")
        h.receive("35=4|123=Y|36=4", seq: 2, header: "43=Y|122=\(h.now)|")
        #expect(h.last["35"] == "2" && h.last["7"] == "4" && h.last["16"] == "5")
    }

    @Test func sequenceTooLowWithoutPossDupLogsOutAndDisconnects() {
        var h = SessionHarness()
        h.logon()
        h.receive("35=0", seq: 2)
        h.receive("35=0", seq: 2)
        #expect(h.last["35"] == "5" && h.last["58"] == "MsgSeqNum too low, expecting 3 but received 2")
        #expect(h.disconnected != nil)
    }

    @Test func possDupAlreadySeenIsIgnoredButNeedsOrigSendingTime() {
        var h = SessionHarness()
        h.logon()
        h.receive("35=D|11=A", seq: 2)
        h.receive("35=D|11=A", seq: 2, header: "43=Y|122=\(h.now)|")
        #expect(h.delivered.count == 1 && h.sent.count == 1)
        h.receive("35=D|11=A", seq: 2, header: "43=Y|")
        #expect(h.last["35"] == "3" && h.last["373"] == "1" && h.last["371"] == "122" && h.last["45"] == "2")
        #expect(h.session.nextTargetSequence == 3)
    }

    @Test func sequenceResetModes() {
        var h = SessionHarness()
        h.logon()
        h.receive("35=4|36=10", seq: 99)  // reset mode: applied whatever its MsgSeqNum
        #expect(h.session.nextTargetSequence == 10)
        h.receive("35=4|36=5", seq: 10)  // lower than expected: rejected, nothing changes
        #expect(h.last["35"] == "3" && h.last["373"] == "5" && h.last["45"] == "10" && h.last["371"] == nil)
        #expect(h.session.nextTargetSequence == 10)
        h.receive("35=4|123=Y|36=15", seq: 10)  // gap fill
        #expect(h.session.nextTargetSequence == 15)
    }
}

@Suite struct SessionResendTests {
    @Test func resendsApplicationMessagesAndGapFillsTheRest() {
        var h = SessionHarness()
        h.logon()  // our 1: Logon
        h.advance(seconds: 30)  // our 2: Heartbeat
        h.sendApplication("8") { $0.append(17, "E1") }  // our 3
        h.sendApplication("8") { $0.append(17, "E2") }  // our 4
        h.receive("35=1|112=X", seq: 2)  // our 5: Heartbeat reply
        h.sendApplication("8") { $0.append(17, "E3") }  // our 6
        let before = h.sent.count
        h.advance(seconds: 1)
        h.receive("35=2|7=1|16=0", seq: 3)
        let replay = Array(h.sent[before...])
        #expect(replay.count == 5)
        #expect(replay[0].contains("|35=4|34=1|43=Y|") && replay[0].contains("|36=3|123=Y|"))
        #expect(replay[1].contains("|35=8|34=3|43=Y|49=BRKR|52=20240315-08:00:31.000|56=VENUE|122=20240315-08:00:30.000|17=E1|"))
        #expect(replay[2].contains("|34=4|43=Y|") && replay[2].contains("|17=E2|"))
        #expect(replay[3].contains("|35=4|34=5|") && replay[3].contains("|36=6|"))
        #expect(replay[4].contains("|34=6|43=Y|") && replay[4].contains("|17=E3|"))
        #expect(h.session.nextSenderSequence == 7)  // resends do not consume sequence numbers
    }

    @Test func applicationMessagesAreStoredBeforeTheyAreSent() {
        var h = SessionHarness()
        h.logon()
        h.sendApplication("D") { $0.append(11, "X") }
        #expect(try! h.store.messages(from: 1, through: 10).map(\.sequence) == [2])
    }

    @Test func messagesSentWhileLoggedOutAreStoredNotSent() {
        var h = SessionHarness()
        h.sendApplication("D") { $0.append(11, "X") }
        #expect(h.sent.isEmpty)
        #expect(try! h.store.messages(from: 1, through: 1).count == 1)
    }
}

@Suite struct SessionHeartbeatTests {
    @Test func heartbeatTestRequestAndTimeoutFollowTheInterval() {
        var h = SessionHarness()
        h.logon(heartBtInt: 10)
        h.advance(seconds: 10)
        #expect(h.last["35"] == "0")  // nothing sent for an interval
        h.advance(seconds: 2)
        #expect(h.last["35"] == "1" && h.last["112"] == "TEST")  // nothing received for 1.2 intervals
        h.advance(seconds: 12)
        #expect(h.disconnected?.contains("timed out") == true)  // 2.4 intervals
    }

    @Test func anyIncomingMessageResetsTheReceiveClock() {
        var h = SessionHarness()
        h.logon(heartBtInt: 10)
        h.advance(seconds: 10)
        h.receive("35=0", seq: 2)
        h.advance(seconds: 9)
        h.receive("35=0", seq: 3)
        h.advance(seconds: 9)
        #expect(!h.sent.contains { $0.contains("|35=1|") } && h.disconnected == nil)
    }

    @Test func testRequestIsAnsweredWithItsID() {
        var h = SessionHarness()
        h.logon()
        h.receive("35=1|112=HELLO", seq: 2)
        #expect(h.last["35"] == "0" && h.last["112"] == "HELLO")
    }

    @Test func timerIsRequestedForTheNextDeadline() {
        var h = SessionHarness()
        h.logon(heartBtInt: 30)
        #expect(h.timer == FIXTimestamp(nanosecondsSinceEpoch: h.now.nanosecondsSinceEpoch + 30_000_000_000))
    }
}

@Suite struct SessionLogoutAndRejectTests {
    @Test func logoutHandshakeInitiatedByUs() {
        var h = SessionHarness { $0.logoutTimeoutSeconds = 2 }
        h.logon()
        var actions: [SessionAction] = []
        h.session.logout(text: "end of day", now: h.now, into: &actions)
        h.apply(actions)
        #expect(h.last["35"] == "5" && h.last["58"] == "end of day" && h.disconnected == nil)
        h.receive("35=5", seq: 2)
        #expect(h.disconnected != nil && h.sent.count == 2)
    }

    @Test func logoutTimesOutWithoutAReply() {
        var h = SessionHarness { $0.logoutTimeoutSeconds = 2 }
        h.logon()
        var actions: [SessionAction] = []
        h.session.logout(now: h.now, into: &actions)
        h.apply(actions)
        h.advance(seconds: 2)
        #expect(h.disconnected?.contains("Logout") == true)
    }

    @Test func logoutFromThePeerIsAnswered() {
        var h = SessionHarness()
        h.logon()
        h.receive("35=5", seq: 2)
        #expect(h.last["35"] == "5" && h.disconnected != nil)
    }

    @Test func wrongCompIDIsRejectedThenLoggedOut() {
        var h = SessionHarness()
        h.logon()
        let bytes = TestMessages.make("8=FIX.4.4|35=D|34=2|49=OTHER|52=\(h.now)|56=BRKR|11=X|")
        var actions: [SessionAction] = []
        let store = h.store
        bytes.withUnsafeBytes { h.session.received($0, now: h.now, stored: { try store.messages(from: $0, through: $1) }, into: &actions) }
        h.apply(actions)
        #expect(h.fields(1)["35"] == "3" && h.fields(1)["373"] == "9" && h.fields(1)["371"] == nil)
        #expect(h.last["35"] == "5")
    }

    @Test func unsupportedApplicationMessageGetsBusinessMessageReject() {
        var h = SessionHarness()
        h.session.supportedApplicationTypes = ["D"]
        h.logon()
        h.receive("35=8|17=E", seq: 2)
        #expect(h.last["35"] == "j" && h.last["380"] == "3" && h.last["372"] == "8" && h.last["45"] == "2")
        #expect(h.delivered.isEmpty && h.session.nextTargetSequence == 3)
    }

    @Test func fix40RejectsCarryTheReasonInText() {
        var h = SessionHarness(begin: "FIX.4.0")
        h.session.supportedApplicationTypes = ["D"]
        h.logon()
        h.receive("35=8|17=E", seq: 2)
        #expect(h.last["35"] == "3" && h.last["58"] == "Unsupported message type" && h.last["372"] == nil)
    }

    @Test func rejectReversesRoutingFields() {
        var h = SessionHarness()
        h.logon()
        h.receive("35=0", seq: 2, sendingTime: FIXTimestamp("20240315-06:00:00.000")!, header: "115=DESK|116=SUB|")
        #expect(h.fields(1)["35"] == "3" && h.fields(1)["128"] == "DESK" && h.fields(1)["129"] == "SUB")
        #expect(h.fields(1)["373"] == "10")
    }

    @Test func wrongBeginStringLogsOut() {
        var h = SessionHarness()
        h.logon()
        let bytes = TestMessages.make("8=FIX.4.2|35=0|34=2|49=VENUE|52=\(h.now)|56=BRKR|")
        var actions: [SessionAction] = []
        bytes.withUnsafeBytes { h.session.received($0, now: h.now, stored: { _, _ in [] }, into: &actions) }
        h.apply(actions)
        #expect(h.last["35"] == "5" && h.last["58"] == "Incorrect BeginString")
    }
}

@Suite struct SessionScheduleTests {
    let nineToFive = FIXSessionSchedule(startSecond: 9 * 3600, endSecond: 17 * 3600)

    func at(_ text: String) -> FIXTimestamp { FIXTimestamp(text)! }

    @Test func dailyWeeklyAndOvernightPeriods() {
        let day = nineToFive
        #expect(day.periodStart(containing: at("20240315-08:59:59.000"), utcOffsetSeconds: 0) == nil)
        #expect(day.periodStart(containing: at("20240315-12:00:00.000"), utcOffsetSeconds: 0)
            == at("20240315-09:00:00.000").nanosecondsSinceEpoch)
        // New York 09:00 is 14:00 UTC in winter (offset -5 h).
        #expect(day.periodStart(containing: at("20240115-14:30:00.000"), utcOffsetSeconds: -5 * 3600)
            == at("20240115-14:00:00.000").nanosecondsSinceEpoch)
        let overnight = FIXSessionSchedule(startSecond: 22 * 3600, endSecond: 6 * 3600)
        #expect(overnight.periodStart(containing: at("20240316-03:00:00.000"), utcOffsetSeconds: 0)
            == at("20240315-22:00:00.000").nanosecondsSinceEpoch)
        #expect(overnight.periodStart(containing: at("20240316-12:00:00.000"), utcOffsetSeconds: 0) == nil)
        // Sunday 17:00 to Friday 17:00: a Wednesday belongs to the week that opened on Sunday.
        let week = FIXSessionSchedule(startSecond: 17 * 3600, endSecond: 17 * 3600, startDay: 7, endDay: 5)
        #expect(week.periodStart(containing: at("20240313-10:00:00.000"), utcOffsetSeconds: 0)
            == at("20240310-17:00:00.000").nanosecondsSinceEpoch)
        #expect(week.periodStart(containing: at("20240316-10:00:00.000"), utcOffsetSeconds: 0) == nil)  // Saturday
        let always = FIXSessionSchedule(startSecond: 0, endSecond: 0)
        #expect(always.periodStart(containing: at("20240316-10:00:00.000"), utcOffsetSeconds: 0)
            == at("20240316-00:00:00.000").nanosecondsSinceEpoch)
    }

    @Test func logonOutsideTheScheduleIsRefused() {
        var h = SessionHarness { $0.schedule = nineToFive }
        h.now = at("20240315-18:00:00.000")
        h.connect()
        #expect(h.disconnected?.contains("outside") == true && h.sent.isEmpty)
    }

    @Test func sessionLogsOutWhenItsHoursEnd() {
        var h = SessionHarness { $0.schedule = nineToFive }
        h.now = at("20240315-16:59:50.000")
        h.logon()
        #expect(h.session.isLoggedOn)
        #expect(h.timer! <= at("20240315-17:00:01.000"))
        h.advance(seconds: 11)
        #expect(h.last["35"] == "5" && h.last["58"]?.contains("end of the session") == true)
    }

    @Test func aNewDayStartsTheSequenceNumbersAgain() {
        var h = SessionHarness(.acceptor) { $0.schedule = FIXSessionSchedule(startSecond: 0, endSecond: 0) }
        h.now = at("20240315-10:00:00.000")
        h.logon()
        h.receive("35=0", seq: 2)
        var actions: [SessionAction] = []
        h.session.disconnected(now: h.now, into: &actions)
        h.apply(actions)
        #expect(h.session.nextTargetSequence == 3)
        h.now = at("20240316-10:00:00.000")  // the next day's period
        h.sent.removeAll()
        h.logon()
        #expect(h.sent.first?.contains("|34=1|") == true)
        #expect(h.session.nextTargetSequence == 2 && h.notices.contains(.info("new session period: sequence numbers reset to 1")))
    }
}
