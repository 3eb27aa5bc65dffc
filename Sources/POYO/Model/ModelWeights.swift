/// Every weight of a POYO / POYO+ model, as pointers into the mapped model file
/// (copied once only where the file leaves a tensor unaligned).
struct ModelWeights {
    let unitEmb: UnsafePointer<Float>         // [unit vocab, dim]
    let sessionEmb: UnsafePointer<Float>      // [session vocab, dim]
    let tokenTypeEmb: UnsafePointer<Float>    // [4, dim]
    let latentEmb: UnsafePointer<Float>       // [num_latents_per_step, dim]
    let taskEmb: UnsafePointer<Float>?        // [task rows, dim], POYO+ only
    let taskEmbRows: Int
    let omega: [Float]                        // [dim_head / 2], radians per second
    let encoderAttention: CrossAttentionWeights
    let encoderFeedForward: FeedForwardWeights
    let processingLayers: [ProcessingLayerWeights]
    let decoderAttention: CrossAttentionWeights
    let decoderFeedForward: FeedForwardWeights
    /// One projection per readout, in the order of the description's readouts.
    let readouts: [LinearWeights]
    /// Keeps the mapping and any copies alive as long as the pointers are used.
    let storage: WeightStorage

    init(file: SafeTensorsFile, description: ModelDescription) throws(ModelFileError) {
        let h = description.hyperparameters
        let d = h.dim
        var binder = WeightBinder(file: file)
        unitEmb = try binder.floats("unit_emb.weight", [description.unitVocab.count, d])
        sessionEmb = try binder.floats("session_emb.weight", [description.sessionVocab.count, d])
        tokenTypeEmb = try binder.floats("token_type_emb.weight", [4, d])
        latentEmb = try binder.floats("latent_emb.weight", [h.numLatentsPerStep, d])
        omega = Array(UnsafeBufferPointer(start: try binder.floats("rotary_emb.omega", [h.dimHead / 2]), count: h.dimHead / 2))
        if description.kind == .poyoPlus {
            let rows = try binder.rows(of: "task_emb.weight", columns: d)
            let maxID = description.readouts.map(\.id).max() ?? 0
            guard rows > maxID else {
                throw ModelFileError(.shapeMismatch, path: file.path, "tensor 'task_emb.weight' has \(rows) rows but readout id \(maxID) needs \(maxID + 1)")
            }
            taskEmb = try binder.floats("task_emb.weight", [rows, d])
            taskEmbRows = rows
        } else {
            taskEmb = nil
            taskEmbRows = 0
        }
        let crossInner = h.crossHeads * h.dimHead
        let selfInner = h.selfHeads * h.dimHead
        encoderAttention = try binder.crossAttention("enc_atn", dim: d, inner: crossInner)
        encoderFeedForward = try binder.feedForward("enc_ffn", dim: d)
        var layers: [ProcessingLayerWeights] = []
        for i in 0..<h.depth {
            let prefix = "proc_layers.\(i)"
            let attention = SelfAttentionWeights(
                norm: try binder.layerNorm("\(prefix).0.norm", dim: d),
                toQKV: try binder.linear("\(prefix).0.to_qkv", out: 3 * selfInner, in: d, bias: false),
                toOut: try binder.linear("\(prefix).0.to_out", out: d, in: selfInner, bias: true)
            )
            layers.append(ProcessingLayerWeights(attention: attention, feedForward: try binder.feedForward("\(prefix).1", dim: d)))
        }
        processingLayers = layers
        decoderAttention = try binder.crossAttention("dec_atn", dim: d, inner: crossInner)
        decoderFeedForward = try binder.feedForward("dec_ffn", dim: d)
        switch description.kind {
        case .poyo:
            readouts = [try binder.linear("readout", out: description.readouts[0].dim, in: d, bias: true)]
        case .poyoPlus:
            readouts = try description.readouts.map { (spec) throws(ModelFileError) in
                try binder.linear("readout.projections.\(spec.name)", out: spec.dim, in: d, bias: true)
            }
        }
        try binder.refuseUnused()
        storage = binder.storage
    }
}
