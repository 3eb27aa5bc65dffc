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
