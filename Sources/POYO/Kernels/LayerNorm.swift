/// y[rows, dim] = LayerNorm(x[rows, dim]) with eps 1e-5 and biased variance, as `nn.LayerNorm`.
/// Vectorized over 8 columns with two accumulators per sum (a scalar sum is one chain of `dim`
/// dependent adds: ~0.3 ms of a poyo_1.3M window's ~1800 rows).
func layerNormForward(
    _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
    rows: Int, dim: Int, _ norm: LayerNormWeights
) {
    let inverseDim = 1 / Float(dim)
    let vectorDim = dim & ~7
    let weight = UnsafeRawPointer(norm.weight), bias = UnsafeRawPointer(norm.bias)
    for r in 0..<rows {
        let xr = x + r &* dim
        let yr = y + r &* dim
        let input = UnsafeRawPointer(xr), output = UnsafeMutableRawPointer(yr)
        var low = SIMD8<Float>(), high = SIMD8<Float>()
        var c = 0
        while c &+ 16 <= vectorDim {
            low += input.loadUnaligned(fromByteOffset: c &* 4, as: SIMD8<Float>.self)
            high += input.loadUnaligned(fromByteOffset: c &* 4 &+ 32, as: SIMD8<Float>.self)
            c &+= 16
        }
        if c < vectorDim {
            low += input.loadUnaligned(fromByteOffset: c &* 4, as: SIMD8<Float>.self)
            c &+= 8
        }
        var sum = (low + high).sum()
        while c < dim {
            sum += xr[c]
            c &+= 1
        }
        let mean = sum * inverseDim
        let meanVector = SIMD8<Float>(repeating: mean)
        low = SIMD8<Float>()
        high = SIMD8<Float>()
        c = 0
        while c &+ 16 <= vectorDim {
            let d0 = input.loadUnaligned(fromByteOffset: c &* 4, as: SIMD8<Float>.self) - meanVector
            let d1 = input.loadUnaligned(fromByteOffset: c &* 4 &+ 32, as: SIMD8<Float>.self) - meanVector
            low = low.addingProduct(d0, d0)
            high = high.addingProduct(d1, d1)
            c &+= 16
        }
        if c < vectorDim {
            let d0 = input.loadUnaligned(fromByteOffset: c &* 4, as: SIMD8<Float>.self) - meanVector
            low = low.addingProduct(d0, d0)
            c &+= 8
        }
        var squares = (low + high).sum()
        while c < dim {
            let d = xr[c] - mean
            squares += d * d
            c &+= 1
        }
        let rstd = 1 / (squares * inverseDim + 1e-5).squareRoot()
        let rstdVector = SIMD8<Float>(repeating: rstd)
        c = 0
        while c &+ 8 <= vectorDim {
            let offset = c &* 4
            let d = (input.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self) - meanVector) * rstdVector
            let w = weight.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            output.storeBytes(of: d * w + bias.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self), toByteOffset: offset, as: SIMD8<Float>.self)
            c &+= 8
        }
        while c < dim {
            yr[c] = (xr[c] - mean) * rstd * norm.weight[c] + norm.bias[c]
            c &+= 1
        }
    }
}
