import FIXSession
import FIXTagValue
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization

/// What the application sees of its sessions. Callbacks run on the session's event loop, after
/// the session's own actions, so `session.send` inside them is allowed.
public protocol FIXApplication: AnyObject, Sendable {
    func onLogon(_ session: FIXSessionRuntime)
    func onLogout(_ session: FIXSessionRuntime)
    /// An application message from the counterparty, already sequence-checked and validated.
    func fromApp(_ message: [UInt8], session: FIXSessionRuntime)
    /// Admin events (gaps, rejects, resends) for logging.
    func onNotice(_ notice: SessionNotice, session: FIXSessionRuntime)
}

extension FIXApplication {
    public func onLogon(_ session: FIXSessionRuntime) {}
    public func onLogout(_ session: FIXSessionRuntime) {}
    public func onNotice(_ notice: SessionNotice, session: FIXSessionRuntime) {}
}

/// An application message that could not be sent, naming the session and why.
public struct FIXSessionSendError: Error, CustomStringConvertible, Sendable {
    public let session: FIXSessionID
    public let reason: String
    public var description: String { "\(session): cannot send: \(reason)" }
}

/// One configured session with its store, bound to at most one connection at a time. It runs
/// the `FIXSession` state machine and carries out its actions: the single place where session
/// decisions meet sockets, timers and files.
public final class FIXSessionRuntime: @unchecked Sendable {
    public let id: FIXSessionID
    public let application: FIXApplication
    /// Event log (one line per event); defaults to nothing.
    public let eventLog: @Sendable (String) -> Void
    /// Message log: direction ("in"/"out") and bytes; defaults to nothing.
    public let messageLog: @Sendable (String, [UInt8]) -> Void
    /// Where the session reads the time and arms its timer (the real time by default).
    public let clock: any FIXRuntimeClock

    // Everything below is guarded by `lock`.
    private let lock = NIOLock()
    private var session: FIXSession
    private let store: MessageStore
    private var channel: Channel?
    private var timer: FIXClockTimer?
    /// When `timer` fires (at or before the deadline the session last asked for).
    private var timerDeadline: FIXTimestamp?
    /// Timers armed so far; the last one's number identifies the timer in force.
    private var timerArmings = 0
    /// Senders waiting for the connection to take more (`send(…) async`).
    private var writableWaiters: [CheckedContinuation<Void, Never>] = []
    /// True while the application asked for no more input (`setReading(false)`).
    private var readingPaused = false
    /// True from a message read until the end of its read batch: sends made meanwhile (on the
    /// event loop) are written to the connection but flushed once, at the batch end, after one
    /// flush of the store.
    private var inReadBatch = false
    /// The connection with writes waiting for the batch end, and how many bytes wait.
    private var flushPending: Channel?
    private var flushPendingBytes = 0
    /// Waiting writes go out before the batch end once this many bytes wait, so that the
    /// counterparty starts on a long batch's first messages while the rest are made.
    static let flushPendingBytesMax = 32 * 1024
    /// Guards the store, which the event loop and application threads both write to.
    private let storeLock = NIOLock()
    /// The background fsync: at most one runs at a time, and the batches that end while it
    /// runs share one more right after it (group commit). `syncIdle`, `syncRunning` or
    /// `syncRunningAndRequested`; an atomic rather than `lock`, so that the low-priority sync
    /// thread never holds a lock the event loop waits for.
    private let syncState = Atomic<Int>(0)
    private static let syncIdle = 0
    private static let syncRunning = 1
    private static let syncRunningAndRequested = 2

    public init(session: FIXSession, store: MessageStore, application: FIXApplication,
                eventLog: @escaping @Sendable (String) -> Void = { _ in },
                messageLog: @escaping @Sendable (String, [UInt8]) -> Void = { _, _ in },
                clock: any FIXRuntimeClock = FIXSystemClock()) {
        var session = session
        if store.nextSenderSequence != session.nextSenderSequence || store.nextTargetSequence != session.nextTargetSequence {
            let utcOffset = session.utcOffset
            session = FIXSession(configuration: session.configuration, validator: session.validator,
                                 nextSenderSequence: store.nextSenderSequence, nextTargetSequence: store.nextTargetSequence,
                                 storeCreationTime: store.creationTime)
            session.utcOffset = utcOffset
        }
        self.session = session
        self.id = session.configuration.id
        self.store = store
        self.application = application
        self.eventLog = eventLog
        self.messageLog = messageLog
        self.clock = clock
    }

    /// Application message types the application handles (others are rejected by the session).
    public func setSupportedApplicationTypes(_ types: Set<String>?) {
        lock.withLock { session.supportedApplicationTypes = types }
    }

    public var isLoggedOn: Bool { lock.withLock { session.isLoggedOn } }

    /// Timers armed so far (a message stream should not re-arm one per message).
    var timerArmingCount: Int { lock.withLock { timerArmings } }

    /// True while a connection is bound to the session.
    public var isConnected: Bool { lock.withLock { channel != nil } }

    /// Attaches a new connection; false when another connection already holds the session.
    func bind(_ channel: Channel) -> Bool {
        let actions: [SessionAction]? = lock.withLock {
            if self.channel != nil { return nil }
            self.channel = channel
            var actions: [SessionAction] = []
            session.connected(now: clock.now(), into: &actions)
            return actions
        }
        guard let actions else { return false }
        if lock.withLock({ readingPaused }) { channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in } }
        run(actions, on: channel)
        return true
    }

    /// The connection closed.
    func unbind(_ channel: Channel) {
        let actions: [SessionAction]? = lock.withLock {
            if flushPending === channel {
                flushPending = nil
                flushPendingBytes = 0
            }
            if self.channel === channel || self.channel == nil { inReadBatch = false }
            guard self.channel === channel else { return nil }
            var actions: [SessionAction] = []
            session.disconnected(now: clock.now(), into: &actions)
            self.channel = nil
            timer?.cancel()
            timer = nil
            timerDeadline = nil
            return actions
        }
        if let actions { run(actions, on: channel) }
        resumeWriters()
    }

    /// The connection's writability changed: senders waiting for room go on.
    func writabilityChanged(_ channel: Channel) {
        if channel.isWritable { resumeWriters() }
    }

    private func resumeWriters() {
        let waiters: [CheckedContinuation<Void, Never>] = lock.withLock {
            defer { writableWaiters = [] }
            return writableWaiters
        }
        for w in waiters { w.resume() }
    }

    /// Stops (false) or resumes (true) reading from the connection: an application that cannot
    /// keep up slows the counterparty down through TCP instead of buffering without bound. The
    /// choice holds for later connections too.
    public func setReading(_ reading: Bool) {
        let bound: Channel? = lock.withLock {
            readingPaused = !reading
            return channel
        }
        guard let bound else { return }
        bound.setOption(ChannelOptions.autoRead, value: reading).whenSuccess {
            if reading { bound.read() }
        }
    }

    /// Sends an application message like `send(msgType:extraHeader:body:)`, first waiting while
    /// the connection's outbound buffer is above its high watermark (SwiftNIO's writability), so
    /// a fast producer cannot queue without bound. Throws `FIXSessionSendError` when the session
    /// is not logged on.
    public func send(_ msgType: String, extraHeader: [(Int, [UInt8])] = [], body: (inout FIXWriter) -> Void) async throws {
        while true {
            guard isLoggedOn else { throw FIXSessionSendError(session: id, reason: "not logged on") }
            try Task.checkCancellation()
            let writable: Bool = lock.withLock { channel?.isWritable ?? true }
            if writable { break }
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now: Bool = lock.withLock {
                    if channel?.isWritable ?? true { return true }
                    writableWaiters.append(c)
                    return false
                }
                if now { c.resume() }
            }
        }
        sendNow(msgType: msgType, extraHeader: extraHeader, body: body)
    }

    func received(_ buffer: ByteBuffer, on channel: Channel) {
        let bytes = Array(buffer.readableBytesView)
        messageLog("in", bytes)
        let actions: [SessionAction] = lock.withLock {
            guard self.channel === channel else { return [] }
            inReadBatch = true
            var actions: [SessionAction] = []
            let store = self.store
            let storeLock = self.storeLock
            bytes.withUnsafeBytes { raw in
                session.received(raw, now: clock.now(),
                                 stored: { from, through in try storeLock.withLock { try store.messages(from: from, through: through) } },
                                 into: &actions)
            }
            return actions
        }
        run(actions, on: channel)
    }

    func garbled(_ error: FIXParseError, on channel: Channel) {
        eventLog("\(id): garbled message ignored: \(error)")
    }

    /// Sends an application message; the session writes the standard header (plus any
    /// `extraHeader` fields, e.g. PossResend(97)) and `body` appends the body.
    public func send(msgType: String, extraHeader: [(Int, [UInt8])] = [], body: (inout FIXWriter) -> Void) {
        sendNow(msgType: msgType, extraHeader: extraHeader, body: body)
    }

    private func sendNow(msgType: String, extraHeader: [(Int, [UInt8])], body: (inout FIXWriter) -> Void) {
        var bound: Channel?
        let actions: [SessionAction] = lock.withLock {
            var actions: [SessionAction] = []
            session.send(msgType: msgType, extraHeader: extraHeader, now: clock.now(), into: &actions, body: body)
            bound = channel
            return actions
        }
        run(actions, on: bound)
    }

    /// Logs out gracefully (Logout, wait for the reply, disconnect).
    public func logout(text: String? = nil) {
        var bound: Channel?
        let actions: [SessionAction] = lock.withLock {
            var actions: [SessionAction] = []
            session.logout(text: text, now: clock.now(), into: &actions)
            bound = channel
            return actions
        }
        run(actions, on: bound)
    }

    /// The end of a batch of messages read from the connection: the store's buffered writes go
    /// to the operating system, then the batch's outgoing messages to the connection in one
    /// flush, then the store is made durable (per its sync policy).
    func endOfBatch() {
        let pending: Channel? = lock.withLock {
            defer {
                inReadBatch = false
                flushPending = nil
                flushPendingBytes = 0
            }
            return flushPending
        }
        if let pending { _ = flushOut(pending) } else { flushStore() }
        syncStore()
    }

    /// Makes the store's flushed writes durable (per its sync policy) on a `BackgroundSync`
    /// thread, so the event loop never waits for the disk. The bytes have left by then: a power
    /// loss can lose the last batch, as with an fsync after the send on the loop, and a process
    /// crash loses nothing (the store flushed before the send).
    private func syncStore() {
        // Idle: start a sync. Running: ask it to go once more when done (unless already asked).
        var state = syncState.load(ordering: .acquiring)
        while state != Self.syncRunningAndRequested {
            let next = state == Self.syncIdle ? Self.syncRunning : Self.syncRunningAndRequested
            let (exchanged, original) = syncState.compareExchange(expected: state, desired: next,
                                                                   ordering: .acquiringAndReleasing)
            if exchanged {
                if state == Self.syncIdle { startSync() }
                return
            }
            state = original
        }
    }

    private func startSync() {
        BackgroundSync.submit {
            while true {
                do {
                    try self.store.syncFlushed()
                } catch {
                    self.eventLog("\(self.id): store sync failed: \(error)")
                }
                // Asked again meanwhile: one more sync covers every batch that ended since.
                if self.syncState.compareExchange(expected: Self.syncRunningAndRequested, desired: Self.syncRunning,
                                                  ordering: .acquiringAndReleasing).exchanged { continue }
                if self.syncState.compareExchange(expected: Self.syncRunning, desired: Self.syncIdle,
                                                  ordering: .acquiringAndReleasing).exchanged { return }
                // A request came between the two exchanges: go again.
            }
        }
    }

    /// Flushes the store's buffered writes, then the connection: bytes leave only once the
    /// store holds them, so a crash never loses a message the counterparty may ask for again.
    /// A store that cannot write ends the connection, and the unflushed bytes with it.
    private func flushOut(_ channel: Channel) -> Bool {
        guard flushStore() else {
            eventLog("\(id): disconnecting: the store cannot write")
            channel.close(promise: nil)
            return false
        }
        channel.flush()
        return true
    }

    /// Hands the store's buffered writes to the operating system; false (logged) when it fails.
    @discardableResult
    private func flushStore() -> Bool {
        do {
            try storeLock.withLock { try store.flush() }
            return true
        } catch {
            eventLog("\(id): store failed to write: \(error)")
            return false
        }
    }

    private func timerFired(on channel: Channel, arming: Int) {
        let actions: [SessionAction] = lock.withLock {
            // A timer replaced meanwhile (from another thread, as it fired) is not the one in
            // force: the newer one fires in its turn.
            guard self.channel === channel, arming == timerArmings else { return [] }
            timer = nil
            timerDeadline = nil
            var actions: [SessionAction] = []
            session.timerFired(now: clock.now(), into: &actions)
            return actions
        }
        run(actions, on: channel)
    }

    /// Carries out the actions in order: the one `switch` where decisions become effects.
    private func run(_ actions: [SessionAction], on channel: Channel?) {
        var callbacks: [() -> Void] = []
        var wrote = false
        var wroteBytes = 0
        var storeTouched = false
        for action in actions {
            switch action {
            case .send(let bytes, let sequence, let persist):
                if persist {
                    storeTouched = true
                    if !save(bytes, sequence: sequence, channel: channel) { return }
                }
                messageLog("out", bytes)
                if let channel {
                    channel.write(ByteBuffer(bytes: bytes), promise: nil)
                    wrote = true
                    wroteBytes += bytes.count
                }
            case .persist(let bytes, let sequence):
                storeTouched = true
                _ = save(bytes, sequence: sequence, channel: channel)
            case .storeSequences(let sender, let target):
                storeTouched = true
                do {
                    try storeLock.withLock { try store.setSequences(nextSender: sender, nextTarget: target) }
                } catch {
                    eventLog("\(id): store failed to record sequence numbers: \(error)")
                }
            case .resetStore:
                storeTouched = true
                do {
                    try storeLock.withLock { try store.reset(creationTime: clock.now()) }
                } catch {
                    eventLog("\(id): store reset failed: \(error)")
                }
            case .deliver(let message):
                callbacks.append { self.application.fromApp(message, session: self) }
            case .setTimer(let deadline):
                guard let channel else { continue }
                lock.withLock {
                    // The session moves its heartbeat deadline later with nearly every message.
                    // A timer already armed to fire no later than the new deadline is kept: it
                    // fires early, the session finds nothing due and asks again, once per
                    // heartbeat interval instead of a cancel and a new task per message.
                    if let deadline, timer != nil, let armed = timerDeadline, armed <= deadline { return }
                    timer?.cancel()
                    timerDeadline = deadline
                    guard let deadline else {
                        timer = nil
                        return
                    }
                    timerArmings += 1
                    let arming = timerArmings
                    timer = clock.schedule(at: deadline, owner: id.description, on: channel.eventLoop) { [weak self] in
                        self?.timerFired(on: channel, arming: arming)
                    }
                }
            case .disconnect(let reason):
                eventLog("\(id): disconnecting: \(reason)")
                // Free the session at once, so a reconnection that races the close can bind.
                lock.withLock {
                    if self.channel === channel {
                        self.channel = nil
                        timer?.cancel()
                        timer = nil
                        timerDeadline = nil
                    }
                }
                if let channel {
                    // What this batch wrote earlier goes out before the close, not only this run's.
                    _ = flushOut(channel)
                    wrote = false
                    channel.close(promise: nil)
                }
            case .notice(let notice):
                eventLog("\(id): \(notice)")
                switch notice {
                case .loggedOn: callbacks.append { self.application.onLogon(self) }
                case .loggedOut: callbacks.append { self.application.onLogout(self) }
                default: callbacks.append { self.application.onNotice(notice, session: self) }
                }
            }
        }
        switch batchRole(of: channel, wroteBytes: wrote ? wroteBytes : 0) {
        case .deferred:
            break
        case .flushNow:
            if let channel, !flushOut(channel) { return }
        case .outside:
            // A timer, an application thread, no connection: at once.
            if wrote, let channel {
                if !flushOut(channel) { return }
            } else if storeTouched {
                flushStore()
            }
            if storeTouched { syncStore() }
        }
        for callback in callbacks { callback() }
    }

    private enum BatchRole {
        /// Not inside a read batch on the connection's event loop.
        case outside
        /// Inside one: the batch end flushes the store, then the connection, once, then syncs.
        case deferred
        /// Inside one, with `flushPendingBytesMax` bytes waiting: they go out now.
        case flushNow
    }

    /// Where a run's writes go out, counting `wroteBytes` towards the batch's waiting bytes.
    private func batchRole(of channel: Channel?, wroteBytes: Int) -> BatchRole {
        guard let channel, channel.eventLoop.inEventLoop else { return .outside }
        return lock.withLock {
            guard inReadBatch, self.channel === channel else { return .outside }
            guard wroteBytes > 0 else { return .deferred }
            flushPendingBytes += wroteBytes
            if flushPendingBytes >= Self.flushPendingBytesMax {
                flushPending = nil
                flushPendingBytes = 0
                return .flushNow
            }
            flushPending = channel
            return .deferred
        }
    }

    /// Stores an outbound message; a failure ends the connection, since a message that cannot
    /// be resent must not be sent.
    private func save(_ bytes: [UInt8], sequence: Int, channel: Channel?) -> Bool {
        do {
            try storeLock.withLock { try store.save(sequence: sequence, message: bytes) }
            return true
        } catch {
            eventLog("\(id): store failed to save message \(sequence): \(error); disconnecting")
            channel?.close(promise: nil)
            return false
        }
    }
}
