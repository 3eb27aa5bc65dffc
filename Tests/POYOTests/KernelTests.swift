import Foundation
import Testing

@testable import POYO

/// The hand-written math kernels against Double-precision libm, over their whole working range.
@Suite struct KernelTests {
    @Test func vectorExpIsAccurate() {
        // Relative error, separately where a softmax weight is above 1e-7 of its row's largest
        // (x >= -16) and below it, down to the smallest normal result.
        var worstNear = 0.0, worstFar = 0.0
        var x: Float = -87.3
        while x < 0 {
            let lanes = SIMD8<Float>((0..<8).map { Swift.min(0, x + Float($0) * 0.0137) })
            let result = vectorExp(lanes)
            for lane in 0..<8 {
                let exact = Foundation.exp(Double(lanes[lane]))
                let error = abs(Double(result[lane]) - exact) / exact
                if lanes[lane] >= -16 { worstNear = worse(worstNear, error) } else { worstFar = worse(worstFar, error) }
            }
            x += 0.011
        }
        #expect(worstNear < 2e-7, "relative error \(worstNear) for x >= -16")
        #expect(worstFar < 4e-7, "relative error \(worstFar) for x < -16")
        // Below the smallest normal result, and -infinity (padding lanes), give 0; NaN stays NaN.
        #expect(vectorExp(SIMD8(repeating: -.infinity)) == SIMD8(repeating: 0))
        #expect(vectorExp(SIMD8(repeating: -88)) == SIMD8(repeating: 0))
        #expect(vectorExp(SIMD8(repeating: 0)) == SIMD8(repeating: 1))
        #expect(vectorExp(SIMD8(repeating: .nan))[0].isNaN)
    }

    @Test func vectorErfIsAccurate() {
        var worst = 0.0
        var x: Float = -6
        while x < 6 {
            let lanes = SIMD8<Float>((0..<8).map { x + Float($0) * 0.0011 })
            let result = vectorErf(lanes)
            for lane in 0..<8 { worst = worse(worst, abs(Double(result[lane]) - Foundation.erf(Double(lanes[lane])))) }
            x += 0.0093
        }
        #expect(worst < 4e-7, "absolute error \(worst)")
        #expect(vectorErf(SIMD8(repeating: .infinity)) == SIMD8(repeating: 1))
        #expect(vectorErf(SIMD8(repeating: -.infinity)) == SIMD8(repeating: -1))
        #expect(vectorErf(SIMD8(repeating: .nan))[0].isNaN)
    }

    @Test func sincosMatchesDoubleLibm() {
        var worst = 0.0
        // Angles up to omega_max * a few seconds, as rotary embeddings see them.
        for i in 0..<200_000 {
            let angle = Double(i) * 1.2345678 - 50_000
            let (c, s) = sincos(angle)
            worst = worse(worst, worse(abs(Double(c) - Foundation.cos(angle)), abs(Double(s) - Foundation.sin(angle))))
        }
        #expect(worst < 2e-7, "absolute error \(worst)")
    }

    @Test func vectorSincosMatchesScalar() {
        for i in 0..<20_000 {
            let angles = SIMD8<Double>((0..<8).map { Double(i) * 3.3 - 33_000 + Double($0) * 0.77 })
            let (c, s) = sincos(angles)
            for lane in 0..<8 {
                #expect(abs(Double(c[lane]) - Foundation.cos(angles[lane])) < 2e-7)
                #expect(abs(Double(s[lane]) - Foundation.sin(angles[lane])) < 2e-7)
            }
        }
    }

    /// The softmax kernels of scores kept [keys, queries] (`columnMaxima`, `exponentiateColumns`),
    /// on every column remainder of their 16-column stripes: exact column maxima; exp(x - max) in
    /// place; the column sums added to what `sums` held; with `aggregated`, each row's values
    /// added to its slot's row too, and without it nothing else written.
    @Test(arguments: [(1, 1), (5, 7), (3, 16), (6, 17), (9, 33)])
    func columnSoftmaxKernels(rows: Int, columns: Int) {
        var generator = SplitMix64(state: UInt64(rows * 100 + columns))
        let original = (0..<(rows * columns)).map { _ in Float.random(in: -3..<3, using: &generator) }
        var maxima = [Float](repeating: .nan, count: columns)
        original.withUnsafeBufferPointer { columnMaxima($0.baseAddress!, rows: rows, columns: columns, into: &maxima) }
        for c in 0..<columns {
            #expect(maxima[c] == (0..<rows).map { original[$0 * columns + c] }.max(), "column \(c)")
        }
        let slots = 3, slotOfRow = (0..<rows).map { Int32(($0 * 7) % slots) }
        let startSums = (0..<columns).map { Float($0) * 0.25 }, startAggregated = (0..<(slots * columns)).map { Float($0 % 5) }
        for withSlots in [false, true] {
            var x = original, sums = startSums, aggregated = startAggregated
            aggregated.withUnsafeMutableBufferPointer { aggregated in
                slotOfRow.withUnsafeBufferPointer { slotOfRow in
                    exponentiateColumns(
                        &x, rows: rows, columns: columns, maxima: maxima, sums: &sums,
                        aggregated: withSlots ? aggregated.baseAddress! : nil, slotOfRow: withSlots ? slotOfRow.baseAddress! : nil)
                }
            }
            var expectedAggregated = startAggregated.map(Double.init)
            for c in 0..<columns {
                var sum = Double(startSums[c])
                for r in 0..<rows {
                    let e = Foundation.exp(Double(original[r * columns + c]) - Double(maxima[c]))
                    #expect(abs(Double(x[r * columns + c]) - e) <= 1e-6 * e, "[\(r), \(c)]")
                    sum += e
                    expectedAggregated[Int(slotOfRow[r]) * columns + c] += e
                }
                #expect(abs(Double(sums[c]) - sum) <= 1e-6 * sum, "sum \(c)")
            }
            for i in 0..<(slots * columns) {
                let expected = withSlots ? expectedAggregated[i] : Double(startAggregated[i])
                #expect(abs(Double(aggregated[i]) - expected) <= 1e-6 * max(1, expected), "aggregated \(i), slots \(withSlots)")
            }
        }
    }

    @Test func attentionMatchesANaiveSoftmax() {
        let queries = 3, keys = 11, heads = 2, dimHead = 4, inner = heads * dimHead
        var generator = SystemRandomNumberGenerator()
        let q = (0..<queries * inner).map { _ in Float.random(in: -2...2, using: &generator) }
        let k = (0..<keys * inner).map { _ in Float.random(in: -2...2, using: &generator) }
        let v = (0..<keys * inner).map { _ in Float.random(in: -2...2, using: &generator) }
        var out = [Float](repeating: 0, count: queries * inner)
        attentionForward(
            &out, ldo: inner, q: q, ldq: inner, k: k, ldk: inner, v: v, ldv: inner,
            queries: queries, keys: keys, heads: 0..<heads, dimHead: dimHead, scratch: AttentionScratch())
        for h in 0..<heads {
            for i in 0..<queries {
                let logits = (0..<keys).map { j in (0..<dimHead).reduce(0.0) { $0 + Double(q[i * inner + h * dimHead + $1]) * Double(k[j * inner + h * dimHead + $1]) } / 2 }
                let top = logits.max()!
                let weights = logits.map { Foundation.exp($0 - top) }
                let total = weights.reduce(0, +)
                for d in 0..<dimHead {
                    let expected = (0..<keys).reduce(0.0) { $0 + weights[$1] / total * Double(v[$1 * inner + h * dimHead + d]) }
                    #expect(abs(Double(out[i * inner + h * dimHead + d]) - expected) < 1e-5)
                }
            }
        }
    }
}
