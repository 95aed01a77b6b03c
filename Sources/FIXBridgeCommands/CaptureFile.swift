#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FIXTagValue

/// Reads a capture file (or standard input, "-") in fixed-size chunks through a `CaptureDecoder`,
/// so a file of any size streams through bounded memory. This is the I/O edge of the capture path.
public struct CaptureFile {
    /// Bytes read per `read(2)` call.
    public static let chunkBytes = 1 << 20

    public let path: String
    /// Size in bytes when the file is a regular file, else nil.
    public let size: Int64?

    public struct OpenError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "\(path): \(reason)" }
    }

    public init(path: String) throws {
        self.path = path
        if path == "-" {
            size = nil
            return
        }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw OpenError(path: path, reason: String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw OpenError(path: path, reason: "not a regular file")
        }
        size = Int64(info.st_size)
    }

    /// True when the file can be read again (a regular file, not a pipe).
    public var isRereadable: Bool { size != nil }

    /// Streams every event of the capture to `handle`; `progress` gets the bytes read so far.
    public func read(
        framer: FIXFramer = FIXFramer(),
        progress: ((Int64) -> Void)? = nil,
        _ handle: (CaptureEvent) throws -> Void
    ) throws {
        var chunks = try ChunkReader(file: self, framer: framer)
        while try chunks.next(handle) { progress?(chunks.bytesRead) }
    }

    /// Like `read`, with an asynchronous step after each chunk (a commit of what the chunk's
    /// messages produced, say); `afterChunk` gets the position reached (`start` + bytes read).
    ///
    /// `start` resumes a regular file at that byte offset (a message boundary an earlier read
    /// reported). With `tail`, the end of the file is not the end of the capture: a message still
    /// being written there is left for the next read instead of being reported as damaged.
    public func read(
        from start: Int64 = 0,
        tail: Bool = false,
        framer: FIXFramer = FIXFramer(),
        _ handle: (CaptureEvent) throws -> Void,
        afterChunk: (Int64) async throws -> Void
    ) async throws {
        precondition(start == 0 || isRereadable, "only a regular file can be read from an offset")
        var chunks = try ChunkReader(file: self, framer: framer, start: start, tail: tail)
        while try chunks.next(handle) { try await afterChunk(start + chunks.bytesRead) }
        try await afterChunk(start + chunks.bytesRead)
    }

    /// Reads the file one chunk at a time through a `CaptureDecoder`.
    struct ChunkReader: ~Copyable {
        private let fd: Int32
        private let path: String
        private var decoder: CaptureDecoder
        private let chunk: UnsafeMutableRawBufferPointer
        private var finished = false
        private let tail: Bool
        private(set) var bytesRead: Int64 = 0

        init(file: CaptureFile, framer: FIXFramer, start: Int64 = 0, tail: Bool = false) throws {
            // The descriptor is opened and positioned before any stored property is set, so a
            // failure leaves nothing half-initialised behind.
            let descriptor = file.path == "-" ? 0 : open(file.path, O_RDONLY)
            guard descriptor >= 0 else { throw OpenError(path: file.path, reason: String(cString: strerror(errno))) }
            if start > 0 && lseek(descriptor, off_t(start), SEEK_SET) != off_t(start) {
                let reason = "cannot seek to byte \(start): \(String(cString: strerror(errno)))"
                if descriptor != 0 { close(descriptor) }
                throw OpenError(path: file.path, reason: reason)
            }
            fd = descriptor
            path = file.path
            self.tail = tail
            decoder = CaptureDecoder(framer: framer, startingAt: start)
            chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: CaptureFile.chunkBytes, alignment: 16)
        }

        deinit {
            chunk.deallocate()
            if fd != 0 { close(fd) }
        }

        /// Reads one chunk and hands its events to `handle`; false once the file is done (its
        /// last events handed over).
        mutating func next(_ handle: (CaptureEvent) throws -> Void) throws -> Bool {
            guard !finished else { return false }
            while true {
                let n = Glibc.read(fd, chunk.baseAddress, CaptureFile.chunkBytes)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw OpenError(path: path, reason: "read failed at byte \(bytesRead): \(String(cString: strerror(errno)))")
                }
                if n == 0 {
                    finished = true
                    if tail { return false }
                    decoder.finish()
                    try decoder.drain(handle)
                    return false
                }
                bytesRead += Int64(n)
                decoder.append(UnsafeRawBufferPointer(rebasing: chunk[..<n]))
                try decoder.drain(handle)
                return true
            }
        }
    }
}

/// Buffered writes to a file descriptor (standard output by default), so printing a line per
/// message costs a memcpy rather than a system call.
public struct OutputBuffer {
    public static let flushBytes = 1 << 16
    private var bytes: [UInt8] = []
    private let fd: Int32?
    /// Everything written, when the buffer collects instead of writing to a descriptor (tests).
    public private(set) var collected: [UInt8] = []

    /// Writes to `fd` (standard output by default); nil collects the bytes in `collected`.
    public init(fd: Int32? = 1) {
        self.fd = fd
        bytes.reserveCapacity(Self.flushBytes * 2)
    }

    /// What was collected, as text.
    public var collectedText: String { String(decoding: collected, as: UTF8.self) }

    public mutating func write(_ text: String) {
        bytes.append(contentsOf: text.utf8)
        if bytes.count >= Self.flushBytes { flush() }
    }

    public mutating func write(bytes more: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: more)
        if bytes.count >= Self.flushBytes { flush() }
    }

    public mutating func write(byte: UInt8) {
        bytes.append(byte)
    }

    /// Flushes once the buffer has passed its size (after a run of `write(byte:)`).
    public mutating func flushIfFull() {
        if bytes.count >= Self.flushBytes { flush() }
    }

    public mutating func flush() {
        guard let fd else {
            collected += bytes
            bytes.removeAll(keepingCapacity: true)
            return
        }
        var written = 0
        bytes.withUnsafeBytes { all in
            while written < all.count {
                let n = Glibc.write(fd, all.baseAddress! + written, all.count - written)
                if n <= 0 {
                    if n < 0 && errno == EINTR { continue }
                    return  // a closed pipe (e.g. `| head`) ends the output quietly
                }
                written += n
            }
        }
        bytes.removeAll(keepingCapacity: true)
    }
}

/// Progress on standard error when it is a terminal and the input is large: a percentage
/// rewritten in place at most twice a second.
public struct ProgressLine {
    public static let minimumBytes: Int64 = 64 << 20
    private let total: Int64
    private let label: String
    private let enabled: Bool
    private var lastShown: UInt64 = 0

    public init(label: String, total: Int64?) {
        self.label = label
        self.total = total ?? 0
        enabled = isatty(2) != 0 && (total ?? 0) >= Self.minimumBytes
    }

    public mutating func update(_ done: Int64) {
        guard enabled else { return }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let ms = UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
        guard ms - lastShown >= 500 else { return }
        lastShown = ms
        let percent = Int(done * 100 / max(total, 1))
        writeStandardError("\r\(label): \(percent)% (\(done >> 20) of \(total >> 20) MiB)")
    }

    public func finish() {
        if enabled && lastShown > 0 { writeStandardError("\r\u{1B}[K") }
    }
}

/// Writes a diagnostic line to standard error.
func warn(_ text: String) {
    writeStandardError(text + "\n")
}

/// Writes text to file descriptor 2 unbuffered (the C `stderr` stream is shared mutable state).
func writeStandardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in _ = Glibc.write(2, bytes.baseAddress, bytes.count) }
}
