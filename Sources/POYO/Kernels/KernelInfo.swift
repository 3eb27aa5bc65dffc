import Foundation

/// What `poyo bench` reports about the kernels it runs and the core they run on.
public enum KernelInfo {
    /// The matrix-product kernel of this build.
    public static var matrixProduct: String {
        #if arch(x86_64)
        "panelGEMM: 6x16 register tile, AVX2 FMA (SIMD8<Float>, -target-cpu haswell), weights packed in 16-column panels at load"
        #else
        "panelGEMM: 6x16 register tile (SIMD8<Float>), weights packed in 16-column panels at load"
        #endif
    }

    /// One core's fp32 FMA peak in GFLOP/s with this build's vectors, measured by a loop of 12
    /// independent SIMD8 FMA chains (no memory traffic) for about `seconds`: what the
    /// microkernel could reach at the clock the core runs now.
    public static func measuredCorePeak(seconds: Double = 0.05) -> Double {
        var best = 0.0
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            var iterations = 0
            var checksum: Float = 0
            while Double(DispatchTime.now().uptimeNanoseconds - start) < seconds * 1e9 / 3 {
                checksum += fmaChains(count: 100_000)
                iterations += 100_000
            }
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            // 12 chains x 8 lanes x 2 flops per iteration.
            if checksum.isFinite { best = max(best, Double(iterations) * 12 * 8 * 2 / elapsed / 1e9) }
        }
        return best
    }

    @inline(never)
    private static func fmaChains(count: Int) -> Float {
        // Operands the optimizer cannot know (a clock reading) and chains that start apart, so
        // that it can neither fold the loop nor merge the chains (a debug build reported
        // 550 000 GFLOP/s with constant operands).
        let unknown = Float(DispatchTime.now().uptimeNanoseconds & 1) * 1e-30
        let x = SIMD8<Float>(repeating: 0.999_999 + unknown), y = SIMD8<Float>(repeating: 1e-7)
        let a0s = SIMD8<Float>(repeating: 1 + unknown)
        var a0 = a0s, a1 = a0s + 0.001, a2 = a0s + 0.002, a3 = a0s + 0.003, a4 = a0s + 0.004, a5 = a0s + 0.005
        var a6 = a0s + 0.006, a7 = a0s + 0.007, a8 = a0s + 0.008, a9 = a0s + 0.009, a10 = a0s + 0.010, a11 = a0s + 0.011
        for _ in 0..<count {
            a0 = y.addingProduct(a0, x)
            a1 = y.addingProduct(a1, x)
            a2 = y.addingProduct(a2, x)
            a3 = y.addingProduct(a3, x)
            a4 = y.addingProduct(a4, x)
            a5 = y.addingProduct(a5, x)
            a6 = y.addingProduct(a6, x)
            a7 = y.addingProduct(a7, x)
            a8 = y.addingProduct(a8, x)
            a9 = y.addingProduct(a9, x)
            a10 = y.addingProduct(a10, x)
            a11 = y.addingProduct(a11, x)
        }
        let sum = (a0 + a1 + a2 + a3) + (a4 + a5 + a6 + a7) + (a8 + a9 + a10 + a11)
        return sum.sum()
    }
}
