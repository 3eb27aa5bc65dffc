extension POYOModel {
    /// `for self_attn, self_ff in proc_layers: latents += self_attn(latents); latents += self_ff(latents)`.
    /// Per layer two parallel regions: q/k/v of each row block, then the attention heads; the
    /// output projection and the feed-forward are row-local and share a third.
    func process(latents: UnsafeMutablePointer<Float>, count: Int) {
        let h = hyperparameters
        let dim = h.dim
        let inner = h.selfHeads * h.dimHead
        let width = rotary.tableWidth
        let s = scratch
        let latentCos = UnsafePointer(s.latentCos.pointer), latentSin = UnsafePointer(s.latentSin.pointer)
        let normed = s.normed.reserve(count * dim)
        let qkv = s.projected.reserve(count * 3 * inner)
        let attended = s.attended.reserve(count * inner)
        let rotary = rotary
        for layer in weights.processingLayers {
            let attention = layer.attention
            pool.forEachBlock(of: count) { rows, _ in
                let first = rows.lowerBound
                layerNormForward(normed + first * dim, latents + first * dim, rows: rows.count, dim: dim, attention.norm)
                linearForward(qkv + first * 3 * inner, ldy: 3 * inner, normed + first * dim, ldx: dim, rows: rows.count, attention.toQKV)
                // q, k and v (rotate_value) all carry the latent times.
                rotary.rotate(
                    qkv + first * 3 * inner, ldx: 3 * inner, rows: rows.count, heads: 3 * h.selfHeads, dimHead: h.dimHead,
                    cos: latentCos + first * width, sin: latentSin + first * width)
            }
            stageClock.mark(.processProjection)
            pool.run(tasks: h.selfHeads) { head, worker in
                attentionForward(
                    attended, ldo: inner, q: qkv, ldq: 3 * inner, k: qkv + inner, ldk: 3 * inner, v: qkv + 2 * inner, ldv: 3 * inner,
                    queries: count, keys: count, heads: head..<(head + 1), dimHead: h.dimHead, scratch: s.workers[worker])
            }
            stageClock.mark(.processAttention)
            attentionOutputAndFeedForward(
                latents, count: count, attended: attended, heads: h.selfHeads, toOut: attention.toOut, feedForward: layer.feedForward)
            stageClock.mark(.processRest)
        }
    }

    /// The row-local rest of an attention block, in row blocks over the pool:
    /// `latents += to_out(rotate(attended, -latent time)); latents += ffn(latents)` (rotate_value:
    /// the attention output is rotated back by minus the query time).
    ///   latents [count, dim], attended [count, heads * dim_head]
    func attentionOutputAndFeedForward(
        _ latents: UnsafeMutablePointer<Float>, count: Int, attended: UnsafeMutablePointer<Float>, heads: Int,
        toOut: LinearWeights, feedForward: FeedForwardWeights
    ) {
        let h = hyperparameters
        let dim = h.dim, inner = heads * h.dimHead, width = rotary.tableWidth
        let s = scratch
        let latentCos = UnsafePointer(s.latentCos.pointer), latentSin = UnsafePointer(s.latentSin.pointer)
        let normed = s.normed.reserve(count * dim), hidden = s.hidden.reserve(count * 8 * dim), gated = s.gated.reserve(count * 4 * dim)
        let rotary = rotary
        pool.forEachBlock(of: count) { rows, _ in
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
}
