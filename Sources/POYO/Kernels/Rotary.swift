import Foundation

/// The rotary time embedding of torch_brain (`RotaryTimeEmbedding`): pair p of every
/// head is rotated by the angle t · omega[p]. Only the first pairs have omega != 0
/// (rotate_dim = dim_head / 2), the rest are left as they are, exactly as cos 0 = 1, sin 0 = 0 would.
struct RotaryFrequencies {
    /// Radians per second, as Double: torch multiplies float64 timestamps by omega in float64.
    let omega: [Double]
    /// Pairs with a non-zero frequency (those after the last one are untouched).
    let rotatedPairs: Int

    init(omega: [Float]) {
        self.omega = omega.map(Double.init)
        rotatedPairs = (omega.lastIndex { $0 != 0 } ?? -1) + 1
    }

    /// Floats per timestamp in an angle table: one per rotated column.
    var tableWidth: Int { 2 &* rotatedPairs }

    /// The rotation of each timestamp in the layout `rotate` consumes: [count, 2 · rotatedPairs]
    /// each, `cos` as (c0, c0, c1, c1, ...) and `sin` as (-s0, s0, -s1, s1, ...), so that a
    /// rotated vector is `x * cos + swapPairs(x) * sin` lane by lane.
    /// The angle is formed and reduced to [-π/4, π/4] in Double (a float32 angle at t ≈ 1 s
    /// is off by ~7e-3 rad); the reduced angle's sine and cosine are then float32 polynomials
    /// (error < 1e-7, as torch's float64 cos/sin rounded to float32), ~10x cheaper than libm.
    func angles(
        of times: UnsafePointer<Double>, count: Int,
        cos cosines: UnsafeMutablePointer<Float>, sin sines: UnsafeMutablePointer<Float>
    ) {
        let pairs = rotatedPairs
        let vectorPairs = pairs & ~7
        omega.withUnsafeBufferPointer { omega in
            let frequencies = UnsafeRawPointer(omega.baseAddress!)
            for i in 0..<count {
                let t = times[i]
                let row = i &* 2 &* pairs
                var p = 0
                while p < vectorPairs {
                    let angle = frequencies.loadUnaligned(fromByteOffset: p &* 8, as: SIMD8<Double>.self) * t
                    let (c, s) = sincos(angle)
                    let offset = (row &+ 2 &* p) &* 4
                    let cosineOut = UnsafeMutableRawPointer(cosines), sineOut = UnsafeMutableRawPointer(sines)
                    cosineOut.storeBytes(of: SIMD8(c[0], c[0], c[1], c[1], c[2], c[2], c[3], c[3]), toByteOffset: offset, as: SIMD8<Float>.self)
                    cosineOut.storeBytes(of: SIMD8(c[4], c[4], c[5], c[5], c[6], c[6], c[7], c[7]), toByteOffset: offset &+ 32, as: SIMD8<Float>.self)
                    sineOut.storeBytes(of: SIMD8(-s[0], s[0], -s[1], s[1], -s[2], s[2], -s[3], s[3]), toByteOffset: offset, as: SIMD8<Float>.self)
                    sineOut.storeBytes(of: SIMD8(-s[4], s[4], -s[5], s[5], -s[6], s[6], -s[7], s[7]), toByteOffset: offset &+ 32, as: SIMD8<Float>.self)
                    p &+= 8
                }
                while p < pairs {
                    let (c, s) = sincos(t * omega[p])
                    let column = row &+ 2 &* p
                    cosines[column] = c
                    cosines[column &+ 1] = c
                    sines[column] = -s
                    sines[column &+ 1] = s
                    p &+= 1
                }
            }
        }
    }

    /// Rotates `heads` head blocks of width `dimHead` in each of `rows` rows of x (row stride `ldx`)
    /// by the angles of that row (tables from `angles`); `inverse` rotates by minus the angle
    /// (`RotaryTimeEmbedding.invert`). Pair p: (x0 c - x1 s, x1 c + x0 s).
    /// With `source` (row stride `ldSource`), reads the rows there and writes them rotated into x,
    /// unrotated columns copied: a gather and a rotation in one pass.
    func rotate(
        _ x: UnsafeMutablePointer<Float>, ldx: Int, rows: Int, heads: Int, dimHead: Int,
        cos cosines: UnsafePointer<Float>, sin sines: UnsafePointer<Float>, inverse: Bool = false,
        from source: UnsafePointer<Float>? = nil, ldSource: Int = 0
    ) {
        let width = tableWidth
        let vectorWidth = width & ~7
        let sign: Float = inverse ? -1 : 1
        for r in 0..<rows {
            let c = UnsafeRawPointer(cosines + r &* width)
            let s = UnsafeRawPointer(sines + r &* width)
            for h in 0..<heads {
                let head = UnsafeMutableRawPointer(x + (r &* ldx &+ h &* dimHead))
                let input = source.map { UnsafeRawPointer($0 + (r &* ldSource &+ h &* dimHead)) } ?? UnsafeRawPointer(head)
                var j = 0
                while j < vectorWidth {
                    let offset = j &* 4
                    let v = input.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                    let swapped = SIMD8(v[1], v[0], v[3], v[2], v[5], v[4], v[7], v[6])
                    let cv = c.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                    let sv = s.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self) * sign
                    head.storeBytes(of: (v * cv).addingProduct(swapped, sv), toByteOffset: offset, as: SIMD8<Float>.self)
                    j &+= 8
                }
                let scalars = head.assumingMemoryBound(to: Float.self)
                let inputs = input.assumingMemoryBound(to: Float.self)
                let cs = c.assumingMemoryBound(to: Float.self), ss = s.assumingMemoryBound(to: Float.self)
                while j < width {
                    let x0 = inputs[j], x1 = inputs[j &+ 1]
                    scalars[j] = x0 * cs[j] + x1 * sign * ss[j]
                    scalars[j &+ 1] = x1 * cs[j &+ 1] + x0 * sign * ss[j &+ 1]
                    j &+= 2
                }
                if source != nil {
                    // The unrotated columns, copied inline (a memmove call per head costs more here).
                    var k = width
                    while k &+ 8 <= dimHead {
                        head.storeBytes(of: input.loadUnaligned(fromByteOffset: k &* 4, as: SIMD8<Float>.self), toByteOffset: k &* 4, as: SIMD8<Float>.self)
                        k &+= 8
                    }
                    while k < dimHead {
                        scalars[k] = inputs[k]
                        k &+= 1
                    }
                }
            }
        }
    }
}

/// (cos a, sin a) rounded to float32, for any finite angle a (radians).
@inline(__always)
func sincos(_ angle: Double) -> (Float, Float) {
    let quadrant = (angle * (2 / Double.pi)).rounded()
    // Cody-Waite: π/2 = hi + lo with hi on 26 bits, so quadrant * hi is exact for |quadrant| < 2^27
    // (window-relative times; beyond that the reduction still errs by < 1e-6 rad).
    let reduced = Float((angle - quadrant * 1.5707963109016418) - quadrant * 1.5893254773528196e-08)
    let r2 = reduced * reduced
    let sine = reduced * (1 + r2 * (-1.0 / 6 + r2 * (1.0 / 120 + r2 * (-1.0 / 5040 + r2 * (1.0 / 362_880)))))
    let cosine = 1 + r2 * (-0.5 + r2 * (1.0 / 24 + r2 * (-1.0 / 720 + r2 * (1.0 / 40320 - r2 * (1.0 / 3_628_800)))))
    switch Int(truncatingIfNeeded: Int64(quadrant)) & 3 {
    case 0: return (cosine, sine)
    case 1: return (-sine, cosine)
    case 2: return (-cosine, -sine)
    default: return (sine, -cosine)
    }
}

/// `sincos` on eight angles at once, branch-free: the quadrant picks and signs lanes by masks.
@inline(__always)
func sincos(_ angle: SIMD8<Double>) -> (SIMD8<Float>, SIMD8<Float>) {
    // Adding 1.5 * 2^52 rounds to an integer and leaves it in the low mantissa bits.
    let magic: Double = 6_755_399_441_055_744
    let shifted = angle * (2 / Double.pi) + magic
    let quadrant = shifted - magic
    let reducedDouble = angle.addingProduct(quadrant, -1.5707963109016418).addingProduct(quadrant, -1.5893254773528196e-08)
    let reduced = SIMD8<Float>(reducedDouble)
    let r2 = reduced * reduced
    var sine = SIMD8<Float>(repeating: 1.0 / 362_880)
    sine = SIMD8(repeating: -1.0 / 5040).addingProduct(sine, r2)
    sine = SIMD8(repeating: 1.0 / 120).addingProduct(sine, r2)
    sine = SIMD8(repeating: -1.0 / 6).addingProduct(sine, r2)
    sine = SIMD8(repeating: 1).addingProduct(sine, r2) * reduced
    var cosine = SIMD8<Float>(repeating: -1.0 / 3_628_800)
    cosine = SIMD8(repeating: 1.0 / 40320).addingProduct(cosine, r2)
    cosine = SIMD8(repeating: -1.0 / 720).addingProduct(cosine, r2)
    cosine = SIMD8(repeating: 1.0 / 24).addingProduct(cosine, r2)
    cosine = SIMD8(repeating: -0.5).addingProduct(cosine, r2)
    cosine = SIMD8(repeating: 1).addingProduct(cosine, r2)
    // Quadrant selection with integer bit operations (mask-based `replacing` is not vectorized).
    let bits = SIMD8<Int32>(truncatingIfNeeded: unsafeBitCast(shifted, to: SIMD8<Int64>.self))
    let swap = 0 &- (bits & 1)  // all ones in odd quadrants: cos and sin trade places
    let cosineBits = unsafeBitCast(cosine, to: SIMD8<Int32>.self), sineBits = unsafeBitCast(sine, to: SIMD8<Int32>.self)
    let c = (cosineBits & ~swap) | (sineBits & swap)
    let s = (sineBits & ~swap) | (cosineBits & swap)
    let cosineSign = ((bits &+ 1) & 2) &<< 30  // quadrants 1 and 2
    let sineSign = (bits & 2) &<< 30  // quadrants 2 and 3
    return (unsafeBitCast(c ^ cosineSign, to: SIMD8<Float>.self), unsafeBitCast(s ^ sineSign, to: SIMD8<Float>.self))
}
