import Foundation
import Synchronization
import Testing

@testable import POYO

/// The model's worker pool: every task of a region runs exactly once, on distinct workers'
/// scratch, region after region, across parking (an idle pause longer than the spin) and shutdown.
@Suite struct WorkerPoolTests {
    @Test(arguments: [1, 2, 3, 4])
    func everyTaskRunsOnceInEveryRegion(threads: Int) {
        let pool = WorkerPool(threads: threads, spinMicroseconds: 50)
        #expect(pool.threads == threads)
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: 64)
        defer { counts.deallocate() }
        let workersSeen = Mutex<Set<Int>>([])
        for region in 0..<2000 {
            let tasks = 1 + region % 37
            counts.initialize(repeating: 0)
            pool.run(tasks: tasks) { task, worker in
                counts[task] += 1  // one writer per task: a task run twice or never shows here
                if region % 100 == 0 { workersSeen.withLock { _ = $0.insert(worker) } }
                #expect(worker >= 0 && worker < threads)
            }
            #expect(counts.prefix(tasks).allSatisfy { $0 == 1 }, "region \(region)")
            if region % 500 == 499 { usleep(2_000) }  // longer than the spin: workers park, then must wake
        }
        #expect(workersSeen.withLock { $0.allSatisfy { $0 < threads } })
    }

    @Test func blocksCoverEveryRowOnce() {
        let pool = WorkerPool(threads: 3)
        for count in [0, 1, 5, 6, 7, 64, 127, 128, 4401] {
            let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(count, 1))
            defer { hits.deallocate() }
            hits.initialize(repeating: 0)
            pool.forEachBlock(of: count) { rows, _ in
                for r in rows { hits[r] += 1 }
            }
            #expect(hits.prefix(count).allSatisfy { $0 == 1 }, "\(count) rows")
        }
    }

    /// Pools come and go with models (hot swap): their threads exit and are joined.
    @Test func poolsShutDown() {
        for _ in 0..<50 {
            let pool = WorkerPool(threads: 2, spinMicroseconds: 10)
            pool.run(tasks: 4) { _, _ in }
        }
    }

    /// Between regions, workers spin `spinMicroseconds` and then park; while `busyPolling` (the
    /// daemon's `busy_poll`) they never park, parked ones wake to spin when it is turned on, and
    /// they park again when it is turned off (a model replaced by a reload).
    @Test func busyPollingWorkersDoNotPark() {
        let pool = WorkerPool(threads: 3, spinMicroseconds: 50)
        func settle(parked: Int) -> Int {
            for _ in 0..<400 where pool.parkedWorkers != parked { usleep(5_000) }
            return pool.parkedWorkers
        }
        #expect(!pool.busyPolling)
        #expect(settle(parked: 2) == 2, "idle workers park")
        pool.busyPolling = true
        #expect(settle(parked: 0) == 0, "turned on: parked workers wake to spin")
        pool.run(tasks: 8) { _, _ in }
        usleep(20_000)  // 400 spin times
        #expect(pool.parkedWorkers == 0, "busy polling: no worker parks")
        // Still correct: a region after the idle time runs every task once.
        let counts = Mutex<[Int]>(Array(repeating: 0, count: 8))
        pool.run(tasks: 8) { task, _ in counts.withLock { $0[task] += 1 } }
        #expect(counts.withLock { $0 } == Array(repeating: 1, count: 8))
        pool.busyPolling = false
        #expect(settle(parked: 2) == 2, "turned off: they park again")
    }

    /// `realtime_priority`: the workers run SCHED_FIFO at the priority given (as root or with
    /// CAP_SYS_NICE, as in CI); without the privilege the refusal is reported, not ignored.
    @Test func workersTakeTheRealtimePriority() {
        let pool = WorkerPool(threads: 3)
        #expect(pool.setRealtimePriority(0) == EINVAL, "SCHED_FIFO priorities are 1-99")
        let result = pool.setRealtimePriority(7)
        guard result == 0 else {
            #expect(result == EPERM && geteuid() != 0, "refused with \(result)")
            return
        }
        let seen = Mutex<[Int: (Int32, Int32)]>([:])
        pool.run(tasks: 16) { _, worker in
            usleep(1_000)
            var policy: Int32 = 0
            var parameters = sched_param()
            pthread_getschedparam(pthread_self(), &policy, &parameters)
            seen.withLock { $0[worker] = (policy, parameters.sched_priority) }
        }
        let byWorker = seen.withLock { $0 }
        #expect(byWorker.keys.contains { $0 > 0 }, "no worker ran a task")
        for (worker, (policy, priority)) in byWorker where worker > 0 {
            #expect(policy == SCHED_FIFO && priority == 7, "worker \(worker): policy \(policy) priority \(priority)")
        }
        #expect(byWorker[0].map { $0.0 == SCHED_OTHER } ?? true, "the caller's thread is the caller's to set")
    }
}
