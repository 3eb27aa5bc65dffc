/// What the next forward pass will probably take: a smoothed mean plus four smoothed mean
/// deviations (the way TCP estimates a retransmission timeout), in nanoseconds. Used to skip a
/// tick that would overrun its deadline instead of running it late.
struct ForwardTimeEstimate {
    private var mean = 0.0
    private var deviation = 0.0
    private var samples = 0

    mutating func record(nanoseconds: UInt64) {
        let value = Double(nanoseconds)
        if samples == 0 {
            mean = value
            deviation = value / 2
        } else {
            deviation += 0.25 * (abs(value - mean) - deviation)
            mean += 0.125 * (value - mean)
        }
        samples += 1
    }

    /// Nanoseconds; 0 before any sample (the first ticks always run).
    var upperBound: UInt64 { samples == 0 ? 0 : UInt64(mean + 4 * deviation) }
}
