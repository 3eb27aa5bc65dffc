import CSystem
import Foundation
import Logging

/// SCHED_FIFO for the daemon's own threads (`realtime_priority`): an ordinary (SCHED_OTHER)
/// thread of the machine, such as a rig process on the same cores, then never preempts the
/// ingest, the scheduler or a model worker in the middle of a parallel region, where the other
/// model threads would wait for it.
public enum RealtimeScheduling {
    /// Gives the calling thread SCHED_FIFO at `priority` (1-99). Returns 0, or the error number
    /// (EPERM without root, CAP_SYS_NICE or an RLIMIT_RTPRIO of at least `priority`; EINVAL out of range).
    ///
    /// The corresponding C function is `pthread_setschedparam`.
    public static func setCurrentThread(priority: Int32) -> Int32 {
        var parameters = sched_param()
        parameters.sched_priority = priority
        return pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters)
    }

    /// Gives the calling thread ordinary scheduling (SCHED_OTHER). Returns 0 or the error number.
    ///
    /// The corresponding C function is `pthread_setschedparam`.
    public static func setCurrentThreadOrdinary() -> Int32 {
        var parameters = sched_param()
        parameters.sched_priority = 0
        return pthread_setschedparam(pthread_self(), SCHED_OTHER, &parameters)
    }

    /// Gives the calling thread (the daemon's `thread`) SCHED_FIFO at `priority`, when one is
    /// configured; a refusal is logged as an error (the start-up `probe` makes one unlikely).
    static func applyToCurrentThread(_ priority: Int?, thread: String, logger: Logger) {
        guard let priority else { return }
        let error = setCurrentThread(priority: Int32(clamping: priority))
        if error != 0 {
            logger.error("realtime_priority: the \(thread) thread was refused SCHED_FIFO at \(priority) (\(String(cString: strerror(error)))); it runs with ordinary scheduling")
        }
    }

    /// The calling thread's scheduling policy (SCHED_OTHER 0, SCHED_FIFO 1, ...) and priority.
    ///
    /// The corresponding C function is `pthread_getschedparam`.
    public static func currentThread() -> (policy: Int32, priority: Int32) {
        var policy: Int32 = 0
        var parameters = sched_param()
        _ = pthread_getschedparam(pthread_self(), &policy, &parameters)
        return (policy, parameters.sched_priority)
    }

    /// Checks, before any thread is started, that the OS grants SCHED_FIFO at `priority`: tries it
    /// on the calling thread and puts the thread's own policy back. Throws the start-up refusal
    /// otherwise, so that the daemon never serves silently without the priority it was given.
    public static func probe(priority: Int) throws(ConfigurationError) {
        let saved = currentThread()
        let error = setCurrentThread(priority: Int32(clamping: priority))
        guard error == 0 else { throw refusal(priority: priority, error: error) }
        var parameters = sched_param()
        parameters.sched_priority = saved.priority
        _ = pthread_setschedparam(pthread_self(), saved.policy, &parameters)
    }

    /// The start-up refusal: the field, its value, the OS's reason and the ways to allow it.
    public static func refusal(priority: Int, error: Int32) -> ConfigurationError {
        ConfigurationError(
            "realtime_priority is \(priority): the OS refuses SCHED_FIFO at that priority (\(String(cString: strerror(error)))); "
                + "run the daemon as root, or give it CAP_SYS_NICE (systemd: AmbientCapabilities=CAP_SYS_NICE, with "
                + "CapabilityBoundingSet=CAP_SYS_NICE) or an RLIMIT_RTPRIO of at least \(priority) (systemd: LimitRTPRIO=\(priority); "
                + "a shell: ulimit -r \(priority)), or leave realtime_priority out")
    }

    /// The CPUs of `cpus` the calling thread may not run on (absent, offline, or outside the
    /// process's affinity: a cgroup, `taskset`, systemd's CPUAffinity=). Pinning a thread to one
    /// of them fails, and the thread then runs unpinned.
    ///
    /// The corresponding C function is `sched_getaffinity`.
    public static func unavailableCPUs(_ cpus: [Int]) -> [Int] {
        cpus.filter { poyo_cpu_allowed(Int32(clamping: $0)) == 0 }
    }
}
