/// The encoder attention's state over the start/end tokens of a window.
///
/// Every window of a session begins with the same start and end tokens (one pair per unit, at
/// t = 0 and t = sequence_length) and has the same latent grid, so their share of the encoder's
/// softmax (running maximum, sum, and weighted values per latent and head) is the same in every
/// window: 400 of ~4400 keys for 200 units at 20 Hz. It is computed on the first window and
/// resumed by later ones whose start/end tokens and latents are identical (compared exactly).
final class StartEndCache {
    private var recorded = WindowPrefix()
    private var valid = false
    /// [latents, cross inner], unnormalized weighted values.
    let out = FloatBuffer()
    /// [cross heads, latents] each.
    let sums = FloatBuffer(), maxima = FloatBuffer()

    /// Number of leading tokens of `w` that are start or end tokens (type 1 or 2), all attended.
    static func prefixLength(of w: ModelWindow) -> Int {
        var length = 0
        while length < w.inputTokenType.count, w.inputTokenType[length] == 1 || w.inputTokenType[length] == 2,
              w.inputMask?[length] ?? true {
            length += 1
        }
        return length
    }

    func matches(_ w: ModelWindow, prefix: Int) -> Bool {
        valid && prefix == recorded.tokens && recorded.begins(w)
    }

    /// Remembers which tokens and latents the state now in `out`, `sums` and `maxima` belongs to.
    func record(_ w: ModelWindow, prefix: Int) {
        recorded.record(w, tokens: prefix)
        valid = true
    }
}

/// The first tokens of a window and its latents, copied, to recognise a later window that
/// begins the same way (`StartEndCache`, `EncoderPrefix`).
struct WindowPrefix {
    private var unitIndex: [Int] = [], tokenType: [Int] = [], timestamps: [Double] = []
    private var latentIndex: [Int] = [], latentTimestamps: [Double] = []
    /// Tokens recorded.
    private(set) var tokens = 0

    /// Copies the first `tokens` tokens of `w` and its latents (keeping the arrays' capacity).
    mutating func record(_ w: ModelWindow, tokens: Int) {
        unitIndex.removeAll(keepingCapacity: true)
        unitIndex.append(contentsOf: w.inputUnitIndex[0..<tokens])
        tokenType.removeAll(keepingCapacity: true)
        tokenType.append(contentsOf: w.inputTokenType[0..<tokens])
        timestamps.removeAll(keepingCapacity: true)
        timestamps.append(contentsOf: w.inputTimestamps[0..<tokens])
        latentIndex.removeAll(keepingCapacity: true)
        latentIndex.append(contentsOf: w.latentIndex)
        latentTimestamps.removeAll(keepingCapacity: true)
        latentTimestamps.append(contentsOf: w.latentTimestamps)
        self.tokens = tokens
    }

    /// Whether `w` has the recorded latents and begins with the recorded tokens (unit, type and
    /// time compared exactly).
    func begins(_ w: ModelWindow) -> Bool {
        guard tokens <= w.inputUnitIndex.count, w.latentIndex == latentIndex, w.latentTimestamps == latentTimestamps else { return false }
        for i in 0..<tokens where w.inputUnitIndex[i] != unitIndex[i] || w.inputTokenType[i] != tokenType[i] || w.inputTimestamps[i] != timestamps[i] {
            return false
        }
        return true
    }
}
