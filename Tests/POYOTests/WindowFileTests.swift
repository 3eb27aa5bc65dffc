import Foundation
import POYO
import Testing

@Suite struct WindowFileTests {
    @Test func inputsFileWithAForeignTensorIsRefused() throws {
        let file = try SafeTensorsFile(path: Fixtures.inputs("poyo_odd"))
        var writer = SafeTensorsWriter()
        for tensor in file.tensors.values { writer.add(tensor) }
        writer.add("input_timestamp", shape: [1], doubles: [0])
        let path = Fixtures.temporaryPath("foreign-inputs.safetensors")
        try writer.write(to: path)
        #expect { try ModelWindow(file: SafeTensorsFile(path: path)) } throws: { error in
            (error as? ModelFileError)?.description.contains("'input_timestamp' is not a forward() input") == true
        }
    }

    @Test func wrongDtypeIsNamed() throws {
        let file = try SafeTensorsFile(path: Fixtures.inputs("poyo_odd"))
        var writer = SafeTensorsWriter()
        for tensor in file.tensors.values where tensor.name != "input_unit_index" { writer.add(tensor) }
        writer.add("input_unit_index", shape: [file.tensors["input_unit_index"]!.count], floats: Array(repeating: 1, count: file.tensors["input_unit_index"]!.count))
        let path = Fixtures.temporaryPath("float-index.safetensors")
        try writer.write(to: path)
        #expect { try ModelWindow(file: SafeTensorsFile(path: path)) } throws: { error in
            (error as? ModelFileError)?.description.contains("input_unit_index") == true
        }
    }

    @Test func theTokenizerBuildsTorchBrainsLayout() throws {
        let h = Hyperparameters(sequenceLength: 0.5, latentStep: 0.05, numLatentsPerStep: 3, dim: 8, depth: 1, dimHead: 8, crossHeads: 1, selfHeads: 1)
        let tokenizer = WindowTokenizer(hyperparameters: h, unitRows: [7, 4], sessionRow: 2, decoderID: nil)
        var window = ModelWindow()
        tokenizer.tokenize(spikeUnits: [1, 0, 1], spikeTimes: [0.01, 0.2, 0.49], outputTimestamps: [0.5], into: &window)
        #expect(window.inputUnitIndex == [7, 7, 4, 4, 4, 7, 4])
        #expect(window.inputTokenType == [1, 2, 1, 2, 0, 0, 0])
        #expect(window.inputTimestamps == [0, 0.5, 0, 0.5, 0.01, 0.2, 0.49])
        #expect(window.latentIndex.count == 30)  // numpy: len(arange(0, 0.5, 0.05)) == 10
        #expect(Array(window.latentIndex.prefix(4)) == [0, 1, 2, 0])
        #expect(abs(window.latentTimestamps[0] - 0.025) < 1e-15 && abs(window.latentTimestamps[29] - 0.475) < 1e-12)
        #expect(window.outputSessionIndex == [2])
    }

    /// The tokenizer reproduces the fixture window that torch_brain's tokenizer made.
    @Test func theTokenizerMatchesTheFixtureLatents() throws {
        let model = try POYOModel(path: Fixtures.model("poyo_1p3m"))
        let fixture = try ModelWindow(file: SafeTensorsFile(path: Fixtures.inputs("poyo_1p3m")))
        let tokenizer = WindowTokenizer(hyperparameters: model.hyperparameters, unitRows: [], sessionRow: 1)
        var window = ModelWindow()
        tokenizer.tokenize(spikeUnits: [Int](), spikeTimes: [Double](), outputTimestamps: fixture.outputTimestamps, into: &window)
        #expect(window.latentIndex == fixture.latentIndex)
        #expect(window.latentTimestamps == fixture.latentTimestamps)
    }
}
