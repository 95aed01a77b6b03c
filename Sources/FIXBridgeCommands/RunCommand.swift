#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import AsyncHTTPClient
import BackOfficeStore
import ClientCRM
import CRMDelivery
import FIXSession
import FIXSessionFileStore
import FIXTagValue
import FIXTransport
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import TradeBook

/// `fixbridge run --config FILE`: the live daemon. The configured sessions run; every
/// ExecutionReport they receive is booked (exactly once) with its CRM history; the webhook
/// outbox is delivered; metrics are served in the Prometheus text format; SIGTERM finishes the
/// batch, logs the sessions out and flushes.
public struct RunCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the sessions of a settings file, booking what they receive (the live daemon).",
        discussion: """
            The settings file is QuickFIX's format; FIXBridge's own keys in [DEFAULT]: \
            BackOfficeDB (sqlite:PATH or postgres://…), MetricsPort and MetricsAddress (Prometheus \
            text at /metrics; default 127.0.0.1), CRMWebhookURL, CRMWebhookSecret (or env \
            FIXBRIDGE_CRM_WEBHOOK_SECRET) and CRMDestination (default crm). Every session needs \
            FileLogPath: the book reads each session's message log from the last committed offset, \
            so whatever a session received is booked even across a crash and restart.

            Logs are JSON lines on standard error (swift-log). SIGINT/SIGTERM: the book commits \
            what was received, the sessions log out, the outbox worker finishes its round, the \
            database is closed.
            """
    )

    @Option(name: .long, help: "Settings file ([DEFAULT] and [SESSION] sections).")
    var config: String

    @Option(name: .customLong("db"), help: "Overrides BackOfficeDB (sqlite:PATH or postgres://…).")
    var db: String?

    @Option(name: .customLong("metrics-port"), help: "Overrides MetricsPort (0: any free port; the log says which).")
    var metricsPort: Int?

    @OptionGroup var settings: BookSettingsOptions
    @OptionGroup var crm: CRMActivityOptions

    @Option(name: .long, help: "Demo: send this many test orders after logon, and stop once all are filled and booked.")
    var orders: Int?

    @Option(name: .customLong("book-interval-ms"), help: "How often the book looks at the session logs without being woken.")
    var bookIntervalMilliseconds = 1_000

    public init() {}

    public func run() async throws {
        StopSignal.install()
        let daemon = try RunDaemon(command: self)
        let summary = try await daemon.run(stop: { StopSignal.received != 0 })
        print(summary.text)
    }
}

extension RunCommand: AsyncRunnableCommand { public mutating func runAsync() async throws { try await run() } }

/// What a daemon run did, printed when it stops.
public struct RunSummary: Sendable {
    public var reports = 0
    public var fillsBooked = 0
    public var exceptions = 0
    public var batches = 0
    public var delivered = 0

    public var text: String {
        "stopped: \(reports) execution reports, \(fillsBooked) fills booked, \(exceptions) exceptions, "
            + "\(batches) transactions, \(delivered) webhook deliveries"
    }
}

/// The daemon's parts and its run: sessions, the book following the session logs, the webhook
/// worker, the metrics endpoint.
final class RunDaemon: @unchecked Sendable {
    let command: RunCommand
    let sessions: [QuickFIXSettings.Session]
    let logger: Logger
    let registry = PrometheusCollectorRegistry()
    /// Set once the metrics endpoint listens (port 0 asks for any free port).
    private let boundMetricsPort = NIOLockedValueBox<Int?>(nil)
    private let wake = NIOLockedValueBox(false)

    var metricsPort: Int? { boundMetricsPort.withLockedValue { $0 } }

    init(command: RunCommand, logger: Logger? = nil) throws {
        self.command = command
        sessions = try SessionSettingsFile.load(command.config)
        for s in sessions where s.endpoint.fileLogPath == nil {
            throw CommandError("\(command.config): session \(s.configuration.id) has no FileLogPath; fixbridge run books "
                               + "from each session's message log, so nothing received is lost across a restart")
        }
        self.logger = logger ?? Logger(label: "fixbridge.run", factory: { JSONLogHandler(label: $0) })
    }

    /// A daemon-wide setting: the first session's value (its own or from [DEFAULT]).
    func setting(_ key: String) -> String? { sessions.first?.values[key] }

    func run(stop: @escaping @Sendable () -> Bool) async throws -> RunSummary {
        let logger = self.logger
        let locationText = command.db ?? setting("BackOfficeDB") ?? environment("FIXBRIDGE_DB")
        let location = try locationText.map { try StoreLocation($0) } ?? .defaultLocation
        if case .sqlite(let path) = location {
            // The database sits beside the session files, whose folders the sessions create.
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let backend = try await location.open()
        logger.info("database open", metadata: ["db": "\(location)"])

        // Metrics.
        let fillsCounter = registry.makeCounter(name: "fixbridge_fills_booked_total", help: "Fills booked by this process.")
        let reportsCounter = registry.makeCounter(name: "fixbridge_execution_reports_total",
                                                  help: "Execution reports read from the session logs.")
        let batchesCounter = registry.makeCounter(name: "fixbridge_book_transactions_total", help: "Book transactions committed.")
        let exceptionsCounter = registry.makeCounter(name: "fixbridge_book_exceptions_total", help: "Book exceptions raised.")
        let outboxGauge = registry.makeGauge(name: "fixbridge_outbox_depth", help: "CRM webhook items not yet delivered.")
        var sessionUp: [FIXSessionID: Gauge] = [:]
        var messagesIn: [FIXSessionID: Counter] = [:]
        var messagesOut: [FIXSessionID: Counter] = [:]
        for s in sessions {
            let id = s.configuration.id
            sessionUp[id] = registry.makeGauge(name: "fixbridge_session_up", labels: [("session", "\(id)")],
                                               help: "1 while the session is logged on.")
            messagesIn[id] = registry.makeCounter(name: "fixbridge_messages_total",
                                                  labels: [("session", "\(id)"), ("direction", "in")],
                                                  help: "FIX messages received and sent.")
            messagesOut[id] = registry.makeCounter(name: "fixbridge_messages_total",
                                                   labels: [("session", "\(id)"), ("direction", "out")],
                                                   help: "FIX messages received and sent.")
        }
        let group = MultiThreadedEventLoopGroup.singleton
        var metricsServer: Channel?
        if let port = command.metricsPort ?? setting("MetricsPort").flatMap(Int.init) {
            let address = setting("MetricsAddress") ?? "127.0.0.1"
            let server = try await MetricsEndpoint.bind(host: address, port: port, group: group, registry: registry)
            let bound = server.localAddress?.port ?? port
            boundMetricsPort.withLockedValue { $0 = bound }
            logger.info("metrics listening", metadata: ["url": "http://\(address):\(bound)/metrics"])
            metricsServer = server
        }

        // Sessions.
        let sender = command.orders.map { OrderSender(count: $0, window: 1_000_000) }
        let application = DaemonApplication(logger: logger, orders: sender, sessionUp: sessionUp,
                                            wake: { [wake] in wake.withLockedValue { $0 = true } })
        let countersIn = messagesIn, countersOut = messagesOut
        let host = SessionHost(group: group, eventLog: { line in logger.debug("\(line)") },
                               messageObserver: { id, direction in
                                   (direction == "in" ? countersIn[id] : countersOut[id])?.increment()
                               })
        var initiators: [FIXInitiator] = []
        var acceptorRuntimes: [(QuickFIXSettings.Session, FIXSessionRuntime)] = []
        var logs: [(session: FIXSessionID, path: String)] = []
        var fileStores: [FileMessageStore] = []
        for setup in sessions {
            let (runtime, fileStore) = try host.makeRuntimeAndStore(setup, application: application)
            if let fileStore { fileStores.append(fileStore) }
            logs.append((setup.configuration.id,
                         FileMessageLog.messagesPath(directory: setup.endpoint.fileLogPath!, sessionID: setup.configuration.id)))
            if setup.configuration.connectionType == .initiator {
                initiators.append(try SessionHost.makeInitiator(setup, runtime: runtime))
            } else {
                acceptorRuntimes.append((setup, runtime))
            }
        }

        // The book: follows each session's message log from its committed offset. It catches up
        // first (what arrived while the daemon was down), before any session connects.
        let bookStore = BookStore(backend: backend)
        var loader = try await BookLoader(
            store: bookStore, configuration: try command.settings.configuration(accounts: try await bookStore.accounts()))
        if let activity = try await command.crm.activity(backend: backend) {
            // A daemon has no end of load: a trade date's daily summaries are written when the
            // first fill of a later date is booked.
            await activity.setClosesDaysOnRoll(true)
            loader.onBatch = { events in await activity.statements(for: events) }
        }
        var summary = RunSummary()
        func bookPass() async throws {
            for log in logs {
                guard let file = try? CaptureFile(path: log.path) else { continue }
                let before = loader.summary
                // Only what the counterparty sent: the log holds both directions.
                let mine = log.session
                loader.include = { _, view in
                    view.first(49)?.string == mine.targetCompID && view.first(56)?.string == mine.senderCompID
                }
                try await loader.load(BookInput.tail(file))
                let after = loader.summary
                reportsCounter.increment(by: Int64(after.reports - before.reports))
                fillsCounter.increment(by: Int64(after.fillsBooked - before.fillsBooked))
                exceptionsCounter.increment(by: Int64(after.exceptions - before.exceptions))
                batchesCounter.increment(by: Int64(after.batches - before.batches))
            }
            summary.reports = loader.summary.reports
            summary.fillsBooked = loader.summary.fillsBooked
            summary.exceptions = loader.summary.exceptions
            summary.batches = loader.summary.batches
        }
        try await bookPass()
        if summary.reports > 0 {
            logger.info("caught up from the session logs", metadata: ["reports": "\(summary.reports)",
                                                                      "fills": "\(summary.fillsBooked)"])
        }

        for initiator in initiators { initiator.start(group: group) }
        let servers = try await startAcceptors(acceptorRuntimes, group: group)

        // Webhook delivery, one round at a time so that a stop waits for no more than a round.
        let webhook = try webhookWorker(backend: backend)
        let delivered = NIOLockedValueBox(0)
        let stopping = NIOLockedValueBox(false)
        let webhookTask: Task<Void, Never>? = webhook.map { worker in
            Task {
                while !stopping.withLockedValue({ $0 }) {
                    let n = await worker.drainOnce()
                    delivered.withLockedValue { $0 += n }
                    if n == 0 { try? await Task.sleep(for: .milliseconds(200)) }
                }
            }
        }
        if webhook != nil { logger.info("webhook delivery on", metadata: ["url": "\(setting("CRMWebhookURL") ?? "")"]) }
        let outbox = SQLOutboxStore(backend: backend)

        // The main loop: book when woken (a report arrived) or every interval; watch for a stop.
        var lastPass = ContinuousClock.now
        var lastOutboxCheck = ContinuousClock.now - .seconds(10)
        let interval = Duration.milliseconds(max(10, command.bookIntervalMilliseconds))
        while !stop() {
            try await Task.sleep(for: .milliseconds(20))
            let woken = wake.withLockedValue { w in defer { w = false }; return w }
            if woken || ContinuousClock.now - lastPass >= interval {
                lastPass = ContinuousClock.now
                try await bookPass()
            }
            if ContinuousClock.now - lastOutboxCheck >= .seconds(1) {
                lastOutboxCheck = ContinuousClock.now
                let counts = try await outbox.counts()
                outboxGauge.set(Int64((counts["pending"] ?? 0) + (counts["delivering"] ?? 0) + (counts["failed"] ?? 0)))
            }
            if let sender, sender.isComplete, summary.fillsBooked >= sender.count {
                logger.info("test orders filled and booked", metadata: ["orders": "\(sender.count)"])
                break
            }
        }

        // Graceful stop: log out, book what arrived meanwhile, finish the outbox round, close.
        logger.info("stopping")
        for initiator in initiators { initiator.stop() }
        for (_, runtime) in acceptorRuntimes { runtime.logout(text: "shutting down") }
        let logoutDeadline = ContinuousClock.now + .seconds(sessions.map(\.configuration.logoutTimeoutSeconds).max() ?? 2)
        while ContinuousClock.now < logoutDeadline, application.loggedOnCount > 0 {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await bookPass()
        // The stores' locks go with the daemon, even while a connection is still winding down.
        for store in fileStores { store.close() }
        stopping.withLockedValue { $0 = true }
        await webhookTask?.value
        summary.delivered = delivered.withLockedValue { $0 }
        for server in servers { try? await server.close() }
        try? await metricsServer?.close()
        try await backend.close()
        logger.info("stopped", metadata: ["reports": "\(summary.reports)", "fills": "\(summary.fillsBooked)",
                                          "transactions": "\(summary.batches)"])
        return summary
    }

    /// The webhook worker the settings ask for, if any.
    func webhookWorker(backend: any SQLBackend) throws -> WebhookDeliveryWorker? {
        guard let url = setting("CRMWebhookURL"), !url.isEmpty else { return nil }
        guard let secret = setting("CRMWebhookSecret") ?? environment("FIXBRIDGE_CRM_WEBHOOK_SECRET"), !secret.isEmpty else {
            throw CommandError("\(command.config): CRMWebhookURL needs CRMWebhookSecret (or env FIXBRIDGE_CRM_WEBHOOK_SECRET)")
        }
        let name = setting("CRMDestination") ?? CRMDestinations.defaultName
        let store = SQLOutboxStore(backend: backend, destinations: [name])
        let settings = DeliverySettings(endpoints: [WebhookEndpoint(name: name, url: url, secret: Array(secret.utf8))])
        return WebhookDeliveryWorker(store: store, settings: settings, httpClient: .shared)
    }
}

/// The daemon's application: logs logons and logouts, keeps the session-up gauges, wakes the
/// book when an ExecutionReport arrives, and (demo) sends test orders.
final class DaemonApplication: FIXApplication, @unchecked Sendable {
    let logger: Logger
    let orders: OrderSender?
    let sessionUp: [FIXSessionID: Gauge]
    let wake: @Sendable () -> Void
    private let up = NIOLockedValueBox(Set<FIXSessionID>())

    init(logger: Logger, orders: OrderSender?, sessionUp: [FIXSessionID: Gauge], wake: @escaping @Sendable () -> Void) {
        self.logger = logger
        self.orders = orders
        self.sessionUp = sessionUp
        self.wake = wake
    }

    var loggedOnCount: Int { up.withLockedValue { $0.count } }

    func onLogon(_ session: FIXSessionRuntime) {
        up.withLockedValue { _ = $0.insert(session.id) }
        sessionUp[session.id]?.set(Int64(1))
        logger.info("logged on", metadata: ["session": "\(session.id)"])
        orders?.onLogon(session)
    }

    func onLogout(_ session: FIXSessionRuntime) {
        up.withLockedValue { _ = $0.remove(session.id) }
        sessionUp[session.id]?.set(Int64(0))
        logger.info("logged out", metadata: ["session": "\(session.id)"])
    }

    func onNotice(_ notice: SessionNotice, session: FIXSessionRuntime) {
        logger.notice("\(notice)", metadata: ["session": "\(session.id)"])
    }

    func fromApp(_ message: [UInt8], session: FIXSessionRuntime) {
        let isReport = message.withUnsafeBytes { FIXMessage(unchecked: $0, lenient: true).msgType?.equals("8") == true }
        if isReport { wake() }
        orders?.fromApp(message, session: session)
    }
}

/// Serves the registry's metrics in the Prometheus text format at `GET /metrics` (SwiftNIO's
/// HTTP/1 codec; anything else gets 404).
enum MetricsEndpoint {
    static func bind(host: String, port: Int, group: EventLoopGroup, registry: PrometheusCollectorRegistry) async throws -> Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(registry: registry))
                }
            }
            .bind(host: host, port: port).get()
    }

    final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let registry: PrometheusCollectorRegistry
        private var head: HTTPRequestHead?

        init(registry: PrometheusCollectorRegistry) { self.registry = registry }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h): head = h
            case .body: break
            case .end:
                guard let head else { return }
                self.head = nil
                let found = head.method == .GET && (head.uri == "/metrics" || head.uri.hasPrefix("/metrics?"))
                let body = found ? registry.emitToString() : "not found; metrics are at /metrics\n"
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: found ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain")
                headers.add(name: "Content-Length", value: "\(body.utf8.count)")
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version,
                                                                     status: found ? .ok : .notFound, headers: headers))),
                              promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
                let keepAlive = head.isKeepAlive
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                    if !keepAlive { context.close(promise: nil) }
                }
            }
        }
    }
}

/// A swift-log handler that writes one JSON object per line to standard error: time, level,
/// logger label, message and metadata.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    init(label: String) {
        self.label = label
        if let level = environment("FIXBRIDGE_LOG_LEVEL").flatMap(Logger.Level.init(rawValue:)) { logLevel = level }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { _, new in new } }
        var line = "{\"time\":" + JSONText.string(InteractionPayload.iso8601(WallClock.now()))
            + ",\"level\":" + JSONText.string(event.level.rawValue)
            + ",\"logger\":" + JSONText.string(label)
            + ",\"message\":" + JSONText.string("\(event.message)")
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            line += "," + JSONText.string(key) + ":" + JSONText.string("\(value)")
        }
        writeStandardError(line + "}\n")
    }
}
