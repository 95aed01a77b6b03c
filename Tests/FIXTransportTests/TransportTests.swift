#if canImport(Glibc)
import Glibc
#endif
import FIXSession
import FIXTagValue
import FIXTransport
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// Records what a session's application sees.
final class RecordingApplication: FIXApplication, @unchecked Sendable {
    private let lock = NIOLock()
    private var _logons = 0
    private var _messages: [String] = []
    var logons: Int { lock.withLock { _logons } }
    var messages: [String] { lock.withLock { _messages } }
    func onLogon(_ session: FIXSessionRuntime) { lock.withLock { _logons += 1 } }
    func fromApp(_ message: [UInt8], session: FIXSessionRuntime) {
        lock.withLock { _messages.append(String(decoding: message.map { $0 == 1 ? 0x7C : $0 }, as: UTF8.self)) }
    }
}

/// Waits (bounded) until `condition` holds; network tests wait for I/O, never for time itself.
func eventually(_ seconds: Double = 10, _ condition: () -> Bool) async -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if condition() { return true }
        try? await Task.sleep(nanoseconds: 20_000_000)
    }
    return condition()
}

func makeRuntime(_ type: FIXConnectionType, sender: String, target: String, app: FIXApplication) -> FIXSessionRuntime {
    var config = FIXSessionConfiguration(id: FIXSessionID(beginString: "FIX.4.4", senderCompID: sender, targetCompID: target),
                                         connectionType: type)
    config.heartBtIntSeconds = 30
    return FIXSessionRuntime(session: FIXSession(configuration: config), store: InMemoryMessageStore(), application: app)
}

/// `venue` served by an acceptor on a loopback port and `broker` connected to it as initiator,
/// both logged on.
struct LoopbackPair {
    let server: Channel
    let initiator: FIXInitiator
    let venue: FIXSessionRuntime

    static func start(venue: FIXSessionRuntime, broker: FIXSessionRuntime) async throws -> LoopbackPair {
        let group = MultiThreadedEventLoopGroup.singleton
        let server = try await FIXAcceptor(sessions: [venue]).bind(host: "127.0.0.1", port: 0, group: group)
        let initiator = FIXInitiator(runtime: broker, endpoints: [("127.0.0.1", server.localAddress!.port!)])
        initiator.start(group: group)
        #expect(await eventually { broker.isLoggedOn && venue.isLoggedOn })
        return LoopbackPair(server: server, initiator: initiator, venue: venue)
    }

    /// Disconnects the initiator, waits for the venue to see it, and closes the acceptor.
    func stop() async throws {
        initiator.stop()
        #expect(await eventually { !venue.isLoggedOn })
        try await server.close()
    }
}

@Suite(.serialized) struct TransportTests {
    @Test func initiatorAndAcceptorLogOnAndExchangeMessagesOverLoopback() async throws {
        let venueApp = RecordingApplication()
        let brokerApp = RecordingApplication()
        let venue = makeRuntime(.acceptor, sender: "VENUE", target: "BRKR", app: venueApp)
        let broker = makeRuntime(.initiator, sender: "BRKR", target: "VENUE", app: brokerApp)
        let group = MultiThreadedEventLoopGroup.singleton
        let server = try await FIXAcceptor(sessions: [venue]).bind(host: "127.0.0.1", port: 0, group: group)
        let initiator = FIXInitiator(runtime: broker, endpoints: [("127.0.0.1", server.localAddress!.port!)])
        initiator.start(group: group)
        #expect(await eventually { brokerApp.logons == 1 && venueApp.logons == 1 })
        broker.send(msgType: "D") { $0.append(11, "ORD-1"); $0.append(55, "MSFT") }
        #expect(await eventually { venueApp.messages.count == 1 })
        #expect(venueApp.messages.first?.contains("|35=D|34=2|49=BRKR|") == true)
        initiator.stop()
        #expect(await eventually { !venue.isLoggedOn })
        try await server.close()
    }

    @Test func unknownCompIDsAreRefusedWithoutAReply() async throws {
        let venue = makeRuntime(.acceptor, sender: "VENUE", target: "BRKR", app: RecordingApplication())
        let strangerApp = RecordingApplication()
        let stranger = makeRuntime(.initiator, sender: "OTHER", target: "VENUE", app: strangerApp)
        let group = MultiThreadedEventLoopGroup.singleton
        let server = try await FIXAcceptor(sessions: [venue]).bind(host: "127.0.0.1", port: 0, group: group)
        let initiator = FIXInitiator(runtime: stranger, endpoints: [("127.0.0.1", server.localAddress!.port!)],
                                     reconnectIntervalSeconds: 30)
        initiator.start(group: group)
        try await Task.sleep(nanoseconds: 300_000_000)
        #expect(strangerApp.logons == 0 && !venue.isLoggedOn)
        initiator.stop()
        try await server.close()
    }

    @Test func mutualTLSLogsOnWithGeneratedCertificates() async throws {
        let pki = try TestPKI()
        let venueApp = RecordingApplication()
        let brokerApp = RecordingApplication()
        let venue = makeRuntime(.acceptor, sender: "VENUE", target: "BRKR", app: venueApp)
        let broker = makeRuntime(.initiator, sender: "BRKR", target: "VENUE", app: brokerApp)
        let serverTLS = try FIXTLSConfiguration.server(certificateChainFile: pki.path("server.pem"),
                                                       privateKeyFile: pki.path("server.key"),
                                                       trustRootsFile: pki.path("ca.pem"), requireClientCertificate: true)
        let clientTLS = try FIXTLSConfiguration.client(trustRootsFile: pki.path("ca.pem"),
                                                       certificateChainFile: pki.path("client.pem"),
                                                       privateKeyFile: pki.path("client.key"), verifyHostname: false)
        let group = MultiThreadedEventLoopGroup.singleton
        let server = try await FIXAcceptor(sessions: [venue]).bind(host: "127.0.0.1", port: 0, group: group, tls: serverTLS)
        let port = server.localAddress!.port!
        let initiator = FIXInitiator(runtime: broker, endpoints: [("127.0.0.1", port)], tls: clientTLS)
        initiator.start(group: group)
        #expect(await eventually { brokerApp.logons == 1 && venueApp.logons == 1 })
        initiator.stop()
        #expect(await eventually { !venue.isLoggedOn })

        // Without a client certificate the handshake fails and no session logs on.
        let anonymousApp = RecordingApplication()
        let anonymous = makeRuntime(.initiator, sender: "BRKR", target: "VENUE", app: anonymousApp)
        let anonymousTLS = try FIXTLSConfiguration.client(trustRootsFile: pki.path("ca.pem"), verifyHostname: false)
        let second = FIXInitiator(runtime: anonymous, endpoints: [("127.0.0.1", port)], reconnectIntervalSeconds: 30, tls: anonymousTLS)
        second.start(group: group)
        try await Task.sleep(nanoseconds: 500_000_000)
        #expect(anonymousApp.logons == 0)
        second.stop()
        try await server.close()
    }
}

/// A throwaway CA with a server and a client certificate, made with the openssl command.
struct TestPKI {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fixbridge-pki-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else {
            throw TestPKIError.missing("the openssl command is needed to generate test certificates (apt-get install openssl)")
        }
        try run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Test CA",
                 "-keyout", "ca.key", "-out", "ca.pem"])
        for name in ["server", "client"] {
            try run(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=\(name)", "-keyout", "\(name).key", "-out", "\(name).csr"])
            try run(["x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                     "-days", "2", "-out", "\(name).pem"])
        }
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestPKIError.missing("openssl \(arguments.joined(separator: " ")) failed") }
    }
}

enum TestPKIError: Error { case missing(String) }

/// A store that buffers like the file store and records what was handed over by `flush()` and
/// what `syncFlushed()` made durable, so tests can see the runtime's order of work.
final class BufferingProbeStore: MessageStore, @unchecked Sendable {
    private let lock = NIOLock()
    private var pendingMessages: [Int: [UInt8]] = [:]
    private var pendingSequences: (Int, Int)?
    private var flushedMessages: [Int: [UInt8]] = [:]
    private var flushedSequences = (1, 1)
    private var syncs = 0
    private var syncsAtNormalPriority = 0
    private(set) var nextSenderSequence = 1
    private(set) var nextTargetSequence = 1
    let creationTime = FIXTimestamp(nanosecondsSinceEpoch: 0)

    var flushedTarget: Int { lock.withLock { flushedSequences.1 } }
    var syncCount: Int { lock.withLock { syncs } }
    /// Syncs that ran on a thread above the lowest CPU priority.
    var syncCountAtNormalPriority: Int { lock.withLock { syncsAtNormalPriority } }
    func isFlushed(_ sequence: Int) -> Bool { lock.withLock { flushedMessages[sequence] != nil } }

    func setSequences(nextSender: Int, nextTarget: Int) throws {
        lock.withLock { pendingSequences = (nextSender, nextTarget) }
        nextSenderSequence = nextSender
        nextTargetSequence = nextTarget
    }
    func save(sequence: Int, message: [UInt8]) throws { lock.withLock { pendingMessages[sequence] = message } }
    func messages(from: Int, through: Int) throws -> [(sequence: Int, message: [UInt8])] {
        try flush()
        return lock.withLock { flushedMessages.filter { $0.key >= from && $0.key <= through }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    }
    func reset(creationTime: FIXTimestamp) throws {
        lock.withLock {
            pendingMessages = [:]
            flushedMessages = [:]
            pendingSequences = nil
            flushedSequences = (1, 1)
        }
        nextSenderSequence = 1
        nextTargetSequence = 1
    }
    func flush() throws {
        lock.withLock {
            flushedMessages.merge(pendingMessages) { $1 }
            pendingMessages = [:]
            if let p = pendingSequences { flushedSequences = p }
            pendingSequences = nil
        }
    }
    func sync() throws { try flush() }
    func syncFlushed() throws {
        let lowest = Self.currentThreadHasLowestPriority()
        lock.withLock {
            syncs += 1
            if !lowest { syncsAtNormalPriority += 1 }
        }
    }

    /// SCHED_IDLE (5), or nice 19 where that policy is refused.
    static func currentThreadHasLowestPriority() -> Bool {
        #if os(Linux)
        if sched_getscheduler(0) == 5 { return true }
        return getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) == 19
        #else
        return true
        #endif
    }
}

/// Checks, when each message arrives, that the sender's store held it before it left.
final class FlushCheckingApplication: FIXApplication, @unchecked Sendable {
    private let lock = NIOLock()
    private var _received = 0
    private var _unflushed: [Int] = []
    var senderStore: BufferingProbeStore?
    var received: Int { lock.withLock { _received } }
    var unflushed: [Int] { lock.withLock { _unflushed } }
    func fromApp(_ message: [UInt8], session: FIXSessionRuntime) {
        let sequence = message.withUnsafeBytes { FIXMessage(unchecked: $0).first(34)?.int } ?? 0
        let flushed = senderStore?.isFlushed(Int(sequence)) ?? false
        lock.withLock {
            _received += 1
            if !flushed { _unflushed.append(Int(sequence)) }
        }
    }
}

@Suite(.serialized) struct RuntimeBatchingTests {
    /// The background fsync runs at the lowest CPU priority, so an event loop woken by a
    /// message never waits behind it; each batch is still synced.
    @Test func storeSyncsRunAtTheLowestPriority() async throws {
        let venueStore = BufferingProbeStore()
        let brokerStore = BufferingProbeStore()
        func runtime(_ type: FIXConnectionType, _ sender: String, _ target: String, _ store: MessageStore) -> FIXSessionRuntime {
            var config = FIXSessionConfiguration(id: FIXSessionID(beginString: "FIX.4.4", senderCompID: sender, targetCompID: target),
                                                 connectionType: type)
            config.heartBtIntSeconds = 30
            return FIXSessionRuntime(session: FIXSession(configuration: config), store: store, application: RecordingApplication())
        }
        let venue = runtime(.acceptor, "VENUE", "BRKR", venueStore)
        let broker = runtime(.initiator, "BRKR", "VENUE", brokerStore)
        let pair = try await LoopbackPair.start(venue: venue, broker: broker)
        let group = MultiThreadedEventLoopGroup.singleton
        for i in 1...20 {
            broker.send(msgType: "D") { $0.append(11, "ORD-\(i)"); $0.append(55, "MSFT") }
        }
        #expect(await eventually { venueStore.syncCount > 0 && brokerStore.syncCount > 0 })
        #expect(venueStore.syncCountAtNormalPriority == 0)
        #expect(brokerStore.syncCountAtNormalPriority == 0)
        // The event loops keep their normal priority.
        let loopPriority = try await group.next().submit { BufferingProbeStore.currentThreadHasLowestPriority() }.get()
        #expect(!loopPriority)
        try await pair.stop()
    }

    /// Sends leave only once the store holds them; a read batch that sends nothing still hands
    /// its sequence numbers to the store at its end, and the store is synced off the loop.
    @Test func storeIsFlushedBeforeSendingAndAtTheEndOfEveryReadBatch() async throws {
        let venueStore = BufferingProbeStore()
        let brokerStore = BufferingProbeStore()
        let venueApp = FlushCheckingApplication()
        venueApp.senderStore = brokerStore
        func runtime(_ type: FIXConnectionType, _ sender: String, _ target: String, _ store: MessageStore,
                     _ app: FIXApplication) -> FIXSessionRuntime {
            var config = FIXSessionConfiguration(id: FIXSessionID(beginString: "FIX.4.4", senderCompID: sender, targetCompID: target),
                                                 connectionType: type)
            config.heartBtIntSeconds = 30
            return FIXSessionRuntime(session: FIXSession(configuration: config), store: store, application: app)
        }
        let venue = runtime(.acceptor, "VENUE", "BRKR", venueStore, venueApp)
        let broker = runtime(.initiator, "BRKR", "VENUE", brokerStore, RecordingApplication())
        let pair = try await LoopbackPair.start(venue: venue, broker: broker)
        for i in 1...200 {
            broker.send(msgType: "D") { $0.append(11, "ORD-\(i)"); $0.append(55, "MSFT") }
        }
        #expect(await eventually { venueApp.received == 200 })
        #expect(venueApp.unflushed.isEmpty, "sent before the store held them: \(venueApp.unflushed.prefix(5))")
        // Logon (1) and 200 orders: the venue expects 202 next, and its store has been told so
        // although the venue answered nothing.
        #expect(await eventually { venueStore.flushedTarget == 202 })
        #expect(await eventually { venueStore.syncCount > 0 && brokerStore.syncCount > 0 })
        try await pair.stop()
    }
}
