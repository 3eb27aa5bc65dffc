/// y[rows, dim] = LayerNorm(x[rows, dim]) with eps 1e-5 and biased variance, as `nn.LayerNorm`.
func layerNormForward(
    _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
    rows: Int, dim: Int, _ norm: LayerNormWeights
) {
    let inverseDim = 1 / Float(dim)
    for r in 0..<rows {
        let xr = x + r &* dim
        let yr = y + r &* dim
        var sum: Float = 0
        for c in 0..<dim { sum += xr[c] }
        let mean = sum * inverseDim
        var squares: Float = 0
        for c in 0..<dim {
            let d = xr[c] - mean
            squares += d * d
        }
        let rstd = 1 / (squares * inverseDim + 1e-5).squareRoot()
        for c in 0..<dim {
            yr[c] = (xr[c] - mean) * rstd * norm.weight[c] + norm.bias[c]
        }
    }
}
