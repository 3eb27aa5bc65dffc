import Foundation

/// Which torch_brain model a file holds.
public enum ModelKind: String, Codable, Sendable {
    case poyo = "POYO"
    case poyoPlus = "POYOPlus"
}

/// The constructor arguments of the torch_brain model (inference-relevant ones).
public struct Hyperparameters: Codable, Sendable, Equatable {
    /// Window length, seconds.
    public var sequenceLength: Double
    /// Spacing of the latent grid, seconds.
    public var latentStep: Double
    public var numLatentsPerStep: Int
    public var dim: Int
    public var depth: Int
    public var dimHead: Int
    public var crossHeads: Int
    public var selfHeads: Int
    public var tMin: Double?
    public var tMax: Double?

    enum CodingKeys: String, CodingKey {
        case sequenceLength = "sequence_length", latentStep = "latent_step"
        case numLatentsPerStep = "num_latents_per_step", dim, depth
        case dimHead = "dim_head", crossHeads = "cross_heads", selfHeads = "self_heads"
        case tMin = "t_min", tMax = "t_max"
    }

    public init(sequenceLength: Double, latentStep: Double, numLatentsPerStep: Int, dim: Int, depth: Int, dimHead: Int, crossHeads: Int, selfHeads: Int, tMin: Double? = nil, tMax: Double? = nil) {
        self.sequenceLength = sequenceLength
        self.latentStep = latentStep
        self.numLatentsPerStep = numLatentsPerStep
        self.dim = dim
        self.depth = depth
        self.dimHead = dimHead
        self.crossHeads = crossHeads
        self.selfHeads = selfHeads
        self.tMin = tMin
        self.tMax = tMax
    }

    /// Number of latent time steps in one window: len(arange(0, sequence_length, latent_step)).
    public var latentSteps: Int {
        Int((sequenceLength / latentStep).rounded(.up))
    }
}

/// z-scoring of a readout's training targets: physical = raw * std + mean.
public struct ReadoutNormalization: Codable, Sendable, Equatable {
    public var mean: [Float]
    public var std: [Float]
}

/// One decoded behaviour (a POYO readout or a POYO+ task).
public struct ReadoutSpec: Codable, Sendable, Equatable {
    public var name: String
    /// torch_brain registry id (`output_decoder_index` of POYO+); 0 for 0.2.x POYO.
    public var id: Int
    public var dim: Int
    /// "continuous", "binary", "multinomial" or "multilabel".
    public var type: String
    public var timestampKey: String?
    public var valueKey: String?
    public var normalization: ReadoutNormalization?

    enum CodingKeys: String, CodingKey {
        case name, id, dim, type, normalization
        case timestampKey = "timestamp_key", valueKey = "value_key"
    }
}

/// The JSON in a model file's `__metadata__["poyo_rt"]` (docs/model-format.md).
public struct ModelDescription: Codable, Sendable {
    public static let formatName = "poyo-rt-model"
    public static let formatVersion = 1
    public static let metadataKey = "poyo_rt"

    public var format: String
    public var formatVersion: Int
    public var kind: ModelKind
    public var hyperparameters: Hyperparameters
    public var unitVocab: [String: Int]
    public var sessionVocab: [String: Int]
    public var readouts: [ReadoutSpec]

    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", kind, hyperparameters
        case unitVocab = "unit_vocab", sessionVocab = "session_vocab", readouts
    }

    /// Parses and checks the description of the file at `path`.
    static func read(from file: SafeTensorsFile) throws(ModelFileError) -> ModelDescription {
        let path = file.path
        guard let json = file.metadata[metadataKey] else {
            throw ModelFileError(.badMetadata, path: path, "not a poyo-rt model file: \(whatItIs(file)); a model file is made from a torch_brain checkpoint by `poyo-rt export` (docs/model-format.md)")
        }
        let description: ModelDescription
        do {
            description = try JSONDecoder().decode(ModelDescription.self, from: Data(json.utf8))
        } catch {
            throw ModelFileError(.badMetadata, path: path, "model description is not valid: \(error)")
        }
        try description.validate(path: path)
        return description
    }

    /// What a safetensors file without a model description is, as far as can be told.
    static func whatItIs(_ file: SafeTensorsFile) -> String {
        if file.metadata["poyo_rt_session"] != nil {
            return "it is a poyo-rt session file (docs/session-format.md: recorded spikes and behaviour, e.g. for `poyo-rt replay`)"
        }
        if file.tensors["input_unit_index"] != nil {
            return "it is a window file (the inputs of `poyo forward --inputs`)"
        }
        if file.tensors.keys.contains(where: { $0 == "output" || $0.hasPrefix("output.") }) {
            return "it is an output file (what `poyo forward --output` writes)"
        }
        let names = file.tensors.keys.sorted()
        let example = names.first.map { ", e.g. '\($0)'" } ?? ""
        return "its header has no __metadata__[\"\(metadataKey)\"] (it holds \(names.count) tensors\(example))"
    }

    func validate(path: String) throws(ModelFileError) {
        func fail(_ message: String) -> ModelFileError { ModelFileError(.badMetadata, path: path, message) }
        guard format == Self.formatName else { throw fail("format is '\(format)', expected '\(Self.formatName)'") }
        guard formatVersion == Self.formatVersion else {
            throw ModelFileError(.unsupportedVersion, path: path, "format_version \(formatVersion) is not supported (this poyo reads version \(Self.formatVersion))")
        }
        let h = hyperparameters
        guard h.sequenceLength.isFinite, h.sequenceLength > 0, h.latentStep.isFinite, h.latentStep > 0 else {
            throw fail("sequence_length and latent_step must be finite and positive")
        }
        for (name, value) in [("num_latents_per_step", h.numLatentsPerStep), ("dim", h.dim), ("dim_head", h.dimHead), ("cross_heads", h.crossHeads), ("self_heads", h.selfHeads)] where value <= 0 || value > 1 << 20 {
            throw fail("\(name) is \(value), must be positive")
        }
        guard h.depth >= 0, h.dimHead % 2 == 0 else { throw fail("depth must be >= 0 and dim_head even") }
        try Self.validateVocabulary(unitVocab, name: "unit_vocab", fail: fail)
        try Self.validateVocabulary(sessionVocab, name: "session_vocab", fail: fail)
        guard !readouts.isEmpty else { throw fail("readouts is empty") }
        if kind == .poyo, readouts.count != 1 { throw fail("a POYO model has exactly one readout, found \(readouts.count)") }
        for readout in readouts {
            guard readout.dim > 0 else { throw fail("readout '\(readout.name)' has dim \(readout.dim)") }
            if let n = readout.normalization, n.mean.count != readout.dim || n.std.count != readout.dim {
                throw fail("readout '\(readout.name)': normalization mean and std need \(readout.dim) values each")
            }
        }
        guard Set(readouts.map(\.name)).count == readouts.count, Set(readouts.map(\.id)).count == readouts.count else {
            throw fail("readout names and ids must be unique")
        }
    }

    private static func validateVocabulary(_ vocab: [String: Int], name: String, fail: (String) -> ModelFileError) throws(ModelFileError) {
        let rows = Set(vocab.values)
        guard rows.count == vocab.count, rows.min() == 0, rows.max() == vocab.count - 1 else {
            throw fail("\(name) must map its \(vocab.count) words to the distinct rows 0..<\(vocab.count)")
        }
    }
}
