#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// The threads that make session stores durable in the background: `FIXSessionRuntime` hands
/// them the fsync that follows a batch (group commit), so the event loops never wait for the
/// disk.
///
/// They run at the lowest CPU priority (`SCHED_IDLE` on Linux, or nice 19 where that is refused):
/// an fsync mostly waits for the device, but each one still takes the CPU for system calls,
/// block-layer work and its wake-ups. At normal priority an event loop woken by a message
/// could wait behind that work, which on a host with few cores showed as the tail of the
/// order→fill round trip. At the lowest priority an event loop that wakes takes the CPU at once
/// and the fsync goes on when the loop sleeps. Every batch is still made durable, in order; on
/// a CPU kept busy by other work the fsync still gets its (small) fair share of the CPU, so the
/// window of batches not yet on disk grows under such load rather than the round trip.
enum BackgroundSync {
    /// Linux's `SCHED_IDLE` policy (glibc defines it only with `_GNU_SOURCE`).
    static let idlePolicy: Int32 = 5
    /// The nice value used where `SCHED_IDLE` is refused.
    static let fallbackNice: Int32 = 19

    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: max(1, System.coreCount))
        pool.start()
        return pool
    }()

    /// Runs `work` on one of the background threads, at the lowest priority.
    static func submit(_ work: @escaping @Sendable () -> Void) {
        pool.submit { _ in
            lowerCurrentThreadPriority()
            work()
        }
    }

    /// Puts the calling thread (only it: Linux scheduling attributes are per thread) at the
    /// lowest priority; does nothing once it is there.
    static func lowerCurrentThreadPriority() {
        #if os(Linux)
        if sched_getscheduler(0) == idlePolicy { return }
        var parameters = sched_param()
        parameters.sched_priority = 0
        if sched_setscheduler(0, idlePolicy, &parameters) == 0 { return }
        // `setpriority(PRIO_PROCESS, 0, …)` sets the calling thread's nice value on Linux.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, fallbackNice)
        #endif
    }
}
