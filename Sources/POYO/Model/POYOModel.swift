/// A POYO or POYO+ model loaded from a poyo-rt model file, ready to run windows.
///
/// Not thread-safe: one model instance runs one window at a time (the daemon owns
/// one per scheduler thread). Scratch memory grows to the largest window seen and
/// is then reused, so steady-state forward passes allocate nothing but their outputs.
public final class POYOModel {
    /// Bytes of encoder attention scores computed at a time (see `slotAttentionForward`).
    nonisolated(unsafe) static var scoreBlockBytes = 256 * 1024
    public let description: ModelDescription
    public var hyperparameters: Hyperparameters { description.hyperparameters }
    /// Threads that run each forward pass.
    public var threads: Int { pool.threads }
    let weights: ModelWeights
    let rotary: RotaryFrequencies
    /// `enc_atn.to_q(enc_atn.norm(latent_emb))`: the encoder queries before rotation, [P, cross inner].
    let latentQueries: [Float]
    var unitKeyValues: UnitKeyValueTable
    /// The model's threads (`threads` at load): attention heads and row blocks of a window run on them.
    let pool: WorkerPool
    let scratch: ForwardScratch
    let startEndCache = StartEndCache()
    /// The encoder state of a window prepared before it completed (`prepareEncoder`).
    let encoderPrefix = EncoderPrefix()
    /// Spikes of the last `forward`'s window whose encoder attention was resumed from
    /// `prepareEncoder` instead of computed in that call (0 when none).
    public internal(set) var lastPreparedSpikes = 0
    /// Per-stage wall time of forward passes, when enabled (`poyo bench --stages`).
    public let stageClock = ForwardStageClock()
    /// Readout position of each registry id (POYO+ decoder index), -1 when none.
    let readoutOfDecoder: [Int]

    /// Loads a model file. `isolated` reads it into private memory instead of mapping it, so that
    /// replacing the file in place later cannot crash a long-running process (see `MappedFile`).
    /// `threads` (1...64) run each forward pass: the caller and `threads - 1` workers started here;
    /// `cpus` pins the workers (worker i to `cpus[i % cpus.count]`; the caller pins itself).
    public init(path: String, isolated: Bool = false, threads: Int = 1, cpus: [Int] = []) throws(ModelFileError) {
        let file = try SafeTensorsFile(file: MappedFile(path: path, isolated: isolated))
        let description = try ModelDescription.read(from: file)
        self.description = description
        weights = try ModelWeights(file: file, description: description)
        let h = description.hyperparameters
        pool = WorkerPool(threads: threads, cpus: cpus)
        scratch = ForwardScratch(threads: pool.threads)
        rotary = RotaryFrequencies(omega: weights.omega)
        unitKeyValues = UnitKeyValueTable(vocabularySize: description.unitVocab.count, inner: h.crossHeads * h.dimHead)
        latentQueries = Self.encoderQueries(weights: weights, hyperparameters: h)
        var decoders = Array(repeating: -1, count: (description.readouts.map(\.id).max() ?? 0) + 1)
        for (position, readout) in description.readouts.enumerated() { decoders[readout.id] = position }
        readoutOfDecoder = decoders
    }

    private static func encoderQueries(weights: ModelWeights, hyperparameters h: Hyperparameters) -> [Float] {
        let rows = h.numLatentsPerStep
        var normed = [Float](repeating: 0, count: rows * h.dim)
        var queries = [Float](repeating: 0, count: rows * h.crossHeads * h.dimHead)
        normed.withUnsafeMutableBufferPointer { normed in
            layerNormForward(normed.baseAddress!, weights.latentEmb, rows: rows, dim: h.dim, weights.encoderAttention.norm)
            queries.withUnsafeMutableBufferPointer { queries in
                linearForward(queries.baseAddress!, ldy: h.crossHeads * h.dimHead, normed.baseAddress!, ldx: h.dim, rows: rows, weights.encoderAttention.toQ)
            }
        }
        return queries
    }

    /// Whether the model's workers spin between forward passes instead of parking
    /// (`WorkerPool.busyPolling`; the daemon's `busy_poll`). Off at load.
    public var busyPolling: Bool {
        get { pool.busyPolling }
        set { pool.busyPolling = newValue }
    }

    /// Gives the model's worker threads SCHED_FIFO at `priority` (`WorkerPool.setRealtimePriority`):
    /// 0 or the error number of the refusal. The thread that calls `forward` sets its own.
    public func setWorkerRealtimePriority(_ priority: Int32) -> Int32 {
        pool.setRealtimePriority(priority)
    }

    /// Gives the model's worker threads ordinary scheduling (SCHED_OTHER) again: 0 or the error number.
    public func setWorkerOrdinaryScheduling() -> Int32 {
        pool.setOrdinaryScheduling()
    }

    /// Computes the encoder keys and values of these units now, so that windows
    /// holding them later do no per-unit work (the daemon calls this at load).
    public func prepare(units: some Sequence<Int>) {
        for unit in units where unit >= 0 && unit < description.unitVocab.count {
            _ = unitKeyValues.rows(of: unit, weights: weights, dim: hyperparameters.dim)
        }
    }

    /// Runs one window and returns the raw outputs (training units) of every readout.
    public func forward(_ window: ModelWindow) throws(ForwardError) -> ModelOutput {
        var output = ModelOutput(specs: description.readouts)
        try forward(window, into: &output)
        return output
    }

    /// Runs one window, writing into `output` (whose arrays keep their capacity).
    public func forward(_ window: ModelWindow, into output: inout ModelOutput) throws(ForwardError) {
        pool.wake()
        try validate(window)
        stageClock.start()
        let (latents, attended) = encode(window)
        process(latents: latents, count: window.latentIndex.count, encoderAttended: attended)
        decode(window, latents: latents, into: &output)
        stageClock.mark(.decoder)
    }
}
