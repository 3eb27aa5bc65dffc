import Testing

@testable import POYO

/// `poyo bench`'s share of peak divides by this: it must be a rate one core can do. An AVX2 core
/// does at most 2 FMAs of 8 lanes a cycle, 32 flops: 192 GFLOP/s at 6 GHz. (With constant
/// operands and identical chains a debug build once reported 550 000 GFLOP/s: the loop was folded.)
@Suite struct KernelInfoTests {
    @Test func theMeasuredCorePeakIsPhysical() {
        let peak = KernelInfo.measuredCorePeak(seconds: 0.03)
        #expect(peak > 0.5 && peak < 200, "\(peak) GFLOP/s")
    }
}
