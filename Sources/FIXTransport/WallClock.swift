#if canImport(Glibc)
import Glibc
#endif
import FIXTagValue
import NIOCore

/// The real time, read at the edge and passed into the session state machine.
public enum WallClock {
    public static func now() -> FIXTimestamp {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return FIXTimestamp(nanosecondsSinceEpoch: Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec),
                            precision: .nanoseconds)
    }

    /// How far in the future `deadline` is, as a NIO amount (never negative).
    static func delay(until deadline: FIXTimestamp) -> TimeAmount {
        .nanoseconds(max(0, deadline.nanosecondsSinceEpoch - now().nanosecondsSinceEpoch))
    }
}
