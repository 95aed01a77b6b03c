import FIXSession
import FIXSessionFileStore
import FIXSessionTestSupport
import FIXTagValue
import FIXTestSupport
import Foundation
import Synchronization
import Testing

let sessionID = FIXSessionID(beginString: "FIX.4.4", senderCompID: "BRKR", targetCompID: "VENUE")
let created = FIXTimestamp("20240102-03:04:05")!

func openStore(_ folder: TemporaryDirectory,
               sync: FileMessageStore.SyncPolicy = .everyBatch) throws -> FileMessageStore {
    try FileMessageStore(directory: folder.path, sessionID: sessionID, sync: sync, newStoreCreationTime: created)
}

func contents(_ path: String) throws -> String {
    String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
}

func append(_ text: String, to path: String) throws {
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(text.utf8))
}

func truncate(_ path: String, by bytes: Int) throws {
    let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
    #expect(Foundation.truncate(path, off_t(size - bytes)) == 0)
}

func message(_ sequence: Int, _ variant: String = "") -> [UInt8] { MessageStoreConformance.message(sequence, variant) }

/// Saves messages 1...count and advances the sender sequence after each, as the driver does.
func fill(_ store: FileMessageStore, _ range: ClosedRange<Int>) throws {
    for sequence in range {
        try store.save(sequence: sequence, message: message(sequence))
        try store.setSequences(nextSender: sequence + 1, nextTarget: 1)
    }
}

@Suite struct FileMessageStoreConformanceTests {
    @Test(arguments: MessageStoreConformance.Check.allCases)
    func fileStoreConforms(_ check: MessageStoreConformance.Check) throws {
        let folder = try TemporaryDirectory()
        try MessageStoreConformance.run(check) { try openStore(folder) }
    }

    @Test(arguments: MessageStoreConformance.DurableCheck.allCases)
    func fileStoreKeepsStateAcrossReopen(_ check: MessageStoreConformance.DurableCheck) throws {
        let folder = try TemporaryDirectory()
        try MessageStoreConformance.run(check, open: { try openStore(folder) },
                                        close: { ($0 as! FileMessageStore).close() })
    }

    /// The default policy syncs every write; the checks that write little run with it too.
    @Test(arguments: [MessageStoreConformance.Check.savedMessagesReadBackInOrder, .laterSaveOfSameSequenceWins,
                      .resetForgetsMessagesAndSequences, .gapsAreAbsentFromRanges])
    func fileStoreConformsWhenSyncingEveryMessage(_ check: MessageStoreConformance.Check) throws {
        let folder = try TemporaryDirectory()
        try MessageStoreConformance.run(check) { try openStore(folder, sync: .everyMessage) }
    }

    @Test(arguments: MessageStoreConformance.DurableCheck.allCases)
    func fileStoreKeepsStateAcrossReopenWithoutSync(_ check: MessageStoreConformance.DurableCheck) throws {
        let folder = try TemporaryDirectory()
        try MessageStoreConformance.run(check, open: { try openStore(folder, sync: .none) },
                                        close: { ($0 as! FileMessageStore).close() })
    }
}

@Suite struct FileMessageStoreLayoutTests {
    @Test func writesQuickFIXFileLayout() throws {
        let folder = try TemporaryDirectory()
        let store = try openStore(folder)
        try store.save(sequence: 1, message: Array("8=A".utf8))
        try store.save(sequence: 2, message: Array("8=BB".utf8))
        try store.setSequences(nextSender: 3, nextTarget: 12)
        store.close()
        let stem = folder.file("FIX.4.4-BRKR-VENUE")
        #expect(try contents(stem + ".body") == "8=A8=BB")
        #expect(try contents(stem + ".header") == "1,0,3\n2,3,4\n")
        #expect(try contents(stem + ".seqnums") == "0000000003 : 0000000012")
        #expect(try contents(stem + ".session") == "20240102-03:04:05")
        #expect(store.paths.body == stem + ".body")
    }

    @Test func qualifierIsPartOfTheFileNames() throws {
        let folder = try TemporaryDirectory()
        var id = sessionID
        id.qualifier = "EU"
        _ = try FileMessageStore(directory: folder.path, sessionID: id)
        #expect(FileManager.default.fileExists(atPath: folder.file("FIX.4.4-BRKR-VENUE-EU.seqnums")))
    }

    @Test func createsMissingDirectories() throws {
        let folder = try TemporaryDirectory()
        let store = try FileMessageStore(directory: folder.file("a/b/store"), sessionID: sessionID)
        try store.save(sequence: 1, message: message(1))
        #expect(FileManager.default.fileExists(atPath: folder.file("a/b/store/FIX.4.4-BRKR-VENUE.body")))
    }

    /// QuickFIX C++ separates index entries with a space and no newline, and its `.seqnums`
    /// may be read back in any spacing; a store it wrote opens here.
    @Test func readsAStoreWrittenByQuickFIX() throws {
        let folder = try TemporaryDirectory()
        let stem = folder.file("FIX.4.4-BRKR-VENUE")
        try Data("8=A8=BB8=CCC".utf8).write(to: URL(fileURLWithPath: stem + ".body"))
        try Data("1,0,3 2,3,4 2,7,5 ".utf8).write(to: URL(fileURLWithPath: stem + ".header"))
        try Data("0000000004 : 0000000009".utf8).write(to: URL(fileURLWithPath: stem + ".seqnums"))
        try Data("20231231-23:59:59".utf8).write(to: URL(fileURLWithPath: stem + ".session"))
        let store = try openStore(folder)
        #expect(store.recoveryNotes.isEmpty)
        #expect(store.nextSenderSequence == 4)
        #expect(store.nextTargetSequence == 9)
        #expect(store.creationTime == FIXTimestamp("20231231-23:59:59")!)
        #expect(try store.messages(from: 1, through: 3).map(\.message) == [Array("8=A".utf8), Array("8=CCC".utf8)])
        try store.save(sequence: 3, message: Array("8=D".utf8))
        try store.flush()
        #expect(try contents(stem + ".header") == "1,0,3 2,3,4 2,7,5 3,12,3\n")
    }

    @Test func fileStoreSyncSettingChoosesThePolicy() {
        #expect(FileMessageStore.SyncPolicy(fileStoreSync: true) == .everyMessage)
        #expect(FileMessageStore.SyncPolicy(fileStoreSync: false) == .everyBatch)
    }

    @Test func sequenceFileInAnotherWidthIsRewrittenOnce() throws {
        let folder = try TemporaryDirectory()
        let path = folder.file("FIX.4.4-BRKR-VENUE.seqnums")
        try Data("7:8\n".utf8).write(to: URL(fileURLWithPath: path))
        let store = try openStore(folder)
        #expect(store.nextSenderSequence == 7 && store.nextTargetSequence == 8)
        #expect(try contents(path) == "0000000007 : 0000000008")
    }
}

@Suite struct FileMessageStoreRecoveryTests {
    @Test func partialLastIndexEntryIsCutAway() throws {
        let folder = try TemporaryDirectory()
        let store = try openStore(folder)
        try fill(store, 1...3)
        store.close()
        // A crash after the body write and part of the index entry.
        try append("HALF-WRITTEN", to: store.paths.body)
        try append("4,999,1", to: store.paths.header)
        let reopened = try openStore(folder)
        #expect(reopened.recoveryNotes.count == 2)
        #expect(reopened.recoveryNotes.first?.contains(".header: offset ") == true)
        #expect(try reopened.messages(from: 1, through: 10).map(\.message) == (1...3).map { message($0) })
        #expect(reopened.nextSenderSequence == 4)
        try fill(reopened, 4...5)
        reopened.close()
        let again = try openStore(folder)
        #expect(again.recoveryNotes.isEmpty)
        #expect(try again.messages(from: 1, through: 10).map(\.message) == (1...5).map { message($0) })
    }

    @Test(arguments: ["garbage", "@@@\n", "\n\n12,", "3,0", "9,0,12345678\n", "-1,0,1\n"])
    func garbageAfterTheIndexIsCutAway(_ garbage: String) throws {
        let folder = try TemporaryDirectory()
        let store = try openStore(folder)
        try fill(store, 1...2)
        store.close()
        try append(garbage, to: store.paths.header)
        let reopened = try openStore(folder)
        #expect(!reopened.recoveryNotes.isEmpty)
        #expect(try reopened.messages(from: 1, through: 10).map(\.message) == [message(1), message(2)])
        try reopened.save(sequence: 3, message: message(3))
        reopened.close()
        let again = try openStore(folder)
        #expect(again.recoveryNotes.isEmpty)
        #expect(try again.messages(from: 1, through: 10).map(\.sequence) == [1, 2, 3])
    }

    @Test func bodyShorterThanTheIndexDropsTheLostEntries() throws {
        let folder = try TemporaryDirectory()
        let store = try openStore(folder)
        try fill(store, 1...3)
        store.close()
        try truncate(store.paths.body, by: 5)
        let reopened = try openStore(folder)
        #expect(reopened.recoveryNotes.contains { $0.contains("points past the end of the body") })
        #expect(try reopened.messages(from: 1, through: 10).map(\.message) == [message(1), message(2)])
        // The sequence numbers are the driver's record and stay as written; message 3 is then
        // answered with a gap fill.
        #expect(reopened.nextSenderSequence == 4)
    }

    @Test func bodyBytesNoEntryPointsToAreCutAway() throws {
        let folder = try TemporaryDirectory()
        let store = try openStore(folder)
        try fill(store, 1...2)
        store.close()
        try append("8=FIX.4.4\u{1}9=12\u{1}35=D", to: store.paths.body)
        let reopened = try openStore(folder)
        #expect(reopened.recoveryNotes.count == 1)
        try reopened.save(sequence: 3, message: message(3))
        #expect(try reopened.messages(from: 1, through: 3).map(\.message) == (1...3).map { message($0) })
    }

    @Test func damageInTheMiddleOfTheIndexIsAnErrorNamingFileAndOffset() throws {
        let folder = try TemporaryDirectory()
        let store = try openStore(folder)
        try fill(store, 1...3)
        store.close()
        var index = try contents(store.paths.header)
        let second = index.firstIndex(of: "\n")!
        index.replaceSubrange(index.index(after: second)...index.index(second, offsetBy: 2), with: "x,")
        try Data(index.utf8).write(to: URL(fileURLWithPath: store.paths.header))
        let error = #expect(throws: FileStoreError.self) { try openStore(folder) }
        let text = error.map(String.init(describing:)) ?? ""
        let offset = index.utf8.distance(from: index.startIndex, to: second) + 1
        #expect(text.contains("FIX.4.4-BRKR-VENUE.header: offset \(offset): "))
        #expect(text.contains("not \"seqnum,offset,size\""))
    }

    @Test(arguments: ["garbage", "12 13", "0000000001 : ", "0 : 1", "99999999999 : 1"])
    func unreadableSequenceNumbersAreAnError(_ content: String) throws {
        let folder = try TemporaryDirectory()
        let store = try openStore(folder)
        store.close()
        try Data(content.utf8).write(to: URL(fileURLWithPath: store.paths.seqnums))
        let error = #expect(throws: FileStoreError.self) { try openStore(folder) }
        #expect(error?.file == store.paths.seqnums)
        #expect(String(describing: error!).contains("next sender : next target"))
    }

    @Test func emptySequenceAndSessionFilesMeanAnInterruptedCreation() throws {
        let folder = try TemporaryDirectory()
        let store = try openStore(folder)
        store.close()
        try Data().write(to: URL(fileURLWithPath: store.paths.seqnums))
        try Data().write(to: URL(fileURLWithPath: store.paths.session))
        let reopened = try openStore(folder)
        #expect(reopened.recoveryNotes.count == 2)
        #expect(reopened.nextSenderSequence == 1)
        #expect(reopened.creationTime == created)
    }

    @Test func unreadableSessionFileIsAnError() throws {
        let folder = try TemporaryDirectory()
        let store = try openStore(folder)
        store.close()
        try Data("yesterday".utf8).write(to: URL(fileURLWithPath: store.paths.session))
        let error = #expect(throws: FileStoreError.self) { try openStore(folder) }
        #expect(String(describing: error!).contains("\"yesterday\" is not YYYYMMDD-HH:MM:SS"))
    }
}

extension FileMessageStoreRecoveryTests {
    /// Store files mangled at random (bytes changed, cut, inserted, appended): every open
    /// either succeeds with readable messages or is a `FileStoreError`, never a crash.
    @Test func mangledStoreFilesNeverCrash() throws {
        var random = SplitMix64(seed: 7)
        let folder = try TemporaryDirectory()
        let store = try openStore(folder, sync: .none)
        try fill(store, 1...20)
        store.close()
        let files = [store.paths.header, store.paths.body, store.paths.seqnums, store.paths.session]
        let originals = try files.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        var outcomes = (opened: 0, refused: 0)
        for _ in 0..<100 {
            for (path, data) in zip(files, originals) { try data.write(to: URL(fileURLWithPath: path)) }
            let which = Int(random.next() % UInt64(files.count))
            var bytes = [UInt8](originals[which])
            let at = bytes.isEmpty ? 0 : Int(random.next() % UInt64(bytes.count))
            let noise = (0..<Int(random.next() % 12 + 1)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            switch random.next() % 4 {
            case 0: if !bytes.isEmpty { bytes[at] = noise[0] }
            case 1: bytes.removeSubrange(at...)
            case 2: bytes.insert(contentsOf: noise, at: at)
            default: bytes += noise
            }
            try Data(bytes).write(to: URL(fileURLWithPath: files[which]))
            do {
                let reopened = try openStore(folder, sync: .none)
                let all = try reopened.messages(from: 1, through: 100)
                #expect(all.count <= 20)
                reopened.close()
                outcomes.opened += 1
            } catch is FileStoreError {
                outcomes.refused += 1
            }
        }
        #expect(outcomes.opened + outcomes.refused == 100)
        #expect(outcomes.opened > 0 && outcomes.refused > 0)
    }
}

@Suite struct FileMessageStoreBufferingTests {
    @Test func batchWritesWaitForTheFlushInOrder() throws {
        let folder = try TemporaryDirectory()
        let store = try openStore(folder)
        try fill(store, 1...3)
        let stem = folder.file("FIX.4.4-BRKR-VENUE")
        // Nothing reaches the files before the flush (a few system calls per batch, not per message)…
        #expect(try contents(stem + ".body").isEmpty)
        #expect(try contents(stem + ".header").isEmpty)
        #expect(try contents(stem + ".seqnums") == "0000000001 : 0000000001")
        try store.flush()
        // …then body, index and sequence numbers together.
        let body = String(decoding: message(1) + message(2) + message(3), as: UTF8.self)
        #expect(try contents(stem + ".body") == body)
        #expect(try contents(stem + ".header").split(separator: "\n").count == 3)
        #expect(try contents(stem + ".seqnums") == "0000000004 : 0000000001")
        // A second batch appends after the first.
        try fill(store, 4...5)
        try store.sync()
        store.close()
        let again = try openStore(folder)
        let expected = [message(1), message(2), message(3), message(4), message(5)]
        let stored = try again.messages(from: 1, through: 5).map(\.message)
        #expect(again.recoveryNotes.isEmpty)
        #expect(again.nextSenderSequence == 6)
        #expect(stored == expected)
    }

    @Test func bufferedMessagesAreReadBackBeforeAnyFlush() throws {
        let folder = try TemporaryDirectory()
        let store = try openStore(folder)
        try fill(store, 1...4)
        let stored = try store.messages(from: 2, through: 3).map(\.message)
        #expect(stored == [message(2), message(3)])
    }

    @Test func everyMessagePolicyWritesThrough() throws {
        let folder = try TemporaryDirectory()
        let store = try openStore(folder, sync: .everyMessage)
        try fill(store, 1...2)
        #expect(try contents(folder.file("FIX.4.4-BRKR-VENUE.seqnums")) == "0000000003 : 0000000001")
        let first = message(1).count, second = message(2).count
        #expect(try contents(folder.file("FIX.4.4-BRKR-VENUE.header")) == "1,0,\(first)\n2,\(first),\(second)\n")
    }

    @Test func largeBatchFlushesOnItsOwn() throws {
        let folder = try TemporaryDirectory()
        let store = try openStore(folder)
        let big = [UInt8](repeating: 0x42, count: FileMessageStore.bufferBytesMax)
        try store.save(sequence: 1, message: big)
        let size = try FileManager.default.attributesOfItem(atPath: folder.file("FIX.4.4-BRKR-VENUE.body"))[.size] as! Int
        #expect(size == big.count)
    }

    /// The driver fsyncs on another thread while the event loop saves and flushes the next
    /// batches, and may close the store while a sync is still running.
    @Test func syncFlushedRunsBesideSavesAndClose() throws {
        let folder = try TemporaryDirectory()
        let store = try openStore(folder)
        let box = UncheckedBox(store)
        let state = SyncerState()
        // A thread of its own, as the runtime's blocking pool gives it (a task could wait for a
        // busy cooperative pool while the saves run).
        let syncer = Thread {
            while !state.stop.load(ordering: .acquiring) {
                do { try box.value.syncFlushed() } catch { state.failed.store(true, ordering: .releasing) }
                state.syncs.add(1, ordering: .relaxed)
            }
            state.done.signal()
        }
        syncer.start()
        // Saves go on until the syncer has run beside them a few times.
        var sequence = 1
        while sequence <= 2_000 || (state.syncs.load(ordering: .relaxed) < 3 && sequence <= 1_000_000) {
            try store.save(sequence: sequence, message: message(sequence))
            try store.setSequences(nextSender: sequence + 1, nextTarget: 1)
            if sequence % 10 == 0 { try store.flush() }
            sequence += 1
        }
        store.close()
        state.stop.store(true, ordering: .releasing)
        state.done.wait()
        let failed = state.failed.load(ordering: .acquiring)
        let syncs = state.syncs.load(ordering: .relaxed)
        #expect(!failed)
        #expect(syncs >= 3)
        let again = try openStore(folder)
        #expect(again.recoveryNotes.isEmpty)
        #expect(again.nextSenderSequence == sequence)
        let stored = try again.messages(from: 1, through: sequence).count
        #expect(stored == sequence - 1)
    }
}

private final class SyncerState: Sendable {
    let stop = Atomic<Bool>(false)
    let failed = Atomic<Bool>(false)
    let syncs = Atomic<Int>(0)
    let done = DispatchSemaphore(value: 0)
}

private final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

@Suite struct FileMessageStoreLimitTests {
    @Test func messageOverTheLimitIsRefused() throws {
        let folder = try TemporaryDirectory()
        let store = try openStore(folder)
        let huge = [UInt8](repeating: 0x41, count: FileMessageStore.messageBytesMax + 1)
        let error = #expect(throws: FileStoreError.self) { try store.save(sequence: 1, message: huge) }
        #expect(String(describing: error!).contains("more than messageBytesMax"))
        #expect(try store.messages(from: 1, through: 1).isEmpty)
    }

    @Test(arguments: [0, -1, FileMessageStore.sequenceMax + 1])
    func sequenceOutsideTheLayoutIsRefused(_ value: Int) throws {
        let folder = try TemporaryDirectory()
        let store = try openStore(folder)
        #expect(throws: FileStoreError.self) { try store.save(sequence: value, message: message(1)) }
        #expect(throws: FileStoreError.self) { try store.setSequences(nextSender: value, nextTarget: 1) }
        #expect(store.nextSenderSequence == 1)
    }

    @Test func secondOpenOfTheSameStoreIsRefused() throws {
        let folder = try TemporaryDirectory()
        let store = try openStore(folder)
        let error = #expect(throws: FileStoreError.self) { try openStore(folder) }
        #expect(String(describing: error!).contains("open in another process"))
        store.close()
        _ = try openStore(folder)
    }

    @Test func closedStoreRefusesWork() throws {
        let folder = try TemporaryDirectory()
        let store = try openStore(folder)
        store.close()
        store.close()
        #expect(throws: FileStoreError.self) { try store.save(sequence: 1, message: message(1)) }
        #expect(throws: FileStoreError.self) { try store.messages(from: 1, through: 1) }
    }
}

/// A real crash: a child process (this test binary, run again with an environment variable
/// that turns `crashChildWritesUntilKilled` into a writer) saves messages as fast as it can
/// and is killed with SIGKILL mid-stream.
@Suite struct FileMessageStoreCrashTests {
    static let childDirectoryVariable = "FIXBRIDGE_STORE_CRASH_CHILD_DIR"

    /// Variable-size messages, so that the kill lands in the middle of writes of all sizes.
    /// Built from bytes rather than text, so that the child spends its time in the store's
    /// system calls and the kill is likely to land between them.
    static func crashMessage(_ sequence: Int) -> [UInt8] {
        Array("8=FIX.4.4\u{1}35=D\u{1}34=\(sequence)\u{1}58=".utf8)
            + [UInt8](repeating: UInt8(ascii: "P"), count: (sequence * 7919) % 6000) + [1]
    }

    /// Messages the child saves between flushes.
    static let crashBatch = 5

    @Test func crashChildWritesUntilKilled() throws {
        guard let directory = ProcessInfo.processInfo.environment[Self.childDirectoryVariable] else { return }
        let store = try FileMessageStore(directory: directory, sessionID: sessionID, sync: .none)
        var sequence = store.nextSenderSequence
        while sequence < 1_000_000 {
            try store.save(sequence: sequence, message: Self.crashMessage(sequence))
            try store.setSequences(nextSender: sequence + 1, nextTarget: sequence / 2 + 1)
            // The driver flushes once per batch, before it sends the batch's messages.
            if sequence % Self.crashBatch == 0 { try store.flush() }
            sequence += 1
        }
    }

    @Test func storeRecoversFromSIGKILLMidStream() throws {
        let folder = try TemporaryDirectory()
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        child.arguments = ["--testing-library", "swift-testing", "--filter", "crashChildWritesUntilKilled"]
        var environment = ProcessInfo.processInfo.environment
        environment[Self.childDirectoryVariable] = folder.path
        child.environment = environment
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        // Wait until the child is well into its stream, then kill it without warning.
        let seqnums = FileMessageStore.Paths(directory: folder.path, sessionID: sessionID).seqnums
        let deadline = Date().addingTimeInterval(20)
        var reached = 0
        while Date() < deadline {
            if let text = try? contents(seqnums), let value = Int(text.prefix(10)) { reached = value }
            if reached > 500 || !child.isRunning { break }
            usleep(2_000)
        }
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        #expect(child.terminationReason == .uncaughtSignal)
        #expect(reached > 500)

        let store = try openStore(folder)
        let next = store.nextSenderSequence
        #expect(next > 500)
        #expect(store.nextTargetSequence == (next - 1) / 2 + 1)
        // Every message whose flush completed before the sequence number moved past it is
        // there, byte for byte; those of the batch in flight may or may not be, but never
        // damaged (they were never sent: the driver sends after the flush).
        let stored = try store.messages(from: 1, through: next + Self.crashBatch)
        #expect(stored.count >= next - 1 && stored.count <= next - 1 + Self.crashBatch)
        #expect(stored.map(\.sequence) == Array(1...stored.count))
        #expect(stored.allSatisfy { $0.message == Self.crashMessage($0.sequence) })
        // The sequence continues, and a later open finds nothing more to repair.
        try store.save(sequence: next, message: message(next, "-after-crash"))
        try store.setSequences(nextSender: next + 1, nextTarget: 1)
        store.close()
        let again = try openStore(folder)
        #expect(again.recoveryNotes.isEmpty)
        #expect(again.nextSenderSequence == next + 1)
        #expect(try again.messages(from: next, through: next).map(\.message) == [message(next, "-after-crash")])
    }
}

@Suite struct FileMessageLogTests {
    @Test func writesQuickFIXLogLines() throws {
        let folder = try TemporaryDirectory()
        let log = try FileMessageLog(directory: folder.file("log"), sessionID: sessionID)
        let time = FIXTimestamp("20240315-08:00:00.046123")!
        log.incoming(Array("8=FIX.4.4\u{1}35=A\u{1}".utf8), at: time)
        log.outgoing(Array("8=FIX.4.4\u{1}35=0\u{1}".utf8), at: time)
        log.event("Logon\nreceived", at: time)
        #expect(log.failureCount == 0)
        #expect(try contents(log.messagesPath) ==
            "20240315-08:00:00.046 : 8=FIX.4.4\u{1}35=A\u{1}\n20240315-08:00:00.046 : 8=FIX.4.4\u{1}35=0\u{1}\n")
        #expect(try contents(log.eventPath) == "20240315-08:00:00.046 : Logon received\n")
        #expect(log.messagesPath.hasSuffix("/log/FIX.4.4-BRKR-VENUE.messages.current.log"))
        #expect(log.eventPath.hasSuffix("/log/FIX.4.4-BRKR-VENUE.event.current.log"))
    }

    @Test func failedWritesAreRecordedNotThrown() throws {
        let folder = try TemporaryDirectory()
        // Writing to /dev/full always fails with "no space left on device".
        try FileManager.default.createSymbolicLink(atPath: folder.file("FIX.4.4-BRKR-VENUE.messages.current.log"),
                                                   withDestinationPath: "/dev/full")
        let log = try FileMessageLog(directory: folder.path, sessionID: sessionID)
        log.incoming(message(1), at: created)
        log.outgoing(message(2), at: created)
        log.event("still logging events", at: created)
        #expect(log.failureCount == 2)
        #expect(log.firstError.map(String.init(describing:))?.contains("messages.current.log: write failed") == true)
        #expect(try contents(log.eventPath).hasSuffix(" : still logging events\n"))
    }

    @Test func linesFromManyThreadsNeverInterleave() async throws {
        let folder = try TemporaryDirectory()
        let log = try FileMessageLog(directory: folder.path, sessionID: sessionID)
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for n in 0..<200 { log.outgoing(message(task * 1000 + n), at: created) }
                }
            }
        }
        let lines = try contents(log.messagesPath).split(separator: "\n")
        #expect(lines.count == 1600)
        let prefix = "20240102-03:04:05.000 : "
        #expect(lines.allSatisfy { $0.hasPrefix(prefix) && $0.hasSuffix("10=000\u{1}") })
    }

    @Test func reopenedLogAppends() throws {
        let folder = try TemporaryDirectory()
        let time = FIXTimestamp("20240315-08:00:00.000")!
        do {
            let log = try FileMessageLog(directory: folder.path, sessionID: sessionID)
            log.event("first", at: time)
        }
        let log = try FileMessageLog(directory: folder.path, sessionID: sessionID)
        log.event("second", at: time)
        try log.sync()
        #expect(try contents(log.eventPath).split(separator: "\n").map { String($0.suffix(6)) } == [" first", "second"])
    }
}
