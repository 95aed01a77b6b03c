import FIXSession
import FIXSessionFileStore
import FIXTagValue
import FIXTransport
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Records a trading day: runs the scenario's venue (`ScriptedVenue` behind a `FIXAcceptor`) and
/// the broker's initiators — the order session and the drop-copy session — over loopback TCP,
/// with the real session engine, file stores and file logs, on a `FIXVirtualClock` that moves
/// from one scenario event to the next. Between events the recorder waits until every message
/// sent has been read and handled, and fires the sessions' timers (heartbeats) one at a time in
/// time order, so the logs are the same bytes on every run.
///
/// Output in `outDirectory`: the broker's log of the order session (`venue-<BROKER>.fix`) and of
/// the drop-copy session (`dropcopy-<VENUE>.fix`), one message per line, and the venue's
/// end-of-day statement (`statement-clearing.csv`). The stores and QuickFIX-layout logs of all
/// four sessions stay in `workDirectory`.
struct DayRecorder {
    /// How long (real time) the recorder waits for the sessions to settle or to log on before it
    /// gives up: a loopback exchange takes milliseconds.
    static let settleSecondsMax = 20
    /// Timer firings between two events before the recorder suspects a timer loop.
    static let timerFiringsMax = 100_000

    let scenario: DayScenario
    let outDirectory: String
    let workDirectory: String
    var log: @Sendable (String) -> Void = { _ in }

    struct Summary: Sendable {
        var brokerMessages = 0
        var dropCopyMessages = 0
        var statementLines = 0
        var executionReports = 0
        var text: String {
            "recorded: \(brokerMessages) messages on the order session (\(executionReports) execution reports), "
                + "\(dropCopyMessages) on the drop copy, \(statementLines) statement lines"
        }
    }

    /// Names of the files written in `outDirectory`.
    var sessionLogName: String { "venue-\(scenario.brokerCompID).fix" }
    var dropCopyLogName: String { "dropcopy-\(scenario.venueCompID).fix" }
    static let statementName = "statement-clearing.csv"

    func run() async throws -> Summary {
        let s = scenario
        let midnight = Int64(s.day.daysSinceEpoch) * FIXTimestamp.nanosecondsPerDay
        func instant(_ millisecond: Int) -> FIXTimestamp {
            FIXTimestamp(nanosecondsSinceEpoch: midnight + Int64(millisecond) * 1_000_000, precision: .milliseconds)
        }
        let clock = FIXVirtualClock(start: instant(s.events[0].millisecond))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let traffic = Traffic()
        let host = SessionHost(group: group, eventLog: log,
                               messageObserver: { _, direction in traffic.count(direction) }, clock: clock)
        let venue = ScriptedVenue(scenario: s, clock: clock)
        let broker = RecordingBroker()

        // The venue's acceptor sessions, then the broker's initiators on the port it got.
        let venueSettings = try QuickFIXSettings.parse(settingsText(acceptor: true, port: nil), file: "venue (record)")
        var venueRuntimes: [FIXSessionRuntime] = []
        var stores: [FileMessageStore] = []
        for setup in venueSettings.sessions {
            let (runtime, store) = try host.makeRuntimeAndStore(setup, application: venue)
            if let store { stores.append(store) }
            venueRuntimes.append(runtime)
            if setup.configuration.id.targetCompID == s.brokerCompID {
                venue.orderSession = runtime
            } else {
                venue.dropCopySession = runtime
            }
        }
        let server = try await FIXAcceptor(sessions: venueRuntimes, eventLog: log)
            .bind(host: "127.0.0.1", port: 0, group: group)
        guard let port = server.localAddress?.port else { throw CommandError("the venue's listener has no port") }
        let brokerSettings = try QuickFIXSettings.parse(settingsText(acceptor: false, port: port),
                                                        file: "broker (record)")
        guard let orderSetup = brokerSettings.sessions.first(where: {
            $0.configuration.id.senderCompID == s.brokerCompID
        }) else { throw CommandError("no broker session") }
        let dropCopySetup = brokerSettings.sessions.first { $0.configuration.id.senderCompID != s.brokerCompID }

        var driver = Driver(scenario: s, clock: clock, group: group, traffic: traffic, host: host, venue: venue,
                            broker: broker, orderSetup: orderSetup, dropCopySetup: dropCopySetup,
                            venueRuntimes: venueRuntimes)
        do {
            for event in s.events {
                let at = instant(event.millisecond)
                try await driver.runTimers(until: at)
                clock.advance(to: at)
                do {
                    try await driver.perform(event.action)
                } catch let error as CommandError {
                    throw CommandError("\(s.file):\(event.line): \(error.description)")
                }
                try await driver.settle()
            }
        } catch {
            await driver.shutdown()
            for store in stores { store.close() }
            try? await server.close()
            try? await group.shutdownGracefully()
            throw error
        }
        await driver.shutdown()
        for store in stores { store.close() }
        try await server.close()
        try await group.shutdownGracefully()

        // The broker's logs, without the log's time prefix, and the venue's statement.
        try FileManager.default.createDirectory(atPath: outDirectory, withIntermediateDirectories: true)
        var summary = Summary()
        let brokerLogs = workDirectory + "/broker/log"
        let orderLog = FileMessageLog.messagesPath(directory: brokerLogs, sessionID: orderSetup.configuration.id)
        let exported = try exportLog(orderLog, to: outDirectory + "/" + sessionLogName)
        summary.brokerMessages = exported.messages
        summary.executionReports = exported.executionReports
        if let dropCopySetup {
            let path = FileMessageLog.messagesPath(directory: brokerLogs, sessionID: dropCopySetup.configuration.id)
            summary.dropCopyMessages = try exportLog(path, to: outDirectory + "/" + dropCopyLogName).messages
        }
        var seeds: [String: [DayScenario.StatementSeed]] = [:]
        for (ref, seed, line) in s.statementSeeds {
            guard let execID = driver.execIDs[ref] else {
                throw CommandError("\(s.file):\(line): \(ref.ref) has no fill \(ref.fill) in the day")
            }
            seeds[execID, default: []].append(seed)
        }
        for (fill, seed) in s.dropCopyPrices.sorted(by: { $0.value.line < $1.value.line })
        where driver.execIDs[fill] == nil {
            throw CommandError("\(s.file):\(seed.line): \(fill.ref) has no fill \(fill.fill) in the day")
        }
        let statement = venue.statement(seeds: seeds)
        try Data(statement.utf8).write(to: URL(fileURLWithPath: outDirectory + "/" + Self.statementName))
        summary.statementLines = statement.split(separator: "\n").count - 1
        return summary
    }

    /// Copies a QuickFIX-layout message log as one raw message per line (the log's time prefix
    /// removed; it equals the SendingTime of the recorded clock anyway).
    private func exportLog(_ path: String, to target: String) throws -> (messages: Int, executionReports: Int) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandError("\(path): no session log")
        }
        var out: [UInt8] = []
        out.reserveCapacity(data.count)
        var messages = 0, reports = 0
        // Each line is `YYYYMMDD-HH:MM:SS.sss : 8=FIX…`; the message starts after the separator.
        let separator = Array(" : ".utf8)
        let reportType = Array("\u{1}35=8\u{1}".utf8)
        for line in data.split(separator: 0x0A) {
            let bytes = Array(line)
            guard let start = bytes.firstRange(of: separator)?.upperBound else { continue }
            let message = bytes[start...]
            out += message
            out.append(0x0A)
            messages += 1
            if message.prefix(40).firstRange(of: reportType) != nil { reports += 1 }
        }
        try Data(out).write(to: URL(fileURLWithPath: target))
        return (messages, reports)
    }

    /// The settings of the venue's acceptors or the broker's initiators.
    func settingsText(acceptor: Bool, port: Int?) -> String {
        let s = scenario
        let side = acceptor ? "venue" : "broker"
        var text = """
            [DEFAULT]
            ConnectionType=\(acceptor ? "acceptor" : "initiator")
            HeartBtInt=\(s.heartbeatSeconds)
            NonStopSession=Y
            ReconnectInterval=1
            FileStorePath=\(workDirectory)/\(side)/store
            FileLogPath=\(workDirectory)/\(side)/log
            UseDataDictionary=Y

            """
        if let port {
            text += "SocketConnectHost=127.0.0.1\nSocketConnectPort=\(port)\n"
        }
        var pairs = [(s.brokerCompID)]
        if let dc = s.dropCopyCompID { pairs.append(dc) }
        for party in pairs {
            text += "\n[SESSION]\nBeginString=\(s.beginString)\n"
            text += acceptor ? "SenderCompID=\(s.venueCompID)\nTargetCompID=\(party)\n"
                : "SenderCompID=\(party)\nTargetCompID=\(s.venueCompID)\n"
        }
        return text
    }
}

/// Messages sent and read by all sessions of a recording: when both counts agree and stay so
/// after every event loop has had a turn, nothing is in flight.
private final class Traffic: Sendable {
    private let counts = NIOLockedValueBox((sent: 0, read: 0))

    func count(_ direction: String) {
        counts.withLockedValue { if direction == "in" { $0.read += 1 } else { $0.sent += 1 } }
    }

    var snapshot: (sent: Int, read: Int) { counts.withLockedValue { $0 } }
}

/// Carries out the scenario's events on the running sessions.
private struct Driver {
    let scenario: DayScenario
    let clock: FIXVirtualClock
    let group: MultiThreadedEventLoopGroup
    let traffic: Traffic
    let host: SessionHost
    let venue: ScriptedVenue
    let broker: RecordingBroker
    let orderSetup: QuickFIXSettings.Session
    let dropCopySetup: QuickFIXSettings.Session?
    let venueRuntimes: [FIXSessionRuntime]

    var orderRuntime: FIXSessionRuntime?
    var orderStore: FileMessageStore?
    var orderInitiator: FIXInitiator?
    var dropCopyRuntime: FIXSessionRuntime?
    var dropCopyStore: FileMessageStore?
    var dropCopyInitiator: FIXInitiator?
    /// The broker's current ClOrdID of each order reference.
    var clOrdIDs: [String: String] = [:]
    var nextClOrdID: Int
    var fillCounts: [String: Int] = [:]
    /// The order quantity of each order reference, as last replaced.
    var quantities: [String: FIXDecimal] = [:]
    /// The ExecID of each fill, by order reference and fill number.
    var execIDs: [DayScenario.FillRef: String] = [:]

    init(scenario: DayScenario, clock: FIXVirtualClock, group: MultiThreadedEventLoopGroup, traffic: Traffic,
         host: SessionHost, venue: ScriptedVenue, broker: RecordingBroker, orderSetup: QuickFIXSettings.Session,
         dropCopySetup: QuickFIXSettings.Session?, venueRuntimes: [FIXSessionRuntime]) {
        self.scenario = scenario
        self.clock = clock
        self.group = group
        self.traffic = traffic
        self.host = host
        self.venue = venue
        self.broker = broker
        self.orderSetup = orderSetup
        self.dropCopySetup = dropCopySetup
        self.venueRuntimes = venueRuntimes
        nextClOrdID = scenario.clOrdIDStart
    }

    /// Fires the timers due by `time`, earliest first, each followed by what it set off.
    func runTimers(until time: FIXTimestamp) async throws {
        var firings = 0
        while let timer = clock.takeTimer(dueBy: time) {
            firings += 1
            guard firings <= DayRecorder.timerFiringsMax else {
                throw CommandError("more than \(DayRecorder.timerFiringsMax) timer firings before \(time): "
                                   + "a timer loop")
            }
            try await timer.run()
            try await settle()
        }
    }

    /// Waits until every message sent has been read and handled: the counts agree, and still do
    /// (unchanged) after each event loop has run everything queued on it.
    func settle() async throws {
        let deadline = ContinuousClock.now + .seconds(DayRecorder.settleSecondsMax)
        var previous = (sent: -1, read: -1)
        while true {
            for loop in group.makeIterator() { try await loop.submit {}.get() }
            let now = traffic.snapshot
            if now.sent == now.read && now == previous { return }
            if now.sent != now.read { try await Task.sleep(for: .milliseconds(1)) }
            previous = now
            guard ContinuousClock.now < deadline else {
                throw CommandError("the sessions did not settle (\(now.sent) messages sent, \(now.read) read)")
            }
        }
    }

    func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(DayRecorder.settleSecondsMax)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw CommandError("timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(2))
        }
        try await settle()
    }

    mutating func perform(_ action: DayScenario.Action) async throws {
        switch action {
        case .logon:
            try await connectOrderSession()
            if let dropCopySetup {
                let line = try startInitiator(dropCopySetup)
                (dropCopyRuntime, dropCopyStore, dropCopyInitiator) = (line.runtime, line.store, line.initiator)
                try await waitUntil("the drop-copy logon") { line.runtime.isLoggedOn }
            }
        case .drop:
            orderInitiator?.abort()
            let runtimes = venueRuntimes + [orderRuntime].compactMap { $0 }
            let brokerSession = orderSetup.configuration.id
            try await waitUntil("the connection to drop") {
                !runtimes.contains {
                    $0.isConnected && ($0.id == brokerSession || $0.id.targetCompID == brokerSession.senderCompID)
                }
            }
        case .reconnect(let rewind):
            // The broker restarts; its store's next incoming sequence number is set back, as after
            // a crash between logging a message and storing its number: on logon it asks the
            // venue for those messages again and gets them as possible duplicates.
            if let store = orderStore {
                let sender = store.nextSenderSequence, target = store.nextTargetSequence
                store.close()
                let reopened = try FileMessageStore(directory: orderSetup.endpoint.fileStorePath!,
                                                    sessionID: orderSetup.configuration.id)
                try reopened.setSequences(nextSender: sender, nextTarget: max(1, target - rewind))
                try reopened.flush()
                try reopened.sync()
                reopened.close()
            }
            try await connectOrderSession()
        case .logout:
            if let initiator = orderInitiator, let runtime = orderRuntime {
                initiator.stop()
                try await waitUntil("the order session's logout") { !runtime.isConnected }
            }
            if let initiator = dropCopyInitiator, let runtime = dropCopyRuntime {
                initiator.stop()
                try await waitUntil("the drop copy's logout") { !runtime.isConnected }
            }
            let venues = venueRuntimes
            try await waitUntil("the venue's sessions to close") { !venues.contains(where: \.isConnected) }
        case .order(let entry):
            let clOrdID = newClOrdID()
            clOrdIDs[entry.ref] = clOrdID
            fillCounts[entry.ref] = 0
            quantities[entry.ref] = entry.quantity
            let time = clock.now().with(precision: .milliseconds)
            let settlement = venue.settlementDate(nextDay: true)
            try send("D") { w in
                w.append(11, clOrdID)
                w.append(1, entry.account)
                w.append(55, entry.symbol)
                w.append(54, char: entry.side.fix)
                w.append(60, time)
                w.append(38, entry.quantity)
                w.append(40, char: entry.limit == nil ? UInt8(ascii: "1") : UInt8(ascii: "2"))
                if let limit = entry.limit { w.append(44, limit) }
                w.append(59, char: UInt8(ascii: "0"))
                if entry.nextDay {
                    w.append(63, char: UInt8(ascii: "2"))
                    w.append(64, settlement)
                }
            }
        case .desk(let entry, let clOrdID):
            clOrdIDs[entry.ref] = clOrdID
            fillCounts[entry.ref] = 0
            try venue.deskOrder(entry, clOrdID: clOrdID)
        case .cancel(let ref, let pending):
            let orig = try clOrdID(ref)
            if pending { venue.holdNextCancel(of: orig) }
            try sendAmend("F", ref: ref, orig: orig, quantity: quantities[ref] ?? orderEntry(ref).quantity) { _ in }
        case .cancelled(let ref):
            try venue.completeCancel(of: try clOrdID(ref))
        case .replace(let ref, let quantity, let limit):
            let orig = try clOrdID(ref)
            quantities[ref] = quantity
            try sendAmend("G", ref: ref, orig: orig, quantity: quantity) { w in
                w.append(40, char: UInt8(ascii: "2"))
                w.append(44, limit)
                w.append(59, char: UInt8(ascii: "0"))
            }
        case .fill(let ref, let quantity, let price):
            let number = fillCounts[ref, default: 0] + 1
            fillCounts[ref] = number
            let key = DayScenario.FillRef(ref: ref, fill: number)
            execIDs[key] = try venue.fill(try clOrdID(ref), quantity: quantity, price: price,
                                          copyPrice: scenario.dropCopyPrices[key]?.price)
        case .correct(let ref, let fill, let quantity, let price):
            try venue.correct(try clOrdID(ref), fill: fill, quantity: quantity, price: price)
        case .bust(let ref, let fill):
            try venue.bust(try clOrdID(ref), fill: fill)
        case .expire(let ref):
            try venue.expire(try clOrdID(ref))
        case .close(let symbols):
            venue.close(symbols: Set(symbols))
        }
    }

    private mutating func connectOrderSession() async throws {
        let line = try startInitiator(orderSetup)
        (orderRuntime, orderStore, orderInitiator) = (line.runtime, line.store, line.initiator)
        try await waitUntil("the order session's logon") { line.runtime.isLoggedOn }
    }

    /// Starts the broker's initiator of `setup`. The caller keeps what it returns before waiting
    /// for the logon, so that `shutdown` stops it if the logon never comes.
    private func startInitiator(_ setup: QuickFIXSettings.Session) throws
        -> (runtime: FIXSessionRuntime, store: FileMessageStore?, initiator: FIXInitiator) {
        let (runtime, store) = try host.makeRuntimeAndStore(setup, application: broker)
        let initiator = try SessionHost.makeInitiator(setup, runtime: runtime)
        initiator.start(group: group)
        return (runtime, store, initiator)
    }

    private mutating func newClOrdID() -> String {
        defer { nextClOrdID += 1 }
        return scenario.clOrdIDPrefix + String(nextClOrdID)
    }

    private func clOrdID(_ ref: String) throws -> String {
        guard let id = clOrdIDs[ref] else { throw CommandError("\(ref): no such order") }
        return id
    }

    private func orderEntry(_ ref: String) throws -> DayScenario.OrderEntry {
        for event in scenario.events {
            if case .order(let entry) = event.action, entry.ref == ref { return entry }
        }
        throw CommandError("\(ref): not an order of the broker")
    }

    private func send(_ msgType: String, _ body: (inout FIXWriter) -> Void) throws {
        guard let runtime = orderRuntime, runtime.isLoggedOn else {
            throw CommandError("the order session is not logged on")
        }
        runtime.send(msgType: msgType, body: body)
    }

    /// Sends a cancel (F) or cancel/replace (G) request for the order `ref`, under a new ClOrdID
    /// that becomes the order's: the fields both share, then the request's own from `extra`.
    private mutating func sendAmend(_ msgType: String, ref: String, orig: String, quantity: FIXDecimal,
                                    _ extra: (inout FIXWriter) -> Void) throws {
        let entry = try orderEntry(ref)
        let clOrdID = newClOrdID()
        clOrdIDs[ref] = clOrdID
        let time = clock.now().with(precision: .milliseconds)
        try send(msgType) { w in
            w.append(41, orig)
            w.append(11, clOrdID)
            w.append(1, entry.account)
            w.append(55, entry.symbol)
            w.append(54, char: entry.side.fix)
            w.append(60, time)
            w.append(38, quantity)
            extra(&w)
        }
    }

    /// Stops what still runs (after an error, or the end of the day) and releases the stores.
    func shutdown() async {
        orderInitiator?.abort()
        dropCopyInitiator?.abort()
        let runtimes = venueRuntimes + [orderRuntime, dropCopyRuntime].compactMap { $0 }
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline, runtimes.contains(where: \.isConnected) {
            try? await Task.sleep(for: .milliseconds(5))
        }
        orderStore?.close()
        dropCopyStore?.close()
    }
}
