import FIXTagValue

/// Where a session keeps what it must not forget: the next sequence numbers in both directions
/// and every message it sent, so that a ResendRequest can be answered after a restart.
///
/// The session state machine never calls a store itself (it does no I/O): it returns
/// `SessionAction.persist…` actions, and the driver that runs the machine carries them out
/// against a store, in order, before it sends the bytes. A ResendRequest is answered the same
/// way: the machine asks for a range and the driver hands it the stored messages.
///
/// ```swift
/// let store = try FileMessageStore(directory: "store", sessionID: id)   // durable
/// let memory = InMemoryMessageStore()                                    // tests, or no persistence
/// try store.save(sequence: 7, message: bytes)
/// let again = try store.messages(from: 5, through: 7)                    // [(5, …), (7, …)]
/// ```
public protocol MessageStore: AnyObject {
    /// The next MsgSeqNum this side will send.
    var nextSenderSequence: Int { get }
    /// The next MsgSeqNum this side expects to receive.
    var nextTargetSequence: Int { get }
    /// When the store's session started (its creation time, kept across restarts; QuickFIX
    /// keeps it in the `.session` file).
    var creationTime: FIXTimestamp { get }

    /// Records both sequence numbers.
    func setSequences(nextSender: Int, nextTarget: Int) throws
    /// Stores an outbound message under its MsgSeqNum (a later save with the same number wins).
    func save(sequence: Int, message: [UInt8]) throws
    /// The stored outbound messages with MsgSeqNum in `from...through`, in order; gaps (admin
    /// messages are not stored) are simply absent.
    func messages(from: Int, through: Int) throws -> [(sequence: Int, message: [UInt8])]
    /// Forgets every message and sets both sequence numbers to 1 with a new creation time.
    func reset(creationTime: FIXTimestamp) throws
    /// Hands writes the store buffered to the operating system, so that a process crash loses
    /// none of them. The driver calls it before it sends the bytes those writes cover; `sync()`
    /// flushes too. A no-op for stores that write through.
    func flush() throws
    /// Makes everything saved so far durable (a no-op for stores that write through).
    func sync() throws
    /// Makes what `flush()` has written durable (per the store's sync policy) without touching
    /// what is still buffered, so a driver may call it on another thread while it goes on
    /// saving and flushing (never while it resets or closes the store). Defaults to `sync()`.
    func syncFlushed() throws
}

extension MessageStore {
    public func flush() throws {}
    public func syncFlushed() throws { try sync() }
}

/// A store that keeps everything in memory: for tests and sessions that need no durability.
public final class InMemoryMessageStore: MessageStore {
    public private(set) var nextSenderSequence = 1
    public private(set) var nextTargetSequence = 1
    public private(set) var creationTime: FIXTimestamp
    private var stored: [Int: [UInt8]] = [:]

    public init(creationTime: FIXTimestamp = FIXTimestamp(nanosecondsSinceEpoch: 0)) {
        self.creationTime = creationTime
    }

    public func setSequences(nextSender: Int, nextTarget: Int) throws {
        nextSenderSequence = nextSender
        nextTargetSequence = nextTarget
    }

    public func save(sequence: Int, message: [UInt8]) throws {
        stored[sequence] = message
    }

    public func messages(from: Int, through: Int) throws -> [(sequence: Int, message: [UInt8])] {
        guard from <= through else { return [] }
        return stored.keys.filter { $0 >= from && $0 <= through }.sorted().map { ($0, stored[$0]!) }
    }

    public func reset(creationTime: FIXTimestamp) throws {
        stored.removeAll()
        nextSenderSequence = 1
        nextTargetSequence = 1
        self.creationTime = creationTime
    }

    public func sync() throws {}
}
