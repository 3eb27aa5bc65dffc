/// One unbatched window in torch_brain's own `forward()` names. Times are seconds
/// relative to the window start (input spikes in [0, sequence_length)).
public struct ModelWindow: Sendable {
    /// Row of `unit_emb` of each input token [N].
    public var inputUnitIndex: [Int]
    /// Seconds, window-relative [N].
    public var inputTimestamps: [Double]
    /// 0 spike, 1 start, 2 end [N].
    public var inputTokenType: [Int]
    /// true = attend; nil = every token [N].
    public var inputMask: [Bool]?
    /// Row of `latent_emb` of each latent [L].
    public var latentIndex: [Int]
    /// Seconds, window-relative [L].
    public var latentTimestamps: [Double]
    /// Row of `session_emb` of each output query [Q].
    public var outputSessionIndex: [Int]
    /// Seconds, window-relative [Q].
    public var outputTimestamps: [Double]
    /// POYO+ only: registry id of each query's task [Q].
    public var outputDecoderIndex: [Int]?

    public init(
        inputUnitIndex: [Int] = [], inputTimestamps: [Double] = [], inputTokenType: [Int] = [], inputMask: [Bool]? = nil,
        latentIndex: [Int] = [], latentTimestamps: [Double] = [],
        outputSessionIndex: [Int] = [], outputTimestamps: [Double] = [], outputDecoderIndex: [Int]? = nil
    ) {
        self.inputUnitIndex = inputUnitIndex
        self.inputTimestamps = inputTimestamps
        self.inputTokenType = inputTokenType
        self.inputMask = inputMask
        self.latentIndex = latentIndex
        self.latentTimestamps = latentTimestamps
        self.outputSessionIndex = outputSessionIndex
        self.outputTimestamps = outputTimestamps
        self.outputDecoderIndex = outputDecoderIndex
    }
}

/// The raw model outputs (training units), one entry per readout of the model,
/// each holding the rows of the queries of that readout in query order.
public struct ModelOutput: Sendable {
    public struct Readout: Sendable {
        public let spec: ReadoutSpec
        /// Indices into the window's queries of the rows below.
        public var queryIndex: [Int] = []
        /// [rows, spec.dim], row-major.
        public var values: [Float] = []

        public var rows: Int { queryIndex.count }

        /// The values in physical units (raw * std + mean), or the raw values when the
        /// model file gives no normalization.
        public func physicalValues() -> [Float] {
            guard let n = spec.normalization else { return values }
            return values.indices.map { values[$0] * n.std[$0 % spec.dim] + n.mean[$0 % spec.dim] }
        }
    }

    public var readouts: [Readout]

    public init(specs: [ReadoutSpec]) {
        readouts = specs.map { Readout(spec: $0) }
    }
}

/// Why a window cannot be run: says which input and which value is wrong.
public struct ForwardError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
