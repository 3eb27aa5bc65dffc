#if canImport(Glibc)
import Glibc
#endif
import CSystem
import Foundation
import Synchronization

/// Signals received, as bits (stop, reload, dump): set by the signal handler, read by the threads.
private let receivedSignals = Atomic<Int>(0)
private let stopBit = 1, reloadBit = 2, dumpBit = 4

/// The signal handler: only an atomic OR, which is async-signal-safe. It may run on any thread
/// (libzmq's I/O threads and the model's worker threads are started by libraries and the model,
/// so signals cannot simply be blocked everywhere).
private func recordSignal(_ signal: Int32) {
    switch signal {
    case SIGTERM, SIGINT: receivedSignals.bitwiseOr(stopBit, ordering: .relaxed)
    case SIGHUP: receivedSignals.bitwiseOr(reloadBit, ordering: .relaxed)
    case SIGUSR1: receivedSignals.bitwiseOr(dumpBit, ordering: .relaxed)
    default: break
    }
}

/// Requests that reach the daemon's threads from outside: stop (SIGTERM, SIGINT), reload the
/// model (SIGHUP), log counters and latencies (SIGUSR1). Handlers set bits; the daemon's loops,
/// which wake at least every 100 ms, read them. No other code runs in a signal handler.
public final class ServiceControl: Sendable {
    private let stopped = Atomic<Bool>(false)
    /// Called after a stop was requested in-process, to wake the threads that wait.
    private let wake: @Sendable () -> Void

    public init(wake: @escaping @Sendable () -> Void = {}) {
        self.wake = wake
    }

    /// Installs the handlers of SIGTERM, SIGINT, SIGHUP and SIGUSR1 (process-wide).
    public static func installSignalHandlers() {
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGUSR1] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = recordSignal
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(signal, &action, nil)
        }
    }

    public func requestStop() {
        stopped.store(true, ordering: .releasing)
        wake()
    }

    public var shouldStop: Bool {
        stopped.load(ordering: .acquiring) || receivedSignals.load(ordering: .relaxed) & stopBit != 0
    }

    /// True once per SIGHUP.
    public func takeReloadRequest() -> Bool { take(reloadBit) }

    /// True once per SIGUSR1.
    public func takeDumpRequest() -> Bool { take(dumpBit) }

    private func take(_ bit: Int) -> Bool {
        receivedSignals.bitwiseAnd(~bit, ordering: .relaxed).oldValue & bit != 0
    }
}

/// Pins the calling thread to one CPU (best effort: the caller logs a failure).
/// The corresponding C function is `sched_setaffinity` (pid 0: the calling thread).
public func pinCurrentThread(toCPU cpu: Int) -> Bool {
    poyo_pin_current_thread(Int32(cpu)) == 0
}

/// Names the calling thread for `ps -L`, `top -H` and /proc (at most 15 bytes; best effort).
/// The corresponding C function is `pthread_setname_np`.
public func nameCurrentThread(_ name: String) {
    _ = poyo_name_current_thread(name)
}
