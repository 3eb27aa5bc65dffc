/// Vectorized exp and erf over SIMD8 lanes (AVX2 with the package's target CPU).
/// Scalar libm calls cost ~5 ns each; softmax and GELU need ~10^6 per window.

/// Polynomials use `addingProduct` (one FMA each): Swift does not contract `a * b + c`.
///
/// e^x for x <= 0, relative error ~2 ulp down to -87; smaller x gives ~1e-38 (softmax weights that small are 0 to float32 anyway).
@inline(__always)
func vectorExp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    // Every caller passes x <= 0 (softmax after the row maximum, erf's exp(-z² + p)), so
    // only underflow is guarded. (`clamped` is not inlined for SIMD8: a call per vector.)
    let low = SIMD8<Float>(repeating: -87.3)
    let clamped = x.replacing(with: low, where: x .< low)
    // Adding 1.5 * 2^23 rounds x * log2(e) to the nearest integer n and leaves n in the
    // low mantissa bits: no float-to-int conversion (generic per lane in Swift SIMD).
    let magic: Float = 12_582_912
    let shifted = clamped * 1.44269504088896341 + magic
    let n = shifted - magic
    var r = clamped.addingProduct(n, -0.693359375)
    r = r.addingProduct(n, 2.12194440e-4)
    var p = SIMD8<Float>(repeating: 1.9875691500e-4)
    p = SIMD8(repeating: 1.3981999507e-3).addingProduct(p, r)
    p = SIMD8(repeating: 8.3334519073e-3).addingProduct(p, r)
    p = SIMD8(repeating: 4.1665795894e-2).addingProduct(p, r)
    p = SIMD8(repeating: 1.6666665459e-1).addingProduct(p, r)
    p = SIMD8(repeating: 5.0000001201e-1).addingProduct(p, r)
    p = (r + 1).addingProduct(p, r * r)
    let bits = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
    let exponent = (bits &+ 127) &<< 23
    return p * unsafeBitCast(exponent, to: SIMD8<Float>.self)
}

/// erf(x) from the Chebyshev fit of erfc (Numerical Recipes `erfcc`), absolute error ~1e-7.
@inline(__always)
func vectorErf(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let z = x.replacing(with: -x, where: x .< 0)
    let t = 1 / (1 + 0.5 * z)
    var p = SIMD8<Float>(repeating: 0.17087277)
    p = SIMD8(repeating: -0.82215223).addingProduct(p, t)
    p = SIMD8(repeating: 1.48851587).addingProduct(p, t)
    p = SIMD8(repeating: -1.13520398).addingProduct(p, t)
    p = SIMD8(repeating: 0.27886807).addingProduct(p, t)
    p = SIMD8(repeating: -0.18628806).addingProduct(p, t)
    p = SIMD8(repeating: 0.09678418).addingProduct(p, t)
    p = SIMD8(repeating: 0.37409196).addingProduct(p, t)
    p = SIMD8(repeating: 1.00002368).addingProduct(p, t)
    p = SIMD8(repeating: -1.26551223).addingProduct(p, t)
    let erfc = t * vectorExp(p - z * z)
    let magnitude = 1 - erfc
    return magnitude.replacing(with: -magnitude, where: x .< 0)
}

/// x[i] = exp(x[i] - shift) for i < count; returns the sum of the results.
func exponentiate(_ x: UnsafeMutablePointer<Float>, count: Int, shift: Float) -> Float {
    var sums = SIMD8<Float>()
    var i = 0
    let raw = UnsafeMutableRawPointer(x)
    while i &+ 8 <= count {
        let v = vectorExp(raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self) - shift)
        raw.storeBytes(of: v, toByteOffset: i &* 4, as: SIMD8<Float>.self)
        sums += v
        i &+= 8
    }
    var sum = sums.sum()
    if i < count {
        var tail = SIMD8<Float>(repeating: -.infinity)
        for j in i..<count { tail[j &- i] = x[j] - shift }
        let v = vectorExp(tail)
        for j in i..<count {
            x[j] = v[j &- i]
            sum += v[j &- i]
        }
    }
    return sum
}

/// Largest of x[0..<count] (count > 0). Four independent accumulators hide the
/// compare-and-blend latency that a single running maximum would wait on.
func maximum(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var best0 = SIMD8<Float>(repeating: -.infinity), best1 = best0, best2 = best0, best3 = best0
    var i = 0
    let raw = UnsafeRawPointer(x)
    while i &+ 32 <= count {
        let offset = i &* 4
        let v0 = raw.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
        let v1 = raw.loadUnaligned(fromByteOffset: offset &+ 32, as: SIMD8<Float>.self)
        let v2 = raw.loadUnaligned(fromByteOffset: offset &+ 64, as: SIMD8<Float>.self)
        let v3 = raw.loadUnaligned(fromByteOffset: offset &+ 96, as: SIMD8<Float>.self)
        best0 = best0.replacing(with: v0, where: v0 .> best0)
        best1 = best1.replacing(with: v1, where: v1 .> best1)
        best2 = best2.replacing(with: v2, where: v2 .> best2)
        best3 = best3.replacing(with: v3, where: v3 .> best3)
        i &+= 32
    }
    best0 = best0.replacing(with: best1, where: best1 .> best0)
    best2 = best2.replacing(with: best3, where: best3 .> best2)
    best0 = best0.replacing(with: best2, where: best2 .> best0)
    var result = best0.max()
    while i < count {
        result = Swift.max(result, x[i])
        i &+= 1
    }
    return result
}

/// x[i] *= factor for i < count.
func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
    for i in 0..<count { x[i] *= factor }
}

/// y[i] += x[i] for i < count.
func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count { y[i] += x[i] }
}
