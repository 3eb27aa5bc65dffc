import Testing

@testable import Decoder

@Suite struct ForwardTimeEstimateTests {
    let ms: UInt64 = 1_000_000

    @Test func burstWindowsAreSkippedUsualOnesRun() {
        var estimate = ForwardTimeEstimate()
        let early = estimate.shouldSkip(remaining: 20_000_000, windowTokens: 4_000)
        #expect(!early)  // no samples yet
        let late = estimate.shouldSkip(remaining: 0, windowTokens: 4_000)
        #expect(late)  // the deadline already passed
        for _ in 0..<8 { estimate.record(nanoseconds: 10 * ms, tokens: 4_400) }
        let usual = estimate.shouldSkip(remaining: 20_000_000, windowTokens: 4_400)
        #expect(!usual)
        #expect(estimate.expected(windowTokens: 44_000) == 100 * ms)
        let burst = estimate.shouldSkip(remaining: 20_000_000, windowTokens: 44_000)
        #expect(burst)
    }

    /// A brief slowdown of the machine is forgotten within ~24 ticks: every third tick probes.
    @Test func recoversQuicklyAfterASlowPeriod() {
        var estimate = ForwardTimeEstimate()
        for _ in 0..<8 { estimate.record(nanoseconds: 30 * ms, tokens: 4_400) }
        var ticks = 0
        var skipped = 0
        while ticks < 200 {
            ticks += 1
            if estimate.shouldSkip(remaining: 20_000_000, windowTokens: 4_400) {
                skipped += 1
            } else {
                estimate.record(nanoseconds: 10 * ms, tokens: 4_400)  // the machine is fast again
                if estimate.expected(windowTokens: 4_400) == 10 * ms { break }
            }
        }
        #expect(ticks <= 24)
        #expect(skipped == 14)
    }
}
