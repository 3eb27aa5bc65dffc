extension ModelWindow {
    /// Reads a window from a safetensors file holding torch_brain's forward() inputs,
    /// unbatched: `input_unit_index` [N], `input_timestamps` [N], `input_token_type` [N],
    /// optional `input_mask` [N], `latent_index` [L], `latent_timestamps` [L],
    /// `output_session_index` [Q], `output_timestamps` [Q], optional `output_decoder_index` [Q].
    /// A leading batch dimension of 1 is accepted too.
    public init(file: SafeTensorsFile) throws(ModelFileError) {
        func vector(_ name: String) throws(ModelFileError) -> TensorView {
            let tensor = try file.tensor(name)
            guard tensor.shape.count == 1 || (tensor.shape.count == 2 && tensor.shape[0] == 1) else {
                throw ModelFileError(.shapeMismatch, path: file.path, "tensor '\(name)' has shape \(tensor.shape); a window's inputs are vectors (unbatched, or a batch of one)")
            }
            return tensor
        }
        func optional(_ name: String) throws(ModelFileError) -> TensorView? {
            file.tensors[name] == nil ? nil : try vector(name)
        }
        let known: Set<String> = [
            "input_unit_index", "input_timestamps", "input_token_type", "input_mask", "latent_index",
            "latent_timestamps", "output_session_index", "output_timestamps", "output_decoder_index",
        ]
        if let unknown = file.tensors.keys.sorted().first(where: { !known.contains($0) }) {
            throw ModelFileError(.unexpectedTensor, path: file.path, "tensor '\(unknown)' is not a forward() input (expected \(known.sorted().joined(separator: ", ")))")
        }
        let unit = try vector("input_unit_index"), times = try vector("input_timestamps"), type = try vector("input_token_type")
        let latent = try vector("latent_index"), latentTimes = try vector("latent_timestamps")
        let session = try vector("output_session_index"), outputTimes = try vector("output_timestamps")
        let mask = try optional("input_mask"), decoder = try optional("output_decoder_index")
        do {
            self.init(
                inputUnitIndex: try unit.integerArray(), inputTimestamps: try times.doubleArray(),
                inputTokenType: try type.integerArray(), inputMask: try mask?.boolArray(),
                latentIndex: try latent.integerArray(), latentTimestamps: try latentTimes.doubleArray(),
                outputSessionIndex: try session.integerArray(), outputTimestamps: try outputTimes.doubleArray(),
                outputDecoderIndex: try decoder?.integerArray()
            )
        } catch {
            // Element readers know the tensor but not the file.
            throw ModelFileError(error.code, path: file.path, error.message)
        }
    }
}

extension ModelOutput {
    /// The tensors `poyo forward` writes: `output` [Q, dim_out] for POYO, and for POYO+
    /// `output.<task name>` [rows of that task in query order, task dim] for each task
    /// that has at least one query (torch_brain's dict has only those).
    public func tensors(kind: ModelKind) -> [(name: String, shape: [Int], values: [Float])] {
        switch kind {
        case .poyo:
            let readout = readouts[0]
            return [("output", [readout.rows, readout.spec.dim], readout.values)]
        case .poyoPlus:
            return readouts.filter { $0.rows > 0 }.map { ("output.\($0.spec.name)", [$0.rows, $0.spec.dim], $0.values) }
        }
    }
}
