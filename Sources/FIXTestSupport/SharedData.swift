import Foundation

/// Locates the project's own files and the shared specification data beside the project
/// (`../shared`), which tests read at run time instead of copying it into the repository.
public enum SharedData {
    /// The package root, found from this file's compile-time path.
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    /// `../shared` beside the package root, or `FIXBRIDGE_SHARED` when set.
    public static let sharedRoot: URL = {
        if let env = ProcessInfo.processInfo.environment["FIXBRIDGE_SHARED"] {
            return URL(fileURLWithPath: env)
        }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }()

    /// A path under `../shared`; the test fails loudly (precondition) when the data is absent,
    /// because a test that silently passes without its data proves nothing.
    public static func shared(_ relative: String) -> URL {
        let url = sharedRoot.appendingPathComponent(relative)
        precondition(
            FileManager.default.fileExists(atPath: url.path),
            "shared test data missing: \(url.path) (set FIXBRIDGE_SHARED to the shared folder)"
        )
        return url
    }

    /// A path under the package root (Specs/, Captures/).
    public static func project(_ relative: String) -> URL {
        packageRoot.appendingPathComponent(relative)
    }
}
