/// y[rows, out] = x[rows, in] · Wᵀ + b (`nn.Linear`), with W in torch's [out, in] layout (read
/// from its packed panels). `ldx`/`ldy` are the row strides of x and y (columns of a wider
/// buffer); with `accumulate`, y += instead (the residual stream).
func linearForward(
    _ y: UnsafeMutablePointer<Float>, ldy: Int,
    _ x: UnsafePointer<Float>, ldx: Int,
    rows: Int, _ linear: LinearWeights, accumulate: Bool = false
) {
    panelGEMM(y, ldc: ldy, x, lda: ldx, linear.packed, m: rows, k: linear.inFeatures, Epilogue(bias: linear.bias, accumulate: accumulate))
}
