import Testing

@testable import Decoder
@testable import SpikeWire

/// The live quality score: alignment of decodes with behaviour, R^2 and accuracy, the window.
@Suite struct QualityTests {
    /// Float32 little-endian bytes of `values`.
    func bytes(_ values: [Float]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

    func add(_ score: inout ReadoutScore, time: Int64, _ values: [Float]) -> Bool {
        bytes(values).withUnsafeBytes { score.addBehaviour(time: time, values: $0, offset: 0) }
    }

    @Test func decodesWaitForBehaviourPastThemAndAreInterpolated() {
        var score = ReadoutScore(spec: "v", dimension: 1, multinomial: false, pairCapacity: 64)
        #expect(add(&score, time: 0, [0]))
        score.addDecodes(times: [5, 10, 15], values: [1, 2, 3])
        #expect(score.quality(windowTicks: 1000).samples == 0)  // nothing past 5 yet
        #expect(add(&score, time: 10, [10]))
        #expect(score.quality(windowTicks: 1000).samples == 2)  // 5 and 10 paired; 15 waits
        #expect(!add(&score, time: 10, [99]))  // not after the previous sample: unused
        #expect(add(&score, time: 20, [30]))
        // Truth at 5, 10, 15: 5, 10, 20 (interpolated); decodes 1, 2, 3.
        let truth = [5.0, 10.0, 20.0], decoded = [1.0, 2.0, 3.0]
        let mean = truth.reduce(0, +) / 3
        let residual = zip(truth, decoded).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
        let total = truth.map { ($0 - mean) * ($0 - mean) }.reduce(0, +)
        let quality = score.quality(windowTicks: 1000)
        #expect(quality.samples == 3)
        #expect(abs(quality.value - (1 - residual / total)) < 1e-12)
    }

    @Test func rSquaredIsTheMeanOverDimensionsAndPerfectDecodesScoreOne() {
        var score = ReadoutScore(spec: "v", dimension: 2, multinomial: false, pairCapacity: 64)
        for t in 0..<10 { #expect(add(&score, time: Int64(t * 10), [Float(t), Float(t * t)])) }
        score.addDecodes(times: [10, 20, 30, 40], values: [1, 1, 2, 4, 3, 9, 4, 16])
        let quality = score.quality(windowTicks: 1000)
        #expect(quality.samples == 4 && quality.value == 1)
    }

    @Test func theWindowKeepsTheNewestPairs() {
        var score = ReadoutScore(spec: "v", dimension: 1, multinomial: false, pairCapacity: 64)
        #expect(add(&score, time: 0, [0]))
        #expect(add(&score, time: 1000, [1000]))
        score.addDecodes(times: Array(stride(from: 0, to: 1000, by: 10)), values: (0..<100).map { Float($0 * 10) })
        // Pairs at 0...990; a window of 100 ticks holds 900...990.
        #expect(score.quality(windowTicks: 100).samples == 10)
        // The ring holds 64 pairs: older ones are gone.
        #expect(score.quality(windowTicks: 1_000_000).samples == 64)
    }

    @Test func accuracyComparesTheLargestDecodeWithTheClassHeld() {
        var score = ReadoutScore(spec: "c", dimension: 3, multinomial: true, pairCapacity: 64)
        #expect(add(&score, time: 0, [2]))
        #expect(add(&score, time: 10, [0]))
        #expect(add(&score, time: 20, [1]))
        // At 5 the class held is 2 (no interpolation), at 10 it is 0, at 15 still 0.
        score.addDecodes(times: [5, 10, 15], values: [0, 0, 9, 9, 0, 0, 0, 9, 0])
        let quality = score.quality(windowTicks: 1000)
        #expect(quality.kind == .accuracy && quality.samples == 3)
        #expect(abs(quality.value - 2.0 / 3.0) < 1e-12)
    }

    @Test func nonFiniteBehaviourIsNotUsedAndNoPairsIsNaN() {
        var score = ReadoutScore(spec: "v", dimension: 1, multinomial: false, pairCapacity: 16)
        #expect(!add(&score, time: 0, [.nan]))
        #expect(score.quality(windowTicks: 10).value.isNaN)
    }

    @Test func historyRemapRenumbersAndForgetsUnits() {
        var history = SpikeHistory()
        for (t, u) in [(1, 0), (2, 1), (3, 2), (4, 0)] { history.insert(time: Int64(t), unit: Int32(u)) }
        history.remap([1, -1, 0])
        #expect(history.count == 3)
        #expect((0..<3).map { history.unit(at: $0) } == [1, 0, 1])
        #expect((0..<3).map { history.time(at: $0) } == [1, 3, 4])
    }
}
