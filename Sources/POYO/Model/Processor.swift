extension POYOModel {
    /// The rest of the encoder and `for self_attn, self_ff in proc_layers: latents += self_attn(latents);
    /// latents += self_ff(latents)`.
    ///
    /// Row-local work is fused across blocks: one parallel region per layer runs, on each row block,
    /// the previous block's output projection and feed-forward (the encoder's, for the first layer)
    /// and then this layer's layer norm, q/k/v projection and rotation; a second runs its attention
    /// heads. The last layer's output projection and feed-forward close it. Each region ends with
    /// the threads waiting for each other, so fewer regions wait less (15 instead of 21 for depth 6).
    ///   latents [count, dim]; `encoderAttended` [count, cross inner], the encoder attention's output.
    func process(latents: UnsafeMutablePointer<Float>, count: Int, encoderAttended: UnsafeMutablePointer<Float>) {
        let h = hyperparameters
        let dim = h.dim
        let inner = h.selfHeads * h.dimHead
        let width = rotary.tableWidth
        let s = scratch
        let latentCos = UnsafePointer(s.latentCos.pointer), latentSin = UnsafePointer(s.latentSin.pointer)
        let normed = s.normed.reserve(count * dim)
        let qkv = s.projected.reserve(count * 3 * inner)
        let attended = s.attended.pointer
        let rotary = rotary
        // What the row blocks finish first: the encoder's attention output, then each layer's.
        var pending = (attended: encoderAttended, heads: h.crossHeads, toOut: weights.encoderAttention.toOut, feedForward: weights.encoderFeedForward)
        for layer in weights.processingLayers {
            let attention = layer.attention
            let previous = pending
            pool.forEachBlock(of: count) { rows, _ in
                attentionOutputAndFeedForward(
                    latents, rows: rows, attended: previous.attended, heads: previous.heads, toOut: previous.toOut, feedForward: previous.feedForward)
                let first = rows.lowerBound
                layerNormForward(normed + first * dim, latents + first * dim, rows: rows.count, dim: dim, attention.norm)
                linearForward(qkv + first * 3 * inner, ldy: 3 * inner, normed + first * dim, ldx: dim, rows: rows.count, attention.toQKV)
                // q, k and v (rotate_value) all carry the latent times.
                rotary.rotate(
                    qkv + first * 3 * inner, ldx: 3 * inner, rows: rows.count, heads: 3 * h.selfHeads, dimHead: h.dimHead,
                    cos: latentCos + first * width, sin: latentSin + first * width)
            }
            stageClock.mark(.rowBlocks)
            pool.run(tasks: h.selfHeads) { head, worker in
                attentionForward(
                    attended, ldo: inner, q: qkv, ldq: 3 * inner, k: qkv + inner, ldk: 3 * inner, v: qkv + 2 * inner, ldv: 3 * inner,
                    queries: count, keys: count, heads: head..<(head + 1), dimHead: h.dimHead, scratch: s.workers[worker])
            }
            stageClock.mark(.processAttention)
            pending = (attended: attended, heads: h.selfHeads, toOut: attention.toOut, feedForward: layer.feedForward)
        }
        let last = pending
        pool.forEachBlock(of: count) { rows, _ in
            attentionOutputAndFeedForward(latents, rows: rows, attended: last.attended, heads: last.heads, toOut: last.toOut, feedForward: last.feedForward)
        }
        stageClock.mark(.rowBlocks)
    }

    /// The row-local rest of an attention block on `rows`: `latents += to_out(rotate(attended, -latent time));
    /// latents += ffn(latents)` (rotate_value: the attention output is rotated back by minus the query time).
    ///   latents [count, dim], attended [count, heads * dim_head]
    func attentionOutputAndFeedForward(
        _ latents: UnsafeMutablePointer<Float>, rows: Range<Int>, attended: UnsafeMutablePointer<Float>, heads: Int,
        toOut: LinearWeights, feedForward: FeedForwardWeights
    ) {
        let h = hyperparameters
        let dim = h.dim, inner = heads * h.dimHead, width = rotary.tableWidth
        let s = scratch
        let latentCos = UnsafePointer(s.latentCos.pointer), latentSin = UnsafePointer(s.latentSin.pointer)
        let normed = s.normed.pointer, hidden = s.hidden.pointer, gated = s.gated.pointer
        let first = rows.lowerBound
        rotary.rotate(
            attended + first * inner, ldx: inner, rows: rows.count, heads: heads, dimHead: h.dimHead,
            cos: latentCos + first * width, sin: latentSin + first * width, inverse: true)
        linearForward(latents + first * dim, ldy: dim, attended + first * inner, ldx: inner, rows: rows.count, toOut, accumulate: true)
        feedForwardResidual(
            latents + first * dim, rows: rows.count, dim: dim, feedForward,
            normed: normed + first * dim, hidden: hidden + first * 8 * dim, gated: gated + first * 4 * dim)
    }
}
