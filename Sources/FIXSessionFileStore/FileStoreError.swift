#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why a file store or log could not do what it was asked, naming the file, the byte offset
/// when one applies, and the reason.
///
/// ```swift
/// do {
///     let store = try FileMessageStore(directory: "store", sessionID: id)
/// } catch let error as FileStoreError {
///     print(error)   // "store/FIX.4.4-BRKR-VENUE.header: offset 120: entry 7 points past the end of the body (…)"
/// }
/// ```
public struct FileStoreError: Error, CustomStringConvertible, Sendable {
    enum Kind: Sendable {
        /// A system call failed (`errno` kept).
        case system(operation: String, path: String, offset: Int?, errno: Int32)
        /// A read returned fewer bytes than the index promised.
        case shortRead(path: String, offset: Int, expected: Int, got: Int)
        /// The index holds an entry that cannot be right and is not a torn tail.
        case corruptIndex(path: String, offset: Int, reason: String)
        /// The sequence-number or session file does not hold what it should.
        case corruptFile(path: String, reason: String)
        /// A message larger than `FileMessageStore.messageBytesMax`.
        case messageTooLarge(sequence: Int, bytes: Int, max: Int)
        /// A sequence number outside what the file layout can hold.
        case sequenceOutOfRange(value: Int, max: Int)
        /// Another process has the store open.
        case locked(path: String)
        /// The store was closed.
        case closed(path: String)
    }

    let kind: Kind

    init(_ kind: Kind) { self.kind = kind }

    /// The file the error is about, when there is one.
    public var file: String? {
        switch kind {
        case .system(_, let path, _, _), .shortRead(let path, _, _, _), .corruptIndex(let path, _, _),
             .corruptFile(let path, _), .locked(let path), .closed(let path):
            return path
        case .messageTooLarge, .sequenceOutOfRange:
            return nil
        }
    }

    public var description: String {
        switch kind {
        case .system(let operation, let path, let offset, let code):
            let at = offset.map { ": offset \($0)" } ?? ""
            return "\(path)\(at): \(operation) failed: \(String(cString: strerror(code))) (errno \(code))"
        case .shortRead(let path, let offset, let expected, let got):
            return "\(path): offset \(offset): read \(got) of \(expected) bytes (file shorter than its index)"
        case .corruptIndex(let path, let offset, let reason):
            return "\(path): offset \(offset): \(reason)"
        case .corruptFile(let path, let reason):
            return "\(path): \(reason)"
        case .messageTooLarge(let sequence, let bytes, let max):
            return "message \(sequence) is \(bytes) bytes, more than messageBytesMax (\(max))"
        case .sequenceOutOfRange(let value, let max):
            return "sequence number \(value) is outside 1...\(max)"
        case .locked(let path):
            return "\(path): the store is open in another process (or twice in this one)"
        case .closed(let path):
            return "\(path): the store is closed"
        }
    }
}
