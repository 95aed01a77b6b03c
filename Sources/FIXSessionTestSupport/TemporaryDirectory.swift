import Foundation

/// A fresh directory under the system's temporary directory, removed with everything in it
/// when the value is released. Tests that touch files each take one, so that they can run in
/// parallel and leave nothing behind.
///
/// ```swift
/// let folder = try TemporaryDirectory()
/// let store = try FileMessageStore(directory: folder.path, sessionID: id)
/// ```
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init(prefix: String = "fixbridge-test") throws {
        let base = FileManager.default.temporaryDirectory.path
        var template = Array("\(base)/\(prefix).XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let created else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: base])
        }
        path = String(cString: created)
    }

    /// `path/name`.
    public func file(_ name: String) -> String { path + "/" + name }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}
