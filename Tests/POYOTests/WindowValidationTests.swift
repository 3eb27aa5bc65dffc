import Foundation
import POYO
import Testing

/// Windows the model cannot run are refused with the input and value named, never
/// read out of bounds or answered with NaN.
@Suite struct WindowValidationTests {
    let model: POYOModel
    let window: ModelWindow
    let plusModel: POYOModel
    let plusWindow: ModelWindow

    init() throws {
        model = try POYOModel(path: Fixtures.model("poyo_odd"))
        window = try ModelWindow(file: SafeTensorsFile(path: Fixtures.inputs("poyo_odd")))
        plusModel = try POYOModel(path: Fixtures.model("poyoplus_tasks"))
        plusWindow = try ModelWindow(file: SafeTensorsFile(path: Fixtures.inputs("poyoplus_tasks")))
    }

    private func expectRefusal(_ model: POYOModel, _ window: ModelWindow, mentioning words: [String]) {
        do {
            _ = try model.forward(window)
            Issue.record("the window was accepted")
        } catch {
            for word in words { #expect(error.description.contains(word), "'\(error)' should mention \(word)") }
        }
    }

    @Test func theFixtureWindowRuns() throws {
        #expect(try model.forward(window).readouts[0].rows == window.outputTimestamps.count)
    }

    @Test func unitOutsideTheVocabulary() {
        var w = window
        w.inputUnitIndex[3] = model.description.unitVocab.count
        expectRefusal(model, w, mentioning: ["input_unit_index[3]", "unit vocabulary"])
        w.inputUnitIndex[3] = -1
        expectRefusal(model, w, mentioning: ["input_unit_index[3]", "-1"])
    }

    @Test func otherIndicesOutsideTheirTables() {
        var w = window
        w.inputTokenType[0] = 4
        expectRefusal(model, w, mentioning: ["input_token_type[0]"])
        w = window
        w.latentIndex[1] = model.hyperparameters.numLatentsPerStep
        expectRefusal(model, w, mentioning: ["latent_index[1]", "num_latents_per_step"])
        w = window
        w.outputSessionIndex[0] = 99
        expectRefusal(model, w, mentioning: ["output_session_index[0]", "session vocabulary"])
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity])
    func nonFiniteTimestamps(value: Double) {
        var w = window
        w.inputTimestamps[5] = value
        expectRefusal(model, w, mentioning: ["input_timestamps[5]", "finite"])
        w = window
        w.latentTimestamps[0] = value
        expectRefusal(model, w, mentioning: ["latent_timestamps[0]"])
        w = window
        w.outputTimestamps[1] = value
        expectRefusal(model, w, mentioning: ["output_timestamps[1]"])
    }

    @Test func lengthsThatDisagree() {
        var w = window
        w.inputTimestamps.removeLast()
        expectRefusal(model, w, mentioning: ["input_timestamps", "input_unit_index"])
        w = window
        w.inputMask = [true]
        expectRefusal(model, w, mentioning: ["input_mask"])
        w = window
        w.inputMask = Array(repeating: false, count: w.inputUnitIndex.count)
        expectRefusal(model, w, mentioning: ["input_mask excludes every"])
    }

    @Test func decoderIndices() {
        var w = plusWindow
        w.outputDecoderIndex![2] = 7
        expectRefusal(plusModel, w, mentioning: ["output_decoder_index[2] = 7", "cursor_velocity_2d"])
        w.outputDecoderIndex = nil
        expectRefusal(plusModel, w, mentioning: ["output_decoder_index is required"])
        var poyo = window
        poyo.outputDecoderIndex = Array(repeating: 1, count: poyo.outputTimestamps.count)
        expectRefusal(model, poyo, mentioning: ["only POYOPlus"])
    }

    /// Masked tokens contribute nothing: masking a token equals leaving it out.
    @Test func maskingEqualsRemoving() throws {
        var masked = window
        masked.inputMask = Array(repeating: true, count: window.inputUnitIndex.count)
        masked.inputMask![masked.inputMask!.count - 3] = false
        var removed = window
        removed.inputMask = nil
        let drop = window.inputUnitIndex.count - 3
        removed.inputUnitIndex.remove(at: drop)
        removed.inputTimestamps.remove(at: drop)
        removed.inputTokenType.remove(at: drop)
        #expect(try model.forward(masked).readouts[0].values == model.forward(removed).readouts[0].values)
    }
}
