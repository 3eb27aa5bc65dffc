import Foundation
import ArgumentParser
import POYO

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe a model file: kind, hyperparameters, size, vocabularies, readouts, cost.",
        discussion: """
            --sessions lists the session words (what `session:` of a serve configuration takes); \
            --unit-words lists the unit words (what `units:` maps rig ids to), of one session with \
            --session, and only those containing --match.
            """
    )

    @Option(help: "Model file.") var model: String
    @Option(help: "Spikes in the window for the cost estimate (start/end tokens are added per unit).") var spikes = 4000
    @Option(help: "Units in the window for the cost estimate.") var units = 200
    @Option(help: "Output queries per window for the cost estimate.") var queries = 1
    @Flag(help: "List the session vocabulary words, one per line, and exit.") var sessions = false
    @Flag(help: "List the unit vocabulary words (with their rows), one per line, and exit.") var unitWords = false
    @Option(help: "With --unit-words: only the units of this session (words '<session>/...').") var session: String?
    @Option(help: "With --sessions or --unit-words: only words containing this text.") var match: String?

    func validate() throws {
        guard session == nil || unitWords else { throw ValidationError("--session filters --unit-words; give --unit-words too") }
        guard match == nil || unitWords || sessions else { throw ValidationError("--match filters --sessions or --unit-words; give one of them") }
        guard spikes >= 0, units >= 0, queries >= 0 else { throw ValidationError("--spikes, --units and --queries count tokens: 0 or more") }
    }

    func run() throws {
        let model = try POYOModel(path: model)
        let d = model.description
        if sessions || unitWords {
            try listWords(d)
            return
        }
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
        let cost = model.forwardCost(tokens: tokens, units: units, queries: queries)
        print("cost of one window (\(tokens) tokens, \(queries) queries): \(String(format: "%.3f", cost.reference / 1e9)) GFLOP as torch_brain computes it, \(String(format: "%.3f", cost.poyoRT / 1e9)) GFLOP in poyo-rt")
    }

    /// The vocabulary words a serve configuration names (`session:`, `units:`), filtered.
    private func listWords(_ d: ModelDescription) throws {
        func matches(_ word: String) -> Bool { word != "NA" && (match.map { word.contains($0) } ?? true) }
        if sessions {
            for word in d.sessionVocab.keys.filter(matches).sorted() { print(word) }
        }
        guard unitWords else { return }
        if let session, d.sessionVocab[session] == nil {
            throw CommandError("session '\(session)' is not in the model's session vocabulary (list them with --sessions)")
        }
        let prefix = session.map { $0 + "/" } ?? ""
        let words = d.unitVocab.filter { matches($0.key) && $0.key.hasPrefix(prefix) }.sorted { $0.value < $1.value }
        for (word, row) in words { print("\(word)\t\(row)") }
        if words.isEmpty { FileHandle.standardError.write(Data("no unit words match\n".utf8)) }
    }
}
