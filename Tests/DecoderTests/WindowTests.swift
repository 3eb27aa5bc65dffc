import Decoder
import Testing

@Suite struct SpikeHistoryTests {
    @Test func keepsTimeOrderAndReportsLateInsertions() {
        var history = SpikeHistory(capacity: 4)
        #expect(history.insert(time: 10, unit: 1) == .appended)
        #expect(history.insert(time: 20, unit: 2) == .appended)
        #expect(history.insert(time: 15, unit: 3) == .reordered)
        #expect(history.insert(time: 20, unit: 4) == .appended)
        #expect(history.insert(time: 10, unit: 5) == .reordered)
        let all = history.range(from: .min, to: .max)
        #expect(all.map { history.time(at: $0) } == [10, 10, 15, 20, 20])
        #expect(all.map { history.unit(at: $0) } == [1, 5, 3, 2, 4])
    }

    @Test func rangesAreHalfOpenAndEvictionForgets() {
        var history = SpikeHistory()
        for t in stride(from: Int64(0), to: 100, by: 10) { history.insert(time: t, unit: Int32(t)) }
        let window = history.range(from: 20, to: 50)
        #expect(window.map { history.time(at: $0) } == [20, 30, 40])
        #expect(history.evict(before: 35) == 4)
        #expect(history.count == 6)
        #expect(history.range(from: 0, to: 1000).map { history.time(at: $0) } == [40, 50, 60, 70, 80, 90])
    }

    @Test func compactionKeepsContents() {
        var history = SpikeHistory(capacity: 16)
        for t in 0..<20_000 { history.insert(time: Int64(t), unit: Int32(t % 7)) }
        history.evict(before: 15_000)
        history.insert(time: 14_999, unit: 9)  // late, but still ahead of everything evicted
        let kept = history.range(from: 0, to: 30_000)
        #expect(kept.count == 5_001)
        #expect(history.time(at: kept.lowerBound) == 14_999)
        #expect(history.unit(at: kept.lowerBound) == 9)
    }
}

@Suite struct TickScheduleTests {
    // 30 kHz ticks, 20 ms hop, 1 s windows.
    func schedule() -> TickSchedule { TickSchedule(hopTicks: 600, sequenceTicks: 30_000) }

    @Test func firstTickIsTheFirstGridTimeWithAWholeWindow() {
        var s = schedule()
        #expect(s.takeReady(watermark: 1_000_000) == nil)  // nothing seen yet
        s.observe(firstTime: 1_234)
        #expect(s.nextTick == 31_800)  // ceil((1234 + 30000) / 600) * 600
        #expect(s.windowStart(of: 31_800) == 1_800)
        s.observe(firstTime: 0)  // anchors only once
        #expect(s.nextTick == 31_800)
    }

    @Test func ticksWaitForTheWatermarkAndSkipStaleOnes() {
        var s = schedule()
        s.observe(firstTime: 0)
        #expect(s.takeReady(watermark: 29_999) == nil)
        #expect(s.takeReady(watermark: 30_000)! == (30_000, 0))
        #expect(s.takeReady(watermark: 30_599) == nil)
        // The watermark completes three ticks at once: only the newest runs, two are skipped.
        #expect(s.takeReady(watermark: 32_399)! == (31_800, 2))
        #expect(s.takeReady(watermark: 34_200)! == (34_200, 3))
        #expect(s.nextTick == 34_800)
        #expect(s.oldestNeeded == 4_800)
    }
}
