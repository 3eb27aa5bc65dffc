/// The encoder attention's state over the start/end tokens of a window.
///
/// Every window of a session begins with the same start and end tokens (one pair per unit, at
/// t = 0 and t = sequence_length) and has the same latent grid, so their share of the encoder's
/// softmax (running maximum, sum, and weighted values per latent and head) is the same in every
/// window: 400 of ~4400 keys for 200 units at 20 Hz. It is computed on the first window and
/// resumed by later ones whose start/end tokens and latents are identical (compared exactly).
final class StartEndCache {
    private var unitIndex: [Int] = [], tokenType: [Int] = [], timestamps: [Double] = []
    private var latentIndex: [Int] = [], latentTimestamps: [Double] = []
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
        guard valid, prefix == unitIndex.count, w.latentIndex == latentIndex, w.latentTimestamps == latentTimestamps else { return false }
        for i in 0..<prefix where w.inputUnitIndex[i] != unitIndex[i] || w.inputTokenType[i] != tokenType[i] || w.inputTimestamps[i] != timestamps[i] {
            return false
        }
        return true
    }

    /// Remembers which tokens and latents the state now in `out`, `sums` and `maxima` belongs to.
    func record(_ w: ModelWindow, prefix: Int) {
        unitIndex.removeAll(keepingCapacity: true)
        unitIndex.append(contentsOf: w.inputUnitIndex[0..<prefix])
        tokenType.removeAll(keepingCapacity: true)
        tokenType.append(contentsOf: w.inputTokenType[0..<prefix])
        timestamps.removeAll(keepingCapacity: true)
        timestamps.append(contentsOf: w.inputTimestamps[0..<prefix])
        latentIndex.removeAll(keepingCapacity: true)
        latentIndex.append(contentsOf: w.latentIndex)
        latentTimestamps.removeAll(keepingCapacity: true)
        latentTimestamps.append(contentsOf: w.latentTimestamps)
        valid = true
    }
}
