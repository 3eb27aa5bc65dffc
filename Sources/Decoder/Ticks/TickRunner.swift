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
    public let binding: SessionBinding
    let ring: SpikeRing
    let counters: DecoderCounters
    /// Whether output messages carry the raw (normalized) values too.
    public var publishRawValues: Bool
    private var assembler: WindowAssembler
    private var history = SpikeHistory()
    private var schedule: TickSchedule?
    public private(set) var tickRate: UInt64?
    private var watermark: Int64 = -1
    private var watermarkReceivedAt: UInt64 = 0
    /// When the last watermark arrived (CLOCK_MONOTONIC ns), nil before the first.
    public private(set) var lastWatermarkReceivedAt: UInt64?
    private var nextSequence: UInt64 = 0
    private var output: ModelOutput
    private var assembledTick: Int64?

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

    /// Replaces the model between ticks (hot swap). The new one must decode the same session
    /// (`SessionBinding` resolved against it) and was warmed up by the caller.
    public func swapModel(_ newModel: POYOModel) {
        model = newModel
        output = ModelOutput(specs: newModel.description.readouts)
    }

    /// Moves everything in the ring into the history; returns how many entries it read.
    @discardableResult
    public func drain() -> Int {
        var read = 0
        var dropped: UInt64 = 0
        while let entry = ring.pop(dropped: &dropped) {
            read += 1
            switch entry {
            case .sourceStarted(let rate):
                let ticks = binding.ticks(tickRate: rate)
                schedule = TickSchedule(hopTicks: ticks.hop, sequenceTicks: ticks.sequence)
                history = SpikeHistory()
                tickRate = rate
                watermark = -1
            case .spike(let time, let unit):
                schedule?.observe(firstTime: time)
                if let oldest = schedule?.oldestNeeded, time < oldest {
                    counters.late.increment()
                } else if history.insert(time: time, unit: unit) {
                    counters.reordered.increment()
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
        guard let rate = tickRate else { return 0 }
        history.evict(before: due.windowStart)
        assembler.assemble(start: due.windowStart, end: due.tick, tickRate: rate, history: history)
        assembledTick = due.tick
        return assembler.window.inputUnitIndex.count
    }

    /// Runs a due tick: one output message per decoded readout, stage timestamps set up to
    /// `forwardDone` (the publisher sets `published`). Nil when the model refused the window
    /// (counted in `ticksFailed`; `error` says why).
    public func run(_ due: DueTick, error: inout ForwardError?) -> [OutputMessage]? {
        guard let rate = tickRate else { return nil }
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
        let outputTicks = assembler.outputTicks(tick: due.tick, tickRate: rate)
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
