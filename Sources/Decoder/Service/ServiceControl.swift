#if canImport(Glibc)
import Glibc
#endif
import CSystem
import Foundation
import Synchronization

/// Requests that reach the daemon's threads from outside: stop (SIGTERM, SIGINT), swap the
/// model (SIGHUP), dump counters and histograms to the log (SIGUSR1).
///
/// The signals are blocked in every thread and taken by one thread in sigwait(2), so no code
/// runs in a signal handler and the threads see plain atomic flags.
public final class ServiceControl: Sendable {
    public let stopRequested = Atomic<Bool>(false)
    public let reloadRequested = Atomic<Bool>(false)
    public let dumpRequested = Atomic<Bool>(false)
    /// Called (from the signal thread) after a flag was set, to wake the threads that wait.
    private let wake: @Sendable () -> Void

    public init(wake: @escaping @Sendable () -> Void = {}) {
        self.wake = wake
    }

    public func requestStop() {
        stopRequested.store(true, ordering: .releasing)
        wake()
    }

    public var shouldStop: Bool { stopRequested.load(ordering: .acquiring) }

    /// Blocks SIGTERM, SIGINT, SIGHUP and SIGUSR1 in the calling thread, and so in every thread it
    /// starts afterwards. Call on the main thread before starting any other.
    public static func blockSignals() {
        var set = Self.signalSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Starts the thread that waits for the blocked signals.
    public func startSignalThread() {
        let thread = Thread { [self] in
            var set = Self.signalSet()
            while !shouldStop {
                var signal: Int32 = 0
                guard sigwait(&set, &signal) == 0 else { continue }
                switch signal {
                case SIGTERM, SIGINT: requestStop()
                case SIGHUP:
                    reloadRequested.store(true, ordering: .releasing)
                    wake()
                case SIGUSR1:
                    dumpRequested.store(true, ordering: .releasing)
                    wake()
                default: break
                }
            }
        }
        thread.name = "poyo-signals"
        thread.start()
    }

    private static func signalSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGUSR1] { sigaddset(&set, signal) }
        return set
    }
}

/// Pins the calling thread to one CPU (best effort: the caller logs a failure).
/// The corresponding C function is `sched_setaffinity` (pid 0: the calling thread).
public func pinCurrentThread(toCPU cpu: Int) -> Bool {
    poyo_pin_current_thread(Int32(cpu)) == 0
}
