import Histogram

/// Latency of outputs, `published - received` in nanoseconds, as an HdrHistogram: one for the
/// current status period (reset after each status) and one for the whole run.
struct LatencyRecorder {
    private(set) var period = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    private(set) var run = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)

    mutating func record(nanoseconds: UInt64) {
        let clamped = min(nanoseconds, 60_000_000_000)
        _ = period.record(clamped)
        _ = run.record(clamped)
    }

    /// (samples, p50, p90, p99, max) of a histogram, nanoseconds.
    static func summary(_ histogram: Histogram<UInt64>) -> (samples: UInt64, p50: UInt64, p90: UInt64, p99: UInt64, max: UInt64) {
        guard histogram.totalCount > 0 else { return (0, 0, 0, 0, 0) }
        return (histogram.totalCount, histogram.valueAtPercentile(50), histogram.valueAtPercentile(90),
                histogram.valueAtPercentile(99), histogram.max)
    }

    mutating func startPeriod() { period.reset() }
}
