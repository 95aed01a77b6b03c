import ArgumentParser
import AsyncHTTPClient
import BackOfficeStore
import ClientCRM
import CRMDelivery
import FIXTagValue
import Foundation

/// `fixbridge crm`: clients, KYC, interaction history and the webhook outbox.
public struct CRMCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "crm", abstract: "Clients, KYC, interaction history and the webhook outbox.",
        subcommands: [CRMImportCommand.self, CRMClientCommand.self, CRMNoteCommand.self, CRMOutboxCommand.self])
    public init() {}
}

/// What a CRM command prints: standard output, diagnostics for standard error, and whether the
/// command failed (exit status 1). Commands build it, so that tests read it without a process.
struct CRMOutput {
    var text = ""
    var diagnostics: [String] = []
    var failed = false

    /// Prints it and exits 1 when it failed.
    func emit() throws {
        print(text, terminator: "")
        for line in diagnostics { writeStandardError(line + "\n") }
        if failed { throw ExitCode(1) }
    }
}

/// A CRM command's refusal of its input (unknown client, bad key): printed as `Error: …`, exit 1.
struct CRMCommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Opens the store, runs `body`, closes the store whatever happened.
func withCRMStore<T>(_ options: StoreOptions, _ body: (CRMStore) async throws -> T) async throws -> T {
    let backend = try await options.open()
    do {
        let result = try await body(CRMStore(backend: backend))
        try await backend.close()
        return result
    } catch {
        try? await backend.close()
        throw error
    }
}

// MARK: - crm import

/// `fixbridge crm import CLIENTS.csv`
public struct CRMImportCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import or update clients, KYC, accounts and documents from a CSV file.",
        discussion: """
            Columns (header line, any order): id, name, kyc_status required; segment, \
            relationship_manager, risk_rating, kyc_expiry, accounts (ACCOUNT=FIXACC1|FIXACC2;…), \
            documents (kind:reference[:YYYY-MM-DD];…), email, phone, country. A client already \
            stored is replaced. Each row is all or nothing: malformed rows are reported on standard \
            error as FILE: line N, column C: reason, the other rows are imported in one \
            transaction, and the exit status is 1 when any row was refused. Every imported \
            account's FIX Account values are written to the book's account map.
            """)

    @OptionGroup var store: StoreOptions

    @Argument(help: "The clients CSV file.")
    var file: String

    public init() {}

    public func run() async throws { try await perform().emit() }

    func perform() async throws -> CRMOutput {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CRMCommandError("\(file): cannot read")
        }
        guard data.count <= ClientCSV.textBytesMax else {
            throw CRMCommandError("\(file): larger than \(ClientCSV.textBytesMax) bytes")
        }
        let report = try await withCRMStore(store) { try await $0.importClients(csv: String(decoding: data, as: UTF8.self)) }
        var out = CRMOutput()
        out.text = "imported \(report.clientsImported) clients, \(report.accountsImported) accounts"
            + (report.problems.isEmpty ? "\n" : "; \(report.problems.count) rows refused\n")
        out.diagnostics = report.problems.map { "\(file): \($0)" }
        out.failed = !report.problems.isEmpty
        return out
    }
}

// MARK: - crm client

/// `fixbridge crm client ID [--json] [--limit N]`
public struct CRMClientCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "client", abstract: "A client's profile, KYC, documents, accounts and timeline (newest first).")

    @OptionGroup var store: StoreOptions

    @Argument(help: "Client id.")
    var id: String

    @Flag(name: .long, help: "One JSON object; timeline entries as in the webhook payload.")
    var json = false

    @Option(name: .long, help: "Most timeline entries shown (default 20).")
    var limit = 20

    public init() {}

    public func validate() throws {
        guard (0...CRMStore.timelineLimitMax).contains(limit) else {
            throw ValidationError("--limit \(limit): 0…\(CRMStore.timelineLimitMax)")
        }
    }

    public func run() async throws { try await perform().emit() }

    func perform() async throws -> CRMOutput {
        let (directory, timeline) = try await withCRMStore(store) { s in
            (try await s.directory(), try await s.timeline(clientID: id, limit: limit))
        }
        guard let client = directory.clients[id] else { throw CRMCommandError("no client \(id)") }
        let accounts = directory.accounts(ofClient: id)
        var out = CRMOutput()
        out.text = json ? Self.json(client, accounts, timeline) : Self.text(client, accounts, timeline, limit: limit)
        return out
    }

    static func text(_ c: Client, _ accounts: [ClientAccount], _ timeline: [InteractionEntry], limit: Int) -> String {
        var out = "\(c.id)  \(c.name)\n"
        out += "segment \(c.segment)"
        if let rm = c.relationshipManager { out += ", relationship manager \(rm)" }
        if let risk = c.riskRating { out += ", risk \(risk.rawValue)" }
        out += "\nKYC \(c.kyc.status.rawValue)" + (c.kyc.expiresOn.map { " until \(isoDate($0))" } ?? "") + "\n"
        let contact = [c.profile.email, c.profile.phone, c.profile.country.map { "country \($0)" }].compactMap { $0 }
        if !contact.isEmpty { out += contact.joined(separator: ", ") + "\n" }
        if !c.documents.isEmpty {
            out += "documents: " + c.documents.map { d in
                "\(d.kind) \(d.reference)" + (d.expiresOn.map { " (expires \(isoDate($0)))" } ?? "")
            }.joined(separator: "; ") + "\n"
        }
        out += "accounts: " + (accounts.isEmpty ? "none" : accounts.map { a in
            a.id + (a.fixAccounts.isEmpty ? "" : " (" + a.fixAccounts.joined(separator: ", ") + ")")
        }.joined(separator: "; ")) + "\n"
        out += "\ntimeline, newest first (\(timeline.count) shown, at most \(limit)):\n"
        var listing = Listing(columns: ["time", "channel", "severity", "rule", "author", "summary"])
        for e in timeline {
            listing.add([InteractionPayload.iso8601(e.time), "\(e.channel.rawValue)/\(e.direction.rawValue)",
                         e.severity.rawValue, e.rule, e.author, e.summary])
        }
        return out + listing.render(.table)
    }

    static func json(_ c: Client, _ accounts: [ClientAccount], _ timeline: [InteractionEntry]) -> String {
        func s(_ v: String?) -> String { v.map(JSONText.string) ?? "null" }
        var out = "{\"client\": {\"id\": \(s(c.id)), \"name\": \(s(c.name)), \"segment\": \(s(c.segment)), "
        out += "\"relationshipManager\": \(s(c.relationshipManager)), \"riskRating\": \(s(c.riskRating?.rawValue)), "
        out += "\"email\": \(s(c.profile.email)), \"phone\": \(s(c.profile.phone)), \"country\": \(s(c.profile.country)), "
        out += "\"kyc\": {\"status\": \(s(c.kyc.status.rawValue)), \"expiresOn\": \(s(c.kyc.expiresOn.map(isoDate)))}, "
        out += "\"documents\": [" + c.documents.map { d in
            "{\"kind\": \(s(d.kind)), \"reference\": \(s(d.reference)), \"expiresOn\": \(s(d.expiresOn.map(isoDate)))}"
        }.joined(separator: ", ") + "]},\n"
        out += "\"accounts\": [" + accounts.map { a in
            "{\"id\": \(s(a.id)), \"fixAccounts\": [" + a.fixAccounts.map(JSONText.string).joined(separator: ", ") + "]}"
        }.joined(separator: ", ") + "],\n"
        out += "\"timeline\": [" + timeline.map { "\n  " + String(decoding: InteractionPayload.json($0), as: UTF8.self) }
            .joined(separator: ",") + (timeline.isEmpty ? "]}\n" : "\n]}\n")
        return out
    }
}

// MARK: - crm note

/// `fixbridge crm note ID "text" [--author A] [--channel C]`
public struct CRMNoteCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "note", abstract: "Add a note, call, email, chat or meeting to a client's history.",
        discussion: "The entry is also queued for the webhook destinations (--destination, else env FIXBRIDGE_CRM_DESTINATIONS, else crm).")

    @OptionGroup var store: StoreOptions

    @Argument(help: "Client id.")
    var id: String

    @Argument(help: "What happened.")
    var text: String

    @Option(name: .long, help: "Who writes it (default: env USER, else operator).")
    var author: String?

    @Option(name: .long, help: "call, email, chat, meeting or note (default note).")
    var channel = "note"

    @Option(name: .long, help: "inbound, outbound or internal (default internal).")
    var direction = "internal"

    @Option(name: .long, help: "Webhook destination to queue the entry for (repeatable).")
    var destination: [String] = []

    public init() {}

    static let channels: [InteractionChannel] = [.call, .email, .chat, .meeting, .note]

    public func validate() throws {
        guard let c = InteractionChannel(rawValue: channel), Self.channels.contains(c) else {
            throw ValidationError("--channel \(channel): call, email, chat, meeting or note")
        }
        guard InteractionDirection(rawValue: direction) != nil else {
            throw ValidationError("--direction \(direction): inbound, outbound or internal")
        }
        guard !text.isEmpty, text.utf8.count <= Self.textBytesMax else {
            throw ValidationError("the note must have 1…\(Self.textBytesMax) bytes")
        }
    }

    /// Longest note accepted.
    static let textBytesMax = 16 * 1024

    public func run() async throws { try await perform().emit() }

    func perform(at time: FIXTimestamp = WebhookDeliveryWorker.systemClock()) async throws -> CRMOutput {
        let who = author ?? environment("USER").flatMap { $0.isEmpty ? nil : $0 } ?? "operator"
        let entry = try await withCRMStore(store) { s -> InteractionEntry in
            guard try await s.directory().clients[id] != nil else { throw CRMCommandError("no client \(id)") }
            return try await s.addNote(
                clientID: id, text: text, author: who, channel: InteractionChannel(rawValue: channel) ?? .note,
                direction: InteractionDirection(rawValue: direction) ?? .internal, at: time,
                destinations: CRMDestinations.names(destination))
        }
        var out = CRMOutput()
        out.text = "\(entry.id)\n"
        return out
    }
}

// MARK: - crm outbox

/// `fixbridge crm outbox [--dead] [--redrive KEY…|--all] [--deliver --webhook URL --secret S [--once]]`
public struct CRMOutboxCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "outbox", abstract: "List, re-drive and deliver the webhook outbox.",
        discussion: """
            Without a mode: the items not yet delivered (pending, in flight, failed), oldest first. \
            --dead: the dead-lettered items. --redrive KEY…: move those dead-lettered items back to \
            pending (KEY is ENTRY@DESTINATION, or ENTRY for every destination); --redrive --all: all \
            of them. --deliver: POST the destination's items, signed, to --webhook (env \
            FIXBRIDGE_CRM_WEBHOOK_URL) with --secret (env FIXBRIDGE_CRM_WEBHOOK_SECRET), until \
            interrupted; with --once, until none of its items is pending, in flight or failed.
            """)

    @OptionGroup var store: StoreOptions

    @Flag(name: .long, help: "List dead-lettered items.")
    var dead = false

    @Flag(name: .long, help: "Re-drive the dead-lettered items named (or --all).")
    var redrive = false

    @Flag(name: .long, help: "With --redrive: every dead-lettered item.")
    var all = false

    @Argument(help: "Items to re-drive: ENTRY@DESTINATION, or ENTRY.")
    var keys: [String] = []

    @Flag(name: .long, help: "Deliver to the webhook.")
    var deliver = false

    @Option(name: .long, help: "Webhook URL (env FIXBRIDGE_CRM_WEBHOOK_URL).")
    var webhook: String?

    @Option(name: .long, help: "HMAC-SHA256 secret shared with the receiver (env FIXBRIDGE_CRM_WEBHOOK_SECRET).")
    var secret: String?

    @Option(name: .long, help: "Destination the webhook serves (default crm); filters the listings too.")
    var destination: String?

    @Flag(name: .long, help: "With --deliver: stop once nothing is left to deliver.")
    var once = false

    @Option(name: .customLong("timeout-ms"), help: "Request timeout in milliseconds (default 10000).")
    var timeoutMilliseconds: Int64 = 10_000

    @Option(name: .long, help: "Requests in flight at once (default 8).")
    var concurrency = 8

    @Option(name: .customLong("retry-base-ms"), help: "Wait after a first failed attempt, doubling up to --retry-cap-ms (default 1000).")
    var retryBaseMilliseconds: Int64 = 1_000

    @Option(name: .customLong("retry-cap-ms"), help: "Longest wait between attempts (default 300000).")
    var retryCapMilliseconds: Int64 = 300_000

    @Option(name: .customLong("attempts-max"), help: "Attempts before an item is dead-lettered (default 12).")
    var attemptsMax = 12

    @Option(name: .long, help: "Most items listed (default 100).")
    var limit = 100

    @Option(name: .long, help: "table, csv or json.")
    var format: ListingFormat = .table

    public init() {}

    public func validate() throws {
        let modes = [dead, redrive, deliver].filter { $0 }.count
        guard modes <= 1 else { throw ValidationError("choose one of --dead, --redrive, --deliver") }
        if redrive {
            guard all != !keys.isEmpty else { throw ValidationError("--redrive needs KEY… or --all (not both)") }
        } else {
            guard !all && keys.isEmpty else { throw ValidationError("KEY… and --all go with --redrive") }
        }
        if !deliver {
            guard webhook == nil && secret == nil && !once else {
                throw ValidationError("--webhook, --secret and --once go with --deliver")
            }
        }
        guard (1...DeliverySettings.concurrencyLimit).contains(concurrency) else {
            throw ValidationError("--concurrency \(concurrency): 1…\(DeliverySettings.concurrencyLimit)")
        }
        guard (1...RetryPolicy.attemptsMaxLimit).contains(attemptsMax) else {
            throw ValidationError("--attempts-max \(attemptsMax): 1…\(RetryPolicy.attemptsMaxLimit)")
        }
        guard retryBaseMilliseconds >= 0, retryCapMilliseconds >= retryBaseMilliseconds else {
            throw ValidationError("need 0 <= --retry-base-ms <= --retry-cap-ms")
        }
        guard timeoutMilliseconds > 0 else { throw ValidationError("--timeout-ms must be positive") }
        guard (0...OutboxTable.fetchLimitMax).contains(limit) else {
            throw ValidationError("--limit \(limit): 0…\(OutboxTable.fetchLimitMax)")
        }
    }

    public func run() async throws { try await perform().emit() }

    func perform() async throws -> CRMOutput {
        try await withCRMStore(store) { s in
            let outbox = SQLOutboxStore(backend: s.backend, destinations: destination.map { [$0] })
            if redrive { return try await redrive(outbox) }
            if deliver { return try await deliver(outbox) }
            return try await list(outbox)
        }
    }

    func list(_ outbox: SQLOutboxStore) async throws -> CRMOutput {
        let records = dead ? try await outbox.deadLettered(limit: limit) : try await outbox.undelivered(limit: limit)
        var listing = Listing(columns: ["key", "client", "sequence", "state", "attempts", "at", "error"],
                              numeric: ["sequence", "attempts"])
        for r in records {
            let at: String?
            let error: String?
            switch r.state {
            case .pending: (at, error) = (nil, nil)
            case .delivering(_, let lease): (at, error) = (InteractionPayload.iso8601(lease), nil)
            case .delivered(_, let time): (at, error) = (InteractionPayload.iso8601(time), nil)
            case .failed(_, let next, let e): (at, error) = (InteractionPayload.iso8601(next), e)
            case .deadLettered(_, let reason, let time): (at, error) = (InteractionPayload.iso8601(time), reason)
            }
            listing.add([r.item.key.description, r.item.clientID, String(r.sequence), r.state.name,
                         String(r.state.attempts), at, error])
        }
        var out = CRMOutput()
        if format == .table {
            let counts = try await outbox.counts()
            out.text = ["pending", "delivering", "failed", "delivered", "dead-lettered"]
                .map { "\($0) \(counts[$0] ?? 0)" }.joined(separator: ", ") + "\n\n"
        }
        out.text += listing.render(format)
        return out
    }

    func redrive(_ outbox: SQLOutboxStore) async throws -> CRMOutput {
        var moved = 0
        if all {
            moved = try await outbox.redriveAll()
        } else {
            var targets: [OutboxKey] = []
            for key in keys {
                if let at = key.lastIndex(of: "@") {
                    targets.append(OutboxKey(entryID: String(key[..<at]), destination: String(key[key.index(after: at)...])))
                } else {
                    let found = try await outbox.deadLettered(entryID: key)
                    guard !found.isEmpty else { throw CRMCommandError("no dead-lettered item of entry \(key)") }
                    targets += found.map(\.item.key)
                }
            }
            do {
                moved = try await outbox.redrive(targets)
            } catch let e as CRMError where e.isUnknownItem {
                throw CRMCommandError("\(e)")
            }
        }
        var out = CRMOutput()
        out.text = "re-driven \(moved) items\n"
        return out
    }

    func deliver(_ outbox: SQLOutboxStore) async throws -> CRMOutput {
        guard let url = webhook ?? environment("FIXBRIDGE_CRM_WEBHOOK_URL"), !url.isEmpty else {
            throw ValidationError("--deliver needs --webhook URL (or env FIXBRIDGE_CRM_WEBHOOK_URL)")
        }
        guard let secret = secret ?? environment("FIXBRIDGE_CRM_WEBHOOK_SECRET"), !secret.isEmpty else {
            throw ValidationError("--deliver needs --secret S (or env FIXBRIDGE_CRM_WEBHOOK_SECRET)")
        }
        let name = destination ?? CRMDestinations.defaultName
        // Only this destination's items are fetched: the worker would dead-letter the others as
        // having no endpoint.
        let store = SQLOutboxStore(backend: outbox.backend, destinations: [name])
        var settings = DeliverySettings(endpoints: [
            WebhookEndpoint(name: name, url: url, secret: Array(secret.utf8), timeoutMilliseconds: timeoutMilliseconds),
        ])
        settings.concurrencyMax = concurrency
        settings.retry = RetryPolicy(baseMilliseconds: retryBaseMilliseconds, capMilliseconds: retryCapMilliseconds,
                                     attemptsMax: attemptsMax)
        settings.idleMilliseconds = min(500, max(10, retryBaseMilliseconds / 2))
        let before = try await store.counts()
        let worker = WebhookDeliveryWorker(store: store, settings: settings, httpClient: .shared)
        if once {
            while !Task.isCancelled {
                if await worker.drainOnce() > 0 { continue }
                let counts = try await store.counts()
                let left = (counts["pending"] ?? 0) + (counts["delivering"] ?? 0) + (counts["failed"] ?? 0)
                if left == 0 { break }
                try await Task.sleep(for: .milliseconds(settings.idleMilliseconds))
            }
        } else {
            await worker.run()
        }
        let after = try await store.counts()
        func delta(_ state: String) -> Int { (after[state] ?? 0) - (before[state] ?? 0) }
        var out = CRMOutput()
        let left = (after["pending"] ?? 0) + (after["delivering"] ?? 0) + (after["failed"] ?? 0)
        out.text = "\(name): delivered \(delta("delivered")), dead-lettered \(delta("dead-lettered")), left \(left)\n"
        return out
    }
}

extension CRMImportCommand: AsyncRunnableCommand { public mutating func runAsync() async throws { try await run() } }
extension CRMClientCommand: AsyncRunnableCommand { public mutating func runAsync() async throws { try await run() } }
extension CRMNoteCommand: AsyncRunnableCommand { public mutating func runAsync() async throws { try await run() } }
extension CRMOutboxCommand: AsyncRunnableCommand { public mutating func runAsync() async throws { try await run() } }
