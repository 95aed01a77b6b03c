// What the benchmark executables share: a monotonic clock and a whole-file read.
#if canImport(Glibc)
import Glibc
#endif

/// Nanoseconds of the monotonic clock.
public func now() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}

/// The whole file's bytes; exits with a message when it cannot be read.
public func readWholeFile(_ path: String) -> [UInt8] {
    guard let f = fopen(path, "rb") else {
        print("cannot open \(path)")
        exit(2)
    }
    defer { fclose(f) }
    fseek(f, 0, SEEK_END)
    let size = ftell(f)
    fseek(f, 0, SEEK_SET)
    var bytes = [UInt8](repeating: 0, count: size)
    let n = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, size, f) }
    precondition(n == size, "short read")
    return bytes
}
