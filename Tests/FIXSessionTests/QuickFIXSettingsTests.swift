import FIXSession
import FIXTagValue
import FIXTestSupport
import Foundation
import Testing

/// The acceptance suite's engine configuration (shared/fix-acceptance/README.md, "Configuring
/// an engine under test") written as a QuickFIX settings file.
private let acceptanceSettings = """
    # FIX session acceptance suite: one acceptor on one port, sessions told apart by
    # BeginString and CompIDs; always in session; reset on logon only.
    [DEFAULT]
    ConnectionType=acceptor
    SocketAcceptPort=54321
    SenderCompID=ISLD
    NonStopSession=Y
    ResetOnLogon=Y
    ResetOnLogout=N
    ResetOnDisconnect=N
    CheckLatency=Y
    MaxLatency=120
    UseDataDictionary=Y
    ValidateUserDefinedFields=Y
    ValidateFieldsHaveValues=Y
    FileStorePath=store
    FileLogPath=log

    [SESSION]
    BeginString=FIX.4.0
    TargetCompID=TW40
    DataDictionary=specs/FIX40.xml

    [SESSION]
    BeginString=FIX.4.1
    TargetCompID=TW41
    DataDictionary=specs/FIX41.xml

    [SESSION]
    BeginString=FIX.4.2
    TargetCompID=TW42
    DataDictionary=specs/FIX42.xml

    [SESSION]
    BeginString=FIX.4.3
    TargetCompID=TW43
    DataDictionary=specs/FIX43.xml

    [SESSION]
    BeginString=FIX.4.4
    TargetCompID=TW44
    DataDictionary=specs/FIX44.xml

    [SESSION]
    BeginString=FIXT.1.1
    TargetCompID=TW50
    DefaultApplVerID=FIX.5.0
    TransportDataDictionary=specs/FIXT11.xml
    AppDataDictionary=specs/FIX50.xml

    [SESSION]
    BeginString=FIXT.1.1
    TargetCompID=TW50SP1
    DefaultApplVerID=FIX.5.0SP1
    TransportDataDictionary=specs/FIXT11.xml
    AppDataDictionary=specs/FIX50SP1.xml

    [SESSION]
    BeginString=FIXT.1.1
    TargetCompID=TW50SP2
    DefaultApplVerID=9
    TransportDataDictionary=specs/FIXT11.xml
    AppDataDictionary=specs/FIX50SP2.xml

    [SESSION]
    BeginString=FIX.4.4
    TargetCompID=TW
    DataDictionary=specs/FIX44.xml

    [SESSION]
    BeginString=FIX.4.4
    TargetCompID=NO_CHECK_FIELDS_HAVE_VALUES
    DataDictionary=specs/FIX44.xml
    ValidateFieldsHaveValues=N
    """

/// A minimal valid session for the error and warning cases to vary.
private func session(_ extra: String = "", type: String = "acceptor", begin: String = "FIX.4.4") -> String {
    """
    [SESSION]
    ConnectionType=\(type)
    BeginString=\(begin)
    SenderCompID=BRKR
    TargetCompID=VENUE
    NonStopSession=Y
    \(extra)
    """
}

/// The same session with a schedule instead of NonStopSession=Y.
private func scheduled(_ extra: String, type: String = "acceptor") -> String {
    session(extra, type: type).replacingOccurrences(of: "NonStopSession=Y\n", with: "")
}

private func parse(_ text: String) throws -> QuickFIXSettings {
    try QuickFIXSettings.parse(text, file: "fix.cfg")
}

@Suite struct QuickFIXSettingsTests {
    @Test func acceptanceConfigurationLoadsWithoutWarnings() throws {
        let settings = try parse(acceptanceSettings)
        #expect(settings.warnings == [])
        #expect(settings.sessions.map(\.configuration.id.description) == [
            "FIX.4.0:ISLD->TW40", "FIX.4.1:ISLD->TW41", "FIX.4.2:ISLD->TW42", "FIX.4.3:ISLD->TW43",
            "FIX.4.4:ISLD->TW44", "FIXT.1.1:ISLD->TW50", "FIXT.1.1:ISLD->TW50SP1", "FIXT.1.1:ISLD->TW50SP2",
            "FIX.4.4:ISLD->TW", "FIX.4.4:ISLD->NO_CHECK_FIELDS_HAVE_VALUES",
        ])
        for session in settings.sessions {
            let config = session.configuration
            #expect(config.connectionType == .acceptor)
            #expect(config.schedule == nil)
            #expect(config.resetOnLogon && !config.resetOnLogout && !config.resetOnDisconnect)
            #expect(config.checkLatency && config.maxLatencySeconds == 120)
            #expect(session.endpoint.acceptPort == 54321)
            #expect(session.endpoint.fileStorePath == "store" && session.endpoint.fileLogPath == "log")
            let checksValues = config.id.targetCompID != "NO_CHECK_FIELDS_HAVE_VALUES"
            #expect(session.endpoint.validateFieldsHaveValues == checksValues)
            #expect(session.endpoint.tls == nil)
        }
        #expect(settings.sessions.map(\.configuration.defaultApplVerID)
                == [nil, nil, nil, nil, nil, "7", "8", "9", nil, nil])
        let sp2 = try #require(settings.session(FIXSessionID(beginString: "FIXT.1.1", senderCompID: "ISLD",
                                                              targetCompID: "TW50SP2")))
        #expect(sp2.endpoint.transportDataDictionary == "specs/FIXT11.xml")
        #expect(sp2.endpoint.appDataDictionary == "specs/FIX50SP2.xml")
        #expect(sp2.number == 8)
        #expect(settings.sessions[0].endpoint.dataDictionary == "specs/FIX40.xml")
    }

    @Test func sessionValuesOverrideDefaultsAndRawValuesAreKept() throws {
        let settings = try parse("""
            [DEFAULT]
            ConnectionType=initiator
            HeartBtInt=30
            SocketConnectHost=venue.example
            SocketConnectPort=9000
            SenderCompID=BRKR
            NonStopSession=Y
            [SESSION]
            BeginString=FIX.4.2
            TargetCompID=A
            [SESSION]
            BeginString=FIX.4.4
            TargetCompID=B
            HeartBtInt=10
            SocketConnectPort=9001
            """)
        let (a, b) = (settings.sessions[0], settings.sessions[1])
        #expect(a.configuration.heartBtIntSeconds == 30 && b.configuration.heartBtIntSeconds == 10)
        #expect(a.endpoint.connectAddresses == [.init(host: "venue.example", port: 9000)])
        #expect(b.endpoint.connectAddresses == [.init(host: "venue.example", port: 9001)])
        #expect(b.values["HeartBtInt"] == "10" && b.values["SenderCompID"] == "BRKR")
        #expect(settings.defaults["HeartBtInt"] == "30")
        #expect(b.line == 11)
    }

    @Test func initiatorWithScheduleFailoverAndTLS() throws {
        let settings = try parse(scheduled("""
            HeartBtInt=20
            StartTime=08:00:00
            EndTime=17:30:05
            StartDay=mon
            EndDay=FRIDAY
            TimeZone=America/New_York
            SocketConnectHost=primary.example
            SocketConnectPort=443
            SocketConnectHost1=10.0.0.2
            SocketConnectPort1=9443
            SocketConnectHost2=backup.example
            SocketConnectPort2=9444
            ReconnectInterval=5
            SocketUseSSL=Y
            SSLProtocol=all -SSLv2 -SSLv3
            ClientCertificateFile=broker.pem
            ClientCertificateKeyFile=broker.key
            CertificateAuthoritiesFile=venue-ca.pem
            CertificateVerifyLevel=1
            ResendRequestChunkSize=2500
            LogonTimeout=15
            LogoutTimeout=4
            TimestampPrecision=6
            EnableNextExpectedMsgSeqNum=Y
            CheckCompID=N
            PersistMessages=N
            Username=trader
            Password=secret=with=equals
            SessionQualifier=EU
            FileStoreSync=Y
            AllowUnknownMsgFields=Y
            ValidateFieldsOutOfOrder=N
            """, type: "initiator"))
        #expect(settings.warnings == [])
        let session = settings.sessions[0]
        let config = session.configuration
        #expect(config.id.description == "FIX.4.4:BRKR->VENUE:EU")
        #expect(config.heartBtIntSeconds == 20)
        #expect(config.schedule == FIXSessionSchedule(startSecond: 8 * 3600, endSecond: 17 * 3600 + 30 * 60 + 5,
                                                      startDay: 1, endDay: 5, timeZoneIdentifier: "America/New_York"))
        #expect(config.resendRequestChunkSize == 2500)
        #expect(config.logonTimeoutSeconds == 15 && config.logoutTimeoutSeconds == 4)
        #expect(config.timestampPrecision == .microseconds)
        #expect(config.enableNextExpectedMsgSeqNum && !config.checkCompID && !config.persistMessages)
        #expect(config.username == "trader" && config.password == "secret=with=equals")
        let endpoint = session.endpoint
        #expect(endpoint.connectAddresses.map(\.description)
                == ["primary.example:443", "10.0.0.2:9443", "backup.example:9444"])
        #expect(endpoint.reconnectIntervalSeconds == 5)
        #expect(endpoint.fileStoreSync && endpoint.allowUnknownMessageFields && !endpoint.validateFieldsOutOfOrder)
        let tls = try #require(endpoint.tls)
        #expect(tls.protocols == "all -SSLv2 -SSLv3")
        #expect(tls.clientCertificateFile == "broker.pem" && tls.clientCertificateKeyFile == "broker.key")
        #expect(tls.certificateAuthoritiesFile == "venue-ca.pem" && tls.verifyLevel == 1)
        #expect(session.values["CertificationAuthoritiesFile"] == "venue-ca.pem")
    }

    @Test func formatIsForgiving() throws {
        // Case-insensitive sections and keys, CRLF, spaces around '=', comments, a BOM.
        let text = "\u{FEFF}# comment\r\n[default]\r\n  connectiontype = acceptor \r\n\r\n  # indented comment\r\n"
            + "[Session]\r\nBEGINSTRING=FIX.4.2\r\nsendercompid=S\r\nTargetCompID = T\r\nnonstopsession=y\r\n"
        let settings = try parse(text)
        #expect(settings.warnings == [])
        #expect(settings.sessions.first?.configuration.id.description == "FIX.4.2:S->T")
        #expect(settings.sessions.first?.values["ConnectionType"] == "acceptor")
    }

    @Test(arguments: [("Sunday", 7), ("sun", 7), ("SU", 7), ("Mo", 1), ("tues", 2), ("WED", 3), ("th", 4), ("Sat", 6)])
    func weekdaysAcceptNamesAndAbbreviations(_ name: String, _ day: Int) throws {
        let settings = try parse(scheduled("StartTime=00:00:00\nEndTime=00:00:00\nStartDay=\(name)\nEndDay=\(name)"))
        #expect(settings.sessions[0].configuration.schedule?.startDay == day)
    }

    @Test(arguments: [("FIX.5.0SP2", "9"), ("9", "9"), ("FIX.5.0SP1", "8"), ("FIX.5.0", "7"), ("FIX.4.4", "6"),
                      ("fix.5.0sp2", "9"), ("07", "7"), ("10", "10")])
    func defaultApplVerIDAcceptsNamesAndNumbers(_ value: String, _ number: String) throws {
        let settings = try parse(session("DefaultApplVerID=\(value)", begin: "FIXT.1.1"))
        #expect(settings.sessions[0].configuration.defaultApplVerID == number)
    }

    @Test func timeZoneForms() throws {
        func zone(_ extra: String) throws -> String?? {
            let text = scheduled("StartTime=01:00:00\nEndTime=23:00:00\n" + extra)
            return try parse(text).sessions[0].configuration.schedule.map(\.timeZoneIdentifier)
        }
        #expect(try zone("") == .some(nil))
        #expect(try zone("TimeZone=UTC") == .some(nil))
        #expect(try zone("TimeZone=Europe/London") == .some("Europe/London"))
        #expect(try zone("UseLocalTime=Y") == .some("localtime"))
        #expect(try zone("MillisecondsInTimeStamp=N") == .some(nil))
        let seconds = try parse(session("MillisecondsInTimeStamp=N")).sessions[0].configuration.timestampPrecision
        #expect(seconds == .seconds)
    }

    /// Each bad file, and the words its error must contain: file, line, section, key.
    static let errorCases: [(String, String)] = [
        (session("HeartBtInt=abc"), "fix.cfg:7: [SESSION] 1: HeartBtInt=abc: expected a whole number of seconds"),
        (session().replacingOccurrences(of: "acceptor", with: "both"),
         "fix.cfg:2: [SESSION] 1: ConnectionType=both: expected initiator or acceptor"),
        (session().replacingOccurrences(of: "SenderCompID=BRKR\n", with: ""),
         "fix.cfg:1: [SESSION] 1: SenderCompID is missing"),
        (session().replacingOccurrences(of: "TargetCompID=VENUE\n", with: "TargetCompID=\n"),
         "fix.cfg:5: [SESSION] 1: TargetCompID=: expected a CompID"),
        (session(begin: "FIX.4.5"), "fix.cfg:3: [SESSION] 1: BeginString=FIX.4.5: expected FIX.4.0"),
        ("HeartBtInt=30\n" + session(), "fix.cfg:1: HeartBtInt is outside any section"),
        (session("just words"),
         "fix.cfg:7: [SESSION] 1: expected Key=Value, [DEFAULT] or [SESSION], found \"just words\""),
        (session("=value"), "fix.cfg:7: [SESSION] 1: a value without a key"),
        ("[SESSION\n", "fix.cfg:1: section header \"[SESSION\" has no closing ]"),
        (scheduled("StartTime=25:00:00\nEndTime=01:00:00"),
         "fix.cfg:6: [SESSION] 1: StartTime=25:00:00: expected a time of day HH:MM:SS"),
        (scheduled("EndTime=01:00:00"),
         "fix.cfg:1: [SESSION] 1: StartTime is missing (without NonStopSession=Y)"),
        (scheduled("StartTime=01:00:00\nEndTime=02:00:00\nStartDay=Mon"),
         "fix.cfg:8: [SESSION] 1: StartDay: StartDay needs EndDay too"),
        (scheduled("StartTime=01:00:00\nEndTime=02:00:00\nStartDay=M\nEndDay=Fr"),
         "fix.cfg:8: [SESSION] 1: StartDay=M: expected a weekday name"),
        (scheduled("StartTime=01:00:00\nEndTime=02:00:00\nTimeZone=Asia/Tokyo\nUseLocalTime=Y"),
         "fix.cfg:8: [SESSION] 1: TimeZone: TimeZone=Asia/Tokyo and UseLocalTime=Y contradict each other"),
        (scheduled("StartTime=01:00:00\nEndTime=02:00:00\nTimeZone=New York"),
         "fix.cfg:8: [SESSION] 1: TimeZone=New York: expected an IANA time zone name"),
        (session(begin: "FIXT.1.1"), "fix.cfg:1: [SESSION] 1: DefaultApplVerID is missing (FIXT.1.1 sessions need it)"),
        (session("DefaultApplVerID=FIX.6", begin: "FIXT.1.1"),
         "fix.cfg:7: [SESSION] 1: DefaultApplVerID=FIX.6: expected an ApplVerID"),
        (session("SocketConnectHost=venue"),
         "fix.cfg:1: [SESSION] 1: SocketConnectPort is missing (SocketConnectHost is set)"),
        (session("SocketConnectHost=venue\nSocketConnectPort=70000"),
         "fix.cfg:8: [SESSION] 1: SocketConnectPort=70000: expected a TCP port"),
        (session("SocketConnectPort3=9000"),
         "fix.cfg:1: [SESSION] 1: SocketConnectHost3 is missing (SocketConnectPort3 is set)"),
        (session("SocketAcceptPort=-1"), "fix.cfg:7: [SESSION] 1: SocketAcceptPort=-1: expected a TCP port"),
        (session("ResetOnLogon=yes"), "fix.cfg:7: [SESSION] 1: ResetOnLogon=yes: expected Y or N"),
        (session("TimestampPrecision=4"), "fix.cfg:7: [SESSION] 1: TimestampPrecision=4: expected 0, 3, 6 or 9"),
        (session("LogoutTimeout=0"),
         "fix.cfg:7: [SESSION] 1: LogoutTimeout=0: expected a whole number of seconds 1...3600"),
        (session("MaxLatency=99999999999"), "fix.cfg:7: [SESSION] 1: MaxLatency=99999999999: expected"),
        (session(type: "initiator"), "fix.cfg:1: [SESSION] 1: HeartBtInt is missing"),
        ("[DEFAULT]\nHeartBtInt=x\n" + session(),
         "fix.cfg:2: [DEFAULT] (used by [SESSION] 1): HeartBtInt=x: expected a whole number"),
        (session() + "\n" + session(),
         "fix.cfg:8: [SESSION] 2: session FIX.4.4:BRKR->VENUE is already defined by the [SESSION] at line 1"),
        (session("SocketUseSSL=Y"),
         "fix.cfg:1: [SESSION] 1: ServerCertificateFile is missing (a TLS acceptor presents a certificate)"),
        (session("ServerCertificateFile=venue.pem"), "fix.cfg:1: [SESSION] 1: ServerCertificateKeyFile is missing"),
        (session("HeartBtInt=20\nSocketUseSSL=Y\nClientCertificateFile=c.pem", type: "initiator"),
         "fix.cfg:1: [SESSION] 1: ClientCertificateKeyFile is missing"),
        (session("CertificateVerifyLevel=high\nServerCertificateFile=a\nServerCertificateKeyFile=b"),
         "fix.cfg:7: [SESSION] 1: CertificateVerifyLevel=high: expected 0, 1, 2 or 3"),
        (session("FileStorePath="), "fix.cfg:7: [SESSION] 1: FileStorePath=: expected a path"),
        (session("SocketConnectHost=a b\nSocketConnectPort=1"),
         "fix.cfg:7: [SESSION] 1: SocketConnectHost=a b: expected a host name"),
        (session("AllowedRemoteAddresses=,"),
         "fix.cfg:7: [SESSION] 1: AllowedRemoteAddresses=,: expected a comma-separated list"),
    ]

    @Test(arguments: errorCases)
    func invalidSettingsAreErrorsNamingFileLineSectionAndKey(_ text: String, _ message: String) throws {
        let error = #expect(throws: QuickFIXSettingsError.self) { try parse(text) }
        let description = error.map(String.init(describing:)) ?? ""
        #expect(description.hasPrefix(message) || description.contains(message), "\(description)")
    }

    @Test func errorCarriesItsParts() throws {
        let error = #expect(throws: QuickFIXSettingsError.self) { try parse(session("HeartBtInt=abc")) }
        #expect(error?.file == "fix.cfg" && error?.line == 7)
        #expect(error?.section == "[SESSION] 1" && error?.key == "HeartBtInt")
    }

    @Test func unknownAndUnusedKeysAreWarningsNamingFileLineAndSection() throws {
        let settings = try parse("""
            [DEFAULT]
            HeartBeatInt=30
            SocketReuseAddress=Y
            MySQLStoreHost=db
            [SESSION]
            ConnectionType=acceptor
            BeginString=FIX.4.4
            SenderCompID=A
            TargetCompID=B
            NonStopSession=Y
            ResetOnLogon=Y
            ResetOnLogon=N
            [LOGGING]
            Anything=at all
            """)
        #expect(settings.warnings == [
            "fix.cfg:2: [DEFAULT]: unknown key HeartBeatInt; ignored",
            "fix.cfg:3: [DEFAULT]: SocketReuseAddress is a QuickFIX setting FIXBridge does not use; ignored",
            "fix.cfg:4: [DEFAULT]: MySQLStoreHost is a QuickFIX setting FIXBridge does not use; ignored",
            "fix.cfg:12: [SESSION] 1: ResetOnLogon is set again (first at line 11); the last value wins",
            "fix.cfg:13: unknown section [LOGGING]; its keys are ignored",
        ])
        #expect(settings.sessions[0].configuration.resetOnLogon == false)
        #expect(settings.sessions[0].values["HeartBeatInt"] == "30")
    }

    @Test func emptyTextHasNoSessions() throws {
        let settings = try parse("# nothing here\n\n[DEFAULT]\n")
        #expect(settings.sessions.isEmpty && settings.warnings.isEmpty)
    }

    @Test func overlongInputIsAnErrorNotACrash() throws {
        let long = session("Password=" + String(repeating: "x", count: QuickFIXSettings.lineBytesMax))
        let error = #expect(throws: QuickFIXSettingsError.self) { try parse(long) }
        #expect(error.map(String.init(describing:))?.contains("fix.cfg:7: line is longer than") == true)
    }

    /// Mangled versions of a real file: every outcome is a value or a `QuickFIXSettingsError`.
    @Test func mangledFilesNeverCrash() throws {
        var random = SplitMix64(seed: 42)
        let lines = acceptanceSettings.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let junk = ["=", "[", "]", "[SESSION]", "[DEFAULT]", "HeartBtInt=", "StartDay=S", "\u{0}", "é=ü",
                    "SocketConnectPort7=1", "TimeZone=/", "DefaultApplVerID=99999", "ConnectionType=initiator"]
        var outcomes = (parsed: 0, rejected: 0)
        for _ in 0..<120 {
            var mangled = lines
            for _ in 0..<Int(random.next() % 4 + 1) {
                let at = Int(random.next() % UInt64(mangled.count))
                switch random.next() % 3 {
                case 0: mangled.remove(at: at)
                case 1: mangled.insert(junk[Int(random.next() % UInt64(junk.count))], at: at)
                default: mangled[at] = String(mangled[at].shuffled(using: &random).prefix(Int(random.next() % 20)))
                }
                if mangled.isEmpty { mangled = [""] }
            }
            do {
                _ = try parse(mangled.joined(separator: "\n"))
                outcomes.parsed += 1
            } catch is QuickFIXSettingsError {
                outcomes.rejected += 1
            }
        }
        #expect(outcomes.parsed + outcomes.rejected == 120)
        #expect(outcomes.rejected > 0)
    }
}
