extension POYOModel {
    /// `q = session_emb[s] (+ task_emb[d]); q += dec_atn(q, latents); y = readout(q + dec_ffn(q))`.
    /// The decoder rotates queries and keys but not values.
    func decode(_ w: ModelWindow, latents: UnsafeMutablePointer<Float>, into output: inout ModelOutput) {
        let h = hyperparameters
        let dim = h.dim
        let inner = h.crossHeads * h.dimHead
        let rotary = rotary
        let width = rotary.tableWidth
        let count = w.latentIndex.count
        let queryCount = w.outputSessionIndex.count
        let s = scratch
        let attention = weights.decoderAttention

        let stream = s.outputQueries.reserve(queryCount * dim)
        for (r, session) in w.outputSessionIndex.enumerated() {
            let row = stream + r * dim
            row.update(from: weights.sessionEmb + session * dim, count: dim)
            if let taskEmb = weights.taskEmb, let decoder = w.outputDecoderIndex?[r] {
                for c in 0..<dim { row[c] += taskEmb[decoder * dim + c] }
            }
        }
        let normed = s.normed.reserve(max(queryCount, count) * dim)
        let queries = s.decoderQueries.reserve(queryCount * inner)
        layerNormForward(normed, stream, rows: queryCount, dim: dim, attention.norm)
        linearForward(queries, ldy: inner, normed, ldx: dim, rows: queryCount, attention.toQ)
        let queryCos = s.queryCos.reserve(queryCount * width), querySin = s.querySin.reserve(queryCount * width)
        w.outputTimestamps.withUnsafeBufferPointer { rotary.angles(of: $0.baseAddress!, count: queryCount, cos: queryCos, sin: querySin) }
        rotary.rotate(queries, ldx: inner, rows: queryCount, heads: h.crossHeads, dimHead: h.dimHead, cos: queryCos, sin: querySin)

        let keyValues = s.projected.reserve(count * 2 * inner)
        pool.forEachBlock(of: count, LatentKeyValues(model: self, latents: latents, normed: normed, keyValues: keyValues, attention: attention))

        let attended = s.attended.reserve(queryCount * inner)
        attentionForward(
            attended, ldo: inner, q: queries, ldq: inner, k: keyValues, ldk: 2 * inner, v: keyValues + inner, ldv: 2 * inner,
            queries: queryCount, keys: count, heads: 0..<h.crossHeads, dimHead: h.dimHead, scratch: s.workers[0])
        linearForward(stream, ldy: dim, attended, ldx: inner, rows: queryCount, attention.toOut, accumulate: true)
        feedForwardResidual(
            stream, rows: queryCount, dim: dim, weights.decoderFeedForward,
            normed: normed, hidden: s.hidden.reserve(queryCount * 8 * dim), gated: s.gated.reserve(queryCount * 4 * dim))
        readout(stream, dim: dim, decoders: w.outputDecoderIndex, queryCount: queryCount, into: &output)
    }

    /// Each query through the projection of its readout, rows kept in query order per readout.
    private func readout(_ stream: UnsafePointer<Float>, dim: Int, decoders: [Int]?, queryCount: Int, into output: inout ModelOutput) {
        for i in output.readouts.indices {
            output.readouts[i].queryIndex.removeAll(keepingCapacity: true)
            output.readouts[i].values.removeAll(keepingCapacity: true)
        }
        for r in 0..<queryCount {
            let position = decoders.map { readoutOfDecoder[$0[r]] } ?? 0
            let projection = weights.readouts[position]
            let row = stream + r * dim
            output.readouts[position].queryIndex.append(r)
            for o in 0..<projection.outFeatures {
                var sum: Float = projection.bias?[o] ?? 0
                let weight = projection.weight + o * dim
                for c in 0..<dim { sum += weight[c] * row[c] }
                output.readouts[position].values.append(sum)
            }
        }
    }
}

/// The decoder's keys and values of the latents, per row block: `to_kv(norm_context(latents))`,
/// both rotated by the latent times ([count, 2 * cross inner]).
private struct LatentKeyValues: ParallelRows {
    let model: POYOModel
    let latents: UnsafeMutablePointer<Float>, normed: UnsafeMutablePointer<Float>, keyValues: UnsafeMutablePointer<Float>
    let attention: CrossAttentionWeights

    func run(rows: Range<Int>, worker: Int) {
        let h = model.hyperparameters
        let dim = h.dim, inner = h.crossHeads * h.dimHead, width = model.rotary.tableWidth
        let first = rows.lowerBound
        layerNormForward(normed + first * dim, latents + first * dim, rows: rows.count, dim: dim, attention.normContext)
        linearForward(keyValues + first * 2 * inner, ldy: 2 * inner, normed + first * dim, ldx: dim, rows: rows.count, attention.toKV)
        model.rotary.rotate(
            keyValues + first * 2 * inner, ldx: 2 * inner, rows: rows.count, heads: h.crossHeads, dimHead: h.dimHead,
            cos: model.scratch.latentCos.pointer + first * width, sin: model.scratch.latentSin.pointer + first * width)
    }
}
