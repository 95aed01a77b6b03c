import FIXTagValue

/// A QuickFIX settings file, read: the sessions it defines, each as the configuration the
/// session state machine needs and the endpoint its edges need, with every value as written.
///
/// The format is QuickFIX's: `[DEFAULT]` and `[SESSION]` sections of `Key=Value` lines, `#`
/// comments and blank lines; a session takes every DEFAULT value it does not set itself.
/// Section names and keys are case-insensitive, as in QuickFIX. A key this parser does not
/// know is a warning (so a typo is seen, but a file written for QuickFIX still loads); a value
/// that cannot be right, a missing required key or a contradiction is a
/// `QuickFIXSettingsError` naming the file, the line, the section and the key.
///
/// ```swift
/// let text = """
///     [DEFAULT]
///     ConnectionType=acceptor
///     SocketAcceptPort=54321
///     NonStopSession=Y
///     FileStorePath=store
///
///     [SESSION]
///     BeginString=FIX.4.4
///     SenderCompID=ISLD
///     TargetCompID=TW44
///     """
/// let settings = try QuickFIXSettings.parse(text, file: "acceptor.cfg")
/// for warning in settings.warnings { print(warning) }
/// let session = settings.sessions[0]
/// session.configuration.id          // FIX.4.4:ISLD->TW44
/// session.endpoint.acceptPort       // 54321
/// session.values["FileStorePath"]   // "store"
/// ```
///
/// This type only parses text; reading the file is the caller's job.
public struct QuickFIXSettings: Sendable {
    /// One `[SESSION]` section with the DEFAULT values it inherits.
    public struct Session: Sendable {
        /// What the session state machine needs.
        public var configuration: FIXSessionConfiguration
        /// What the transport, store and log need.
        public var endpoint: FIXSessionEndpoint
        /// Every value that applies to this session (its own and inherited), keyed by the
        /// key's QuickFIX spelling (or as written, for unknown keys).
        public var values: [String: String]
        /// 1 for the file's first `[SESSION]`.
        public var number: Int
        /// The line of its `[SESSION]` header.
        public var line: Int
    }

    /// The `[DEFAULT]` values, keyed like `Session.values`.
    public var defaults: [String: String]
    public var sessions: [Session]
    /// Keys this parser does not know, or knows but does not use, and other oddities that do
    /// not stop the file from loading; each names the file, line and section.
    public var warnings: [String]

    /// Bounds on what is read: a settings file is small, and a huge one is a mistake.
    public static let textBytesMax = 4 * 1024 * 1024
    public static let lineBytesMax = 8 * 1024
    public static let sessionsMax = 10_000
    /// Upper bounds of numeric settings.
    public static let heartBtIntSecondsMax = 86_400
    public static let timeoutSecondsMax = 3_600
    public static let resendRequestChunkSizeMax = 1_000_000
    /// The numbered failover addresses read (`SocketConnectHost1` … this number).
    public static let connectAddressesMax = 32

    /// Parses settings text; `file` is the name used in errors and warnings.
    public static func parse(_ text: String, file: String) throws -> QuickFIXSettings {
        var reader = SettingsReader(file: file)
        try reader.read(text)
        var sessions: [Session] = []
        var seen: [FIXSessionID: Int] = [:]
        for section in reader.sessions {
            let session = try SessionBuilder(file: file, defaults: reader.defaults, section: section).build()
            if let first = seen[session.configuration.id] {
                throw QuickFIXSettingsError(
                    file: file, line: section.line, section: section.label, key: nil,
                    kind: .duplicateSession(id: session.configuration.id.description, firstLine: first))
            }
            seen[session.configuration.id] = section.line
            sessions.append(session)
        }
        return QuickFIXSettings(defaults: reader.defaults.values.mapValues(\.text), sessions: sessions,
                                warnings: reader.warnings)
    }

    /// The session with this ID, if the file defines it.
    public func session(_ id: FIXSessionID) -> Session? {
        sessions.first { $0.configuration.id == id }
    }
}

/// Where a session connects or listens, where its store and logs go, and how its messages are
/// validated: the QuickFIX settings the edges (transport, store, validator) carry out.
public struct FIXSessionEndpoint: Sendable, Hashable {
    public struct Address: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// TLS settings. QuickFIX C++ turns TLS on in code (its SSL socket classes); here
    /// `SocketUseSSL=Y` (QuickFIX/J's key) turns it on, and so does any certificate setting.
    public struct TLS: Sendable, Hashable {
        /// `SSLProtocol` as written (QuickFIX syntax, e.g. "all -SSLv2 -SSLv3").
        public var protocols: String?
        public var cipherSuites: String?
        public var serverCertificateFile: String?
        public var serverCertificateKeyFile: String?
        public var clientCertificateFile: String?
        public var clientCertificateKeyFile: String?
        /// `CertificationAuthoritiesFile` (QuickFIX's spelling; `CertificateAuthoritiesFile`
        /// is read too).
        public var certificateAuthoritiesFile: String?
        /// `CertificateVerifyLevel`: 0 no peer verification, 1 or more verify the peer (an
        /// acceptor then requires a client certificate).
        public var verifyLevel: Int?

        public init() {}
    }

    /// An initiator's addresses in failover order: `SocketConnectHost`/`Port`, then
    /// `SocketConnectHost1`/`Port1`, `SocketConnectHost2`/`Port2`, …
    public var connectAddresses: [Address] = []
    /// An acceptor's listening port and, when set, the address it binds to.
    public var acceptPort: Int?
    public var acceptAddress: String?
    /// Seconds between an initiator's connection attempts (QuickFIX default 30).
    public var reconnectIntervalSeconds = 30
    /// TCP_NODELAY (QuickFIX's `SocketNodelay`, default Y).
    public var noDelay = true
    /// `AllowedRemoteAddresses`: an acceptor accepts connections only from these (nil: any).
    public var allowedRemoteAddresses: [String]?
    /// `FileStorePath`: the directory of the file store (nil: keep messages in memory).
    public var fileStorePath: String?
    /// `FileStoreSync=Y`: sync the store after every message (default N: once per batch).
    public var fileStoreSync = false
    /// `FileLogPath`: the directory of the message and event logs (nil: no file log).
    public var fileLogPath: String?
    /// `UseDataDictionary` (default Y): validate incoming messages against dictionaries.
    public var useDataDictionary = true
    public var dataDictionary: String?
    public var transportDataDictionary: String?
    public var appDataDictionary: String?
    /// `AppDataDictionary.<BeginString>` entries (QuickFIX's per-version application
    /// dictionaries), keyed by the suffix, e.g. "FIX.4.4".
    public var appDataDictionaries: [String: String] = [:]
    public var validateLengthAndChecksum = true
    public var validateFieldsOutOfOrder = true
    public var validateFieldsHaveValues = true
    public var validateUserDefinedFields = true
    /// `AllowUnknownMsgFields` (default N).
    public var allowUnknownMessageFields = false
    /// TLS when turned on; nil for plain TCP.
    public var tls: TLS?

    public init() {}
}

/// A settings file that cannot be used, naming where and why.
///
/// ```swift
/// do {
///     _ = try QuickFIXSettings.parse("[SESSION]\nConnectionType=both\n", file: "fix.cfg")
/// } catch let error as QuickFIXSettingsError {
///     print(error)   // fix.cfg:2: [SESSION] 1: ConnectionType=both: expected initiator or acceptor
/// }
/// ```
public struct QuickFIXSettingsError: Error, CustomStringConvertible, Sendable {
    enum Kind: Sendable {
        case syntax(String)
        case invalidValue(value: String, expected: String)
        case missing(String)
        case conflict(String)
        case duplicateSession(id: String, firstLine: Int)
        case tooLarge(String)
    }

    public let file: String
    public let line: Int
    /// "[DEFAULT]" or "[SESSION] n", when the error is inside a section.
    public let section: String?
    public let key: String?
    let kind: Kind

    public var description: String {
        var text = "\(file):\(line): "
        if let section { text += section + ": " }
        switch kind {
        case .syntax(let reason):
            text += reason
        case .invalidValue(let value, let expected):
            text += "\(key ?? "")=\(value): expected \(expected)"
        case .missing(let reason):
            text += reason
        case .conflict(let reason):
            text += (key.map { $0 + ": " } ?? "") + reason
        case .duplicateSession(let id, let firstLine):
            text += "session \(id) is already defined by the [SESSION] at line \(firstLine)"
        case .tooLarge(let reason):
            text += reason
        }
        return text
    }
}

// MARK: - Reading sections

/// A value with where it was written.
fileprivate struct SettingValue: Sendable {
    var text: String
    var line: Int
    var section: String
}

fileprivate struct SettingsSection {
    var label: String
    var line: Int
    var number: Int
    var values: [String: SettingValue] = [:]
}

fileprivate typealias Limits = QuickFIXSettings

/// Turns text into sections of canonical-key values, warning about unknown keys.
fileprivate struct SettingsReader {
    let file: String
    var defaults = SettingsSection(label: "[DEFAULT]", line: 0, number: 0)
    var sessions: [SettingsSection] = []
    var warnings: [String] = []

    init(file: String) { self.file = file }

    private enum Current { case none, defaults, session, ignored }

    mutating func read(_ text: String) throws {
        guard text.utf8.count <= QuickFIXSettings.textBytesMax else {
            throw QuickFIXSettingsError(file: file, line: 1, section: nil, key: nil,
                                        kind: .tooLarge("settings text is larger than \(Limits.textBytesMax) bytes"))
        }
        var current = Current.none
        var lineNumber = 0
        // "\r\n" is one Character in Swift, so it is named as a separator of its own.
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            guard rawLine.utf8.count <= QuickFIXSettings.lineBytesMax else {
                throw QuickFIXSettingsError(file: file, line: lineNumber, section: nil, key: nil,
                                            kind: .tooLarge("line is longer than \(Limits.lineBytesMax) bytes"))
            }
            let line = trimmed(rawLine)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else {
                    throw QuickFIXSettingsError(file: file, line: lineNumber, section: nil, key: nil,
                                                kind: .syntax("section header \"\(line)\" has no closing ]"))
                }
                let name = trimmed(line.dropFirst().dropLast()).uppercased()
                switch name {
                case "DEFAULT":
                    current = .defaults
                    if defaults.line == 0 { defaults.line = lineNumber }
                case "SESSION":
                    guard sessions.count < QuickFIXSettings.sessionsMax else {
                        throw QuickFIXSettingsError(file: file, line: lineNumber, section: nil, key: nil,
                                                    kind: .tooLarge("more than \(Limits.sessionsMax) sessions"))
                    }
                    current = .session
                    let number = sessions.count + 1
                    sessions.append(SettingsSection(label: "[SESSION] \(number)", line: lineNumber, number: number))
                default:
                    current = .ignored
                    warnings.append("\(file):\(lineNumber): unknown section \(line); its keys are ignored")
                }
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw QuickFIXSettingsError(
                    file: file, line: lineNumber, section: currentLabel(current), key: nil,
                    kind: .syntax("expected Key=Value, [DEFAULT] or [SESSION], found \"\(line)\""))
            }
            let key = trimmed(line[..<equals])
            let value = trimmed(line[line.index(after: equals)...])
            guard !key.isEmpty else {
                throw QuickFIXSettingsError(file: file, line: lineNumber, section: currentLabel(current), key: nil,
                                            kind: .syntax("a value without a key: \"\(line)\""))
            }
            switch current {
            case .none:
                let reason = "\(key) is outside any section; start with [DEFAULT] or [SESSION]"
                throw QuickFIXSettingsError(file: file, line: lineNumber, section: nil, key: key, kind: .syntax(reason))
            case .ignored:
                continue
            case .defaults:
                Self.store(key: key, value: value, line: lineNumber, in: &defaults, file: file, warnings: &warnings)
            case .session:
                Self.store(key: key, value: value, line: lineNumber, in: &sessions[sessions.count - 1], file: file,
                           warnings: &warnings)
            }
        }
    }

    private func currentLabel(_ current: Current) -> String? {
        switch current {
        case .defaults: return defaults.label
        case .session: return sessions.last?.label
        case .none, .ignored: return nil
        }
    }

    private static func store(key: String, value: String, line: Int, in section: inout SettingsSection, file: String,
                              warnings: inout [String]) {
        let where_ = "\(file):\(line): \(section.label)"
        let canonical: String
        switch SettingsKeys.lookup(key) {
        case .used(let name):
            canonical = name
        case .ignored(let name):
            canonical = name
            warnings.append("\(where_): \(name) is a QuickFIX setting FIXBridge does not use; ignored")
        case .unknown:
            canonical = key
            warnings.append("\(where_): unknown key \(key); ignored")
        }
        if let earlier = section.values[canonical] {
            warnings.append("\(where_): \(canonical) is set again (first at line \(earlier.line)); the last value wins")
        }
        section.values[canonical] = SettingValue(text: value, line: line, section: section.label)
    }
}

fileprivate func trimmed(_ text: Substring) -> String {
    let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\u{FEFF}" }
    guard let first = text.firstIndex(where: { !isSpace($0) }),
          let last = text.lastIndex(where: { !isSpace($0) }) else { return "" }
    return String(text[first...last])
}

fileprivate func trimmed(_ text: String) -> String { trimmed(Substring(text)) }

// MARK: - Keys

fileprivate enum SettingsKeys {
    enum Lookup {
        case used(String)
        case ignored(String)
        case unknown
    }

    /// Keys this parser reads, in QuickFIX's spelling.
    static let used: [String] = [
        "ConnectionType", "BeginString", "SenderCompID", "TargetCompID", "SessionQualifier", "HeartBtInt",
        "StartTime", "EndTime", "StartDay", "EndDay", "TimeZone", "UseLocalTime", "NonStopSession",
        "ResetOnLogon", "ResetOnLogout", "ResetOnDisconnect", "RefreshOnLogon", "EnableNextExpectedMsgSeqNum",
        "ResendRequestChunkSize", "LogoutTimeout", "LogonTimeout", "CheckLatency", "MaxLatency", "CheckCompID",
        "TimestampPrecision", "MillisecondsInTimeStamp", "DefaultApplVerID", "PersistMessages", "Username",
        "Password",
        "SocketConnectHost", "SocketConnectPort", "SocketAcceptPort", "SocketAcceptAddress", "ReconnectInterval",
        "SocketNodelay", "AllowedRemoteAddresses", "FileStorePath", "FileStoreSync", "FileLogPath",
        "UseDataDictionary", "DataDictionary", "TransportDataDictionary", "AppDataDictionary",
        "ValidateLengthAndChecksum", "ValidateFieldsOutOfOrder", "ValidateFieldsHaveValues",
        "ValidateUserDefinedFields", "AllowUnknownMsgFields",
        "SocketUseSSL", "SSLProtocol", "SSLCipherSuite", "ServerCertificateFile", "ServerCertificateKeyFile",
        "ClientCertificateFile", "ClientCertificateKeyFile", "CertificationAuthoritiesFile",
        "CertificateVerifyLevel",
        // FIXBridge's own, read by `fixbridge run` (the daemon).
        "BackOfficeDB", "MetricsAddress", "MetricsPort", "CRMWebhookURL", "CRMWebhookSecret", "CRMDestination",
    ]

    /// QuickFIX settings that FIXBridge knows but does not carry out (a warning says so).
    static let ignored: [String] = [
        "LogonTime", "LogoutTime", "LogonDay", "LogoutDay", "SendResetSeqNumFlag", "SendRedundantResendRequests",
        "SocketReuseAddress", "SocketConnectSourceHost", "SocketConnectSourcePort", "SocketSendBufferSize",
        "SocketReceiveBufferSize", "PreserveMessageFieldsOrder", "FileLogBackupPath", "ScreenLogShowIncoming",
        "ScreenLogShowOutgoing", "ScreenLogShowEvents", "HttpAcceptPort", "CertificationAuthoritiesDirectory",
        "CertificateRevocationListFile", "CertificateRevocationListDirectory",
    ]

    /// Other spellings accepted for a used key.
    static let aliases: [String: String] = [
        "certificateauthoritiesfile": "CertificationAuthoritiesFile",
    ]

    private static let usedByLowercase: [String: String] = Dictionary(
        uniqueKeysWithValues: used.map { ($0.lowercased(), $0) })
    private static let ignoredByLowercase: [String: String] = Dictionary(
        uniqueKeysWithValues: ignored.map { ($0.lowercased(), $0) })
    /// Database stores and logs of QuickFIX (MySQL, PostgreSQL, ODBC) are not offered.
    private static let ignoredPrefixes = ["mysql", "postgresql", "odbc"]

    static func lookup(_ key: String) -> Lookup {
        let lower = key.lowercased()
        if let name = usedByLowercase[lower] ?? aliases[lower] { return .used(name) }
        if let name = ignoredByLowercase[lower] { return .ignored(name) }
        for prefix in ["socketconnecthost", "socketconnectport"] where lower.hasPrefix(prefix) {
            let suffix = lower.dropFirst(prefix.count)
            if let n = Int(suffix), n >= 1, n <= QuickFIXSettings.connectAddressesMax, String(n) == suffix {
                return .used((prefix == "socketconnecthost" ? "SocketConnectHost" : "SocketConnectPort") + suffix)
            }
        }
        if lower.hasPrefix("appdatadictionary."), lower.count > "appdatadictionary.".count {
            return .used("AppDataDictionary." + key.dropFirst("appdatadictionary.".count))
        }
        if ignoredPrefixes.contains(where: { lower.hasPrefix($0) }) { return .ignored(key) }
        return .unknown
    }
}

// MARK: - Interpreting one session

fileprivate struct SessionBuilder {
    let file: String
    let section: SettingsSection
    /// The session's own values over the defaults.
    let merged: [String: SettingValue]

    init(file: String, defaults: SettingsSection, section: SettingsSection) {
        self.file = file
        self.section = section
        self.merged = defaults.values.merging(section.values) { _, own in own }
    }

    func build() throws -> QuickFIXSettings.Session {
        let connectionType: FIXConnectionType = try required("ConnectionType") { value in
            FIXConnectionType(rawValue: value.lowercased())
        } expected: { "initiator or acceptor" }
        let beginString = try required("BeginString") { value in
            Self.beginStrings.contains(value) ? value : nil
        } expected: { Self.beginStrings.joined(separator: ", ") }
        let sender = try required("SenderCompID") { $0.isEmpty ? nil : $0 } expected: { "a CompID" }
        let target = try required("TargetCompID") { $0.isEmpty ? nil : $0 } expected: { "a CompID" }
        let qualifier = merged["SessionQualifier"].map(\.text).flatMap { $0.isEmpty ? nil : $0 }
        let id = FIXSessionID(beginString: beginString, senderCompID: sender, targetCompID: target,
                              qualifier: qualifier)

        var config = FIXSessionConfiguration(id: id, connectionType: connectionType)
        let heartBtInt = number(0...QuickFIXSettings.heartBtIntSecondsMax)
        let heartBtIntExpected = "a whole number of seconds 0...\(QuickFIXSettings.heartBtIntSecondsMax)"
        if connectionType == .initiator {
            config.heartBtIntSeconds = try required("HeartBtInt", heartBtInt, expected: { heartBtIntExpected },
                                                    because: "an initiator proposes it")
        } else if let value = try optional("HeartBtInt", heartBtInt, expected: heartBtIntExpected) {
            config.heartBtIntSeconds = value
        }
        if let value = try optional("DefaultApplVerID", Self.applVerID, expected: Self.applVerIDExpected) {
            config.defaultApplVerID = beginString == "FIXT.1.1" ? value : nil
        } else if beginString == "FIXT.1.1" {
            throw missing("DefaultApplVerID", because: "FIXT.1.1 sessions need it")
        }
        config.resetOnLogon = try flag("ResetOnLogon", default: config.resetOnLogon)
        config.resetOnLogout = try flag("ResetOnLogout", default: config.resetOnLogout)
        config.resetOnDisconnect = try flag("ResetOnDisconnect", default: config.resetOnDisconnect)
        config.refreshOnLogon = try flag("RefreshOnLogon", default: config.refreshOnLogon)
        config.enableNextExpectedMsgSeqNum = try flag("EnableNextExpectedMsgSeqNum",
                                                      default: config.enableNextExpectedMsgSeqNum)
        config.resendRequestChunkSize = try optional(
            "ResendRequestChunkSize", number(0...QuickFIXSettings.resendRequestChunkSizeMax),
            expected: "a message count 0...\(QuickFIXSettings.resendRequestChunkSizeMax) (0: no limit)")
            ?? config.resendRequestChunkSize
        let seconds = "a whole number of seconds 1...\(QuickFIXSettings.timeoutSecondsMax)"
        config.logoutTimeoutSeconds = try optional("LogoutTimeout", number(1...QuickFIXSettings.timeoutSecondsMax),
                                                   expected: seconds) ?? config.logoutTimeoutSeconds
        config.logonTimeoutSeconds = try optional("LogonTimeout", number(1...QuickFIXSettings.timeoutSecondsMax),
                                                  expected: seconds) ?? config.logonTimeoutSeconds
        config.checkLatency = try flag("CheckLatency", default: config.checkLatency)
        config.maxLatencySeconds = try optional(
            "MaxLatency", number(1...QuickFIXSettings.heartBtIntSecondsMax),
            expected: "a whole number of seconds 1...\(QuickFIXSettings.heartBtIntSecondsMax)"
        ) ?? config.maxLatencySeconds
        config.checkCompID = try flag("CheckCompID", default: config.checkCompID)
        if let precision = try optional("TimestampPrecision", { Int($0).flatMap(FIXTimePrecision.init(rawValue:)) },
                                        expected: "0, 3, 6 or 9 (fractional digits)") {
            config.timestampPrecision = precision
        } else if try !flag("MillisecondsInTimeStamp", default: true) {
            config.timestampPrecision = .seconds
        }
        config.persistMessages = try flag("PersistMessages", default: config.persistMessages)
        config.username = merged["Username"]?.text
        config.password = merged["Password"]?.text
        config.schedule = try schedule()

        return QuickFIXSettings.Session(configuration: config, endpoint: try endpoint(connectionType),
                                        values: merged.mapValues(\.text), number: section.number, line: section.line)
    }

    static let beginStrings = ["FIX.4.0", "FIX.4.1", "FIX.4.2", "FIX.4.3", "FIX.4.4", "FIXT.1.1"]

    /// ApplVerID(1137) values by the version names QuickFIX also accepts.
    static let applVerIDs: [String: String] = [
        "FIX.2.7": "0", "FIX.3.0": "1", "FIX.4.0": "2", "FIX.4.1": "3", "FIX.4.2": "4", "FIX.4.3": "5",
        "FIX.4.4": "6", "FIX.5.0": "7", "FIX.5.0SP1": "8", "FIX.5.0SP2": "9",
    ]
    static let applVerIDExpected = "an ApplVerID (0-9 or higher) or a version name such as FIX.5.0SP2"

    static func applVerID(_ value: String) -> String? {
        if let number = applVerIDs[value.uppercased().replacingSP()] { return number }
        guard !value.isEmpty, value.count <= 4, value.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return String(Int(value)!)
    }

    // MARK: Schedule

    private func schedule() throws -> FIXSessionSchedule? {
        if try flag("NonStopSession", default: false) { return nil }
        let time = "a time of day HH:MM:SS"
        let start = try required("StartTime", Self.timeOfDay, expected: { time }, because: "without NonStopSession=Y")
        let end = try required("EndTime", Self.timeOfDay, expected: { time }, because: "without NonStopSession=Y")
        let day = "a weekday name or abbreviation (Sunday, Sun, Su, …)"
        let startDay = try optional("StartDay", Self.weekday, expected: day)
        let endDay = try optional("EndDay", Self.weekday, expected: day)
        if (startDay == nil) != (endDay == nil) {
            let given = startDay == nil ? "EndDay" : "StartDay"
            let other = startDay == nil ? "StartDay" : "EndDay"
            throw conflict(given, "\(given) needs \(other) too (a weekly session has both)")
        }
        let zone = try timeZone()
        return FIXSessionSchedule(startSecond: start, endSecond: end, startDay: startDay, endDay: endDay,
                                  utcOffsetSeconds: 0, timeZoneIdentifier: zone)
    }

    /// "HH:MM:SS" → seconds after midnight.
    static func timeOfDay(_ value: String) -> Int? {
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let h = Int(parts[0]), let m = Int(parts[1]), let s = Int(parts[2]), h < 24, m < 60, s < 60
        else { return nil }
        return h * 3600 + m * 60 + s
    }

    /// A day name, or its first two or more letters, any case → ISO weekday (1 Monday … 7 Sunday).
    static func weekday(_ value: String) -> Int? {
        let names = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        let lower = value.lowercased()
        guard lower.count >= 2 else { return nil }
        return names.firstIndex { $0.hasPrefix(lower) }.map { $0 + 1 }
    }

    /// The schedule's zone: nil for UTC, an IANA name as written, or "localtime" for
    /// `UseLocalTime=Y` (the machine's zone, /etc/localtime).
    private func timeZone() throws -> String? {
        let local = try flag("UseLocalTime", default: false)
        guard let value = merged["TimeZone"] else { return local ? "localtime" : nil }
        let name = value.text
        guard !local else { throw conflict("TimeZone", "TimeZone=\(name) and UseLocalTime=Y contradict each other") }
        if ["UTC", "GMT", "Z", "ETC/UTC", "ETC/GMT", "UCT", "ZULU"].contains(name.uppercased()) { return nil }
        let allowed = name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "/_+-".contains($0)) }
        guard !name.isEmpty, allowed, name.first!.isLetter, !name.contains("//"), !name.hasSuffix("/") else {
            throw invalid("TimeZone", value, expected: "an IANA time zone name such as America/New_York, or UTC")
        }
        return name
    }

    // MARK: Endpoint

    private func endpoint(_ type: FIXConnectionType) throws -> FIXSessionEndpoint {
        var endpoint = FIXSessionEndpoint()
        let port = "a TCP port 1...65535"
        if let host = merged["SocketConnectHost"] {
            let portNumber = try required("SocketConnectPort", number(1...65_535), expected: { port },
                                          because: "SocketConnectHost is set")
            endpoint.connectAddresses.append(.init(host: try hostName(host), port: portNumber))
        } else if merged["SocketConnectPort"] != nil {
            throw missing("SocketConnectHost", because: "SocketConnectPort is set")
        }
        for n in 1...QuickFIXSettings.connectAddressesMax {
            let hostKey = "SocketConnectHost\(n)", portKey = "SocketConnectPort\(n)"
            if let host = merged[hostKey] {
                let portNumber = try required(portKey, number(1...65_535), expected: { port },
                                              because: "\(hostKey) is set")
                endpoint.connectAddresses.append(.init(host: try hostName(host), port: portNumber))
            } else if merged[portKey] != nil {
                throw missing(hostKey, because: "\(portKey) is set")
            }
        }
        endpoint.acceptPort = try optional("SocketAcceptPort", number(1...65_535), expected: port)
        endpoint.acceptAddress = try merged["SocketAcceptAddress"].map(hostName)
        endpoint.reconnectIntervalSeconds = try optional(
            "ReconnectInterval", number(1...QuickFIXSettings.timeoutSecondsMax),
            expected: "a whole number of seconds 1...\(QuickFIXSettings.timeoutSecondsMax)"
        ) ?? endpoint.reconnectIntervalSeconds
        endpoint.noDelay = try flag("SocketNodelay", default: endpoint.noDelay)
        if let list = merged["AllowedRemoteAddresses"] {
            let addresses = list.text.split(separator: ",").map { trimmed($0) }.filter { !$0.isEmpty }
            guard !addresses.isEmpty else {
                throw invalid("AllowedRemoteAddresses", list, expected: "a comma-separated list of addresses")
            }
            endpoint.allowedRemoteAddresses = addresses
        }
        endpoint.fileStorePath = try path("FileStorePath")
        endpoint.fileStoreSync = try flag("FileStoreSync", default: endpoint.fileStoreSync)
        endpoint.fileLogPath = try path("FileLogPath")
        endpoint.useDataDictionary = try flag("UseDataDictionary", default: endpoint.useDataDictionary)
        endpoint.dataDictionary = try path("DataDictionary")
        endpoint.transportDataDictionary = try path("TransportDataDictionary")
        endpoint.appDataDictionary = try path("AppDataDictionary")
        for (key, _) in merged where key.hasPrefix("AppDataDictionary.") {
            endpoint.appDataDictionaries[String(key.dropFirst("AppDataDictionary.".count))] = try path(key)
        }
        endpoint.validateLengthAndChecksum = try flag("ValidateLengthAndChecksum",
                                                      default: endpoint.validateLengthAndChecksum)
        endpoint.validateFieldsOutOfOrder = try flag("ValidateFieldsOutOfOrder",
                                                     default: endpoint.validateFieldsOutOfOrder)
        endpoint.validateFieldsHaveValues = try flag("ValidateFieldsHaveValues",
                                                     default: endpoint.validateFieldsHaveValues)
        endpoint.validateUserDefinedFields = try flag("ValidateUserDefinedFields",
                                                      default: endpoint.validateUserDefinedFields)
        endpoint.allowUnknownMessageFields = try flag("AllowUnknownMsgFields",
                                                      default: endpoint.allowUnknownMessageFields)
        endpoint.tls = try tls(type)
        return endpoint
    }

    private func tls(_ type: FIXConnectionType) throws -> FIXSessionEndpoint.TLS? {
        var tls = FIXSessionEndpoint.TLS()
        tls.protocols = merged["SSLProtocol"]?.text
        tls.cipherSuites = merged["SSLCipherSuite"]?.text
        tls.serverCertificateFile = try path("ServerCertificateFile")
        tls.serverCertificateKeyFile = try path("ServerCertificateKeyFile")
        tls.clientCertificateFile = try path("ClientCertificateFile")
        tls.clientCertificateKeyFile = try path("ClientCertificateKeyFile")
        tls.certificateAuthoritiesFile = try path("CertificationAuthoritiesFile")
        tls.verifyLevel = try optional("CertificateVerifyLevel", number(0...3), expected: "0, 1, 2 or 3")
        let anyCertificate = tls.serverCertificateFile != nil || tls.clientCertificateFile != nil
            || tls.certificateAuthoritiesFile != nil
        guard try flag("SocketUseSSL", default: anyCertificate) else { return nil }
        if type == .acceptor {
            guard tls.serverCertificateFile != nil else {
                throw missing("ServerCertificateFile", because: "a TLS acceptor presents a certificate")
            }
            guard tls.serverCertificateKeyFile != nil else {
                throw missing("ServerCertificateKeyFile", because: "ServerCertificateFile needs its key")
            }
        }
        if (tls.clientCertificateFile == nil) != (tls.clientCertificateKeyFile == nil) {
            throw missing(tls.clientCertificateFile == nil ? "ClientCertificateFile" : "ClientCertificateKeyFile",
                          because: "a client certificate needs both the certificate and its key")
        }
        return tls
    }

    private func hostName(_ value: SettingValue) throws -> String {
        let host = value.text
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "\t" || $0 == "/" }) else {
            throw invalid(keyOf(value), value, expected: "a host name or IP address")
        }
        return host
    }

    private func path(_ key: String) throws -> String? {
        guard let value = merged[key] else { return nil }
        guard !value.text.isEmpty else { throw invalid(key, value, expected: "a path") }
        return value.text
    }

    private func keyOf(_ value: SettingValue) -> String {
        merged.first { $0.value.line == value.line && $0.value.section == value.section }?.key ?? ""
    }

    // MARK: Values

    private func number(_ range: ClosedRange<Int>) -> (String) -> Int? {
        { value in
            guard !value.isEmpty, value.count <= 10, value.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let number = Int(value), range.contains(number) else { return nil }
            return number
        }
    }

    private func flag(_ key: String, default fallback: Bool) throws -> Bool {
        try optional(key, { value in
            switch value.uppercased() {
            case "Y": return true
            case "N": return false
            default: return nil
            }
        }, expected: "Y or N") ?? fallback
    }

    private func optional<T>(_ key: String, _ convert: (String) -> T?, expected: String) throws -> T? {
        guard let value = merged[key] else { return nil }
        guard let converted = convert(value.text) else { throw invalid(key, value, expected: expected) }
        return converted
    }

    private func required<T>(_ key: String, _ convert: (String) -> T?, expected: () -> String,
                             because reason: String? = nil) throws -> T {
        guard let value = merged[key] else { throw missing(key, because: reason) }
        guard let converted = convert(value.text) else { throw invalid(key, value, expected: expected()) }
        return converted
    }

    private func invalid(_ key: String, _ value: SettingValue, expected: String) -> QuickFIXSettingsError {
        // A value inherited from [DEFAULT] is reported where it is written, and for which session.
        let own = value.section == section.label
        let label = own ? value.section : "\(value.section) (used by \(section.label))"
        return QuickFIXSettingsError(file: file, line: value.line, section: label, key: key,
                                     kind: .invalidValue(value: value.text, expected: expected))
    }

    private func missing(_ key: String, because reason: String? = nil) -> QuickFIXSettingsError {
        QuickFIXSettingsError(file: file, line: section.line, section: section.label, key: key,
                              kind: .missing("\(key) is missing" + (reason.map { " (\($0))" } ?? "")))
    }

    private func conflict(_ key: String, _ reason: String) -> QuickFIXSettingsError {
        let line = merged[key]?.line ?? section.line
        return QuickFIXSettingsError(file: file, line: line, section: section.label, key: key, kind: .conflict(reason))
    }
}

extension String {
    /// "FIX.5.0SP2" and "FIX.5.0 SP2" read alike.
    fileprivate func replacingSP() -> String { String(filter { $0 != " " }) }
}
