/// x[rows, dim] += FeedForward(LayerNorm(x)): GEGLU, `value * gelu(gate)` with exact erf GELU.
/// Scratch: normed [rows, dim], hidden [rows, 8 dim], gated [rows, 4 dim].
func feedForwardResidual(
    _ x: UnsafeMutablePointer<Float>, rows: Int, dim: Int, _ ffn: FeedForwardWeights,
    normed: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>, gated: UnsafeMutablePointer<Float>
) {
    layerNormForward(normed, x, rows: rows, dim: dim, ffn.norm)
    linearForward(hidden, ldy: 8 &* dim, normed, ldx: dim, rows: rows, ffn.up)
    let width = 4 &* dim
    for r in 0..<rows {
        geglu(gated + r &* width, value: hidden + r &* 2 &* width, gate: hidden + (r &* 2 &* width &+ width), count: width)
    }
    linearForward(x, ldy: dim, gated, ldx: width, rows: rows, ffn.down, accumulate: true)
}

/// out[i] = value[i] * 0.5 * gate[i] * (1 + erf(gate[i] / √2)).
func geglu(_ out: UnsafeMutablePointer<Float>, value: UnsafePointer<Float>, gate: UnsafePointer<Float>, count: Int) {
    let raw = UnsafeMutableRawPointer(out)
    let values = UnsafeRawPointer(value)
    let gates = UnsafeRawPointer(gate)
    var i = 0
    while i &+ 8 <= count {
        let g = gates.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
        let v = values.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
        let gelu = 0.5 * g * (1 + vectorErf(g * 0.70710678118654752))
        raw.storeBytes(of: v * gelu, toByteOffset: i &* 4, as: SIMD8<Float>.self)
        i &+= 8
    }
    if i < count {
        var g = SIMD8<Float>()
        for j in i..<count { g[j &- i] = gate[j] }
        let gelu = 0.5 * g * (1 + vectorErf(g * 0.70710678118654752))
        for j in i..<count { out[j] = value[j] * gelu[j &- i] }
    }
}
