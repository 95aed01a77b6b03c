import ArgumentParser
import BackOfficeStore
import ClientCRM
import CRMDelivery
import FIXTagValue
import TradeBook

/// The CRM's part of loading the book: turns each batch's book events into interaction entries
/// and outbox rows, as statements committed in the batch's own transaction.
///
/// ```swift
/// if let crm = try await CRMActivity.open(backend: backend, settings: settings, destinations: ["crm"]) {
///     loader.onBatch = { events in await crm.statements(for: events) }   // BookStore.commit(batch, extra:)
///     … load …
///     try await crm.finishLoad()            // the daily summaries, when granularity holds .dailySummary
/// }
/// ```
///
/// Entry ids are deterministic, and the statements insert with `ON CONFLICT DO NOTHING`, so
/// loading a capture again writes no new entries or outbox rows. The daily summaries of a load
/// cover the fills this load booked: a trade date loaded in two runs keeps the summary of the
/// first (its id is the account and date).
public actor CRMActivity {
    public let store: CRMStore
    public let destinations: [String]
    private var engine: ActivityEngine
    private let now: @Sendable () -> FIXTimestamp
    /// The latest trade date of a fill seen, for `finishLoad`.
    private var latestTradeDate: FIXDate?
    /// When true, the first fill of a later trade date closes the days before it: their daily
    /// summaries come with that batch's statements (the live daemon, which has no end of load).
    public private(set) var closesDaysOnRoll = false

    public func setClosesDaysOnRoll(_ value: Bool) { closesDaysOnRoll = value }

    /// Loads the stored clients and restores the unusual-activity history from the stored
    /// fills. Returns nil when no client is stored: then there is nothing to record.
    /// `destinations` name the webhooks each entry is queued for (none: history only).
    public static func open(
        backend: any SQLBackend, settings: ActivitySettings = ActivitySettings(), destinations: [String],
        now: @escaping @Sendable () -> FIXTimestamp = WebhookDeliveryWorker.systemClock
    ) async throws -> CRMActivity? {
        let store = CRMStore(backend: backend)
        let directory = try await store.directory()
        guard !directory.clients.isEmpty else { return nil }
        var engine = ActivityEngine(directory: directory, settings: settings)
        try await store.restoreActivityHistory(into: &engine)
        return CRMActivity(store: store, engine: engine, destinations: destinations, now: now)
    }

    private init(store: CRMStore, engine: ActivityEngine, destinations: [String],
                 now: @escaping @Sendable () -> FIXTimestamp) {
        self.store = store
        self.engine = engine
        self.destinations = destinations
        self.now = now
    }

    /// The statements (entries and outbox rows) for one batch's book events and any break
    /// notices; empty when the batch concerns no client. Pass them as `extra` to
    /// `BookStore.commit` so they commit with the batch.
    public func statements(for events: [BookEvent], breaks: [BreakNotice] = []) -> [SQLStatement] {
        var rolledPast: FIXDate?
        for case .fillBooked(let fill) in events where latestTradeDate.map({ $0 < fill.tradeDate }) ?? true {
            if closesDaysOnRoll, let previous = latestTradeDate { rolledPast = previous }
            latestTradeDate = fill.tradeDate
        }
        let observed = now()
        var entries = engine.process(events, breaks: breaks, observedAt: observed)
        // The batch's own fills of the earlier days are in the engine by now, so they count.
        if let rolledPast, engine.settings.granularity.contains(.dailySummary) {
            entries += engine.closeDay(rolledPast, at: observed)
        }
        return CRMStore.statements(for: entries, destinations: destinations)
    }

    /// The daily summaries of every account-day this load saw, through `date` (default: the
    /// latest trade date seen); empty unless the granularity holds `.dailySummary`.
    public func closeDay(through date: FIXDate? = nil) -> [SQLStatement] {
        guard engine.settings.granularity.contains(.dailySummary), let date = date ?? latestTradeDate else { return [] }
        return CRMStore.statements(for: engine.closeDay(date, at: now()), destinations: destinations)
    }

    /// Writes the daily summaries (`closeDay()`) in one transaction; returns the statements'
    /// entry count.
    @discardableResult
    public func finishLoad() async throws -> Int {
        let plan = closeDay()
        guard !plan.isEmpty else { return 0 }
        try await store.backend.write(plan)
        return plan.first?.rowCount ?? 0
    }
}

/// The CRM options of commands that book execution reports (`--crm-granularity`, …).
///
/// ```swift
/// @OptionGroup var crm: CRMActivityOptions
/// let activity = try await crm.activity(backend: backend)   // nil with --no-crm or no clients
/// ```
public struct CRMActivityOptions: ParsableArguments {
    @Flag(name: .customLong("no-crm"), help: "Write no CRM history or outbox rows while booking.")
    var disabled = false

    @Option(name: .customLong("crm-granularity"),
            help: "Routine CRM entries: comma-separated fill, order, daily, or none (default order,daily).")
    var granularity = "order,daily"

    @Option(name: .customLong("crm-destination"),
            help: "Webhook destination to queue entries for (repeatable; default env FIXBRIDGE_CRM_DESTINATIONS, comma-separated, else crm).")
    var destinations: [String] = []

    @Option(name: .customLong("crm-large-trade"), help: "Alert on fills whose quantity × price reaches this.")
    var largeTrade: String?

    @Option(name: .customLong("crm-large-trade-segment"),
            help: "SEGMENT=NOTIONAL: a large-trade threshold for one client segment (repeatable).")
    var largeTradeBySegment: [String] = []

    @Flag(name: .customLong("crm-no-unusual"), help: "Turn the unusual-activity rule off.")
    var noUnusual = false

    public init() {}

    /// The rules' settings these options describe.
    public func settings() throws -> ActivitySettings {
        var s = ActivitySettings()
        s.granularity = []
        for part in granularity.split(separator: ",").map({ $0.trimmingSpaces }) {
            switch part {
            case "fill": s.granularity.insert(.perFill)
            case "order": s.granularity.insert(.perOrder)
            case "daily": s.granularity.insert(.dailySummary)
            case "none", "": break
            default: throw ValidationError("--crm-granularity \(part): fill, order, daily or none")
            }
        }
        if let largeTrade {
            guard let d = FIXDecimal(largeTrade) else { throw ValidationError("--crm-large-trade \(largeTrade): not a number") }
            s.largeTradeNotional = d
        }
        for item in largeTradeBySegment {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, let d = FIXDecimal(parts[1]) else {
                throw ValidationError("--crm-large-trade-segment \(item): SEGMENT=NOTIONAL")
            }
            s.largeTradeNotionalBySegment[parts[0]] = d
        }
        if noUnusual { s.unusualActivity = nil }
        return s
    }

    /// The destinations entries are queued for: `--crm-destination`, else
    /// `FIXBRIDGE_CRM_DESTINATIONS`, else `crm`.
    public func destinationNames() -> [String] {
        CRMDestinations.names(destinations)
    }

    /// The activity recorder for a load, or nil when `--no-crm` is given or no client is stored.
    /// `now` dates entries whose cause carries no time (the wall clock; a replay's capture clock).
    public func activity(
        backend: any SQLBackend, now: @escaping @Sendable () -> FIXTimestamp = WebhookDeliveryWorker.systemClock
    ) async throws -> CRMActivity? {
        guard !disabled else { return nil }
        return try await CRMActivity.open(backend: backend, settings: try settings(), destinations: destinationNames(),
                                          now: now)
    }
}

/// Where the destination names of queued entries come from.
enum CRMDestinations {
    static let defaultName = "crm"

    /// `given` when not empty, else `FIXBRIDGE_CRM_DESTINATIONS` (comma-separated; set but empty
    /// queues nothing), else `crm`.
    static func names(_ given: [String]) -> [String] {
        if !given.isEmpty { return given }
        if let env = environment("FIXBRIDGE_CRM_DESTINATIONS") {
            return env.split(separator: ",").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
        }
        return [defaultName]
    }
}

extension Substring {
    var trimmingSpaces: String {
        var s = self
        while let c = s.first, c == " " { s.removeFirst() }
        while let c = s.last, c == " " { s.removeLast() }
        return String(s)
    }
}
