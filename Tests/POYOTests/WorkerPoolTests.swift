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
}
