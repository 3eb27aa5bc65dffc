import POYO
import SpikeWire

/// A configuration resolved against a model: which embedding rows the session and its units
/// are, how rig unit ids find them, which readouts are decoded, and the tick grid in source ticks.
public struct SessionBinding: Sendable {
    public struct Unit: Sendable, Equatable {
        public let rigID: UInt32
        public let word: String
        /// Row of `unit_emb`.
        public let row: Int
    }

    public let sessionRow: Int
    /// The session's units in vocabulary-row order: the start/end tokens of every window.
    public let units: [Unit]
    /// The readouts decoded, in the model's order.
    public let readouts: [ReadoutSpec]
    public let hyperparameters: Hyperparameters
    /// Seconds between ticks, seconds of budget per tick.
    public let hop: Double
    public let budget: Double
    public let outputOffsets: [Double]
    private let positionOfRigID: [UInt32: Int32]

    public init(configuration c: DecoderConfiguration, model: ModelDescription) throws(ConfigurationError) {
        try c.validate()
        hyperparameters = model.hyperparameters
        guard let session = model.sessionVocab[c.session] else {
            let known = model.sessionVocab.keys.filter { $0 != "NA" }.sorted().prefix(5).joined(separator: ", ")
            throw ConfigurationError("session '\(c.session)' is not in the model's session vocabulary (it has \(known)\(model.sessionVocab.count > 6 ? ", ..." : ""); list them with `poyo inspect --model \(c.model) --sessions`)")
        }
        sessionRow = session

        var mapping = c.units
        if let prefix = c.unitPrefix {
            for word in model.unitVocab.keys where word.hasPrefix(prefix) {
                if let id = UInt32(word.dropFirst(prefix.count)), mapping[id] == nil { mapping[id] = word }
            }
        }
        guard !mapping.isEmpty else {
            throw ConfigurationError("no units: give `units` (rig id -> unit vocabulary word) or a `unit_prefix` that matches the model's unit vocabulary\(c.unitPrefix.map { " ('\($0)' matches no word followed by a number)" } ?? "") (list the words with `poyo inspect --model \(c.model) --unit-words --session \(c.session)`)")
        }
        var units: [Unit] = []
        for (rigID, word) in mapping {
            guard let row = model.unitVocab[word], word != "NA" else {
                throw ConfigurationError("unit \(rigID) maps to '\(word)', which is not in the model's unit vocabulary (list the session's with `poyo inspect --model \(c.model) --unit-words --session \(c.session)`)")
            }
            units.append(Unit(rigID: rigID, word: word, row: row))
        }
        units.sort { $0.row < $1.row }
        if let duplicate = zip(units, units.dropFirst()).first(where: { $0.row == $1.row }) {
            throw ConfigurationError("rig units \(duplicate.0.rigID) and \(duplicate.1.rigID) both map to '\(duplicate.0.word)'")
        }
        self.units = units
        positionOfRigID = Dictionary(uniqueKeysWithValues: units.enumerated().map { ($1.rigID, Int32($0)) })

        if let names = c.readouts {
            readouts = try names.map { (name) throws(ConfigurationError) in
                guard let spec = model.readouts.first(where: { $0.name == name }) else {
                    throw ConfigurationError("readout '\(name)' is not in the model (it has \(model.readouts.map(\.name).joined(separator: ", ")))")
                }
                return spec
            }
        } else {
            readouts = model.readouts
        }
        guard !readouts.isEmpty else { throw ConfigurationError("`readouts` is empty") }
        // What the wire protocol can carry (protocol/SPEC.md 4.3): refused here, at load, rather
        // than found at the first tick.
        for readout in readouts {
            guard Topic.isValidSuffix(readout.name, for: .output) else {
                throw ConfigurationError("readout '\(readout.name)' cannot be published: a readout name is 1 to \(WireFormat.maxTopicSize - 7) bytes of printable ASCII without spaces (the topic output/<readout>)")
            }
            guard readout.dim <= WireFormat.maxOutputDimension else {
                throw ConfigurationError("readout '\(readout.name)' has dimension \(readout.dim); an output message carries at most \(WireFormat.maxOutputDimension)")
            }
        }
        guard c.outputOffsets.count <= WireFormat.maxOutputCount else {
            throw ConfigurationError("output_offsets has \(c.outputOffsets.count) entries; an output message carries at most \(WireFormat.maxOutputCount)")
        }

        let h = model.hyperparameters
        hop = c.hop ?? h.latentStep
        budget = c.budget ?? hop
        outputOffsets = c.outputOffsets
        guard hop.isFinite, hop > 0 else { throw ConfigurationError("hop is \(hop): it must be a positive number of seconds") }
        guard budget.isFinite, budget > 0 else { throw ConfigurationError("budget is \(budget): it must be a positive number of seconds") }
        guard !outputOffsets.isEmpty else { throw ConfigurationError("output_offsets is empty: give at least one query time, e.g. [0.0]") }
        for (index, offset) in outputOffsets.enumerated() where !(offset.isFinite && offset <= 0 && offset > -h.sequenceLength) {
            throw ConfigurationError("output_offsets[\(index)] is \(offset): query times are seconds in (-\(h.sequenceLength), 0], inside the window, at or before the tick")
        }
        guard c.qualityWindow.isFinite, c.qualityWindow > 0 else { throw ConfigurationError("quality_window must be positive seconds") }
        guard c.stallTimeout > 0, c.statusInterval > 0 else { throw ConfigurationError("stall_timeout and status_interval must be positive") }
    }

    /// Position of a rig unit in `units`, or nil when the configuration does not map it.
    @inline(__always)
    public func position(ofRigUnit id: UInt32) -> Int32? { positionOfRigID[id] }

    /// Every configured duration in ticks of a source clock of `tickRate` Hz. Each must be a
    /// whole number of ticks: a rounded hop or window would silently decode something other than
    /// what was configured (a 0.02 s hop on a 10 Hz clock is 0.2 ticks), and a rounded query
    /// time would publish one time and query the model at another. The budget is not converted:
    /// it is measured on the host's monotonic clock.
    public func ticks(tickRate: UInt64) throws(ConfigurationError) -> SourceClockTicks {
        func whole(_ name: String, _ seconds: Double, positive: Bool) throws(ConfigurationError) -> Int64 {
            let exact = seconds * Double(tickRate)
            let rounded = exact.rounded()
            guard abs(exact) < 9.0e15, abs(exact - rounded) <= 1e-9 * max(1, abs(rounded)), !positive || rounded >= 1 else {
                let step = 1 / Double(tickRate)
                throw ConfigurationError(
                    "\(name) \(seconds) s is \(exact) ticks of the source clock at \(tickRate) Hz, not a whole number: "
                        + "make it a multiple of \(step) s, or send times on a clock whose tick divides it (e.g. 30000 Hz sample indices)")
            }
            return Int64(rounded)
        }
        let h = hyperparameters
        return SourceClockTicks(
            tickRate: tickRate,
            hop: try whole("hop", hop, positive: true),
            sequence: try whole("sequence_length (the model's)", h.sequenceLength, positive: true),
            latentStep: try whole("latent_step (the model's)", h.latentStep, positive: true),
            outputOffsets: try outputOffsets.enumerated().map { (index, offset) throws(ConfigurationError) in
                try whole("output_offsets[\(index)]", offset, positive: false)
            })
    }
}

/// The configured durations in ticks of one source clock (all exact: `SessionBinding.ticks`).
public struct SourceClockTicks: Sendable, Equatable {
    public let tickRate: UInt64
    public let hop: Int64
    /// The window length (the model's sequence_length).
    public let sequence: Int64
    public let latentStep: Int64
    /// Query times relative to the tick, each in (-sequence, 0].
    public let outputOffsets: [Int64]
}
