import FIXTagValue

/// Who the session is: BeginString and the CompIDs, from this side's point of view.
public struct FIXSessionID: Hashable, Sendable, CustomStringConvertible {
    public var beginString: String
    public var senderCompID: String
    public var targetCompID: String
    /// Optional qualifier that tells apart two sessions with the same CompIDs (QuickFIX's
    /// SessionQualifier).
    public var qualifier: String?

    public init(beginString: String, senderCompID: String, targetCompID: String, qualifier: String? = nil) {
        self.beginString = beginString
        self.senderCompID = senderCompID
        self.targetCompID = targetCompID
        self.qualifier = qualifier
    }

    /// QuickFIX's textual form, `FIX.4.4:SENDER->TARGET` (with `:QUALIFIER` when set); also the
    /// stem of its store and log file names.
    public var description: String {
        "\(beginString):\(senderCompID)->\(targetCompID)" + (qualifier.map { ":" + $0 } ?? "")
    }
}

/// Which side opens the connection.
public enum FIXConnectionType: String, Hashable, Sendable {
    case initiator
    case acceptor
}

/// A daily (or weekly) window in which the session may be logged on. Times are local to
/// `timeZoneIdentifier` (an IANA name such as "America/New_York"; nil means UTC). The core reads
/// no time-zone database: the driver supplies the zone's UTC offset at a given instant, and when
/// it cannot, `utcOffsetSeconds` is used.
public struct FIXSessionSchedule: Hashable, Sendable {
    public var timeZoneIdentifier: String?
    /// Seconds after midnight, local time.
    public var startSecond: Int
    public var endSecond: Int
    /// ISO weekday 1 (Monday) … 7 (Sunday) for weekly sessions; nil for daily ones.
    public var startDay: Int?
    public var endDay: Int?
    /// Offset of the schedule's local time from UTC, in seconds.
    public var utcOffsetSeconds: Int

    public init(startSecond: Int, endSecond: Int, startDay: Int? = nil, endDay: Int? = nil, utcOffsetSeconds: Int = 0,
                timeZoneIdentifier: String? = nil) {
        self.timeZoneIdentifier = timeZoneIdentifier
        self.startSecond = startSecond
        self.endSecond = endSecond
        self.startDay = startDay
        self.endDay = endDay
        self.utcOffsetSeconds = utcOffsetSeconds
    }

    /// Always in session: no window, no daily reset.
    public static let always: FIXSessionSchedule? = nil
}

/// Everything the session state machine needs to know about one session. Settings files are
/// read into this by `QuickFIXSettings` (QuickFIX-compatible keys).
public struct FIXSessionConfiguration: Sendable {
    public var id: FIXSessionID
    public var connectionType: FIXConnectionType
    /// HeartBtInt this side proposes (initiator); an acceptor takes the initiator's.
    public var heartBtIntSeconds: Int = 30
    /// FIXT sessions: the DefaultApplVerID(1137) sent on Logon, e.g. "9" for FIX.5.0SP2.
    public var defaultApplVerID: String?
    public var resetOnLogon = false
    public var resetOnLogout = false
    public var resetOnDisconnect = false
    /// Accept the peer's Logon with ResetSeqNumFlag(141)=Y and reset (QuickFIX default true).
    public var refreshOnLogon = false
    /// Send NextExpectedMsgSeqNum(789) on Logon (FIX 4.4 and later).
    public var enableNextExpectedMsgSeqNum = false
    /// Most messages one ResendRequest asks for; 0 means no limit (QuickFIX's ResendRequestChunkSize).
    public var resendRequestChunkSize = 0
    /// Seconds to wait for the peer's Logout reply before disconnecting.
    public var logoutTimeoutSeconds = 2
    /// Seconds an initiator waits for the Logon reply.
    public var logonTimeoutSeconds = 10
    /// Check that SendingTime is within `maxLatencySeconds` of now.
    public var checkLatency = true
    public var maxLatencySeconds = 120
    /// Check the CompIDs of every incoming message.
    public var checkCompID = true
    /// SendingTime precision written on outgoing messages (QuickFIX's TimestampPrecision).
    public var timestampPrecision: FIXTimePrecision = .milliseconds
    /// Optional Username(553) and Password(554) on Logon.
    public var username: String?
    public var password: String?
    public var schedule: FIXSessionSchedule?
    /// Persist messages (false: sequence numbers only, resends become gap fills).
    public var persistMessages = true

    public init(id: FIXSessionID, connectionType: FIXConnectionType) {
        self.id = id
        self.connectionType = connectionType
    }
}
