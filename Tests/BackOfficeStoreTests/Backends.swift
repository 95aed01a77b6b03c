import BackOfficeStore
import FIXSessionTestSupport
import Foundation
import Testing

/// The backends every store test runs against: SQLite in a fresh temporary directory, and
/// PostgreSQL in a fresh database on the server `FIXBRIDGE_TEST_POSTGRES_URL` names (`.ci/run`
/// starts one on 127.0.0.1 and sets it). Without that variable the PostgreSQL variant fails,
/// naming the variable, unless `FIXBRIDGE_SKIP_POSTGRES=1` says to skip it (it then prints that
/// it skipped).
enum BackendKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }
}

/// One opened, migrated backend and what keeps it alive (the temporary directory).
struct TestBackend: Sendable {
    let backend: any SQLBackend
    let location: StoreLocation
    let directory: TemporaryDirectory?
}

enum TestBackends {
    /// A fresh, migrated backend of `kind`, or nil when PostgreSQL is explicitly skipped.
    static func open(_ kind: BackendKind) async throws -> TestBackend? {
        switch kind {
        case .sqlite:
            let dir = try TemporaryDirectory(prefix: "fixbridge-store")
            let location = StoreLocation.sqlite(path: dir.file("book.sqlite"))
            return TestBackend(backend: try await location.open(), location: location, directory: dir)
        case .postgres:
            let env = ProcessInfo.processInfo.environment
            guard let url = env["FIXBRIDGE_TEST_POSTGRES_URL"], !url.isEmpty else {
                if env["FIXBRIDGE_SKIP_POSTGRES"] == "1" {
                    print("SKIPPED: PostgreSQL store test (FIXBRIDGE_SKIP_POSTGRES=1)")
                    return nil
                }
                Issue.record("PostgreSQL store tests need FIXBRIDGE_TEST_POSTGRES_URL (postgres://user@127.0.0.1:PORT/postgres); .ci/run starts a server and sets it. Set FIXBRIDGE_SKIP_POSTGRES=1 to skip them knowingly.")
                return nil
            }
            let name = "fixbridge_test_\(UInt64.random(in: 0...UInt64.max) & 0xFFFF_FFFF_FFFF)"
            let admin = try await PostgresBackend(url: url)
            _ = try await admin.query("CREATE DATABASE \(name)", [])
            try await admin.close()
            guard let slash = url.lastIndex(of: "/") else { throw TestBackendError(url: url) }
            let location = StoreLocation.postgres(url: String(url[...slash]) + name)
            return TestBackend(backend: try await location.open(), location: location, directory: nil)
        }
    }
}

struct TestBackendError: Error, CustomStringConvertible {
    let url: String
    var description: String { "\(url) has no database part" }
}
