import ArgumentParser
import POYO

struct ForwardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Run the model on one window given in torch_brain's forward() names.",
        discussion: """
            INPUTS is a safetensors file with input_unit_index, input_timestamps, input_token_type, \
            optional input_mask, latent_index, latent_timestamps, output_session_index, \
            output_timestamps and (POYO+) output_decoder_index, unbatched. OUT receives the raw \
            outputs (training units): `output` for POYO, `output.<task>` for POYO+.
            """
    )

    @Option(help: "Model file (`poyo-rt export` writes one).") var model: String
    @Option(help: "Window inputs (safetensors).") var inputs: String
    @Option(help: "Where to write the outputs (safetensors).") var output: String
    @Flag(help: "Write physical units (raw * std + mean) instead of the raw outputs.") var physical = false
    @Option(help: "Threads of the model (the caller and threads - 1 workers).") var threads = 1

    func run() throws {
        let model = try POYOModel(path: model, threads: threads)
        let window = try ModelWindow(file: SafeTensorsFile(path: inputs))
        var result = try model.forward(window)
        if physical {
            for i in result.readouts.indices { result.readouts[i].values = result.readouts[i].physicalValues() }
        }
        var writer = SafeTensorsWriter()
        for tensor in result.tensors(kind: model.description.kind) {
            writer.add(tensor.name, shape: tensor.shape, floats: tensor.values)
        }
        try writer.write(to: output)
        for tensor in result.tensors(kind: model.description.kind) {
            print("\(tensor.name) \(tensor.shape)")
        }
    }
}
