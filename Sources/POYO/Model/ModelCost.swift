/// Floating-point operations of one window (a multiply-add counts 2), for `poyo inspect`
/// and for reading benchmark numbers against the machine's peak.
public struct ForwardCost: Sendable {
    /// What torch_brain's forward computes.
    public let reference: Double
    /// What poyo-rt computes: the encoder's per-token K/V projection comes from the
    /// per-unit table, the latent queries are precomputed, and the unrotated half of the
    /// encoder's scores and values is computed per (unit, token type) (`SlotAttentionHead`).
    public let poyoRT: Double
}

extension POYOModel {
    /// Weights in the file (embedding rows of every unit and session included).
    public var parameterCount: Int {
        weights.storage.file.tensors.values.reduce(0) { $0 + $1.count }
    }

    /// The cost of a window of `tokens` input tokens from `units` units (their spikes and one
    /// start and one end token each: 3 (unit, token type) slots per unit) and `queries` outputs.
    public func forwardCost(tokens: Int, units: Int, queries: Int) -> ForwardCost {
        let h = hyperparameters
        let d = Double(h.dim), n = Double(tokens), q = Double(queries), slots = Double(3 * units)
        let l = Double(h.latentSteps * h.numLatentsPerStep)
        let crossInner = Double(h.crossHeads * h.dimHead), selfInner = Double(h.selfHeads * h.dimHead)
        let feedForward = { (rows: Double) in rows * 24 * d * d }
        let inputProjection = 2 * n * d * 2 * crossInner
        let latentQueries = 2 * l * d * crossInner
        let encoderScores = 2 * l * n * crossInner
        let encoderValues = 2 * l * n * crossInner
        // poyo-rt computes the unrotated half of each head once per slot (unit, token type): scores
        // against each latent index, and values weighted by the slot's summed softmax weights.
        let rotatedShare = Double(2 * rotary.rotatedPairs) / Double(h.dimHead)
        let split = rotatedShare > 0 && rotatedShare < 1
        let slotScores = 2 * crossInner * (n * l * rotatedShare + slots * Double(h.numLatentsPerStep) * (1 - rotatedShare))
        let slotValues = 2 * l * crossInner * (n * rotatedShare + slots * (1 - rotatedShare))
        let encoderRest = 2 * l * crossInner * d + feedForward(l)
        let layer = 2 * l * d * 3 * selfInner + 4 * l * l * selfInner + 2 * l * selfInner * d + feedForward(l)
        let readoutDim = Double(description.readouts.map(\.dim).max() ?? 0)
        let decoder = 2 * q * d * crossInner + 2 * l * d * 2 * crossInner + 4 * q * l * crossInner
            + 2 * q * crossInner * d + feedForward(q) + 2 * q * d * readoutDim
        let common = encoderRest + Double(h.depth) * layer + decoder
        return ForwardCost(
            reference: common + inputProjection + latentQueries + encoderScores + encoderValues,
            poyoRT: common + (split ? slotScores + slotValues : encoderScores + encoderValues))
    }
}
