import POYO
import SpikeWire

/// A tick whose window the watermark has completed.
public struct DueTick: Equatable, Sendable {
    /// The tick time (window end), source ticks.
    public let tick: Int64
    public let windowStart: Int64
    /// When the watermark that completed the window was received (CLOCK_MONOTONIC ns).
    public let receivedAt: UInt64
    /// This tick's number in the daemon's tick sequence (run or skipped ticks all count).
    public let sequence: UInt64
    /// When the scheduler took it, its watermark drained from the ring (CLOCK_MONOTONIC ns).
    public var dequeuedAt: UInt64 = 0
}

/// The scheduler's work, without threads or sockets (so that live runs, replays and tests share
/// it): read the ring into the spike history, find the due tick, build its window exactly as
/// torch_brain's tokenizer would, run the model, and make the tick's output messages.
public final class TickRunner {
    public private(set) var model: POYOModel
    public private(set) var binding: SessionBinding
    let ring: SpikeRing
    let counters: DecoderCounters
    /// Whether output messages carry the raw (normalized) values too.
    public var publishRawValues: Bool
    private var assembler: WindowAssembler
    private var history = SpikeHistory()
    private var schedule: TickSchedule?
    /// The source clock's rate and the configured durations in its ticks, once a source started.
    public private(set) var clock: SourceClockTicks?
    public var tickRate: UInt64? { clock?.tickRate }
    private var watermark: Int64 = -1
    private var watermarkReceivedAt: UInt64 = 0
    /// When the last watermark arrived (CLOCK_MONOTONIC ns), nil before the first.
    public private(set) var lastWatermarkReceivedAt: UInt64?
    private var nextSequence: UInt64 = 0
    private var output: ModelOutput
    private var assembledTick: Int64?
    /// `drain` stopped at a configuration switch: the caller runs the ticks already due, then
    /// calls `switchTo` and drains on.
    public private(set) var reachedSwitch = false

    public init(model: POYOModel, binding: SessionBinding, ring: SpikeRing, counters: DecoderCounters, publishRawValues: Bool = false) {
        self.model = model
        self.binding = binding
        self.ring = ring
        self.counters = counters
        self.publishRawValues = publishRawValues
        assembler = WindowAssembler(binding: binding, kind: model.description.kind)
        output = ModelOutput(specs: model.description.readouts)
        model.prepare(units: binding.units.map(\.row))
    }

    /// Switches to another model, session and unit map between ticks (a configuration switch):
    /// the spikes kept are renumbered to the new session's units (those it does not map are
    /// forgotten), the tick grid continues (on the new hop if it changed) and so does the tick
    /// sequence. `model` was loaded, prepared for `newBinding`'s units and warmed up by the caller.
    public func switchTo(model newModel: POYOModel, binding newBinding: SessionBinding, publishRawValues raw: Bool) {
        var positions = [Int32](repeating: -1, count: binding.units.count)
        for (old, unit) in binding.units.enumerated() {
            positions[old] = newBinding.position(ofRigUnit: unit.rigID) ?? -1
        }
        history.remap(positions)
        model = newModel
        binding = newBinding
        publishRawValues = raw
        assembler = WindowAssembler(binding: newBinding, kind: newModel.description.kind)
        output = ModelOutput(specs: newModel.description.readouts)
        assembledTick = nil
        reachedSwitch = false
        // A new configuration whose durations do not fit the running clock keeps the old grid: the
        // ingest then refuses that clock's messages by name (`bad_tick_rate`), so nothing runs on it.
        if let rate = tickRate, let current = schedule, let ticks = try? newBinding.ticks(tickRate: rate) {
            if ticks.hop != current.hopTicks || ticks.sequence != current.sequenceTicks {
                schedule = current.continued(hopTicks: ticks.hop, sequenceTicks: ticks.sequence)
            }
        }
    }

    /// Goes on draining past a switch entry that has no switch to apply (cannot happen when the
    /// ingest and the scheduler share one `SwitchHandoff`).
    public func ignoreSwitch() { reachedSwitch = false }

    /// Moves everything in the ring into the history, up to a configuration switch (then
    /// `reachedSwitch` is set); returns how many entries it read.
    @discardableResult
    public func drain() -> Int {
        var read = 0
        var dropped: UInt64 = 0
        while !reachedSwitch, let entry = ring.pop(dropped: &dropped) {
            read += 1
            switch entry {
            case .configurationSwitched:
                reachedSwitch = true
            case .sourceStarted(let rate):
                // The ingest admits only clocks every configured duration fits (`SessionBinding.ticks`).
                clock = try? binding.ticks(tickRate: rate)
                schedule = clock.map { TickSchedule(hopTicks: $0.hop, sequenceTicks: $0.sequence) }
                history.removeAll()
                watermark = -1
            case .spike(let time, let unit):
                schedule?.observe(firstTime: time)
                // Not late (the ingest counted those): before the first window, or between
                // windows when the hop is longer than the window.
                if let oldest = schedule?.oldestNeeded, time < oldest {
                    counters.outsideWindows.increment()
                    continue
                }
                switch history.insert(time: time, unit: unit) {
                case .appended: break
                case .reordered: counters.reordered.increment()
                case .full: counters.dropped.increment()
                }
            case .watermark(let time, let receivedAt):
                schedule?.observe(firstTime: time)
                watermark = max(watermark, time)
                watermarkReceivedAt = receivedAt
                lastWatermarkReceivedAt = receivedAt
            }
        }
        if dropped > 0 { counters.dropped.increment(by: dropped) }
        return read
    }

    /// The newest tick the watermark completes, if any. Older ready ticks are skipped and
    /// counted: a late tick is never run behind a newer one.
    public func dueTick() -> DueTick? {
        // The watermark includes its own instant: every spike before watermark + 1 has been sent.
        let sentBefore = watermark == .max ? watermark : watermark + 1
        guard watermark >= 0, let schedule, let ready = self.schedule?.takeReady(watermark: sentBefore) else { return nil }
        if ready.skipped > 0 {
            counters.ticksSkipped.increment(by: UInt64(ready.skipped))
            nextSequence &+= UInt64(ready.skipped)
        }
        defer { nextSequence &+= 1 }
        return DueTick(
            tick: ready.tick, windowStart: ready.tick - schedule.sequenceTicks, receivedAt: watermarkReceivedAt, sequence: nextSequence,
            dequeuedAt: MonotonicClock.nanoseconds())
    }

    /// Counts a due tick that will not run (its deadline cannot be met).
    public func skip(_ due: DueTick) {
        counters.ticksSkipped.increment()
    }

    /// Builds the window of a due tick (call before `run`); returns its number of input tokens,
    /// which tells how long the forward pass will take.
    public func assemble(_ due: DueTick) -> Int {
        guard let clock else { return 0 }
        history.evict(before: due.windowStart)
        assembler.assemble(start: due.windowStart, end: due.tick, clock: clock, history: history)
        assembledTick = due.tick
        return assembler.window.inputUnitIndex.count
    }

    /// Attends the encoder to the next tick's window as far as the watermark has made its spikes
    /// final (`POYOModel.prepareEncoder`), so that the tick, once due, attends only the rest:
    /// the scheduler calls it between ticks. Returns the spikes prepared (0: none, e.g. before the
    /// first tick is known or with fewer spikes than a key block). The window is rebuilt at the tick
    /// from the history, and resumes the prepared state only if it begins with exactly these
    /// tokens, so a spike that arrives late and out of order cannot change the outputs.
    @discardableResult
    public func prepareNextWindow() -> Int {
        guard let clock, let schedule, let next = schedule.nextTick, next < Int64.max, watermark >= 0 else { return 0 }
        let start = schedule.windowStart(of: next)
        // The watermark includes its own instant: every spike before watermark + 1 has been sent.
        let final = watermark == .max ? next : min(next, watermark + 1)
        guard final > start else { return 0 }
        assembler.assemble(start: start, end: next, clock: clock, history: history, spikesBefore: final)
        assembledTick = nil
        // A window the model refuses is refused again, and counted, when its tick runs.
        return (try? model.prepareEncoder(assembler.window)) ?? 0
    }

    /// Runs a due tick: one output message per decoded readout, stage timestamps set up to
    /// `forwardDone` (the publisher sets `published`). Nil when the model refused the window
    /// (counted in `ticksFailed`; `error` says why).
    public func run(_ due: DueTick, error: inout ForwardError?) -> [OutputMessage]? {
        guard let clock else { return nil }
        let rate = clock.tickRate
        if assembledTick != due.tick { _ = assemble(due) }
        let built = MonotonicClock.nanoseconds()
        do {
            try model.forward(assembler.window, into: &output)
        } catch let failure {
            error = failure
            counters.ticksFailed.increment()
            return nil
        }
        let done = MonotonicClock.nanoseconds()
        counters.ticksRun.increment()
        if model.lastPreparedSpikes > 0 { counters.ticksPrepared.increment() }
        let outputTicks = assembler.outputTicks(tick: due.tick, clock: clock)
        let stages = StageTimestamps(received: due.receivedAt, windowBuilt: built, forwardDone: done, published: 0, dequeued: due.dequeuedAt)
        return binding.readouts.map { spec in
            let readout = output.readouts.first { $0.spec.name == spec.name }!
            let header = OutputHeader(
                outputCount: UInt32(readout.rows), dimension: UInt32(spec.dim), tickSequence: due.sequence, tickRate: rate,
                windowStart: due.windowStart, windowEnd: due.tick, stages: stages, hasRawValues: publishRawValues)
            return OutputMessage(
                readout: spec.name, header: header, timestamps: outputTicks, values: readout.physicalValues(),
                rawValues: publishRawValues ? readout.values : nil)
        }
    }
}
