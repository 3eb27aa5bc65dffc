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

    /// cos and sin of t · omega for each timestamp: [count, rotatedPairs] each.
    /// The angle is formed and reduced to [-π/4, π/4] in Double (a float32 angle at t ≈ 1 s
    /// is off by ~7e-3 rad); the reduced angle's sine and cosine are then float32 polynomials
    /// (error < 1e-7, as torch's float64 cos/sin rounded to float32), ~10x cheaper than libm.
    func angles(
        of times: UnsafePointer<Double>, count: Int,
        cos cosines: UnsafeMutablePointer<Float>, sin sines: UnsafeMutablePointer<Float>
    ) {
        let pairs = rotatedPairs
        omega.withUnsafeBufferPointer { omega in
            for i in 0..<count {
                let t = times[i]
                let row = i &* pairs
                for p in 0..<pairs {
                    let (c, s) = sincos(t * omega[p])
                    cosines[row &+ p] = c
                    sines[row &+ p] = s
                }
            }
        }
    }

    /// Rotates `heads` head blocks of width `dimHead` in each of `rows` rows of x (row stride `ldx`)
    /// by the angles of that row; `inverse` rotates by minus the angle (`RotaryTimeEmbedding.invert`).
    func rotate(
        _ x: UnsafeMutablePointer<Float>, ldx: Int, rows: Int, heads: Int, dimHead: Int,
        cos cosines: UnsafePointer<Float>, sin sines: UnsafePointer<Float>, inverse: Bool = false
    ) {
        let pairs = rotatedPairs
        let sign: Float = inverse ? -1 : 1
        for r in 0..<rows {
            let c = cosines + r &* pairs
            let s = sines + r &* pairs
            for h in 0..<heads {
                let head = x + (r &* ldx &+ h &* dimHead)
                for p in 0..<pairs {
                    let x0 = head[2 &* p]
                    let x1 = head[2 &* p &+ 1]
                    let sn = sign * s[p]
                    head[2 &* p] = x0 * c[p] - x1 * sn
                    head[2 &* p &+ 1] = x1 * c[p] + x0 * sn
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
