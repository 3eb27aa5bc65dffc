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

    /// Output query times of a tick, in source ticks (readout-major, as the window's queries).
    public func outputTicks(tick: Int64, tickRate: UInt64) -> [Int64] {
        binding.outputOffsets.map { tick + Int64(($0 * Double(tickRate)).rounded()) }
    }

    /// Fills `window` for the window [start, start + sequence) of a clock of `tickRate` Hz.
    public mutating func assemble(start: Int64, end: Int64, tickRate: UInt64, history: SpikeHistory) {
        let rate = Double(tickRate)
        spikeUnits.removeAll(keepingCapacity: true)
        spikeTimes.removeAll(keepingCapacity: true)
        for index in history.range(from: start, to: end) {
            spikeUnits.append(Int(history.unit(at: index)))
            spikeTimes.append(Double(history.time(at: index) - start) / rate)
        }
        let length = binding.hyperparameters.sequenceLength
        outputTimes.removeAll(keepingCapacity: true)
        for _ in binding.readouts {
            for offset in binding.outputOffsets { outputTimes.append(length + offset) }
        }
        tokenizer.tokenize(spikeUnits: spikeUnits, spikeTimes: spikeTimes, outputTimestamps: outputTimes, into: &window)
        window.outputDecoderIndex = decoderIDs
    }
}
