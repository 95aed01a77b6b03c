import FIXSession
import FIXTagValue
import Testing

/// The behaviour every `MessageStore` must have, written once and run against each
/// implementation (in-memory, file, and any added later), so that they cannot drift apart.
///
/// Each check is a case, so a test target runs them as one parameterised test and a failure
/// names the check:
///
/// ```swift
/// @Test(arguments: MessageStoreConformance.Check.allCases)
/// func conforms(_ check: MessageStoreConformance.Check) throws {
///     try MessageStoreConformance.run(check) { InMemoryMessageStore() }
/// }
/// ```
///
/// Durable stores also run `DurableCheck`, which closes a store and opens it again.
public enum MessageStoreConformance {
    /// Checks that need only a fresh, empty store.
    public enum Check: String, CaseIterable, Sendable, CustomStringConvertible {
        case sequencesStartAtOne
        case setSequencesThenGet
        case savedMessagesReadBackInOrder
        case gapsAreAbsentFromRanges
        case laterSaveOfSameSequenceWins
        case outOfOrderSavesReadBackAscending
        case resetForgetsMessagesAndSequences
        case largeAndBinaryMessagesReadBackIdentical
        case rangesBeyondTheEndAreClipped
        case emptyAndInvertedRangesAreEmpty
        case syncChangesNothing
        case manyMessagesAnswerSubranges

        public var description: String { rawValue }
    }

    /// Checks that close a store and open it again on the same data.
    public enum DurableCheck: String, CaseIterable, Sendable, CustomStringConvertible {
        case sequencesSurviveReopen
        case messagesSurviveReopen
        case creationTimeSurvivesReopen
        case resetSurvivesReopen
        case overwriteSurvivesReopen
        case appendAfterReopenContinues

        public var description: String { rawValue }
    }

    /// A fixed creation time in whole seconds (the file layout keeps seconds only).
    public static let resetTime = FIXTimestamp("20240315-08:00:00")!

    /// A FIX-looking message whose content depends on `sequence` and `variant`.
    public static func message(_ sequence: Int, _ variant: String = "") -> [UInt8] {
        let body = "35=D\u{1}34=\(sequence)\u{1}49=BRKR\u{1}56=VENUE\u{1}11=ORD\(sequence)\(variant)\u{1}"
        return Array("8=FIX.4.4\u{1}9=\(body.utf8.count)\u{1}\(body)10=000\u{1}".utf8)
    }

    /// Runs one check against a fresh store from `makeStore`.
    public static func run(_ check: Check, sourceLocation: SourceLocation = #_sourceLocation,
                           makeStore: () throws -> any MessageStore) throws {
        let store = try makeStore()
        switch check {
        case .sequencesStartAtOne:
            #expect(store.nextSenderSequence == 1, sourceLocation: sourceLocation)
            #expect(store.nextTargetSequence == 1, sourceLocation: sourceLocation)
            #expect(try store.messages(from: 1, through: 1_000).isEmpty, sourceLocation: sourceLocation)

        case .setSequencesThenGet:
            try store.setSequences(nextSender: 5, nextTarget: 9)
            #expect(store.nextSenderSequence == 5, sourceLocation: sourceLocation)
            #expect(store.nextTargetSequence == 9, sourceLocation: sourceLocation)
            try store.setSequences(nextSender: 6, nextTarget: 9)
            try store.setSequences(nextSender: 6, nextTarget: 1_234_567)
            #expect(store.nextSenderSequence == 6, sourceLocation: sourceLocation)
            #expect(store.nextTargetSequence == 1_234_567, sourceLocation: sourceLocation)

        case .savedMessagesReadBackInOrder:
            for sequence in 1...5 { try store.save(sequence: sequence, message: message(sequence)) }
            let all = try store.messages(from: 1, through: 5)
            #expect(all.map(\.sequence) == [1, 2, 3, 4, 5], sourceLocation: sourceLocation)
            #expect(all.map(\.message) == (1...5).map { message($0) }, sourceLocation: sourceLocation)
            let middle = try store.messages(from: 2, through: 3)
            #expect(middle.map(\.sequence) == [2, 3], sourceLocation: sourceLocation)
            #expect(middle.map(\.message) == [message(2), message(3)], sourceLocation: sourceLocation)
            let one = try store.messages(from: 4, through: 4)
            #expect(one.map(\.sequence) == [4], sourceLocation: sourceLocation)

        case .gapsAreAbsentFromRanges:
            for sequence in [1, 2, 5, 7] { try store.save(sequence: sequence, message: message(sequence)) }
            #expect(try store.messages(from: 1, through: 10).map(\.sequence) == [1, 2, 5, 7],
                sourceLocation: sourceLocation)
            #expect(try store.messages(from: 3, through: 4).isEmpty, sourceLocation: sourceLocation)
            #expect(try store.messages(from: 3, through: 5).map(\.message) == [message(5)],
                sourceLocation: sourceLocation)

        case .laterSaveOfSameSequenceWins:
            for sequence in 1...3 { try store.save(sequence: sequence, message: message(sequence)) }
            try store.save(sequence: 2, message: message(2, "-second-and-longer"))
            try store.save(sequence: 3, message: Array("8=X".utf8))
            let all = try store.messages(from: 1, through: 3)
            #expect(all.map(\.sequence) == [1, 2, 3], sourceLocation: sourceLocation)
            #expect(all.map(\.message) == [message(1), message(2, "-second-and-longer"), Array("8=X".utf8)],
                    sourceLocation: sourceLocation)

        case .outOfOrderSavesReadBackAscending:
            for sequence in [9, 3, 6, 1] { try store.save(sequence: sequence, message: message(sequence)) }
            let all = try store.messages(from: 1, through: 9)
            #expect(all.map(\.sequence) == [1, 3, 6, 9], sourceLocation: sourceLocation)
            #expect(all.map(\.message) == [1, 3, 6, 9].map { message($0) }, sourceLocation: sourceLocation)

        case .resetForgetsMessagesAndSequences:
            for sequence in 1...4 { try store.save(sequence: sequence, message: message(sequence)) }
            try store.setSequences(nextSender: 5, nextTarget: 12)
            try store.reset(creationTime: resetTime)
            #expect(store.nextSenderSequence == 1, sourceLocation: sourceLocation)
            #expect(store.nextTargetSequence == 1, sourceLocation: sourceLocation)
            #expect(store.creationTime == resetTime, sourceLocation: sourceLocation)
            #expect(try store.messages(from: 1, through: 100).isEmpty, sourceLocation: sourceLocation)
            // The store is usable after a reset.
            try store.save(sequence: 1, message: message(1, "-after-reset"))
            try store.setSequences(nextSender: 2, nextTarget: 1)
            #expect(try store.messages(from: 1, through: 100).map(\.message) == [message(1, "-after-reset")],
                    sourceLocation: sourceLocation)
            #expect(store.nextSenderSequence == 2, sourceLocation: sourceLocation)

        case .largeAndBinaryMessagesReadBackIdentical:
            // Every byte value, including SOH, newline, comma and NUL, which the file layouts
            // use or might be tempted to use as separators.
            let binary = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 / 256) }
            var large = message(2)
            large += [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
            try store.save(sequence: 1, message: binary)
            try store.save(sequence: 2, message: large)
            try store.save(sequence: 3, message: message(3))
            let all = try store.messages(from: 1, through: 3)
            #expect(all.count == 3, sourceLocation: sourceLocation)
            #expect(all.first?.message == binary, sourceLocation: sourceLocation)
            #expect(all.dropFirst().first?.message == large, sourceLocation: sourceLocation)
            #expect(all.last?.message == message(3), sourceLocation: sourceLocation)

        case .rangesBeyondTheEndAreClipped:
            for sequence in 1...3 { try store.save(sequence: sequence, message: message(sequence)) }
            #expect(try store.messages(from: 2, through: 1_000).map(\.sequence) == [2, 3],
                sourceLocation: sourceLocation)
            #expect(try store.messages(from: 1, through: Int.max).map(\.sequence) == [1, 2, 3],
                    sourceLocation: sourceLocation)
            #expect(try store.messages(from: 10, through: 20).isEmpty, sourceLocation: sourceLocation)
            #expect(try store.messages(from: 0, through: 1).map(\.sequence) == [1], sourceLocation: sourceLocation)

        case .emptyAndInvertedRangesAreEmpty:
            #expect(try store.messages(from: 1, through: 1).isEmpty, sourceLocation: sourceLocation)
            try store.save(sequence: 1, message: message(1))
            try store.save(sequence: 2, message: message(2))
            #expect(try store.messages(from: 2, through: 1).isEmpty, sourceLocation: sourceLocation)
            #expect(try store.messages(from: Int.max, through: Int.min).isEmpty, sourceLocation: sourceLocation)

        case .syncChangesNothing:
            try store.save(sequence: 1, message: message(1))
            try store.setSequences(nextSender: 2, nextTarget: 3)
            try store.sync()
            try store.sync()
            #expect(store.nextSenderSequence == 2, sourceLocation: sourceLocation)
            #expect(store.nextTargetSequence == 3, sourceLocation: sourceLocation)
            #expect(try store.messages(from: 1, through: 1).map(\.message) == [message(1)],
                sourceLocation: sourceLocation)

        case .manyMessagesAnswerSubranges:
            for sequence in 1...1_000 {
                try store.save(sequence: sequence, message: message(sequence))
                try store.setSequences(nextSender: sequence + 1, nextTarget: 1)
            }
            let slice = try store.messages(from: 400, through: 600)
            #expect(slice.map(\.sequence) == Array(400...600), sourceLocation: sourceLocation)
            #expect(slice.map(\.message) == (400...600).map { message($0) }, sourceLocation: sourceLocation)
            #expect(store.nextSenderSequence == 1_001, sourceLocation: sourceLocation)
        }
    }

    /// Runs one reopen check. `open` opens the store on the same data each time it is called;
    /// `close` releases a store so that it can be opened again.
    public static func run(_ check: DurableCheck, sourceLocation: SourceLocation = #_sourceLocation,
                           open: () throws -> any MessageStore, close: (any MessageStore) -> Void) throws {
        var store = try open()
        func reopen() throws {
            close(store)
            store = try open()
        }
        switch check {
        case .sequencesSurviveReopen:
            try store.setSequences(nextSender: 42, nextTarget: 17)
            try reopen()
            #expect(store.nextSenderSequence == 42, sourceLocation: sourceLocation)
            #expect(store.nextTargetSequence == 17, sourceLocation: sourceLocation)

        case .messagesSurviveReopen:
            for sequence in [1, 2, 4] { try store.save(sequence: sequence, message: message(sequence)) }
            try reopen()
            let all = try store.messages(from: 1, through: 10)
            #expect(all.map(\.sequence) == [1, 2, 4], sourceLocation: sourceLocation)
            #expect(all.map(\.message) == [1, 2, 4].map { message($0) }, sourceLocation: sourceLocation)

        case .creationTimeSurvivesReopen:
            let created = store.creationTime
            try reopen()
            #expect(store.creationTime == created, sourceLocation: sourceLocation)

        case .resetSurvivesReopen:
            for sequence in 1...3 { try store.save(sequence: sequence, message: message(sequence)) }
            try store.setSequences(nextSender: 4, nextTarget: 8)
            try store.reset(creationTime: resetTime)
            try reopen()
            #expect(store.nextSenderSequence == 1, sourceLocation: sourceLocation)
            #expect(store.nextTargetSequence == 1, sourceLocation: sourceLocation)
            #expect(store.creationTime == resetTime, sourceLocation: sourceLocation)
            #expect(try store.messages(from: 1, through: 10).isEmpty, sourceLocation: sourceLocation)

        case .overwriteSurvivesReopen:
            try store.save(sequence: 1, message: message(1))
            try store.save(sequence: 2, message: message(2))
            try store.save(sequence: 1, message: message(1, "-resent"))
            try reopen()
            #expect(try store.messages(from: 1, through: 2).map(\.message) == [message(1, "-resent"), message(2)],
                    sourceLocation: sourceLocation)

        case .appendAfterReopenContinues:
            try store.save(sequence: 1, message: message(1))
            try store.setSequences(nextSender: 2, nextTarget: 1)
            try reopen()
            try store.save(sequence: 2, message: message(2))
            try store.setSequences(nextSender: 3, nextTarget: 2)
            try reopen()
            #expect(try store.messages(from: 1, through: 2).map(\.message) == [message(1), message(2)],
                    sourceLocation: sourceLocation)
            #expect(store.nextSenderSequence == 3, sourceLocation: sourceLocation)
            #expect(store.nextTargetSequence == 2, sourceLocation: sourceLocation)
        }
        close(store)
    }
}
