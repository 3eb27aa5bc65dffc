/// Per-thread scratch of the attention kernels.
final class AttentionScratch {
    let scores = FloatBuffer()        // [queries, keys (block)] of one head
    let sharedScores = FloatBuffer()  // [groups, key block], the encoder's unrotated score part
    let packedKeys = FloatBuffer()    // keys of one head (block), transposed into panels
    let packedShared = FloatBuffer()  // the unrotated columns of the same keys
    let packedValues = FloatBuffer()  // values of one head (block), in panels
    let sums = FloatBuffer()          // [queries]
    // The encoder's per-slot operands (`SlotAttentionHead`) of one head.
    let slotKeys = FloatBuffer()      // [slots, unrotated]
    let slotValues = FloatBuffer()    // [slots, unrotated]
    let slotGroupScores = FloatBuffer() // [slots, latent indices]
    let slotScores = FloatBuffer()    // [slots, latents]
    let slotRotated = FloatBuffer()   // [slots, 2 * rotated] rotated key then value columns, before rotation
    let blockKeys = FloatBuffer()     // [key block, rotated] rotated key columns of one head (`SlotHeadKeys`)
    let blockValues = FloatBuffer()   // [key block, rotated] rotated value columns of one head
}

extension Panels {
    /// A row-major [K, columns] operand read in place (row stride `ldb`).
    init(_ matrix: UnsafePointer<Float>, ldb: Int, columns: Int) {
        self.init(base: matrix, panelStride: 16, ldb: ldb, columns: columns, padded: false)
    }
}

/// Scaled dot-product attention of the heads in `heads` (column blocks of width `dimHead`, torch's
/// `b n (h d)` layout), no mask: masked keys are left out by the caller.
///   q [queries, ldq], k [keys, ldk], v [keys, ldv] -> out [queries, ldo] (those heads' columns)
/// Heads are independent, so threads may run disjoint `heads` ranges with their own `scratch`.
///
/// The scores are kept transposed, [keys, queries] (the keys are the rows of the product, the
/// queries packed as its panels), so that each query's softmax maximum and sum are column
/// operations over whole rows, vectorized across queries, and the value product reads the
/// weights in place (`panelGEMM(transposedA:)`); 1 % faster per window than row-wise softmax.
func attentionForward(
    _ out: UnsafeMutablePointer<Float>, ldo: Int,
    q: UnsafePointer<Float>, ldq: Int,
    k: UnsafePointer<Float>, ldk: Int,
    v: UnsafePointer<Float>, ldv: Int,
    queries: Int, keys: Int, heads: Range<Int>, dimHead: Int, scratch: AttentionScratch
) {
    let scaleFactor = 1 / Float(dimHead).squareRoot()
    let scores = scratch.scores.reserve(keys &* queries), statistics = scratch.sums.reserve(2 &* queries)
    let maxima = statistics, sums = statistics + queries
    let packed = scratch.packedKeys.reserve(packedCount(rows: queries, depth: dimHead))
    let packedValues = scratch.packedValues.reserve(packedCount(rows: dimHead, depth: keys))
    for h in heads {
        let column = h &* dimHead
        let queryPanels = packTransposed(q + column, ldm: ldq, rows: queries, depth: dimHead, into: packed)
        panelGEMM(scores, ldc: queries, k + column, lda: ldk, queryPanels, m: keys, k: dimHead, Epilogue(alpha: scaleFactor))
        columnMaxima(scores, rows: keys, columns: queries, into: maxima)
        sums.update(repeating: 0, count: queries)
        exponentiateColumns(scores, rows: keys, columns: queries, maxima: maxima, sums: sums)
        let valuePanels = packRows(v + column, ldm: ldv, rows: keys, columns: dimHead, into: packedValues)
        // Each query's output row normalized as it is stored (the maxima are spent by now).
        let reciprocals = maxima
        for r in 0..<queries { reciprocals[r] = 1 / sums[r] }
        panelGEMM(
            out + column, ldc: ldo, scores, lda: queries, valuePanels, m: queries, k: keys,
            Epilogue(rowScale: reciprocals), transposedA: true)
    }
}
