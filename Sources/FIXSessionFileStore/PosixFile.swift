#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import FIXSession
import FIXTagValue

/// A file descriptor with the few operations the store needs, each retrying on EINTR and on
/// partial transfers, and each turning a failure into a `FileStoreError` that names the file.
struct PosixFile {
    let path: String
    private(set) var descriptor: Int32

    /// Opens (creating when asked) for reading and writing.
    init(path: String, flags: Int32 = O_RDWR | O_CREAT, mode: mode_t = 0o644) throws {
        self.path = path
        let fd = open(path, flags | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileStoreError(.system(operation: "open", path: path, offset: nil, errno: errno)) }
        descriptor = fd
    }

    var isOpen: Bool { descriptor >= 0 }

    mutating func close() {
        if descriptor >= 0 { systemClose(descriptor) }
        descriptor = -1
    }

    func size() throws -> Int {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw FileStoreError(.system(operation: "fstat", path: path, offset: nil, errno: errno))
        }
        return Int(info.st_size)
    }

    /// Reads exactly `count` bytes at `offset`; fewer means the file is shorter than expected.
    func read(at offset: Int, count: Int) throws -> [UInt8] {
        guard count > 0 else { return [] }
        var got = 0
        let bytes = try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            defer { initialized = got }
            while got < count {
                let n = pread(descriptor, buffer.baseAddress! + got, count - got, off_t(offset + got))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileStoreError(.system(operation: "pread", path: path, offset: offset + got, errno: errno))
                }
                if n == 0 { break }
                got += n
            }
        }
        guard got == count else {
            throw FileStoreError(.shortRead(path: path, offset: offset, expected: count, got: got))
        }
        return bytes
    }

    /// Reads the whole file (used on open for the small index and sequence files).
    func readAll(max: Int) throws -> [UInt8] {
        let count = try size()
        guard count <= max else {
            let reason = "file is \(count) bytes, more than the \(max) allowed"
            throw FileStoreError(.corruptFile(path: path, reason: reason))
        }
        return try read(at: 0, count: count)
    }

    func write(_ bytes: [UInt8], at offset: Int) throws {
        var done = 0
        try bytes.withUnsafeBytes { raw in
            while done < raw.count {
                let n = pwrite(descriptor, raw.baseAddress! + done, raw.count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileStoreError(.system(operation: "pwrite", path: path, offset: offset + done, errno: errno))
                }
                done += n
            }
        }
    }

    /// Appends with O_APPEND semantics (for logs opened with O_APPEND).
    func append(_ bytes: [UInt8]) throws {
        var done = 0
        try bytes.withUnsafeBytes { raw in
            while done < raw.count {
                let n = systemWrite(descriptor, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileStoreError(.system(operation: "write", path: path, offset: nil, errno: errno))
                }
                done += n
            }
        }
    }

    func truncate(to length: Int) throws {
        while ftruncate(descriptor, off_t(length)) != 0 {
            if errno == EINTR { continue }
            throw FileStoreError(.system(operation: "ftruncate", path: path, offset: length, errno: errno))
        }
    }

    func sync() throws {
        while fdatasync(descriptor) != 0 {
            if errno == EINTR { continue }
            throw FileStoreError(.system(operation: "fdatasync", path: path, offset: nil, errno: errno))
        }
    }

    /// Takes an exclusive advisory lock, so that two processes never append to one store.
    ///
    /// A lock that is busy is tried again for up to 200 ms: the lock belongs to the open file,
    /// which a process forking at the moment the store closes (to run another program) shares
    /// until its `exec` closes it, microseconds later. A store really open elsewhere stays busy.
    func lockExclusively() throws {
        var waitedMilliseconds = 0
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            if errno == EWOULDBLOCK {
                guard waitedMilliseconds < 200 else { throw FileStoreError(.locked(path: path)) }
                usleep(1_000)
                waitedMilliseconds += 1
                continue
            }
            throw FileStoreError(.system(operation: "flock", path: path, offset: nil, errno: errno))
        }
    }
}

// The C library's close and write, named apart from PosixFile's own methods (and without
// naming Glibc, so that the file also builds against Musl).
private func systemClose(_ fd: Int32) { _ = close(fd) }
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(fd, bytes, count) }

enum PosixPath {
    /// Creates `path` and its missing parents (like `mkdir -p`).
    static func makeDirectories(_ path: String) throws {
        guard !path.isEmpty else { return }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw FileStoreError(.system(operation: "mkdir", path: prefix, offset: nil, errno: errno))
            }
            prefix += "/"
        }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw FileStoreError(.corruptFile(path: path, reason: "not a directory"))
        }
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// Replaces `path` with `bytes` atomically: a temporary file beside it is written, synced
    /// and renamed over it, and the directory is synced so that the rename itself survives a
    /// power loss. A crash at any point leaves either the old or the new content.
    static func replaceAtomically(_ path: String, with bytes: [UInt8], directory: String) throws {
        let temporary = path + ".tmp"
        var file = try PosixFile(path: temporary, flags: O_WRONLY | O_CREAT | O_TRUNC)
        defer { file.close() }
        try file.write(bytes, at: 0)
        try file.sync()
        guard rename(temporary, path) == 0 else {
            throw FileStoreError(.system(operation: "rename to \(path)", path: temporary, offset: nil, errno: errno))
        }
        syncDirectory(directory)
    }

    /// Best effort: some file systems refuse fsync on a directory, and the data itself is
    /// already safe, so a failure here is not reported.
    static func syncDirectory(_ directory: String) {
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        systemClose(fd)
    }
}

/// Reads the system clock (the store needs it only for a new store's creation time).
enum SystemClock {
    static func now() -> FIXTimestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return FIXTimestamp(nanosecondsSinceEpoch: Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec))
    }
}

/// QuickFIX's file stem for a session: `BeginString-SenderCompID-TargetCompID[-Qualifier]`.
func quickFIXFileStem(_ id: FIXSessionID) -> String {
    var stem = id.beginString + "-" + id.senderCompID + "-" + id.targetCompID
    if let qualifier = id.qualifier, !qualifier.isEmpty { stem += "-" + qualifier }
    // A CompID containing '/' would otherwise name a directory; QuickFIX does not guard
    // against this, but a store must never write outside its directory.
    return String(stem.map { $0 == "/" ? "_" : $0 })
}

/// A plain mutex (the store's background fsync against `close`).
final class PosixMutex: @unchecked Sendable {
    private var mutex = pthread_mutex_t()

    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}
