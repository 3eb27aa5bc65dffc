import POYO

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
        hyperparameters = model.hyperparameters
        guard let session = model.sessionVocab[c.session] else {
            let known = model.sessionVocab.keys.filter { $0 != "NA" }.sorted().prefix(5).joined(separator: ", ")
            throw ConfigurationError("session '\(c.session)' is not in the model's session vocabulary (it has \(known)\(model.sessionVocab.count > 6 ? ", ..." : ""))")
        }
        sessionRow = session

        var mapping = c.units
        if let prefix = c.unitPrefix {
            for word in model.unitVocab.keys where word.hasPrefix(prefix) {
                if let id = UInt32(word.dropFirst(prefix.count)), mapping[id] == nil { mapping[id] = word }
            }
        }
        guard !mapping.isEmpty else {
            throw ConfigurationError("no units: give `units` (rig id -> unit vocabulary word) or a `unit_prefix` that matches the model's unit vocabulary")
        }
        var units: [Unit] = []
        for (rigID, word) in mapping {
            guard let row = model.unitVocab[word], word != "NA" else {
                throw ConfigurationError("unit \(rigID) maps to '\(word)', which is not in the model's unit vocabulary")
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

        let h = model.hyperparameters
        hop = c.hop ?? h.latentStep
        budget = c.budget ?? hop
        outputOffsets = c.outputOffsets
        guard hop.isFinite, hop > 0, budget.isFinite, budget > 0 else { throw ConfigurationError("hop and budget must be positive seconds") }
        guard !outputOffsets.isEmpty, outputOffsets.allSatisfy({ $0.isFinite && $0 <= 0 && $0 > -h.sequenceLength }) else {
            throw ConfigurationError("output_offsets must be seconds in (-\(h.sequenceLength), 0]: queries lie inside the window, at or before the tick")
        }
        guard c.qualityWindow.isFinite, c.qualityWindow > 0 else { throw ConfigurationError("quality_window must be positive seconds") }
        guard c.stallTimeout > 0, c.statusInterval > 0 else { throw ConfigurationError("stall_timeout and status_interval must be positive") }
    }

    /// Position of a rig unit in `units`, or nil when the configuration does not map it.
    @inline(__always)
    public func position(ofRigUnit id: UInt32) -> Int32? { positionOfRigID[id] }

    /// Hop and window length in ticks of a clock of `tickRate` Hz (rounded to whole ticks,
    /// at least 1, and clamped so that an absurd declared rate cannot overflow).
    public func ticks(tickRate: UInt64) -> (hop: Int64, sequence: Int64) {
        let rate = Double(tickRate)
        func whole(_ seconds: Double) -> Int64 {
            let ticks = (seconds * rate).rounded()
            return ticks >= 9.0e18 ? Int64(9.0e18) : max(1, Int64(ticks))
        }
        return (whole(hop), whole(hyperparameters.sequenceLength))
    }
}
