import CBLAS

/// y[rows, out] = x[rows, in] · Wᵀ + b, with W in torch's [out, in] layout.
/// `ldx`/`ldy` are the row strides of x and y (columns of a wider buffer).
func linearForward(
    _ y: UnsafeMutablePointer<Float>, ldy: Int,
    _ x: UnsafePointer<Float>, ldx: Int,
    rows: Int, _ linear: LinearWeights, accumulate: Bool = false
) {
    guard rows > 0 else { return }
    let out = linear.outFeatures
    cblas_sgemm(
        CblasRowMajor, CblasNoTrans, CblasTrans,
        Int32(rows), Int32(out), Int32(linear.inFeatures),
        1, x, Int32(ldx), linear.weight, Int32(linear.inFeatures),
        accumulate ? 1 : 0, y, Int32(ldy))
    if let bias = linear.bias {
        for r in 0..<rows {
            let row = y + r &* ldy
            for c in 0..<out { row[c] += bias[c] }
        }
    }
}

/// c[m, n] = alpha · a[m, k] · b[n, k]ᵀ (+ beta · c): scores of queries against keys.
@inline(__always)
func matmulTransposed(
    _ c: UnsafeMutablePointer<Float>, ldc: Int,
    _ a: UnsafePointer<Float>, lda: Int,
    _ b: UnsafePointer<Float>, ldb: Int,
    m: Int, n: Int, k: Int, alpha: Float
) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), 0, c, Int32(ldc))
}

/// c[m, n] = a[m, k] · b[k, n] (+ c when accumulating): attention weights times values.
@inline(__always)
func matmul(
    _ c: UnsafeMutablePointer<Float>, ldc: Int,
    _ a: UnsafePointer<Float>, lda: Int,
    _ b: UnsafePointer<Float>, ldb: Int,
    m: Int, n: Int, k: Int, accumulate: Bool = false
) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), accumulate ? 1 : 0, c, Int32(ldc))
}

/// Sets the number of threads OpenBLAS uses (1 keeps the model on one core).
public func setMatrixThreads(_ count: Int) {
    openblas_set_num_threads(Int32(max(1, count)))
}
