/// What a tick's forward pass will probably take, in nanoseconds, to skip a tick that would
/// overrun its deadline instead of running it late.
///
/// The estimate is the second largest of the last 8 forward times, scaled up when the window
/// holds more tokens than those ticks had (a burst of spikes makes a bigger window, and the
/// encoder's cost grows with it). It does not trust fewer than 4 samples, and after 2 ticks in a
/// row skipped on its word it lets one run (a probe): a brief slowdown of the machine is
/// forgotten within ~24 ticks, and a burst window is skipped before it can block the scheduler.
/// The scheduler keeps a second one for when to start the preparations of `encode_ahead`.
struct ForwardTimeEstimate {
    private var durations = [UInt64](repeating: 0, count: 8)
    private var tokens = [Int](repeating: 0, count: 8)
    private var samples = 0
    private var skippedInARow = 0

    mutating func record(nanoseconds: UInt64, tokens windowTokens: Int) {
        durations[samples % durations.count] = nanoseconds
        tokens[samples % tokens.count] = windowTokens
        samples += 1
        skippedInARow = 0
    }

    /// Whether a tick of `windowTokens` tokens started now, with `remaining` nanoseconds to its
    /// deadline, should be skipped.
    mutating func shouldSkip(remaining: Int64, windowTokens: Int) -> Bool {
        guard remaining > 0 else { return true }
        guard samples >= 4 else { return false }
        if Int64(clamping: expected(windowTokens: windowTokens)) <= remaining { return false }
        skippedInARow += 1
        if skippedInARow > 2 {
            skippedInARow = 0
            return false
        }
        return true
    }

    /// Nanoseconds (0 before any sample).
    func expected(windowTokens: Int) -> UInt64 {
        let count = min(samples, durations.count)
        guard count > 0 else { return 0 }
        var largest: UInt64 = 0, second: UInt64 = 0
        var usualTokens = 0
        for i in 0..<count {
            let d = durations[i]
            if d > largest { (largest, second) = (d, largest) } else if d > second { second = d }
            usualTokens = max(usualTokens, tokens[i])
        }
        let base = count > 1 ? second : largest
        guard usualTokens > 0, windowTokens > usualTokens else { return base }
        return UInt64(Double(base) * Double(windowTokens) / Double(usualTokens))
    }
}
