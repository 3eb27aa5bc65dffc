extension POYOModel {
    /// Refuses a window the model cannot run, naming the input and the offending value,
    /// instead of reading outside a table or returning NaN.
    func validate(_ w: ModelWindow) throws(ForwardError) {
        let n = w.inputUnitIndex.count
        try expectCount("input_timestamps", w.inputTimestamps.count, n, of: "input_unit_index")
        try expectCount("input_token_type", w.inputTokenType.count, n, of: "input_unit_index")
        if let mask = w.inputMask { try expectCount("input_mask", mask.count, n, of: "input_unit_index") }
        try expectCount("latent_timestamps", w.latentTimestamps.count, w.latentIndex.count, of: "latent_index")
        try expectCount("output_timestamps", w.outputTimestamps.count, w.outputSessionIndex.count, of: "output_session_index")
        guard !w.latentIndex.isEmpty else { throw ForwardError("latent_index is empty: a window needs latents") }

        try expectIndices("input_unit_index", w.inputUnitIndex, below: description.unitVocab.count, "the unit vocabulary")
        try expectIndices("input_token_type", w.inputTokenType, below: UnitKeyValueTable.tokenTypes, "token types")
        try expectIndices("latent_index", w.latentIndex, below: hyperparameters.numLatentsPerStep, "num_latents_per_step")
        try expectIndices("output_session_index", w.outputSessionIndex, below: description.sessionVocab.count, "the session vocabulary")
        try expectFinite("input_timestamps", w.inputTimestamps)
        try expectFinite("latent_timestamps", w.latentTimestamps)
        try expectFinite("output_timestamps", w.outputTimestamps)

        switch description.kind {
        case .poyo:
            if w.outputDecoderIndex != nil {
                throw ForwardError("output_decoder_index is given but a POYO model has a single readout (only POYOPlus takes it)")
            }
        case .poyoPlus:
            guard let decoders = w.outputDecoderIndex else {
                throw ForwardError("output_decoder_index is required by a POYOPlus model")
            }
            try expectCount("output_decoder_index", decoders.count, w.outputSessionIndex.count, of: "output_session_index")
            for (i, id) in decoders.enumerated() where id < 0 || id >= readoutOfDecoder.count || readoutOfDecoder[id] < 0 {
                let known = description.readouts.map { "\($0.id) (\($0.name))" }.joined(separator: ", ")
                throw ForwardError("output_decoder_index[\(i)] = \(id) names no readout of this model; it has \(known)")
            }
        }
        if let mask = w.inputMask, !mask.contains(true) {
            throw ForwardError("input_mask excludes every input token: attention over nothing is undefined")
        }
        if n == 0 { throw ForwardError("the window has no input tokens (not even start/end tokens)") }
    }

    private func expectCount(_ name: String, _ count: Int, _ expected: Int, of other: String) throws(ForwardError) {
        guard count == expected else {
            throw ForwardError("\(name) has \(count) entries but \(other) has \(expected)")
        }
    }

    private func expectIndices(_ name: String, _ values: [Int], below limit: Int, _ what: String) throws(ForwardError) {
        if let i = values.firstIndex(where: { $0 < 0 || $0 >= limit }) {
            throw ForwardError("\(name)[\(i)] = \(values[i]) is outside \(what) (0..<\(limit))")
        }
    }

    private func expectFinite(_ name: String, _ values: [Double]) throws(ForwardError) {
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            throw ForwardError("\(name)[\(i)] = \(values[i]) is not a finite time")
        }
    }
}
