/// Vectorized exp and erf over SIMD8 lanes (AVX2 with the package's target CPU).
/// Scalar libm calls cost ~5 ns each; softmax and GELU need ~10^6 per window.

/// Polynomials use `addingProduct` (one FMA each): Swift does not contract `a * b + c`.
///
/// e^x for x <= 0 (softmax after the maximum): relative error < 2e-7 for x >= -16, growing to
/// < 4e-7 at -87.3 (`KernelTests`), where the weight is below 1e-7 of its row's largest; below
/// -87.3 (e^x subnormal in Float) and at -infinity it returns 0; NaN stays NaN.
/// x = n ln 2 + t, e^x = 2^n (1 + t p(t)) with the degree-5 minimax p and the one-constant
/// reduction of XNNPACK's AVX2 softmax kernels (`f32-raddstoreexpminusmax` avx2-rr1-p5):
/// 9 FMA-unit operations a vector.
@inline(__always)
func vectorExp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    // Adding 1.5 * 2^23 + 127 rounds x * log2(e) to the nearest integer n and leaves n + 127 in the
    // low mantissa bits: shifted 23 left, they are the exponent of 2^n (no float-to-int conversion).
    let magic: Float = 0x1.8000FEp23
    var n = SIMD8<Float>(repeating: magic).addingProduct(x, SIMD8(repeating: 0x1.715476p+0))
    let scale = unsafeBitCast(unsafeBitCast(n, to: SIMD8<Int32>.self) &<< 23, to: SIMD8<Float>.self)
    n -= magic
    var t = x.addingProduct(n, SIMD8(repeating: -0x1.62E430p-1))
    var p = SIMD8<Float>(repeating: 0x1.573A1Ap-5).addingProduct(SIMD8(repeating: 0x1.0F9F9Cp-7), t)
    p = SIMD8(repeating: 0x1.555A80p-3).addingProduct(p, t)
    p = SIMD8(repeating: 0x1.FFFDC6p-2).addingProduct(p, t)
    p = SIMD8(repeating: 0x1.FFFFF6p-1).addingProduct(p, t)
    t *= scale
    // Below -87.3, n + 127 < 1 and the exponent bits wrap: those lanes are 0.
    return scale.addingProduct(t, p).replacing(with: 0, where: x .< -0x1.5D589Ep6)
}

/// erf(x) as x α(x²) / β(x²) on x clamped to [-4, 4] (erf(±4) = ±1 in Float): the rational
/// minimax fit of Eigen's `generic_fast_erf_float` (also XLA's and TVM's), absolute error < 3e-7
/// (`KernelTests`), one division and no exp.
@inline(__always)
func vectorErf(_ x: SIMD8<Float>) -> SIMD8<Float> {
    // `replacing` keeps a NaN lane NaN (a comparison with NaN is false).
    var v = x.replacing(with: 4, where: x .> 4)
    v = v.replacing(with: -4, where: v .< -4)
    let x2 = v * v
    var p = SIMD8<Float>(repeating: 2.77068142495902e-08).addingProduct(x2, SIMD8(repeating: -2.72614225801306e-10))
    p = SIMD8(repeating: -2.10102402082508e-06).addingProduct(x2, p)
    p = SIMD8(repeating: -5.69250639462346e-05).addingProduct(x2, p)
    p = SIMD8(repeating: -7.34990630326855e-04).addingProduct(x2, p)
    p = SIMD8(repeating: -2.95459980854025e-03).addingProduct(x2, p)
    p = SIMD8(repeating: -1.60960333262415e-02).addingProduct(x2, p)
    var q = SIMD8<Float>(repeating: -2.13374055278905e-04).addingProduct(x2, SIMD8(repeating: -1.45660718464996e-05))
    q = SIMD8(repeating: -1.68282697438203e-03).addingProduct(x2, q)
    q = SIMD8(repeating: -7.37332916720468e-03).addingProduct(x2, q)
    q = SIMD8(repeating: -1.42647390514189e-02).addingProduct(x2, q)
    return v * p / q
}

/// x[i] *= factor for i < count.
func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
    for i in 0..<count { x[i] *= factor }
}
