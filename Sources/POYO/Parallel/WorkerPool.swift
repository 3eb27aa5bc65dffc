import CSystem
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The model's own threads: the calling thread plus `threads - 1` persistent workers that run
/// the parallel parts of one forward pass (attention heads, row blocks) together.
///
/// BLAS-style threading does not pay at POYO's sizes (128-row matrices: OpenBLAS with 2 threads
/// was slower than with 1 on 2 cores); a region here costs microseconds: workers spin on an
/// atomic for `spinNanoseconds` after each region, so the next region of the same window finds
/// them awake, and only then park on a condition variable (between ticks of the daemon).
/// While `busyPolling` is on they never park: the daemon's `busy_poll`, which keeps the model's
/// CPUs busy between ticks (an idle virtual CPU runs the next window 25-35 % slower, and its
/// tail longer still).
///
/// `run` is not reentrant and must be called from one thread at a time (the model's owner).
public final class WorkerPool: @unchecked Sendable {
    /// Threads that run a region, the caller included.
    public let threads: Int
    private let state: PoolState
    private var handles: [pthread_t] = []

    /// Whether the workers spin between regions instead of parking after `spinMicroseconds`: each
    /// then keeps a CPU 100 % busy. Off at start; the daemon turns it on for the model serving
    /// (not for one loaded by a reload until it takes over, nor for the one it replaced), parked
    /// workers wake to spin, and turned off they park again after their spin time.
    public var busyPolling: Bool {
        get { state.busyPolling.load(ordering: .relaxed) }
        set {
            state.busyPolling.store(newValue, ordering: .sequentiallyConsistent)
            if newValue { wake() }
        }
    }

    /// Starts `threads - 1` workers (none for 1). `cpus`, when given, pins worker i to
    /// `cpus[i % cpus.count]` (the caller is expected on `cpus[0]`). Workers park after
    /// `spinMicroseconds` without work, unless `busyPolling`.
    public init(threads: Int, spinMicroseconds: Int = 200, cpus: [Int] = []) {
        self.threads = max(1, min(threads, 64))
        state = PoolState(spinNanoseconds: UInt64(max(0, spinMicroseconds)) * 1000)
        for worker in 1..<self.threads {
            let context = Unmanaged.passRetained(WorkerStart(state: state, worker: worker, cpu: cpus.isEmpty ? nil : cpus[worker % cpus.count]))
            var handle = pthread_t()
            guard pthread_create(&handle, nil, workerEntry, context.toOpaque()) == 0 else {
                context.release()
                continue
            }
            handles.append(handle)
        }
    }

    deinit {
        state.stop()
        for handle in handles { pthread_join(handle, nil) }
    }

    /// Gives every worker the real-time policy SCHED_FIFO at `priority` (1-99, `sched(7)`), so
    /// that no ordinary (SCHED_OTHER) thread of the machine preempts one in the middle of a
    /// region, where the other threads would wait for it. Returns 0, or the error number of the
    /// first worker refused (EPERM without CAP_SYS_NICE or an RLIMIT_RTPRIO allowing it; EINVAL
    /// for a priority out of range). The caller's own thread is the caller's to set.
    public func setRealtimePriority(_ priority: Int32) -> Int32 {
        setScheduling(policy: SCHED_FIFO, priority: priority)
    }

    /// Gives every worker ordinary scheduling (SCHED_OTHER); 0 or the first error number.
    public func setOrdinaryScheduling() -> Int32 {
        setScheduling(policy: SCHED_OTHER, priority: 0)
    }

    private func setScheduling(policy: Int32, priority: Int32) -> Int32 {
        var parameters = sched_param()
        parameters.sched_priority = priority
        for handle in handles {
            let result = pthread_setschedparam(handle, policy, &parameters)
            if result != 0 { return result }
        }
        return 0
    }

    /// Wakes parked workers now, so that they spin, ready, by the time the next region comes:
    /// the start of a forward pass calls this before its serial preparation, which then hides
    /// the wake-up (tens to hundreds of microseconds for an idle virtual CPU).
    public func wake() {
        if !handles.isEmpty { state.wake() }
    }

    /// Workers parked on the condition variable now (the rest spin or work).
    var parkedWorkers: Int { state.parkedWorkers }

    /// Runs `work.run(task:worker:)` for every task in 0..<tasks, spread over the pool's threads
    /// (worker 0 is the caller; `worker` indexes per-thread scratch), and returns when all are done.
    /// Allocates nothing (the forward pass's regions use this): the workers reach `work` on the
    /// caller's stack through a one-word existential (`PointerJob`), which needs no box, specialised
    /// or not. (A closure the workers could call, capturing `T`, was a heap context in unspecialised
    /// code: one allocation a region in debug builds, found by ForwardAllocationTests.)
    func run<T: ParallelTasks>(tasks: Int, _ work: T) {
        if handles.isEmpty || tasks <= 1 {
            for task in 0..<tasks { work.run(task: task, worker: 0) }
            return
        }
        withUnsafePointer(to: work) { state.run(tasks: tasks, job: PointerJob(work: $0)) }
    }

    /// `run` with a closure, for tests and set-up code: Swift turns a non-escaping closure into one
    /// the workers can call (`withoutActuallyEscaping`) with one heap allocation a call.
    public func run(tasks: Int, _ body: (_ task: Int, _ worker: Int) -> Void) {
        withoutActuallyEscaping(body) { run(tasks: tasks, ClosureTasks(body: $0)) }
    }
}

/// The work of one parallel region, run for each of its tasks (`WorkerPool.run`): a struct whose
/// fields are what the region reads, so that a region allocates nothing (a closure's captures, made
/// callable from other threads, would be a heap allocation per region).
protocol ParallelTasks {
    func run(task: Int, worker: Int)
}

/// Row-block work (`WorkerPool.forEachBlock`).
protocol ParallelRows {
    func run(rows: Range<Int>, worker: Int)
}

/// What a worker calls for a task of the current job.
private protocol JobInvoker {
    func invoke(task: Int, worker: Int)
}

/// A job's work by address: one word, so `any JobInvoker` holds it inline.
private struct PointerJob<T: ParallelTasks>: JobInvoker {
    let work: UnsafePointer<T>
    func invoke(task: Int, worker: Int) { work.pointee.run(task: task, worker: worker) }
}

private struct ClosureTasks: ParallelTasks {
    let body: (_ task: Int, _ worker: Int) -> Void
    func run(task: Int, worker: Int) { body(task, worker) }
}

private struct ClosureRows: ParallelRows {
    let body: (_ rows: Range<Int>, _ worker: Int) -> Void
    func run(rows: Range<Int>, worker: Int) { body(rows, worker) }
}

/// `forEachBlock`'s equal row blocks as tasks.
private struct RowBlocks<R: ParallelRows>: ParallelTasks {
    let work: R
    let count: Int, per: Int, blocks: Int
    func run(task block: Int, worker: Int) {
        let start = min(count, block &* per)
        let end = block == blocks &- 1 ? count : min(count, start &+ per)
        if start < end { work.run(rows: start..<end, worker: worker) }
    }
}

/// What the caller and the workers share; the workers keep it alive until they have exited.
private final class PoolState: @unchecked Sendable {
    /// Job number (high 24 bits), task count (20 bits) and next unclaimed task (low 20 bits), so
    /// that a worker late from an earlier job can never claim a task of the next one.
    private let claims = Atomic<UInt64>(0)
    /// Tasks of the current job not yet finished.
    private let unfinished = Atomic<Int>(0)
    /// The current job number, read by waiting workers.
    private let generation = Atomic<UInt64>(0)
    private let sleepers = Atomic<Int>(0)
    /// Bumped by `wake()`: parked workers return to spinning when it changes.
    private let wakeups = Atomic<UInt64>(0)
    private let stopping = Atomic<Bool>(false)
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// The current job: its work on the caller's stack and the function that runs one of its tasks.
    /// Written by the caller before it publishes a job, read by workers after they claim a task of it.
    private var job: (any JobInvoker)?
    let spinNanoseconds: UInt64
    /// `WorkerPool.busyPolling`: spinning workers do not park.
    let busyPolling = Atomic<Bool>(false)

    init(spinNanoseconds: UInt64) {
        self.spinNanoseconds = spinNanoseconds
        pthread_mutex_init(lock, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(lock)
        lock.deallocate()
        condition.deallocate()
    }

    var parkedWorkers: Int { sleepers.load(ordering: .sequentiallyConsistent) }

    func wake() {
        guard sleepers.load(ordering: .sequentiallyConsistent) > 0 else { return }
        wakeups.add(1, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(lock)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(lock)
    }

    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(lock)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(lock)
    }

    func run(tasks: Int, job: any JobInvoker) {
        precondition(tasks < 1 << 20, "too many tasks in one region")
        do {
            self.job = job
            let number = (generation.load(ordering: .relaxed) &+ 1) & 0xFF_FFFF
            unfinished.store(tasks, ordering: .relaxed)
            claims.store(number << 40 | UInt64(tasks) << 20, ordering: .releasing)
            generation.store(number, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(lock)
                pthread_cond_broadcast(condition)
                pthread_mutex_unlock(lock)
            }
            work(number: number, worker: 0)
            while unfinished.load(ordering: .acquiring) > 0 {}
            self.job = nil
        }
    }

    /// Claims and runs tasks of job `number` until none is left.
    private func work(number: UInt64, worker: Int) {
        while true {
            var state = claims.load(ordering: .acquiring)
            while true {
                guard state >> 40 == number, state & 0xF_FFFF < (state >> 20) & 0xF_FFFF else { return }
                let (exchanged, original) = claims.compareExchange(expected: state, desired: state &+ 1, ordering: .acquiringAndReleasing)
                if exchanged { break }
                state = original
            }
            job!.invoke(task: Int(state & 0xF_FFFF), worker: worker)
            unfinished.subtract(1, ordering: .releasing)
        }
    }

    func workerLoop(worker: Int) {
        var seen = generation.load(ordering: .acquiring)
        while true {
            var spinStart: UInt64 = 0
            var spins = 0
            while generation.load(ordering: .acquiring) == seen && !stopping.load(ordering: .relaxed) {
                spins &+= 1
                if spins & 255 != 0 || busyPolling.load(ordering: .relaxed) { continue }
                let now = monotonicNanoseconds()
                if spinStart == 0 {
                    spinStart = now
                } else if now &- spinStart > spinNanoseconds {
                    park(seen: seen)
                    spinStart = 0
                }
            }
            if stopping.load(ordering: .relaxed) { return }
            seen = generation.load(ordering: .acquiring)
            work(number: seen, worker: worker)
        }
    }

    private func park(seen: UInt64) {
        pthread_mutex_lock(lock)
        sleepers.add(1, ordering: .sequentiallyConsistent)
        let woken = wakeups.load(ordering: .sequentiallyConsistent)
        while generation.load(ordering: .sequentiallyConsistent) == seen && !stopping.load(ordering: .sequentiallyConsistent)
            && wakeups.load(ordering: .sequentiallyConsistent) == woken {
            pthread_cond_wait(condition, lock)
        }
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
        pthread_mutex_unlock(lock)
    }
}

extension WorkerPool {
    /// Runs `body(rows, worker)` over `0..<count` cut into one contiguous block per thread
    /// (equal blocks of at least `granule` rows; fewer blocks when there are not enough rows).
    func forEachBlock<R: ParallelRows>(of count: Int, granule: Int = 6, _ work: R) {
        let blocks = min(threads, max(1, count / max(granule, 1)))
        if blocks <= 1 {
            work.run(rows: 0..<count, worker: 0)
            return
        }
        // Equal blocks (128 rows on 2 threads: 64 and 64, each 10 tiles of 6 and one of 4, where
        // granule-aligned blocks of 66 and 62 left one thread a tile more).
        let per = (count + blocks - 1) / blocks
        run(tasks: blocks, RowBlocks(work: work, count: count, per: per, blocks: blocks))
    }

    /// `forEachBlock` with a closure, for tests and set-up code (one heap allocation a call, as `run`'s).
    func forEachBlock(of count: Int, granule: Int = 6, _ body: (_ rows: Range<Int>, _ worker: Int) -> Void) {
        withoutActuallyEscaping(body) { forEachBlock(of: count, granule: granule, ClosureRows(body: $0)) }
    }
}

private final class WorkerStart {
    let state: PoolState
    let worker: Int
    let cpu: Int?
    init(state: PoolState, worker: Int, cpu: Int?) {
        self.state = state
        self.worker = worker
        self.cpu = cpu
    }
}

private func workerEntry(_ argument: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let start = Unmanaged<WorkerStart>.fromOpaque(argument!).takeRetainedValue()
    if let cpu = start.cpu { _ = poyo_pin_current_thread(Int32(cpu)) }
    _ = poyo_name_current_thread("poyo-worker-\(start.worker)")
    start.state.workerLoop(worker: start.worker)
    return nil
}

private func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
}

