extension POYOModel {
    /// `latents = latent_emb[latent_index]; latents += enc_atn(latents, inputs); latents += enc_ffn(latents)`.
    /// Returns the latent stream [L, dim] in scratch.
    func encode(_ w: ModelWindow) -> UnsafeMutablePointer<Float> {
        let h = hyperparameters
        let dim = h.dim
        let inner = h.crossHeads * h.dimHead
        let width = rotary.tableWidth
        let s = scratch

        // Inputs: K/V rows per (unit, type) from the table, rotated by the token's time as they
        // are gathered; masked tokens are left out.
        s.tokenTimes.removeAll(keepingCapacity: true)
        for i in 0..<w.inputUnitIndex.count where w.inputMask?[i] ?? true {
            s.tokenTimes.append(w.inputTimestamps[i])
        }
        let tokens = s.tokenTimes.count
        let tokenCos = s.tokenCos.reserve(tokens * width), tokenSin = s.tokenSin.reserve(tokens * width)
        s.tokenTimes.withUnsafeBufferPointer { rotary.angles(of: $0.baseAddress!, count: tokens, cos: tokenCos, sin: tokenSin) }
        let keys = s.keys.reserve(tokens * inner)
        let values = s.values.reserve(tokens * inner)
        var j = 0
        for i in 0..<w.inputUnitIndex.count where w.inputMask?[i] ?? true {
            let kv = unitKeyValues.rows(of: w.inputUnitIndex[i], weights: weights, dim: dim) + w.inputTokenType[i] * 2 * inner
            let c = tokenCos + j * width, sn = tokenSin + j * width
            rotary.rotate(keys + j * inner, ldx: inner, rows: 1, heads: h.crossHeads, dimHead: h.dimHead, cos: c, sin: sn, from: kv)
            rotary.rotate(values + j * inner, ldx: inner, rows: 1, heads: h.crossHeads, dimHead: h.dimHead, cos: c, sin: sn, from: kv + inner)
            j += 1
        }

        // Latents and their (precomputed) encoder queries, rotated by the latent times.
        let count = w.latentIndex.count
        let latents = s.latents.reserve(count * dim)
        let queries = s.projected.reserve(count * inner)
        latentQueries.withUnsafeBufferPointer { table in
            for (r, index) in w.latentIndex.enumerated() {
                (latents + r * dim).update(from: weights.latentEmb + index * dim, count: dim)
                (queries + r * inner).update(from: table.baseAddress! + index * inner, count: inner)
            }
        }
        let latentCos = s.latentCos.reserve(count * width), latentSin = s.latentSin.reserve(count * width)
        w.latentTimestamps.withUnsafeBufferPointer { rotary.angles(of: $0.baseAddress!, count: count, cos: latentCos, sin: latentSin) }
        rotary.rotate(queries, ldx: inner, rows: count, heads: h.crossHeads, dimHead: h.dimHead, cos: latentCos, sin: latentSin)

        let attended = s.attended.reserve(count * inner)
        let rotatedColumns = width
        // A block of scores of ~256 KiB stays in L2 through softmax and the value product.
        let keyBlock = max(64, min(tokens, (Self.scoreBlockBytes / 4 / max(count, 1)) & ~15))
        if rotatedColumns > 0 && rotatedColumns < h.dimHead {
            latentQueries.withUnsafeBufferPointer { table in
                w.latentIndex.withUnsafeBufferPointer { groups in
                    splitAttentionForward(
                        attended, ldo: inner, q: queries, ldq: inner,
                        sharedQueries: table.baseAddress!, ldShared: inner, groups: h.numLatentsPerStep, rowGroup: groups.baseAddress!,
                        k: keys, ldk: inner, v: values, ldv: inner,
                        queries: count, keys: tokens, heads: h.crossHeads, dimHead: h.dimHead, rotatedColumns: rotatedColumns,
                        keyBlock: keyBlock, scores: s.scores.reserve(count * keyBlock),
                        sharedScores: s.sharedScores.reserve(h.numLatentsPerStep * keyBlock),
                        sums: s.sums.reserve(count), maxima: s.maxima.reserve(count))
                }
            }
        } else {
            attentionForward(
                attended, ldo: inner, q: queries, ldq: inner, k: keys, ldk: inner, v: values, ldv: inner,
                queries: count, keys: tokens, heads: h.crossHeads, dimHead: h.dimHead,
                scores: s.scores.reserve(count * tokens), sums: s.sums.reserve(count))
        }
        // rotate_value: the output is rotated back by minus the query (latent) time.
        rotary.rotate(attended, ldx: inner, rows: count, heads: h.crossHeads, dimHead: h.dimHead, cos: latentCos, sin: latentSin, inverse: true)
        linearForward(latents, ldy: dim, attended, ldx: inner, rows: count, weights.encoderAttention.toOut, accumulate: true)
        feedForwardResidual(
            latents, rows: count, dim: dim, weights.encoderFeedForward,
            normed: s.normed.reserve(count * dim), hidden: s.hidden.reserve(count * 8 * dim), gated: s.gated.reserve(count * 4 * dim))
        return latents
    }
}
