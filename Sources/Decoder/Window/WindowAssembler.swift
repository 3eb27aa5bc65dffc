import POYO

/// Builds the model window of a tick from the spike history, as torch_brain's tokenizer does
/// (start/end tokens for every unit of the session, spikes in time order, the latent grid),
/// with times in seconds from the window start. Its arrays keep their capacity from tick to tick.
public struct WindowAssembler {
    public let binding: SessionBinding
    let tokenizer: WindowTokenizer
    /// POYO+ only: the registry id of each output query's task.
    let decoderIDs: [Int]?
    private var spikeUnits: [Int] = []
    private var spikeTimes: [Double] = []
    private var outputTimes: [Double] = []
    public private(set) var window = ModelWindow()

    public init(binding: SessionBinding, kind: ModelKind) {
        self.binding = binding
        tokenizer = WindowTokenizer(hyperparameters: binding.hyperparameters, unitRows: binding.units.map(\.row), sessionRow: binding.sessionRow)
        // Queries are readout-major: every offset of the first readout, then of the next.
        decoderIDs = kind == .poyoPlus ? binding.readouts.flatMap { spec in binding.outputOffsets.map { _ in spec.id } } : nil
    }

    /// Output query times of a tick, in source ticks (one per offset; every readout is queried
    /// at these times). The model is queried at exactly these times (`assemble`).
    public func outputTicks(tick: Int64, clock: SourceClockTicks) -> [Int64] {
        clock.outputOffsets.map { tick + $0 }
    }

    /// Fills `window` for the window [start, end) of a source clock; with `spikesBefore`, only the
    /// spikes before it (the window as it stands before it completes, for `POYOModel.prepareEncoder`).
    public mutating func assemble(start: Int64, end: Int64, clock: SourceClockTicks, history: SpikeHistory, spikesBefore: Int64? = nil) {
        let rate = Double(clock.tickRate)
        spikeUnits.removeAll(keepingCapacity: true)
        spikeTimes.removeAll(keepingCapacity: true)
        for index in history.range(from: start, to: min(end, spikesBefore ?? end)) {
            spikeUnits.append(Int(history.unit(at: index)))
            spikeTimes.append(Double(history.time(at: index) - start) / rate)
        }
        // The query times are the published ones, in seconds from the window start: computed from
        // ticks as the spike times are, never from the configured seconds.
        outputTimes.removeAll(keepingCapacity: true)
        for _ in binding.readouts {
            for offset in clock.outputOffsets { outputTimes.append(Double(end + offset - start) / rate) }
        }
        tokenizer.tokenize(spikeUnits: spikeUnits, spikeTimes: spikeTimes, outputTimestamps: outputTimes, into: &window)
        window.outputDecoderIndex = decoderIDs
    }
}
