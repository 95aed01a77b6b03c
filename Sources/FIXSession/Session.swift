import FIXDictionary
import FIXTagValue

/// The FIX session protocol (FIX 4.0 to 4.4 and FIXT 1.1) as a state machine with no I/O.
///
/// Events come in as method calls (`connected`, `received`, `timerFired`, `send`, `logout`,
/// `disconnected`), each with the current time; what to do comes out as `SessionAction`s
/// appended to a buffer the caller owns. The machine reads no clock, opens no socket and writes
/// no file, so tests drive it with a manual clock and never sleep.
///
/// ```swift
/// var session = FIXSession(configuration: config, validator: validator)
/// var actions: [SessionAction] = []
/// session.connected(now: now, into: &actions)                      // an initiator sends Logon
/// session.received(messageBytes, now: now, stored: store.messages, into: &actions)
/// session.send(msgType: "D", now: now, into: &actions) { body in
///     body.append(11, "ORD-1"); body.append(55, "MSFT"); body.append(54, char: UInt8(ascii: "1"))
/// }
/// ```
///
/// The behaviour follows the FIX session-level specification as QuickFIX implements it (the
/// reference the acceptance suite was written against): sequence checks, gap detection and
/// ResendRequest, resend with PossDup and gap fills, SequenceReset in both modes, session
/// Rejects with SessionRejectReason and BusinessMessageReject for unsupported messages.
public struct FIXSession {
    /// Bounds.
    public enum Limits {
        /// Most out-of-order messages held while a gap is being filled; beyond it they are
        /// dropped (the ResendRequest covers them, so the peer sends them again).
        public static let queuedMessagesMax = 10_000
        /// EndSeqNo meaning "infinity" on FIX 4.0 and 4.1.
        public static let infiniteEndSeqNoFIX41 = 999_999
    }

    /// The session's phase. Each case carries what is true only in it.
    enum State {
        /// No connection.
        case disconnected
        /// Connected; no Logon has been sent or received yet (an acceptor waits for one).
        case connected(since: FIXTimestamp)
        /// An initiator sent Logon and waits for the reply.
        case logonSent(at: FIXTimestamp, reset: Bool)
        /// Logons exchanged.
        case loggedOn(Heartbeat)
        /// This side sent Logout and waits for the reply (or the timeout).
        case logoutSent(at: FIXTimestamp, heartbeat: Heartbeat?)
    }

    /// Liveness bookkeeping while logged on.
    struct Heartbeat {
        var intervalSeconds: Int
        var lastSent: FIXTimestamp
        var lastReceived: FIXTimestamp
        /// TestRequests sent since the last message received.
        var testRequestsSent = 0
    }

    public let configuration: FIXSessionConfiguration
    /// Validates incoming messages against the dictionaries; nil skips validation.
    public let validator: FIXValidator?
    /// Application message types the application handles; others get BusinessMessageReject
    /// (FIX 4.2 and later) or a session Reject. Nil delivers every application message.
    public var supportedApplicationTypes: Set<String>?

    var state: State = .disconnected
    /// When the store's sequence numbers were last reset: with a schedule, a message in a later
    /// session period starts the numbers again (the daily reset).
    public private(set) var storeCreationTime: FIXTimestamp?
    /// The UTC offset of the schedule's time zone at an instant; the driver sets it from a
    /// time-zone database (the core reads none). Defaults to the schedule's fixed offset.
    public var utcOffset: @Sendable (FIXTimestamp) -> Int
    public private(set) var nextSenderSequence: Int
    public private(set) var nextTargetSequence: Int
    private var storedSender: Int
    private var storedTarget: Int
    /// Messages that arrived ahead of a gap, by MsgSeqNum.
    private var queued: [Int: [UInt8]] = [:]
    /// The range asked for by our outstanding ResendRequest.
    private var resendRange: (from: Int, through: Int)?
    private var timerDeadline: FIXTimestamp?
    private var writer = FIXWriter(capacity: 1024)
    private let beginBytes: [UInt8]
    private let senderBytes: [UInt8]
    private let targetBytes: [UInt8]
    private let isFIXT: Bool
    /// BeginString ordering the session rules depend on (40, 41, 42, 43, 44; FIXT counts as 50).
    private let version: Int

    public init(configuration: FIXSessionConfiguration, validator: FIXValidator? = nil,
                nextSenderSequence: Int = 1, nextTargetSequence: Int = 1, storeCreationTime: FIXTimestamp? = nil) {
        self.configuration = configuration
        self.storeCreationTime = storeCreationTime
        let fixedOffset = configuration.schedule?.utcOffsetSeconds ?? 0
        self.utcOffset = { _ in fixedOffset }
        self.validator = validator
        self.nextSenderSequence = nextSenderSequence
        self.nextTargetSequence = nextTargetSequence
        storedSender = nextSenderSequence
        storedTarget = nextTargetSequence
        beginBytes = Array(configuration.id.beginString.utf8)
        senderBytes = Array(configuration.id.senderCompID.utf8)
        targetBytes = Array(configuration.id.targetCompID.utf8)
        isFIXT = configuration.id.beginString.hasPrefix("FIXT")
        switch configuration.id.beginString {
        case "FIX.4.0": version = 40
        case "FIX.4.1": version = 41
        case "FIX.4.2": version = 42
        case "FIX.4.3": version = 43
        case "FIX.4.4": version = 44
        default: version = 50
        }
    }

    /// True between the Logon exchange and the Logout or disconnection.
    public var isLoggedOn: Bool {
        if case .loggedOn = state { return true }
        return false
    }

    /// True from connection until disconnection.
    public var isConnected: Bool {
        if case .disconnected = state { return false }
        return true
    }

    // MARK: - Events

    /// The transport connected. An initiator sends its Logon now.
    public mutating func connected(now: FIXTimestamp, into actions: inout [SessionAction]) {
        state = .connected(since: now)
        guard checkSchedule(now: now, into: &actions) else {
            updateTimer(now: now, into: &actions)
            return
        }
        if configuration.connectionType == .initiator {
            sendLogon(now: now, reply: nil, into: &actions)
        }
        updateTimer(now: now, into: &actions)
    }

    /// The transport closed (by either side).
    public mutating func disconnected(now: FIXTimestamp, into actions: inout [SessionAction]) {
        guard isConnected else { return }
        let wasLoggedOn = isLoggedOn
        state = .disconnected
        queued.removeAll()
        resendRange = nil
        if configuration.resetOnDisconnect { reset(into: &actions) }
        if wasLoggedOn { actions.append(.notice(.loggedOut(reason: "disconnected"))) }
        updateTimer(now: now, into: &actions)
    }

    /// Asks the counterparty to log out (a graceful end of the session).
    public mutating func logout(text: String? = nil, now: FIXTimestamp, into actions: inout [SessionAction]) {
        guard isLoggedOn else {
            if isConnected { disconnect("logout requested before logon", into: &actions) }
            return
        }
        sendLogout(text: text, now: now, into: &actions)
        updateTimer(now: now, into: &actions)
    }

    /// The timer requested by the last `.setTimer` action fired. A driver may call this before
    /// that instant (a timer it kept from an earlier, sooner request): the session acts only on
    /// what is due at `now` and asks for the timer again.
    public mutating func timerFired(now: FIXTimestamp, into actions: inout [SessionAction]) {
        timerDeadline = nil
        guard checkSchedule(now: now, into: &actions) else {
            updateTimer(now: now, into: &actions)
            return
        }
        switch state {
        case .disconnected:
            break
        case .connected(let since):
            if configuration.connectionType == .acceptor,
               elapsed(since, now) >= Double(configuration.logonTimeoutSeconds) {
                disconnect("no Logon received within \(configuration.logonTimeoutSeconds) s", into: &actions)
            }
        case .logonSent(let at, _):
            if elapsed(at, now) >= Double(configuration.logonTimeoutSeconds) {
                disconnect("timed out waiting for the Logon reply", into: &actions)
            }
        case .logoutSent(let at, _):
            if elapsed(at, now) >= Double(configuration.logoutTimeoutSeconds) {
                disconnect("timed out waiting for the Logout reply", into: &actions)
            }
        case .loggedOn(var hb):
            let interval = Double(hb.intervalSeconds)
            guard interval > 0 else { break }
            let sinceReceived = elapsed(hb.lastReceived, now)
            let sinceSent = elapsed(hb.lastSent, now)
            if sinceReceived < interval && sinceSent < interval { break }
            if sinceReceived >= 2.4 * interval {
                disconnect("timed out waiting for a message from the counterparty", into: &actions)
            } else if sinceReceived >= 1.2 * Double(hb.testRequestsSent + 1) * interval {
                hb.testRequestsSent += 1
                state = .loggedOn(hb)
                sendAdmin("1", now: now, into: &actions) { $0.append(112, "TEST") }
                actions.append(.notice(.info("sent TestRequest TEST")))
            } else if sinceSent >= interval && hb.testRequestsSent == 0 {
                sendAdmin("0", now: now, into: &actions) { _ in }
            }
        }
        updateTimer(now: now, into: &actions)
    }

    /// Sends an application message: the session writes the header (BeginString, MsgSeqNum,
    /// CompIDs, SendingTime) and `body` appends the body fields.
    public mutating func send(msgType: String, extraHeader: [(Int, [UInt8])] = [], now: FIXTimestamp,
                              into actions: inout [SessionAction], body: (inout FIXWriter) -> Void) {
        let sequence = nextSenderSequence
        writer.begin(beginString: configuration.id.beginString, msgType: msgType)
        writeHeader(sequence: sequence, now: now, extra: extraHeader)
        body(&writer)
        let bytes = writer.finish()
        nextSenderSequence += 1
        // An application message sent while logged out is stored and goes out with the next
        // resend, as QuickFIX does.
        if isLoggedOn {
            actions.append(.send(bytes: bytes, sequence: sequence, persist: configuration.persistMessages))
        } else if configuration.persistMessages {
            actions.append(.persist(bytes: bytes, sequence: sequence))
        }
        noteSent(now: now)
        storeSequences(into: &actions)
        updateTimer(now: now, into: &actions)
    }

    /// A framed message arrived (the framer has checked BeginString, BodyLength and CheckSum).
    public mutating func received(_ bytes: UnsafeRawBufferPointer, now: FIXTimestamp, stored: StoredMessageLookup,
                                  into actions: inout [SessionAction]) {
        guard isConnected else { return }
        if checkSchedule(now: now, into: &actions) {
            process(bytes, now: now, stored: stored, queued: false, into: &actions)
        }
        updateTimer(now: now, into: &actions)
    }

    /// A garbled message arrived (bad framing): ignored, as the session protocol says, and logged.
    public mutating func garbled(_ error: FIXParseError, now: FIXTimestamp, into actions: inout [SessionAction]) {
        actions.append(.notice(.messageIgnored("garbled: \(error)")))
    }

    /// True when `now` is inside the session's schedule (always, without one). An initiator
    /// connects only then; an acceptor refuses logons outside it.
    public func isInSchedule(_ now: FIXTimestamp) -> Bool {
        guard let schedule = configuration.schedule else { return true }
        return schedule.periodStart(containing: now, utcOffsetSeconds: utcOffset(now)) != nil
    }

    /// Applies the schedule: outside it the session logs out (or disconnects); in a later
    /// period than the store's, the sequence numbers start again. False when the event should
    /// not be processed further.
    private mutating func checkSchedule(now: FIXTimestamp, into actions: inout [SessionAction]) -> Bool {
        guard let schedule = configuration.schedule else { return true }
        let offset = utcOffset(now)
        guard let period = schedule.periodStart(containing: now, utcOffsetSeconds: offset) else {
            if isLoggedOn {
                sendLogout(text: "end of the session's trading hours", now: now, into: &actions)
                return false
            }
            if case .logoutSent = state { return true }  // let the Logout handshake finish
            disconnect("outside the session's trading hours", into: &actions)
            return false
        }
        if let created = storeCreationTime,
           schedule.periodStart(containing: created, utcOffsetSeconds: utcOffset(created)) != period {
            actions.append(.notice(.info("new session period: sequence numbers reset to 1")))
            if isLoggedOn {
                sendLogout(text: "new session period", now: now, into: &actions)
                disconnect("new session period", into: &actions)
            }
            reset(into: &actions)
            storeCreationTime = now
            return isConnected
        }
        if storeCreationTime == nil { storeCreationTime = now }
        return true
    }

    // MARK: - Incoming

    /// The fields of an incoming message the session layer looks at, read in one pass.
    struct Inbound {
        var beginString: FIXValue?
        var msgType: FIXValue?
        var msgTypeText = ""
        var seqNum: Int?
        var sender: FIXValue?
        var target: FIXValue?
        var sendingTime: FIXTimestamp?
        var sendingTimePresent = false
        var possDup = false
        var origSendingTime: FIXTimestamp?
        var origSendingTimePresent = false
        var gapFill = false
        var newSeqNo: Int?
        var beginSeqNo: Int?
        var endSeqNo: Int?
        var testReqID: FIXValue?
        var heartBtInt: Int?
        var resetSeqNumFlag = false
        var text: String?
        var refSeqNum: Int?
        var nextExpected: Int?
        /// Routing fields to reverse on a Reject: (tag, value).
        var routing: [(Int, FIXValue)] = []
        /// The whole message, borrowed for the duration of its processing.
        var bytes = UnsafeRawBufferPointer(start: nil, count: 0)

        var isAdmin: Bool { FIXSession.isAdminType(msgTypeText) }
    }

    static func isAdminType(_ type: String) -> Bool {
        type.count == 1 && "0A12345".contains(type)
    }

    /// Reads the session fields; nil when a field is malformed (the message is then garbled).
    static func inspect(_ bytes: UnsafeRawBufferPointer) -> Inbound? {
        var inbound = Inbound()
        inbound.bytes = bytes
        var iterator = FIXMessage(unchecked: bytes, lenient: true).makeIterator()
        while let field = iterator.next() {
            let v = field.value
            switch field.tag {
            case 8: inbound.beginString = v
            case 35: inbound.msgType = v; inbound.msgTypeText = v.string
            case 34: inbound.seqNum = v.int
            case 49: inbound.sender = v
            case 56: inbound.target = v
            case 52: inbound.sendingTimePresent = true; inbound.sendingTime = v.timestamp
            case 43: inbound.possDup = v.bool == true
            case 122: inbound.origSendingTimePresent = true; inbound.origSendingTime = v.timestamp
            case 123: inbound.gapFill = v.bool == true
            case 36: inbound.newSeqNo = v.int
            case 7: inbound.beginSeqNo = v.int
            case 16: inbound.endSeqNo = v.int
            case 112: inbound.testReqID = v
            case 108: inbound.heartBtInt = v.int
            case 141: inbound.resetSeqNumFlag = v.bool == true
            case 58: inbound.text = v.string
            case 45: inbound.refSeqNum = v.int
            case 789: inbound.nextExpected = v.int
            case 115, 116, 128, 129: if v.count > 0 { inbound.routing.append((field.tag, v)) }
            case 144, 145: if v.count > 0 && !(inbound.beginString?.equals("FIX.4.0") ?? false) { inbound.routing.append((field.tag, v)) }
            default: break
            }
        }
        return iterator.error == nil ? inbound : nil
    }

    private mutating func process(_ bytes: UnsafeRawBufferPointer, now: FIXTimestamp, stored: StoredMessageLookup,
                                  queued: Bool, into actions: inout [SessionAction]) {
        guard let m = Self.inspect(bytes), m.msgType != nil else {
            actions.append(.notice(.messageIgnored("malformed field")))
            return
        }
        noteReceived(now: now)
        handle(m, bytes: bytes, now: now, stored: stored, into: &actions)
        if !queued { processQueued(now: now, stored: stored, into: &actions) }
    }

    private mutating func handle(_ m: Inbound, bytes: UnsafeRawBufferPointer, now: FIXTimestamp,
                                 stored: StoredMessageLookup, into actions: inout [SessionAction]) {
        // Header fields every message must carry.
        guard m.sender != nil else { return rejectOrDrop(m, reason: 1, tag: 49, now: now, into: &actions) }
        guard m.target != nil else { return rejectOrDrop(m, reason: 1, tag: 56, now: now, into: &actions) }
        guard let begin = m.beginString, begin.equals(beginBytes) else {
            if m.msgTypeText == "5" { return handleLogout(m, now: now, into: &actions) }
            sendLogout(text: "Incorrect BeginString", now: now, into: &actions)
            incrementTarget(into: &actions)
            return
        }
        if let validator {
            let view = FIXMessage(unchecked: bytes, lenient: true)
            if let reject = validator.validate(view) {
                rejectOrDrop(m, reason: reject.reason.rawValue, tag: reject.refTagID, now: now, into: &actions)
                if m.msgTypeText == "A" { disconnect("invalid Logon", into: &actions) }
                return
            }
        }
        guard m.seqNum != nil else { return rejectOrDrop(m, reason: 1, tag: 34, now: now, into: &actions) }
        switch m.msgTypeText {
        case "A": handleLogon(m, now: now, stored: stored, into: &actions)
        case "0":
            guard verify(m, now: now, into: &actions) else { return }
            incrementTarget(into: &actions)
        case "1":
            guard verify(m, now: now, into: &actions) else { return }
            sendAdmin("0", now: now, into: &actions) { body in
                if let id = m.testReqID { body.append(112, id) }
            }
            incrementTarget(into: &actions)
        case "2": handleResendRequest(m, now: now, stored: stored, into: &actions)
        case "3":
            guard verify(m, checkTooHigh: false, now: now, into: &actions) else { return }
            actions.append(.notice(.rejectReceived(refSeqNum: m.refSeqNum, text: m.text)))
            incrementTarget(into: &actions)
        case "4": handleSequenceReset(m, now: now, into: &actions)
        case "5": handleLogout(m, now: now, into: &actions)
        default:
            guard verify(m, now: now, into: &actions) else { return }
            if let supported = supportedApplicationTypes, !supported.contains(m.msgTypeText) {
                return rejectUnsupported(m, now: now, into: &actions)
            }
            incrementTarget(into: &actions)
            actions.append(.deliver(Array(bytes)))
        }
    }

    /// The checks every message passes before it counts (QuickFIX's `verify`): logon state,
    /// SendingTime accuracy, CompIDs, then the sequence number.
    private mutating func verify(_ m: Inbound, checkTooHigh: Bool = true, checkTooLow: Bool = true,
                                 now: FIXTimestamp, into actions: inout [SessionAction]) -> Bool {
        guard validLogonState(m.msgTypeText) else {
            disconnect("message \(m.msgTypeText) not valid before Logon", into: &actions)
            return false
        }
        guard m.sendingTimePresent else {
            rejectOrDrop(m, reason: 1, tag: 52, now: now, into: &actions)
            return false
        }
        if configuration.checkLatency {
            guard let sent = m.sendingTime,
                  abs(elapsed(sent, now)) <= Double(configuration.maxLatencySeconds) else {
                rejectOrDrop(m, reason: 10, tag: nil, now: now, into: &actions)
                if isConnected { sendLogout(text: nil, now: now, into: &actions) }
                return false
            }
        }
        if configuration.checkCompID {
            guard let s = m.sender, let t = m.target, s.equals(targetBytes), t.equals(senderBytes) else {
                rejectOrDrop(m, reason: 9, tag: nil, now: now, into: &actions)
                if isConnected { sendLogout(text: nil, now: now, into: &actions) }
                return false
            }
        }
        let seq = m.seqNum ?? 0
        if checkTooHigh && seq > nextTargetSequence {
            tooHigh(m, seq: seq, now: now, into: &actions)
            return false
        }
        if checkTooLow && seq < nextTargetSequence {
            tooLow(m, seq: seq, now: now, into: &actions)
            return false
        }
        if (checkTooHigh || checkTooLow), let range = resendRange, seq >= range.through {
            actions.append(.notice(.info("ResendRequest for \(range.from) through \(range.through) satisfied")))
            resendRange = nil
            requestNextChunk(from: seq + 1, now: now, into: &actions)
        }
        return true
    }

    /// Which messages are acceptable in the current logon state (QuickFIX's `validLogonState`).
    private func validLogonState(_ type: String) -> Bool {
        let receivedLogon: Bool
        var sentLogout = false
        var sentLogon = false
        switch state {
        case .loggedOn: receivedLogon = true; sentLogon = true
        case .logoutSent(_, let hb): receivedLogon = hb != nil; sentLogout = true; sentLogon = hb != nil
        case .logonSent: receivedLogon = false; sentLogon = true
        case .connected, .disconnected: receivedLogon = false
        }
        if type == "A" { return !receivedLogon }
        if receivedLogon { return true }
        if type == "5" && sentLogon { return true }
        if sentLogout { return true }
        return type == "4" || type == "3"
    }

    private mutating func tooHigh(_ m: Inbound, seq: Int, now: FIXTimestamp, into actions: inout [SessionAction]) {
        if queued.count < Limits.queuedMessagesMax {
            queued[seq] = Array(m.bytes)
        }
        if let range = resendRange, seq >= range.from {
            return  // already asked for this gap
        }
        sendResendRequest(from: nextTargetSequence, beforeSeq: seq, now: now, into: &actions)
    }

    private mutating func sendResendRequest(from: Int, beforeSeq seq: Int, now: FIXTimestamp,
                                            into actions: inout [SessionAction]) {
        let chunk = configuration.resendRequestChunkSize
        var through = seq - 1
        var endOnWire: Int
        if chunk > 0 && through - from + 1 > chunk {
            through = from + chunk - 1
            endOnWire = through
        } else {
            endOnWire = version >= 42 ? 0 : Limits.infiniteEndSeqNoFIX41
        }
        if chunk > 0 && endOnWire != 0 && endOnWire != Limits.infiniteEndSeqNoFIX41 { endOnWire = through }
        sendAdmin("2", now: now, into: &actions) { body in
            body.append(7, from)
            body.append(16, endOnWire)
        }
        resendRange = (from, through)
        pendingResendEnd = seq - 1
        actions.append(.notice(.gapDetected(from: from, through: endOnWire)))
    }

    /// The end of the whole gap when ResendRequestChunkSize splits it.
    private var pendingResendEnd: Int?

    private mutating func requestNextChunk(from: Int, now: FIXTimestamp, into actions: inout [SessionAction]) {
        guard configuration.resendRequestChunkSize > 0, let end = pendingResendEnd, from <= end else {
            pendingResendEnd = nil
            return
        }
        sendResendRequest(from: from, beforeSeq: end + 1, now: now, into: &actions)
    }

    private mutating func tooLow(_ m: Inbound, seq: Int, now: FIXTimestamp, into actions: inout [SessionAction]) {
        guard m.possDup else {
            let text = "MsgSeqNum too low, expecting \(nextTargetSequence) but received \(seq)"
            sendLogout(text: text, now: now, into: &actions)
            disconnect(text, into: &actions)
            return
        }
        // A possible duplicate of a message already seen: checked, then ignored.
        if m.msgTypeText != "4" {
            guard m.origSendingTimePresent else {
                return rejectOrDrop(m, reason: 1, tag: 122, now: now, into: &actions)
            }
            if let orig = m.origSendingTime, let sent = m.sendingTime, orig > sent {
                rejectOrDrop(m, reason: 10, tag: nil, now: now, into: &actions)
                sendLogout(text: nil, now: now, into: &actions)
            }
        }
    }

    private mutating func handleLogon(_ m: Inbound, now: FIXTimestamp, stored: StoredMessageLookup,
                                      into actions: inout [SessionAction]) {
        let isInitiator = configuration.connectionType == .initiator
        var sentReset = false
        if case .logonSent(_, let reset) = state { sentReset = reset }
        let receivedReset = m.resetSeqNumFlag
        if receivedReset && !sentReset {
            actions.append(.notice(.info("Logon with ResetSeqNumFlag=Y: sequence numbers reset to 1")))
            reset(into: &actions)
        }
        if isInitiator, case .connected = state, !receivedReset {
            return disconnect("Logon reply received before a Logon was sent", into: &actions)
        }
        if !isInitiator && configuration.resetOnLogon && !receivedReset {
            reset(into: &actions)
        }
        guard validLogonState("A") || receivedReset else {
            return disconnect("Logon received while logged on", into: &actions)
        }
        if !verifyLogon(m, now: now, into: &actions) { return }
        let interval = isInitiator && !receivedReset ? configuration.heartBtIntSeconds : (m.heartBtInt ?? configuration.heartBtIntSeconds)
        state = .loggedOn(Heartbeat(intervalSeconds: interval, lastSent: now, lastReceived: now))
        if !isInitiator || (receivedReset && !sentReset) {
            sendLogon(now: now, reply: (interval, receivedReset), into: &actions)
        }
        actions.append(.notice(.loggedOn(heartBtIntSeconds: interval)))
        let seq = m.seqNum ?? 0
        if seq > nextTargetSequence && !receivedReset {
            tooHigh(m, seq: seq, now: now, into: &actions)
        } else {
            incrementTarget(into: &actions)
        }
        // NextExpectedMsgSeqNum(789): the peer says what it expects; anything we sent after
        // that is resent as if it had asked.
        if configuration.enableNextExpectedMsgSeqNum, let expected = m.nextExpected,
           expected < nextSenderSequence - 1 {
            answerResend(from: expected, through: 0, now: now, stored: stored, into: &actions)
        }
    }

    /// The Logon's own checks: SendingTime, CompIDs and a too-low sequence number.
    private mutating func verifyLogon(_ m: Inbound, now: FIXTimestamp, into actions: inout [SessionAction]) -> Bool {
        if configuration.checkLatency {
            guard let sent = m.sendingTime, abs(elapsed(sent, now)) <= Double(configuration.maxLatencySeconds) else {
                disconnect("Logon SendingTime outside the allowed latency", into: &actions)
                return false
            }
        }
        if configuration.checkCompID {
            guard let s = m.sender, let t = m.target, s.equals(targetBytes), t.equals(senderBytes) else {
                disconnect("Logon with wrong CompIDs", into: &actions)
                return false
            }
        }
        let seq = m.seqNum ?? 0
        if seq < nextTargetSequence && !m.resetSeqNumFlag {
            let text = "MsgSeqNum too low, expecting \(nextTargetSequence) but received \(seq)"
            sendLogoutUnchecked(text: text, now: now, into: &actions)
            disconnect(text, into: &actions)
            return false
        }
        return true
    }

    private mutating func handleLogout(_ m: Inbound, now: FIXTimestamp, into actions: inout [SessionAction]) {
        guard verify(m, checkTooHigh: false, checkTooLow: false, now: now, into: &actions) else { return }
        let weAsked: Bool
        if case .logoutSent = state { weAsked = true } else { weAsked = false }
        if !weAsked {
            sendLogoutUnchecked(text: nil, now: now, into: &actions)
        }
        incrementTarget(into: &actions)
        if configuration.resetOnLogout { reset(into: &actions) }
        actions.append(.notice(.loggedOut(reason: m.text)))
        state = .logoutSent(at: now, heartbeat: nil)
        disconnect(weAsked ? "Logout reply received" : "Logout received and answered", into: &actions)
    }

    private mutating func handleSequenceReset(_ m: Inbound, now: FIXTimestamp, into actions: inout [SessionAction]) {
        guard verify(m, checkTooHigh: m.gapFill, checkTooLow: m.gapFill, now: now, into: &actions) else { return }
        guard let newSeqNo = m.newSeqNo else { return rejectOrDrop(m, reason: 1, tag: 36, now: now, into: &actions) }
        if newSeqNo > nextTargetSequence {
            nextTargetSequence = newSeqNo
            storeSequences(into: &actions)
            actions.append(.notice(.sequenceReset(newSeqNo: newSeqNo)))
            if let range = resendRange, newSeqNo > range.through {
                resendRange = nil
                requestNextChunk(from: newSeqNo, now: now, into: &actions)
            }
        } else if newSeqNo < nextTargetSequence {
            rejectOrDrop(m, reason: 5, tag: nil, now: now, into: &actions)
        }
    }

    private mutating func handleResendRequest(_ m: Inbound, now: FIXTimestamp, stored: StoredMessageLookup,
                                              into actions: inout [SessionAction]) {
        guard verify(m, checkTooHigh: false, checkTooLow: false, now: now, into: &actions) else { return }
        guard let from = m.beginSeqNo else { return rejectOrDrop(m, reason: 1, tag: 7, now: now, into: &actions) }
        guard let through = m.endSeqNo else { return rejectOrDrop(m, reason: 1, tag: 16, now: now, into: &actions) }
        answerResend(from: from, through: through, now: now, stored: stored, into: &actions)
        let seq = m.seqNum ?? 0
        if seq == nextTargetSequence { incrementTarget(into: &actions) }
    }

    /// Resends stored application messages in `from...through` with PossDupFlag and
    /// OrigSendingTime, and replaces everything else (admin messages, messages not stored)
    /// with SequenceReset-GapFill, consecutive ones collapsed into one.
    private mutating func answerResend(from: Int, through requested: Int, now: FIXTimestamp,
                                       stored: StoredMessageLookup, into actions: inout [SessionAction]) {
        var end = requested
        if (version >= 42 && requested == 0) || (version <= 42 && requested == Limits.infiniteEndSeqNoFIX41)
            || requested >= nextSenderSequence {
            end = nextSenderSequence - 1
        }
        guard from <= end else { return }
        var messages: [(sequence: Int, message: [UInt8])] = []
        if configuration.persistMessages {
            do {
                messages = try stored(from, end)
            } catch {
                actions.append(.notice(.info("store read failed: \(error); answering with a gap fill")))
            }
        }
        var gapStart: Int?
        var current = from
        for (sequence, message) in messages where sequence >= current && sequence <= end {
            if sequence > current && gapStart == nil { gapStart = current }
            let resent = message.withUnsafeBytes { resendCopy(of: $0, now: now) }
            if let resent {
                if let start = gapStart { sendGapFill(start, newSeqNo: sequence, now: now, into: &actions) }
                gapStart = nil
                actions.append(.send(bytes: resent, sequence: sequence, persist: false))
                noteSent(now: now)
            } else if gapStart == nil {
                gapStart = sequence
            }
            current = sequence + 1
        }
        if current <= end && gapStart == nil { gapStart = current }
        if let start = gapStart {
            sendGapFill(start, newSeqNo: min(end + 1, nextSenderSequence), now: now, into: &actions)
        }
        actions.append(.notice(.resendAnswered(from: from, through: end)))
    }

    /// A stored application message rewritten for resending; nil for an admin message.
    private mutating func resendCopy(of stored: UnsafeRawBufferPointer, now: FIXTimestamp) -> [UInt8]? {
        guard case .message(let length) = FIXFramer().frame(stored) else { return nil }
        let view = FIXMessage(unchecked: UnsafeRawBufferPointer(rebasing: stored[..<length]), lenient: true)
        var iterator = view.makeIterator()
        _ = iterator.next()  // 8
        _ = iterator.next()  // 9
        guard let typeField = iterator.next(), typeField.tag == 35 else { return nil }
        let type = typeField.value.string
        if Self.isAdminType(type) { return nil }
        var header: [(Int, [UInt8])] = []
        var body: [FIXField] = []
        var originalSendingTime: [UInt8]?
        var inHeader = true
        while let field = iterator.next() {
            if field.tag == 10 { break }
            if inHeader && Self.headerTags.contains(field.tag) {
                switch field.tag {
                case 52: originalSendingTime = Array(field.value.bytes)
                case 43, 122, 97: break
                default: header.append((field.tag, Array(field.value.bytes)))
                }
            } else {
                inHeader = false
                body.append(field)
            }
        }
        header.append((43, [UInt8(ascii: "Y")]))
        header.append((52, Array(sendingTimeText(now).utf8)))
        if let originalSendingTime { header.append((122, originalSendingTime)) }
        header.sort { $0.0 < $1.0 }
        writer.begin(beginString: configuration.id.beginString, msgType: type)
        for (tag, value) in header {
            value.withUnsafeBytes { writer.append(tag, bytes: $0) }
        }
        for field in body { writer.append(field) }
        return writer.finish()
    }

    /// Standard header tags of FIX 4.0 to 5.0 SP2 (those that may follow MsgType).
    static let headerTags: Set<Int> = [
        34, 43, 49, 50, 52, 56, 57, 90, 91, 97, 115, 116, 122, 128, 129, 142, 143, 144, 145, 212, 213, 347,
        369, 627, 628, 629, 630, 1128, 1129, 1156,
    ]

    private mutating func sendGapFill(_ start: Int, newSeqNo: Int, now: FIXTimestamp, into actions: inout [SessionAction]) {
        let time = sendingTimeText(now)
        writer.begin(beginString: configuration.id.beginString, msgType: "4")
        writer.append(34, start)
        writer.append(43, true)
        writer.append(49, configuration.id.senderCompID)
        writer.append(52, time)
        writer.append(56, configuration.id.targetCompID)
        writer.append(122, time)
        writer.append(36, newSeqNo)
        writer.append(123, true)
        actions.append(.send(bytes: writer.finish(), sequence: start, persist: false))
        noteSent(now: now)
    }

    private mutating func processQueued(now: FIXTimestamp, stored: StoredMessageLookup, into actions: inout [SessionAction]) {
        while isConnected, let message = queued.removeValue(forKey: nextTargetSequence) {
            for key in queued.keys where key < nextTargetSequence { queued.removeValue(forKey: key) }
            let type = message.withUnsafeBytes { Self.inspect($0)?.msgTypeText } ?? ""
            if type == "A" || type == "2" {
                incrementTarget(into: &actions)
            } else {
                message.withUnsafeBytes { process($0, now: now, stored: stored, queued: true, into: &actions) }
            }
        }
    }

    // MARK: - Rejects

    /// Sends a session Reject (QuickFIX's `generateReject`), or disconnects when no Logon has
    /// been received yet (a Reject before Logon is not allowed).
    private mutating func rejectOrDrop(_ m: Inbound, reason: Int, tag: Int?, now: FIXTimestamp,
                                       into actions: inout [SessionAction]) {
        let loggedOnish: Bool
        switch state {
        case .loggedOn: loggedOnish = true
        case .logoutSent(_, let hb): loggedOnish = hb != nil
        default: loggedOnish = false
        }
        if m.msgTypeText != "A" && m.msgTypeText != "4", let seq = m.seqNum, seq == nextTargetSequence {
            incrementTarget(into: &actions)
        }
        guard loggedOnish else {
            disconnect("message rejected before Logon (373=\(reason))", into: &actions)
            return
        }
        let text = FIXSessionRejectReason(rawValue: reason).text
        let routing = m.routing.map { (Self.reversedRoute($0.0), Array($0.1.bytes)) }
        let version = self.version
        let withReason = version > 42 || (version == 42 && reason <= 11)
        sendAdmin("3", now: now, extraHeader: routing, into: &actions) { body in
            if let seq = m.seqNum { body.append(45, seq) }
            if let tag, tag != 0 || reason == 0 {
                if version >= 42 {
                    body.append(58, text)
                    body.append(371, tag)
                } else {
                    body.append(58, "\(text) (\(tag))")
                }
            } else {
                body.append(58, text)
            }
            if version >= 42 && !m.msgTypeText.isEmpty { body.append(372, m.msgTypeText) }
            if version >= 42 && withReason { body.append(373, reason) }
        }
        actions.append(.notice(.rejectSent(refSeqNum: m.seqNum, reason: reason, text: text)))
    }

    /// An application message type the application does not handle.
    private mutating func rejectUnsupported(_ m: Inbound, now: FIXTimestamp, into actions: inout [SessionAction]) {
        incrementTarget(into: &actions)
        if version >= 42 {
            let applVer = isFIXT ? configuration.defaultApplVerID : nil
            sendAdmin("j", now: now, into: &actions) { body in
                if let seq = m.seqNum { body.append(45, seq) }
                body.append(58, "Unsupported Message Type")
                body.append(372, m.msgTypeText)
                body.append(380, 3)
                if let applVer { body.append(1137, applVer) }
            }
        } else {
            let routing = m.routing.map { (Self.reversedRoute($0.0), Array($0.1.bytes)) }
            sendAdmin("3", now: now, extraHeader: routing, into: &actions) { body in
                if let seq = m.seqNum { body.append(45, seq) }
                body.append(58, "Unsupported message type")
            }
        }
        actions.append(.notice(.rejectSent(refSeqNum: m.seqNum, reason: nil, text: "unsupported message type \(m.msgTypeText)")))
    }

    static func reversedRoute(_ tag: Int) -> Int {
        switch tag {
        case 115: 128
        case 128: 115
        case 116: 129
        case 129: 116
        case 144: 145
        case 145: 144
        default: tag
        }
    }

    // MARK: - Outgoing

    private mutating func sendLogon(now: FIXTimestamp, reply: (interval: Int, reset: Bool)?, into actions: inout [SessionAction]) {
        var reset = reply?.reset ?? false
        if reply == nil && configuration.resetOnLogon {
            self.reset(into: &actions)
            reset = true
        }
        let interval = reply?.interval ?? configuration.heartBtIntSeconds
        let sequence = nextSenderSequence
        writer.begin(beginString: configuration.id.beginString, msgType: "A")
        writeHeader(sequence: sequence, now: now, extra: [])
        writer.append(98, 0)
        writer.append(108, interval)
        if reset { writer.append(141, true) }
        if let username = configuration.username { writer.append(553, username) }
        if let password = configuration.password { writer.append(554, password) }
        if configuration.enableNextExpectedMsgSeqNum && version >= 44 { writer.append(789, nextTargetSequence) }
        if isFIXT, let applVer = configuration.defaultApplVerID { writer.append(1137, applVer) }
        let bytes = writer.finish()
        nextSenderSequence += 1
        actions.append(.send(bytes: bytes, sequence: sequence, persist: false))
        if reply == nil { state = .logonSent(at: now, reset: reset) }
        noteSent(now: now)
        storeSequences(into: &actions)
    }

    private mutating func sendLogout(text: String?, now: FIXTimestamp, into actions: inout [SessionAction]) {
        if case .logoutSent = state { return }
        sendLogoutUnchecked(text: text, now: now, into: &actions)
    }

    private mutating func sendLogoutUnchecked(text: String?, now: FIXTimestamp, into actions: inout [SessionAction]) {
        sendAdmin("5", now: now, into: &actions) { body in
            if let text { body.append(58, text) }
        }
        var heartbeat: Heartbeat?
        if case .loggedOn(let hb) = state { heartbeat = hb }
        if case .logoutSent(_, let hb) = state { heartbeat = hb }
        state = .logoutSent(at: now, heartbeat: heartbeat)
    }

    /// Writes and sends an admin message with the next sequence number.
    private mutating func sendAdmin(_ msgType: String, now: FIXTimestamp, extraHeader: [(Int, [UInt8])] = [],
                                    into actions: inout [SessionAction], body: (inout FIXWriter) -> Void) {
        let sequence = nextSenderSequence
        writer.begin(beginString: configuration.id.beginString, msgType: msgType)
        writeHeader(sequence: sequence, now: now, extra: extraHeader)
        body(&writer)
        let bytes = writer.finish()
        nextSenderSequence += 1
        // Admin messages are not stored: a resend replaces them with a gap fill.
        actions.append(.send(bytes: bytes, sequence: sequence, persist: false))
        noteSent(now: now)
        storeSequences(into: &actions)
    }

    /// 34, 49, 52, 56 and any extra header fields, in ascending tag order.
    private mutating func writeHeader(sequence: Int, now: FIXTimestamp, extra: [(Int, [UInt8])]) {
        var pending = extra.sorted { $0.0 < $1.0 }[...]
        func flush(below tag: Int, _ writer: inout FIXWriter) {
            while let first = pending.first, first.0 < tag {
                first.1.withUnsafeBytes { writer.append(first.0, bytes: $0) }
                pending = pending.dropFirst()
            }
        }
        flush(below: 34, &writer)
        writer.append(34, sequence)
        flush(below: 49, &writer)
        writer.append(49, configuration.id.senderCompID)
        flush(below: 52, &writer)
        writer.append(52, sendingTimeText(now))
        flush(below: 56, &writer)
        writer.append(56, configuration.id.targetCompID)
        flush(below: Int.max, &writer)
    }

    /// SendingTime as this session writes it: whole seconds on FIX 4.0 and 4.1.
    private func sendingTimeText(_ now: FIXTimestamp) -> String {
        now.with(precision: version <= 41 ? .seconds : configuration.timestampPrecision).description
    }

    // MARK: - Bookkeeping

    private mutating func incrementTarget(into actions: inout [SessionAction]) {
        nextTargetSequence += 1
        storeSequences(into: &actions)
    }

    private mutating func storeSequences(into actions: inout [SessionAction]) {
        guard storedSender != nextSenderSequence || storedTarget != nextTargetSequence else { return }
        storedSender = nextSenderSequence
        storedTarget = nextTargetSequence
        actions.append(.storeSequences(nextSender: nextSenderSequence, nextTarget: nextTargetSequence))
    }

    private mutating func reset(into actions: inout [SessionAction]) {
        storeCreationTime = nil  // set to the time of the next event that checks the schedule
        nextSenderSequence = 1
        nextTargetSequence = 1
        storedSender = 1
        storedTarget = 1
        queued.removeAll()
        resendRange = nil
        pendingResendEnd = nil
        actions.append(.resetStore)
    }

    private mutating func noteSent(now: FIXTimestamp) {
        switch state {
        case .loggedOn(var hb):
            hb.lastSent = now
            state = .loggedOn(hb)
        case .logoutSent(let at, var hb?):
            hb.lastSent = now
            state = .logoutSent(at: at, heartbeat: hb)
        default: break
        }
    }

    private mutating func noteReceived(now: FIXTimestamp) {
        switch state {
        case .loggedOn(var hb):
            hb.lastReceived = now
            hb.testRequestsSent = 0
            state = .loggedOn(hb)
        case .logoutSent(let at, var hb?):
            hb.lastReceived = now
            hb.testRequestsSent = 0
            state = .logoutSent(at: at, heartbeat: hb)
        default: break
        }
    }

    private mutating func disconnect(_ reason: String, into actions: inout [SessionAction]) {
        guard isConnected else { return }
        actions.append(.disconnect(reason: reason))
        let wasLoggedOn: Bool
        switch state {
        case .loggedOn: wasLoggedOn = true
        case .logoutSent(_, let hb): wasLoggedOn = hb != nil
        default: wasLoggedOn = false
        }
        state = .disconnected
        queued.removeAll()
        resendRange = nil
        pendingResendEnd = nil
        if configuration.resetOnDisconnect { reset(into: &actions) }
        if wasLoggedOn { actions.append(.notice(.loggedOut(reason: reason))) }
    }

    /// Asks for one timer at the earliest instant something may be due.
    private mutating func updateTimer(now: FIXTimestamp, into actions: inout [SessionAction]) {
        var deadline: FIXTimestamp?
        func at(_ base: FIXTimestamp, plus seconds: Double) -> FIXTimestamp {
            FIXTimestamp(nanosecondsSinceEpoch: base.nanosecondsSinceEpoch + Int64(seconds * 1e9))
        }
        switch state {
        case .disconnected: deadline = nil
        case .connected(let since):
            deadline = configuration.connectionType == .acceptor
                ? at(since, plus: Double(configuration.logonTimeoutSeconds)) : nil
        case .logonSent(let sent, _): deadline = at(sent, plus: Double(configuration.logonTimeoutSeconds))
        case .logoutSent(let sent, _): deadline = at(sent, plus: Double(configuration.logoutTimeoutSeconds))
        case .loggedOn(let hb):
            guard hb.intervalSeconds > 0 else { break }
            let interval = Double(hb.intervalSeconds)
            var candidates = [
                at(hb.lastReceived, plus: 1.2 * Double(hb.testRequestsSent + 1) * interval),
                at(hb.lastReceived, plus: 2.4 * interval),
            ]
            if hb.testRequestsSent == 0 { candidates.append(at(hb.lastSent, plus: interval)) }
            deadline = candidates.min()
        }
        if let schedule = configuration.schedule, isConnected {
            let boundary = schedule.nextBoundary(after: now, utcOffsetSeconds: utcOffset(now))
            deadline = deadline.map { min($0, boundary) } ?? boundary
        }
        if deadline != timerDeadline {
            timerDeadline = deadline
            actions.append(.setTimer(deadline))
        }
    }

    private func elapsed(_ from: FIXTimestamp, _ to: FIXTimestamp) -> Double {
        Double(to.nanosecondsSinceEpoch - from.nanosecondsSinceEpoch) / 1e9
    }
}

extension FIXSession {
    /// The routing fields of a message, read without validating it: what an acceptor needs to
    /// find the session a new connection belongs to. Nil when the fields are not all there.
    public static func peekHeader(_ bytes: UnsafeRawBufferPointer)
        -> (beginString: String, senderCompID: String, targetCompID: String, msgType: String)?
    {
        guard let m = inspect(bytes), let begin = m.beginString, let sender = m.sender, let target = m.target,
              !m.msgTypeText.isEmpty else { return nil }
        return (begin.string, sender.string, target.string, m.msgTypeText)
    }
}
