import Foundation
import POYO
import Testing

/// The Swift forward pass against torch_brain's, on windows and randomized models
/// made by tools/make_fixtures.py. Tolerance: max error scaled by max(1, max|reference|) <= 5e-4.
@Suite struct ParityTests {
    static let tolerance = 5e-4
    static let names = ["poyo_1p3m", "poyoplus_tasks", "poyo_odd", "poyo_v02"]

    @Test(arguments: names, [1, 2, 3])
    func forwardMatchesTorchBrain(name: String, threads: Int) throws {
        let model = try POYOModel(path: Fixtures.model(name), threads: threads)
        let window = try ModelWindow(file: SafeTensorsFile(path: Fixtures.inputs(name)))
        let expected = try SafeTensorsFile(path: Fixtures.expected(name))
        let output = try model.forward(window)
        let produced = output.tensors(kind: model.description.kind)
        #expect(Set(produced.map(\.name)) == Set(expected.tensors.keys), "outputs differ in names")
        for tensor in produced {
            let reference = try #require(expected.tensors[tensor.name])
            #expect(tensor.shape == reference.shape, "\(tensor.name) shape")
            let error = scaledMaxError(tensor.values, try reference.floatArray())
            #expect(error <= Self.tolerance, "\(name) \(tensor.name): scaled max error \(error)")
        }
    }

    /// Running the same window twice (scratch reused, K/V table warm) gives the same outputs bit for bit.
    @Test func repeatedForwardIsDeterministic() throws {
        let model = try POYOModel(path: Fixtures.model("poyo_odd"))
        let window = try ModelWindow(file: SafeTensorsFile(path: Fixtures.inputs("poyo_odd")))
        let first = try model.forward(window)
        let bigger = try ModelWindow(file: SafeTensorsFile(path: Fixtures.inputs("poyo_odd")))
        _ = try model.forward(bigger)
        let second = try model.forward(window)
        #expect(first.readouts.map(\.values) == second.readouts.map(\.values))
    }

    /// Threads split rows and heads, never a sum: every thread count gives the same bits (so a
    /// capture replays exactly whatever `threads` the run had).
    @Test(arguments: ["poyo_1p3m", "poyoplus_tasks", "poyo_odd"])
    func threadCountDoesNotChangeTheBits(name: String) throws {
        let window = try ModelWindow(file: SafeTensorsFile(path: Fixtures.inputs(name)))
        let single = try POYOModel(path: Fixtures.model(name), threads: 1).forward(window)
        for threads in [2, 3, 4] {
            let model = try POYOModel(path: Fixtures.model(name), threads: threads)
            for _ in 0..<3 {
                #expect(try model.forward(window).readouts.map(\.values) == single.readouts.map(\.values), "\(threads) threads")
            }
        }
    }

    /// The model depends only on time differences: shifting every time by the same amount
    /// changes the outputs only by float rounding (what lets the daemon use session time).
    @Test func shiftingAllTimesKeepsTheOutputs() throws {
        let model = try POYOModel(path: Fixtures.model("poyo_1p3m"))
        let window = try ModelWindow(file: SafeTensorsFile(path: Fixtures.inputs("poyo_1p3m")))
        var shifted = window
        shifted.inputTimestamps = window.inputTimestamps.map { $0 + 1234.5 }
        shifted.latentTimestamps = window.latentTimestamps.map { $0 + 1234.5 }
        shifted.outputTimestamps = window.outputTimestamps.map { $0 + 1234.5 }
        let a = try model.forward(window).readouts[0].values
        let b = try model.forward(shifted).readouts[0].values
        #expect(scaledMaxError(b, a) <= Self.tolerance)
    }
}

/// The start/end-token state cached from one window is reused only by windows with the same
/// start/end tokens and latents, and gives what a cold computation gives, bit for bit.
@Suite struct StartEndCacheTests {
    @Test func warmAndColdWindowsAgree() throws {
        let path = Fixtures.model("poyo_1p3m")
        let window = try ModelWindow(file: SafeTensorsFile(path: Fixtures.inputs("poyo_1p3m")))
        var fewerSpikes = window
        fewerSpikes.inputUnitIndex.removeLast(500)
        fewerSpikes.inputTimestamps.removeLast(500)
        fewerSpikes.inputTokenType.removeLast(500)
        // A unit silent in this window: one slot fewer, so the start/end slots are numbered from one lower.
        var silentUnit = window
        let silent = window.inputUnitIndex[window.inputTokenType.firstIndex(of: 0)!]
        let kept = window.inputUnitIndex.indices.filter { window.inputTokenType[$0] != 0 || window.inputUnitIndex[$0] != silent }
        silentUnit.inputUnitIndex = kept.map { window.inputUnitIndex[$0] }
        silentUnit.inputTimestamps = kept.map { window.inputTimestamps[$0] }
        silentUnit.inputTokenType = kept.map { window.inputTokenType[$0] }
        var otherUnits = window
        otherUnits.inputUnitIndex[0] = 220  // a unit of the other session: a different start/end frame
        otherUnits.inputUnitIndex[1] = 220

        let warm = try POYOModel(path: path)
        _ = try warm.forward(window)  // fills the cache
        for variant in [fewerSpikes, silentUnit, otherUnits, window] {
            let cold = try POYOModel(path: path).forward(variant).readouts[0].values
            let reused = try warm.forward(variant).readouts[0].values
            // The same bits: the cached state does not depend on the window that filled it (its
            // unrotated value product sums over the start/end slots only).
            #expect(reused == cold)
        }
    }
}
