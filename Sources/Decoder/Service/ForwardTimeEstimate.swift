/// What the next forward pass will probably take: the 90th percentile of the last 32, in
/// nanoseconds. Used to skip a tick that would overrun its deadline instead of running it late.
///
/// It does not trust fewer than 8 samples, and after 8 ticks in a row skipped on its word it
/// lets one run (a probe), so one slow outlier cannot silence the decoder for good.
struct ForwardTimeEstimate {
    private var recent = [UInt64](repeating: 0, count: 32)
    private var sorted = [UInt64](repeating: 0, count: 32)
    private var samples = 0
    private var skippedInARow = 0

    mutating func record(nanoseconds: UInt64) {
        recent[samples % recent.count] = nanoseconds
        samples += 1
        skippedInARow = 0
    }

    /// Whether a tick started now, with `remaining` nanoseconds to its deadline, should be skipped.
    mutating func shouldSkip(remaining: Int64) -> Bool {
        guard samples >= 8 else { return remaining <= 0 }
        if remaining > 0, Int64(clamping: upperBound()) <= remaining { return false }
        skippedInARow += 1
        if skippedInARow > 8 && remaining > 0 {
            skippedInARow = 0
            return false
        }
        return true
    }

    /// Nanoseconds (0 before any sample).
    mutating func upperBound() -> UInt64 {
        let count = min(samples, recent.count)
        guard count > 0 else { return 0 }
        for i in 0..<count { sorted[i] = recent[i] }
        sorted[0..<count].sort()
        return sorted[min(count - 1, count * 9 / 10)]
    }
}
