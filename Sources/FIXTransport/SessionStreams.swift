import FIXSession
import FIXTagValue
import NIOConcurrencyHelpers
import NIOCore

/// An application message received on a session.
public struct FIXInboundMessage: Sendable {
    public let session: FIXSessionID
    /// The whole message as received (SOH-delimited, header and trailer included).
    public let bytes: [UInt8]

    /// MsgType(35).
    public var msgType: String? {
        bytes.withUnsafeBytes { FIXMessage(unchecked: $0, lenient: true).msgType?.string }
    }
}

/// What happens to a session, for logging: logon, logout, and the session's notices (gaps,
/// resends, rejects, sequence resets).
public enum FIXSessionEvent: Sendable {
    case loggedOn(FIXSessionID)
    case loggedOut(FIXSessionID)
    case notice(FIXSessionID, SessionNotice)
}

/// The Swift-concurrency face of sessions: incoming application messages as an `AsyncSequence`
/// with backpressure, admin events as another, and `send` that waits for room.
///
/// Give it to the runtimes as their application. When the consumer of `messages` falls behind
/// by `highWatermark` messages, every session it serves stops reading from its connection
/// (TCP then slows the counterparty down); below `lowWatermark` reading resumes. Nothing is
/// dropped and memory stays bounded.
///
/// ```swift
/// let streams = FIXSessionStreams()
/// let runtime = FIXSessionRuntime(session: session, store: store, application: streams)
/// FIXInitiator(runtime: runtime, endpoints: [("127.0.0.1", 9876)]).start(group: group)
/// Task { for await event in streams.events { print(event) } }
/// for await message in streams.messages {
///     if message.msgType == "8" { … }
///     try await runtime.send("D") { body in … }   // waits while the connection is full
/// }
/// ```
public final class FIXSessionStreams: FIXApplication, @unchecked Sendable {
    public typealias Messages = NIOAsyncSequenceProducer<
        FIXInboundMessage, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, ReadingSwitch
    >

    /// Incoming application messages of every session this application serves, in arrival order
    /// per session. One consumer.
    public let messages: Messages
    /// Logons, logouts and notices. Events beyond `eventsBufferedMax` unread are dropped (oldest
    /// kept): they are for logging, and must never hold a session up.
    public let events: AsyncStream<FIXSessionEvent>
    public static let eventsBufferedMax = 10_000

    private let source: Messages.Source
    private let eventSink: AsyncStream<FIXSessionEvent>.Continuation
    private let reading: ReadingSwitch

    public init(highWatermark: Int = 1_024, lowWatermark: Int = 256) {
        precondition(lowWatermark >= 0 && lowWatermark < highWatermark, "0 <= lowWatermark < highWatermark")
        reading = ReadingSwitch()
        let made = Messages.makeSequence(
            backPressureStrategy: .init(lowWatermark: lowWatermark, highWatermark: highWatermark),
            finishOnDeinit: false, delegate: reading)
        messages = made.sequence
        source = made.source
        (events, eventSink) = AsyncStream.makeStream(of: FIXSessionEvent.self,
                                                     bufferingPolicy: .bufferingOldest(Self.eventsBufferedMax))
    }

    /// Ends both sequences (after what was already received).
    public func finish() {
        source.finish()
        eventSink.finish()
    }

    public func onLogon(_ session: FIXSessionRuntime) {
        reading.register(session)
        eventSink.yield(.loggedOn(session.id))
    }

    public func onLogout(_ session: FIXSessionRuntime) {
        eventSink.yield(.loggedOut(session.id))
    }

    public func onNotice(_ notice: SessionNotice, session: FIXSessionRuntime) {
        eventSink.yield(.notice(session.id, notice))
    }

    public func fromApp(_ message: [UInt8], session: FIXSessionRuntime) {
        reading.register(session)
        switch source.yield(FIXInboundMessage(session: session.id, bytes: message)) {
        case .stopProducing: reading.set(false)
        case .produceMore, .dropped: break
        }
    }

    /// Turns reading on and off for every session the streams serve, as the consumer asks.
    public final class ReadingSwitch: NIOAsyncSequenceProducerDelegate, @unchecked Sendable {
        private let state = NIOLockedValueBox<(runtimes: [ObjectIdentifier: FIXSessionRuntime], reading: Bool)>(([:], true))

        func register(_ runtime: FIXSessionRuntime) {
            let paused: Bool = state.withLockedValue { s in
                s.runtimes[ObjectIdentifier(runtime)] = runtime
                return !s.reading
            }
            if paused { runtime.setReading(false) }
        }

        func set(_ reading: Bool) {
            let runtimes: [FIXSessionRuntime] = state.withLockedValue { s in
                guard s.reading != reading else { return [] }
                s.reading = reading
                return Array(s.runtimes.values)
            }
            for r in runtimes { r.setReading(reading) }
        }

        public func produceMore() { set(true) }

        /// The consumer is gone: reading resumes so that the sessions keep running.
        public func didTerminate() { set(true) }
    }
}
