import POYO
import Testing

/// `prepareEncoder` attends the encoder to a window's first spikes before the window completes;
/// `forward` of the completed window resumes that state. It must give the same bits as a forward
/// pass that prepared nothing, wherever the window was cut, and resume only a window that begins
/// with exactly the prepared tokens.
@Suite struct EncoderPrefixTests {
    /// A window of `units` units: Poisson-like spikes of the first `units - late` units over the
    /// whole window, and the last `late` units firing only in its last 10 ms (slots first seen
    /// after any cut before them).
    static func spikes(units: Int, late: Int, length: Double, seed: UInt64) -> (units: [Int], times: [Double]) {
        var generator = SplitMix64(state: seed)
        var merged: [(Double, Int)] = []
        for unit in 0..<(units - late) {
            for _ in 0..<20 { merged.append((Double.random(in: 0..<length, using: &generator), unit)) }
        }
        for unit in (units - late)..<units { merged.append((length - 0.01 * Double.random(in: 0..<1, using: &generator), unit)) }
        merged.sort { $0.0 < $1.0 }
        return (merged.map(\.1), merged.map(\.0))
    }

    static func tokenizer(_ model: POYOModel, units: Int) -> WindowTokenizer {
        let d = model.description
        let rows = d.unitVocab.filter { $0.key != "NA" }.map(\.value).sorted().prefix(units)
        let session = d.sessionVocab.filter { $0.key != "NA" }.map(\.value).min() ?? 0
        return WindowTokenizer(
            hyperparameters: d.hyperparameters, unitRows: Array(rows), sessionRow: session,
            decoderID: d.kind == .poyoPlus ? d.readouts[0].id : nil)
    }

    /// The window of the first `count` spikes.
    static func window(_ tokenizer: WindowTokenizer, _ spikes: (units: [Int], times: [Double]), count: Int) -> ModelWindow {
        var window = ModelWindow()
        let length = tokenizer.hyperparameters.sequenceLength
        tokenizer.tokenize(
            spikeUnits: spikes.units.prefix(count), spikeTimes: spikes.times.prefix(count),
            outputTimestamps: [length / 2, length], into: &window)
        return window
    }

    @Test(arguments: [1, 2])
    func preparedWindowsGiveTheSameBits(threads: Int) throws {
        let path = Fixtures.model("poyo_1p3m")
        let plain = try POYOModel(path: path, threads: threads)
        let units = min(200, plain.description.unitVocab.count - 1)
        let tokenizer = Self.tokenizer(plain, units: units)
        let spikes = Self.spikes(units: units, late: 10, length: tokenizer.hyperparameters.sequenceLength, seed: 7)
        let full = Self.window(tokenizer, spikes, count: spikes.units.count)
        let expected = try plain.forward(full).readouts.map(\.values)
        #expect(plain.lastPreparedSpikes == 0)
        #expect(try plain.forward(full).readouts.map(\.values) == expected, "start/end cached")

        // A fresh model's first call prepares with the start/end tokens not cached yet; later ones have them cached.
        let prepared = try POYOModel(path: path, threads: threads)
        let all = spikes.units.count
        let block = 512  // poyo_1.3M's encoder key block: 128 latents
        for cut in [all - 10, 600, block, block - 1, block + 1, 3 * block, all, 0] {
            let done = try prepared.prepareEncoder(Self.window(tokenizer, spikes, count: cut))
            #expect(done == cut / block * block, "cut \(cut): prepared \(done) spikes")
            let output = try prepared.forward(full).readouts.map(\.values)
            // A cut short of a key block prepares nothing and leaves the state of the one before.
            if cut >= block { #expect(prepared.lastPreparedSpikes == done, "cut \(cut)") }
            #expect(output == expected, "cut \(cut): not the same bits")
        }
        // Preparing the same window again does nothing and still resumes.
        _ = try prepared.prepareEncoder(Self.window(tokenizer, spikes, count: all - 10))
        #expect(try prepared.prepareEncoder(Self.window(tokenizer, spikes, count: all - 10)) == (all - 10) / block * block)
        #expect(try prepared.forward(full).readouts.map(\.values) == expected)
        #expect(prepared.lastPreparedSpikes > 0)
    }

    /// A window that does not begin with the prepared tokens (a spike moved, other latents, a
    /// mask) is computed whole, and correctly.
    @Test func otherWindowsAreNotResumed() throws {
        let path = Fixtures.model("poyo_1p3m")
        let plain = try POYOModel(path: path)
        let prepared = try POYOModel(path: path)
        let units = 100
        let tokenizer = Self.tokenizer(plain, units: units)
        let spikes = Self.spikes(units: units, late: 10, length: tokenizer.hyperparameters.sequenceLength, seed: 3)
        let partial = Self.window(tokenizer, spikes, count: spikes.units.count - 20)
        let full = Self.window(tokenizer, spikes, count: spikes.units.count)

        var moved = full
        moved.inputTimestamps[2 * units + 5] += 1e-9
        var shifted = full
        shifted.latentTimestamps = full.latentTimestamps.map { $0 + 0.5 }
        var masked = full
        masked.inputMask = Array(repeating: true, count: full.inputUnitIndex.count)
        var fewer = full
        fewer.inputUnitIndex.removeLast(spikes.units.count - 100)
        fewer.inputTimestamps.removeLast(spikes.units.count - 100)
        fewer.inputTokenType.removeLast(spikes.units.count - 100)
        for (name, variant) in [("moved spike", moved), ("other latents", shifted), ("mask", masked), ("fewer spikes", fewer)] {
            #expect(try prepared.prepareEncoder(partial) > 0)
            let output = try prepared.forward(variant).readouts.map(\.values)
            #expect(prepared.lastPreparedSpikes == 0, "\(name) was resumed")
            #expect(output == (try plain.forward(variant).readouts.map(\.values)), "\(name)")
        }
        // And the state still serves its own window afterwards.
        #expect(try prepared.forward(full).readouts.map(\.values) == (try plain.forward(full).readouts.map(\.values)))
        #expect(prepared.lastPreparedSpikes > 0)
    }

    /// Every fixture model: the same bits with and without preparation (models whose heads are
    /// rotated whole, or windows too short for a key block, prepare nothing).
    @Test(arguments: ["poyoplus_tasks", "poyo_odd", "poyo_v02"])
    func otherModelsGiveTheSameBits(name: String) throws {
        let plain = try POYOModel(path: Fixtures.model(name))
        let prepared = try POYOModel(path: Fixtures.model(name))
        let units = min(60, plain.description.unitVocab.count - 1)
        let tokenizer = Self.tokenizer(plain, units: units)
        let spikes = Self.spikes(units: units, late: 2, length: tokenizer.hyperparameters.sequenceLength, seed: 11)
        let full = Self.window(tokenizer, spikes, count: spikes.units.count)
        _ = try prepared.prepareEncoder(Self.window(tokenizer, spikes, count: spikes.units.count - 5))
        #expect(try prepared.forward(full).readouts.map(\.values) == (try plain.forward(full).readouts.map(\.values)))
    }
}
