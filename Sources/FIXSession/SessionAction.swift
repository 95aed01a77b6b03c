import FIXTagValue

/// What the session state machine asks its driver to do, in order.
///
/// The driver (a transport, a test, a replay) carries out each action before the next one:
/// persist before send, so that a message that reached the wire can always be resent.
///
/// ```swift
/// var actions: [SessionAction] = []
/// session.received(bytes, now: clock.now, stored: store.messages, into: &actions)
/// for action in actions {
///     switch action {
///     case .send(let bytes, let sequence, let persist):
///         if persist { try store.save(sequence: sequence, message: bytes) }
///         channel.write(bytes)
///     case .storeSequences(let sender, let target): try store.setSequences(nextSender: sender, nextTarget: target)
///     case .resetStore: try store.reset(creationTime: clock.now)
///     case .deliver(let message): application.receive(message)
///     case .setTimer(let deadline): timer.schedule(deadline)
///     case .disconnect: channel.close()
///     case .notice(let notice): log(notice)
///     }
/// }
/// ```
public enum SessionAction: Sendable, Equatable {
    /// Write `bytes` to the connection; when `persist` is true, first store them under
    /// `sequence` so a later ResendRequest can be answered with them.
    case send(bytes: [UInt8], sequence: Int, persist: Bool)
    /// Store an application message sent while logged out (it goes out with the next resend).
    case persist(bytes: [UInt8], sequence: Int)
    /// Record the next sequence numbers in the store.
    case storeSequences(nextSender: Int, nextTarget: Int)
    /// Forget every stored message; both sequence numbers are back to 1.
    case resetStore
    /// An application message from the counterparty, for the application.
    case deliver([UInt8])
    /// Call `timerFired` at this instant (replacing any earlier request); nil cancels.
    case setTimer(FIXTimestamp?)
    /// Close the connection.
    case disconnect(reason: String)
    /// Something that happened, for logs and the application's admin stream.
    case notice(SessionNotice)
}

/// Session events worth logging or showing to the application.
public enum SessionNotice: Sendable, Equatable, CustomStringConvertible {
    case loggedOn(heartBtIntSeconds: Int)
    case loggedOut(reason: String?)
    case gapDetected(from: Int, through: Int)
    case resendAnswered(from: Int, through: Int)
    case rejectSent(refSeqNum: Int?, reason: Int?, text: String)
    case rejectReceived(refSeqNum: Int?, text: String?)
    case messageIgnored(String)
    case sequenceReset(newSeqNo: Int)
    case info(String)

    public var description: String {
        switch self {
        case .loggedOn(let hb): "logged on (HeartBtInt \(hb) s)"
        case .loggedOut(let reason): "logged out" + (reason.map { ": \($0)" } ?? "")
        case .gapDetected(let from, let through): "gap detected: asked for \(from) through \(through == 0 ? "infinity" : String(through))"
        case .resendAnswered(let from, let through): "answered ResendRequest \(from) through \(through)"
        case .rejectSent(let seq, let reason, let text):
            "rejected message \(seq.map(String.init) ?? "?")" + (reason.map { " (373=\($0))" } ?? "") + ": \(text)"
        case .rejectReceived(let seq, let text): "peer rejected message \(seq.map(String.init) ?? "?")" + (text.map { ": \($0)" } ?? "")
        case .messageIgnored(let why): "message ignored: \(why)"
        case .sequenceReset(let n): "sequence reset, next expected \(n)"
        case .info(let text): text
        }
    }
}

/// The stored outbound messages a session needs to answer a ResendRequest: the driver's store
/// lookup (for example `MessageStore.messages(from:through:)`).
public typealias StoredMessageLookup = (_ from: Int, _ through: Int) throws -> [(sequence: Int, message: [UInt8])]
