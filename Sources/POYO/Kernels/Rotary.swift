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
    /// The angle is formed and reduced modulo 2π in Double (a float32 angle at t ≈ 1 s
    /// is off by ~7e-3 rad), then its cosine and sine are rounded to float32 as torch does.
    func angles(
        of times: UnsafePointer<Double>, count: Int,
        cos cosines: UnsafeMutablePointer<Float>, sin sines: UnsafeMutablePointer<Float>
    ) {
        let pairs = rotatedPairs
        let twoPi = 2 * Double.pi
        omega.withUnsafeBufferPointer { omega in
            for i in 0..<count {
                let t = times[i]
                let row = i &* pairs
                for p in 0..<pairs {
                    let angle = t * omega[p]
                    let reduced = angle - (angle / twoPi).rounded() * twoPi
                    cosines[row &+ p] = Float(Foundation.cos(reduced))
                    sines[row &+ p] = Float(Foundation.sin(reduced))
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
