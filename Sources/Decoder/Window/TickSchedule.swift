/// When windows are decoded, on the source clock.
///
/// Ticks lie on a grid of multiples of `hopTicks` (so a replay ticks at the same times as the
/// live run, wherever it starts). The window of tick T is [T - sequenceTicks, T); it is complete
/// once the source's watermark reaches T (every spike before T has been sent). The first tick
/// is the first grid time whose whole window lies after the first data seen: torch_brain never
/// trained on windows reaching before a recording's start.
public struct TickSchedule: Sendable {
    public let hopTicks: Int64
    public let sequenceTicks: Int64
    /// The next tick to run, once known (after the first data).
    public private(set) var nextTick: Int64?

    public init(hopTicks: Int64, sequenceTicks: Int64) {
        precondition(hopTicks > 0 && sequenceTicks > 0)
        self.hopTicks = hopTicks
        self.sequenceTicks = sequenceTicks
    }

    /// Anchors the grid at the first data time (a spike or a watermark), once.
    public mutating func observe(firstTime time: Int64) {
        guard nextTick == nil else { return }
        // Saturating: a rig clock near Int64.max must not trap the daemon.
        let earliest = time.addingReportingOverflow(sequenceTicks)
        nextTick = earliest.overflow ? Int64.max : Self.ceiling(earliest.partialValue, to: hopTicks)
    }

    /// The newest tick the watermark completes and how many older ready ticks it supersedes
    /// (skipped: a late tick is never run behind a newer one), or nil when none is ready.
    public mutating func takeReady(watermark: Int64) -> (tick: Int64, skipped: Int64)? {
        guard let next = nextTick, next < Int64.max, watermark >= next else { return nil }
        let newest = next + (watermark - next) / hopTicks * hopTicks
        let following = newest.addingReportingOverflow(hopTicks)
        nextTick = following.overflow ? Int64.max : following.partialValue
        return (newest, (newest - next) / hopTicks)
    }

    /// The schedule continued on another grid (a configuration switch changed the hop or the
    /// window length): the next tick is the first multiple of the new hop at or after this one's.
    public func continued(hopTicks: Int64, sequenceTicks: Int64) -> TickSchedule {
        var schedule = TickSchedule(hopTicks: hopTicks, sequenceTicks: sequenceTicks)
        schedule.nextTick = nextTick.map { $0 == Int64.max ? $0 : Self.ceiling($0, to: hopTicks) }
        return schedule
    }

    /// The start of the window of tick `tick`.
    public func windowStart(of tick: Int64) -> Int64 { tick - sequenceTicks }

    /// The oldest time any future window can hold: spikes before it are no longer needed.
    public var oldestNeeded: Int64? { nextTick.map { $0 - sequenceTicks } }

    static func ceiling(_ value: Int64, to step: Int64) -> Int64 {
        let quotient = value / step + (value % step > 0 ? 1 : 0)
        let (product, overflow) = quotient.multipliedReportingOverflow(by: step)
        return overflow ? Int64.max : product
    }
}
