/// Scaled dot-product attention over `heads` column blocks of width `dimHead`
/// (torch's `b n (h d)` layout), no mask: masked keys are left out by the caller.
///   q [queries, ldq], k [keys, ldk], v [keys, ldv] -> out [queries, ldo]
/// `scores` holds one head's [queries, keys] weights at a time; `sums` [queries].
func attentionForward(
    _ out: UnsafeMutablePointer<Float>, ldo: Int,
    q: UnsafePointer<Float>, ldq: Int,
    k: UnsafePointer<Float>, ldk: Int,
    v: UnsafePointer<Float>, ldv: Int,
    queries: Int, keys: Int, heads: Int, dimHead: Int,
    scores: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Float>
) {
    let scaleFactor = 1 / Float(dimHead).squareRoot()
    for h in 0..<heads {
        let column = h &* dimHead
        matmulTransposed(scores, ldc: keys, q + column, lda: ldq, k + column, ldb: ldk, m: queries, n: keys, k: dimHead, alpha: scaleFactor)
        for r in 0..<queries {
            let row = scores + r &* keys
            sums[r] = exponentiate(row, count: keys, shift: maximum(row, count: keys))
        }
        matmul(out + column, ldc: ldo, scores, lda: keys, v + column, ldb: ldv, m: queries, n: dimHead, k: keys)
        for r in 0..<queries {
            scale(out + (r &* ldo &+ column), count: dimHead, by: 1 / sums[r])
        }
    }
}

/// The encoder's attention, with its queries' constant part computed once per latent.
///
/// Only the first `rotatedColumns` of each head carry a rotation; the rest of a latent's
/// query is `to_q(LN(latent_emb))` unrotated, the same at every latent time step. So the
/// scores split into a rotated part, one row per latent token, and an unrotated part, one row
/// per latent *index* (`sharedQueries`, [groups, ldShared]), added per row via `rowGroup`.
/// That is 44% fewer score FLOPs for poyo_1.3M (16 latent indices, 8 time steps), same result.
/// `sharedScores` holds [groups, keys].
func splitAttentionForward(
    _ out: UnsafeMutablePointer<Float>, ldo: Int,
    q: UnsafePointer<Float>, ldq: Int,
    sharedQueries: UnsafePointer<Float>, ldShared: Int, groups: Int, rowGroup: UnsafePointer<Int>,
    k: UnsafePointer<Float>, ldk: Int,
    v: UnsafePointer<Float>, ldv: Int,
    queries: Int, keys: Int, heads: Int, dimHead: Int, rotatedColumns: Int,
    scores: UnsafeMutablePointer<Float>, sharedScores: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Float>
) {
    let scaleFactor = 1 / Float(dimHead).squareRoot()
    let unrotated = dimHead &- rotatedColumns
    for h in 0..<heads {
        let column = h &* dimHead
        matmulTransposed(scores, ldc: keys, q + column, lda: ldq, k + column, ldb: ldk, m: queries, n: keys, k: rotatedColumns, alpha: scaleFactor)
        matmulTransposed(
            sharedScores, ldc: keys, sharedQueries + (column &+ rotatedColumns), lda: ldShared,
            k + (column &+ rotatedColumns), ldb: ldk, m: groups, n: keys, k: unrotated, alpha: scaleFactor)
        for r in 0..<queries {
            let row = scores + r &* keys
            add(sharedScores + rowGroup[r] &* keys, into: row, count: keys)
            sums[r] = exponentiate(row, count: keys, shift: maximum(row, count: keys))
        }
        matmul(out + column, ldc: ldo, scores, lda: keys, v + column, ldb: ldv, m: queries, n: dimHead, k: keys)
        for r in 0..<queries {
            scale(out + (r &* ldo &+ column), count: dimHead, by: 1 / sums[r])
        }
    }
}
