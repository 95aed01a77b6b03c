import AsyncHTTPClient
import ClientCRM
import Crypto
import FIXTagValue
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One webhook receiver. `name` is the destination that outbox items carry.
///
/// ```swift
/// let crm = WebhookEndpoint(name: "crm", url: "https://crm.example.com/hooks/fixbridge",
///                           secret: Array("s3cret".utf8), timeoutMilliseconds: 5_000)
/// ```
public struct WebhookEndpoint: Sendable {
    public var name: String
    public var url: String
    /// The HMAC-SHA256 key shared with the receiver.
    public var secret: [UInt8]
    public var timeoutMilliseconds: Int64

    public init(name: String, url: String, secret: [UInt8], timeoutMilliseconds: Int64 = 10_000) {
        self.name = name
        self.url = url
        self.secret = secret
        self.timeoutMilliseconds = timeoutMilliseconds
    }
}

/// How the worker runs.
public struct DeliverySettings: Sendable {
    /// Most requests in flight at once (also the batch a pass fetches).
    public static let concurrencyLimit = 256

    public var endpoints: [WebhookEndpoint]
    public var concurrencyMax = 8
    /// Wait between passes that found nothing due.
    public var idleMilliseconds: Int64 = 500
    /// How long a claimed item belongs to this worker: if the process dies mid-send, another
    /// worker may send it again after this (the receiver dedupes by Idempotency-Key).
    public var leaseMilliseconds: Int64 = 120_000
    public var retry = RetryPolicy()
    /// Most bytes of a response body read (and dropped); the status alone decides.
    public var responseBytesMax = 64 * 1024

    public init(endpoints: [WebhookEndpoint]) {
        self.endpoints = endpoints
    }
}

/// The signature header value: `sha256=` and the hex HMAC-SHA256 of `timestamp.body` under the
/// endpoint's secret. Binding the timestamp lets a receiver refuse old requests replayed.
public enum WebhookSignature {
    public static func sign(secret: [UInt8], timestamp: Int64, body: [UInt8]) -> String {
        var message = Array(String(timestamp).utf8)
        message.append(UInt8(ascii: "."))
        message += body
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret))
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in mac { hex += [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]] }
        return "sha256=" + String(decoding: hex, as: UTF8.self)
    }

    /// True when `header` is the signature of `body` sent at `timestamp`.
    public static func verify(header: String, secret: [UInt8], timestamp: Int64, body: [UInt8]) -> Bool {
        let expected = Array(sign(secret: secret, timestamp: timestamp, body: body).utf8)
        let given = Array(header.utf8)
        guard expected.count == given.count else { return false }
        // Constant time: the comparison does not stop at the first difference.
        var diff: UInt8 = 0
        for i in expected.indices { diff |= expected[i] ^ given[i] }
        return diff == 0
    }
}

/// What an HTTP answer means for an item.
enum DeliveryOutcome: Hashable, Sendable {
    case delivered
    case retry(String)
    case deadLetter(String)

    /// 2xx delivered; 408 and 429 and every other status retried; other 4xx are final — the
    /// receiver refuses this item and sending it again will not change that.
    static func classify(status: Int) -> DeliveryOutcome {
        switch status {
        case 200..<300: return .delivered
        case 408, 429: return .retry("HTTP \(status)")
        case 400..<500: return .deadLetter("HTTP \(status) refused by the receiver")
        default: return .retry("HTTP \(status)")
        }
    }
}

/// Drains an `OutboxStore`: POSTs each due item to its destination's webhook, signed, and
/// records the outcome. At most one item per (destination, client) is in flight, because the
/// store hands out only lane heads, so each client's entries arrive in order.
///
/// ```swift
/// let worker = WebhookDeliveryWorker(store: store, settings: settings, httpClient: .shared)
/// let task = Task { await worker.run() }
/// …
/// worker.stop()          // finishes the requests in flight, then run() returns
/// await task.value
/// ```
public final class WebhookDeliveryWorker: Sendable {
    let store: any OutboxStore
    let settings: DeliverySettings
    let endpoints: [String: WebhookEndpoint]
    let client: HTTPClient
    let now: @Sendable () -> FIXTimestamp
    let logger: Logger
    private let stopping = Mutex(false)

    /// `now` is the clock for timestamps, backoff and leases; tests inject their own.
    public init(store: any OutboxStore, settings: DeliverySettings, httpClient: HTTPClient,
                now: @escaping @Sendable () -> FIXTimestamp = WebhookDeliveryWorker.systemClock,
                logger: Logger = Logger(label: "fixbridge.crm.delivery")) {
        precondition((1...DeliverySettings.concurrencyLimit).contains(settings.concurrencyMax),
                     "concurrencyMax must be within 1...\(DeliverySettings.concurrencyLimit)")
        var byName: [String: WebhookEndpoint] = [:]
        for e in settings.endpoints {
            precondition(byName[e.name] == nil, "two endpoints named \(e.name)")
            byName[e.name] = e
        }
        self.store = store
        self.settings = settings
        self.endpoints = byName
        self.client = httpClient
        self.now = now
        self.logger = logger
    }

    /// The wall clock.
    @Sendable public static func systemClock() -> FIXTimestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return FIXTimestamp(nanosecondsSinceEpoch: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }

    /// Asks `run` to return once the requests in flight are done.
    public func stop() { stopping.withLock { $0 = true } }

    var isStopping: Bool { stopping.withLock { $0 } }

    /// Passes until `stop()` or cancellation; waits `idleMilliseconds` when nothing was due.
    public func run() async {
        while !isStopping && !Task.isCancelled {
            let sent = await drainOnce()
            if sent == 0 && !isStopping {
                try? await Task.sleep(for: .milliseconds(settings.idleMilliseconds))
            }
        }
    }

    /// One pass: claims up to `concurrencyMax` due items, sends them concurrently and records
    /// the outcomes. Returns how many items it tried.
    @discardableResult
    public func drainOnce() async -> Int {
        let start = now()
        let lease = FIXTimestamp(nanosecondsSinceEpoch: start.nanosecondsSinceEpoch
                                 + settings.leaseMilliseconds * 1_000_000)
        let records: [OutboxRecord]
        do {
            records = try await store.fetchDue(limit: settings.concurrencyMax, now: start, leaseUntil: lease)
        } catch {
            logger.error("outbox fetch failed: \(error)")
            return 0
        }
        await withTaskGroup(of: Void.self) { group in
            for record in records {
                group.addTask { await self.deliver(record) }
            }
        }
        return records.count
    }

    func deliver(_ record: OutboxRecord) async {
        let key = record.item.key
        let outcome: DeliveryOutcome
        if let endpoint = endpoints[key.destination] {
            outcome = await post(record.item, to: endpoint)
        } else {
            outcome = .deadLetter("no webhook endpoint named \(key.destination)")
        }
        let time = now()
        do {
            switch outcome {
            case .delivered:
                try await store.markDelivered(key, at: time)
            case .deadLetter(let reason):
                logger.warning("dead-lettered \(key): \(reason)")
                try await store.deadLetter(key, reason: reason, at: time)
            case .retry(let error):
                switch settings.retry.afterFailure(attempt: record.state.attempts, key: key, now: time) {
                case .retry(let at):
                    try await store.markFailed(key, nextAttemptAt: at, error: error)
                case .deadLetter:
                    try await store.deadLetter(
                        key, reason: "\(error) after \(record.state.attempts) attempts", at: time)
                }
            }
        } catch {
            // The lease runs out and the item is sent again: at least once, never lost.
            logger.error("recording the outcome of \(key) failed: \(error)")
        }
    }

    func post(_ item: OutboxItem, to endpoint: WebhookEndpoint) async -> DeliveryOutcome {
        let timestamp = now().nanosecondsSinceEpoch / 1_000_000_000
        var request = HTTPClientRequest(url: endpoint.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Idempotency-Key", value: item.key.entryID)
        request.headers.add(name: "X-FIXBridge-Timestamp", value: String(timestamp))
        request.headers.add(name: "X-FIXBridge-Signature",
                            value: WebhookSignature.sign(secret: endpoint.secret, timestamp: timestamp,
                                                         body: item.payload))
        request.body = .bytes(ByteBuffer(bytes: item.payload))
        do {
            let response = try await client.execute(request, timeout: .milliseconds(endpoint.timeoutMilliseconds))
            _ = try? await response.body.collect(upTo: settings.responseBytesMax)
            return DeliveryOutcome.classify(status: Int(response.status.code))
        } catch {
            return .retry("\(endpoint.name): \(error)")
        }
    }
}
