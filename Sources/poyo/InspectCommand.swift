import Foundation
import ArgumentParser
import POYO

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe a model file: kind, hyperparameters, size, vocabularies, readouts, cost."
    )

    @Option(help: "Model file.") var model: String
    @Option(help: "Spikes in the window for the cost estimate (start/end tokens are added per unit).") var spikes = 4000
    @Option(help: "Units in the window for the cost estimate.") var units = 200
    @Option(help: "Output queries per window for the cost estimate.") var queries = 1

    func run() throws {
        let model = try POYOModel(path: model)
        let d = model.description
        let h = d.hyperparameters
        print("kind: \(d.kind.rawValue)")
        print("hyperparameters: sequence_length \(h.sequenceLength) s, latent_step \(h.latentStep) s, num_latents_per_step \(h.numLatentsPerStep), dim \(h.dim), depth \(h.depth), dim_head \(h.dimHead), cross_heads \(h.crossHeads), self_heads \(h.selfHeads)")
        print("latents per window: \(h.latentSteps * h.numLatentsPerStep) (\(h.latentSteps) steps)")
        print("parameters: \(model.parameterCount)")
        print("unit vocabulary: \(d.unitVocab.count) rows (NA included)")
        print("session vocabulary: \(d.sessionVocab.count) rows (NA included)")
        for readout in d.readouts {
            var line = "readout: \(readout.name) (id \(readout.id), dim \(readout.dim), \(readout.type))"
            if let n = readout.normalization { line += " normalization mean \(n.mean) std \(n.std)" } else { line += " no normalization" }
            print(line)
        }
        let tokens = spikes + 2 * units
        let cost = model.forwardCost(tokens: tokens, queries: queries)
        print("cost of one window (\(tokens) tokens, \(queries) queries): \(String(format: "%.3f", cost.reference / 1e9)) GFLOP as torch_brain computes it, \(String(format: "%.3f", cost.poyoRT / 1e9)) GFLOP in poyo-rt")
    }
}
