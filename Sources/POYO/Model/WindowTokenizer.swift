/// Builds a model window exactly as torch_brain's `POYO.tokenize` does:
/// a start token (type 1, t = 0) and an end token (type 2, t = sequence_length) for every
/// unit of the session, laid out `[u0 start, u0 end, u1 start, u1 end, ...]`, then the
/// spikes (type 0) in the order given (time order), then the latent grid
/// `arange(0, sequence_length, latent_step) + latent_step / 2`, each step repeated
/// `num_latents_per_step` times.
public struct WindowTokenizer: Sendable {
    public let hyperparameters: Hyperparameters
    /// `unit_emb` rows of the session's units, in the session's unit order.
    public let unitRows: [Int]
    public let sessionRow: Int
    /// POYO+: registry id of the task every query asks for; nil for POYO.
    public let decoderID: Int?

    public init(hyperparameters: Hyperparameters, unitRows: [Int], sessionRow: Int, decoderID: Int? = nil) {
        self.hyperparameters = hyperparameters
        self.unitRows = unitRows
        self.sessionRow = sessionRow
        self.decoderID = decoderID
    }

    /// Fills `window` (reusing its arrays' capacity) from spikes given as the position of
    /// their unit in `unitRows` and their window-relative time in seconds, sorted by time.
    @inlinable public func tokenize(
        spikeUnits: some Collection<Int>, spikeTimes: some Collection<Double>,
        outputTimestamps: some Collection<Double>, into window: inout ModelWindow
    ) {
        let h = hyperparameters
        window.inputUnitIndex.removeAll(keepingCapacity: true)
        window.inputTimestamps.removeAll(keepingCapacity: true)
        window.inputTokenType.removeAll(keepingCapacity: true)
        window.inputMask = nil
        for row in unitRows {
            window.inputUnitIndex.append(row); window.inputTimestamps.append(0); window.inputTokenType.append(1)
            window.inputUnitIndex.append(row); window.inputTimestamps.append(h.sequenceLength); window.inputTokenType.append(2)
        }
        for unit in spikeUnits { window.inputUnitIndex.append(unitRows[unit]) }
        window.inputTimestamps.append(contentsOf: spikeTimes)
        window.inputTokenType.append(contentsOf: repeatElement(0, count: spikeUnits.count))

        window.latentIndex.removeAll(keepingCapacity: true)
        window.latentTimestamps.removeAll(keepingCapacity: true)
        for step in 0..<h.latentSteps {
            let time = Double(step) * h.latentStep + h.latentStep / 2
            for latent in 0..<h.numLatentsPerStep {
                window.latentIndex.append(latent)
                window.latentTimestamps.append(time)
            }
        }

        window.outputTimestamps.removeAll(keepingCapacity: true)
        window.outputTimestamps.append(contentsOf: outputTimestamps)
        window.outputSessionIndex.removeAll(keepingCapacity: true)
        window.outputSessionIndex.append(contentsOf: repeatElement(sessionRow, count: outputTimestamps.count))
        if let decoderID {
            if window.outputDecoderIndex == nil { window.outputDecoderIndex = [] }
            window.outputDecoderIndex!.removeAll(keepingCapacity: true)
            window.outputDecoderIndex!.append(contentsOf: repeatElement(decoderID, count: outputTimestamps.count))
        } else {
            window.outputDecoderIndex = nil
        }
    }
}
