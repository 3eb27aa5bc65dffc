extension POYOModel {
    /// The rest of the encoder and `for self_attn, self_ff in proc_layers: latents += self_attn(latents);
    /// latents += self_ff(latents)`.
    ///
    /// Row-local work is fused across blocks: one parallel region per layer runs, on each row block,
    /// the previous block's output projection and feed-forward (the encoder's, for the first layer)
    /// and then this layer's layer norm, q/k/v projection and rotation; a second runs its attention
    /// heads. The last layer's output projection and feed-forward close it. Each region ends with
    /// the threads waiting for each other, so fewer regions wait less: 13 here instead of 19 for depth 6, a window 16 instead of 22.
    ///   latents [count, dim]; `encoderAttended` [count, cross inner], the encoder attention's output.
    func process(latents: UnsafeMutablePointer<Float>, count: Int, encoderAttended: UnsafeMutablePointer<Float>) {
        let h = hyperparameters
        let inner = h.selfHeads * h.dimHead
        let s = scratch
        let qkv = s.projected.reserve(count * 3 * inner)
        // The row blocks' scratch (`AttentionBlockRest`, `RestAndProjection`).
        s.normed.reserve(count * h.dim)
        s.hidden.reserve(count * 8 * h.dim)
        s.gated.reserve(count * 4 * h.dim)
        let attended = s.attended.pointer
        // What the row blocks finish first: the encoder's attention output, then each layer's.
        var pending = AttentionBlockRest(
            model: self, latents: latents, attended: encoderAttended, heads: h.crossHeads,
            toOut: weights.encoderAttention.toOut, feedForward: weights.encoderFeedForward)
        for layer in weights.processingLayers {
            pool.forEachBlock(of: count, RestAndProjection(rest: pending, qkv: qkv, attention: layer.attention))
            stageClock.mark(.rowBlocks)
            pool.run(tasks: h.selfHeads, SelfAttentionHeads(
                attended: attended, qkv: qkv, inner: inner, count: count, dimHead: h.dimHead, scratch: s.workers))
            stageClock.mark(.processAttention)
            pending = AttentionBlockRest(
                model: self, latents: latents, attended: attended, heads: h.selfHeads,
                toOut: layer.attention.toOut, feedForward: layer.feedForward)
        }
        pool.forEachBlock(of: count, pending)
        stageClock.mark(.rowBlocks)
    }
}

/// The row-local rest of an attention block on a row block: `latents += to_out(rotate(attended,
/// -latent time)); latents += ffn(latents)` (rotate_value: the attention output is rotated back by
/// minus the query time).
///   latents [count, dim], attended [count, heads * dim_head]
struct AttentionBlockRest: ParallelRows {
    let model: POYOModel
    let latents: UnsafeMutablePointer<Float>
    let attended: UnsafeMutablePointer<Float>
    let heads: Int
    let toOut: LinearWeights
    let feedForward: FeedForwardWeights

    func run(rows: Range<Int>, worker: Int) {
        let h = model.hyperparameters
        let dim = h.dim, inner = heads * h.dimHead, width = model.rotary.tableWidth
        let s = model.scratch
        let first = rows.lowerBound
        model.rotary.rotate(
            attended + first * inner, ldx: inner, rows: rows.count, heads: heads, dimHead: h.dimHead,
            cos: s.latentCos.pointer + first * width, sin: s.latentSin.pointer + first * width, inverse: true)
        linearForward(latents + first * dim, ldy: dim, attended + first * inner, ldx: inner, rows: rows.count, toOut, accumulate: true)
        feedForwardResidual(
            latents + first * dim, rows: rows.count, dim: dim, feedForward,
            normed: s.normed.pointer + first * dim, hidden: s.hidden.pointer + first * 8 * dim, gated: s.gated.pointer + first * 4 * dim)
    }
}

/// A processing layer's first region, per row block: the previous attention block's rest, then
/// this layer's layer norm, q/k/v projection and rotation (q, k and v all carry the latent times,
/// rotate_value).
private struct RestAndProjection: ParallelRows {
    let rest: AttentionBlockRest
    let qkv: UnsafeMutablePointer<Float>
    let attention: SelfAttentionWeights

    func run(rows: Range<Int>, worker: Int) {
        rest.run(rows: rows, worker: worker)
        let model = rest.model
        let h = model.hyperparameters
        let dim = h.dim, inner = h.selfHeads * h.dimHead, width = model.rotary.tableWidth
        let s = model.scratch
        let first = rows.lowerBound
        let normed = s.normed.pointer + first * dim
        layerNormForward(normed, rest.latents + first * dim, rows: rows.count, dim: dim, attention.norm)
        linearForward(qkv + first * 3 * inner, ldy: 3 * inner, normed, ldx: dim, rows: rows.count, attention.toQKV)
        model.rotary.rotate(
            qkv + first * 3 * inner, ldx: 3 * inner, rows: rows.count, heads: 3 * h.selfHeads, dimHead: h.dimHead,
            cos: s.latentCos.pointer + first * width, sin: s.latentSin.pointer + first * width)
    }
}

/// A processing layer's attention, one task per head.
private struct SelfAttentionHeads: ParallelTasks {
    let attended: UnsafeMutablePointer<Float>
    let qkv: UnsafeMutablePointer<Float>
    let inner: Int, count: Int, dimHead: Int
    let scratch: [AttentionScratch]

    func run(task head: Int, worker: Int) {
        attentionForward(
            attended, ldo: inner, q: qkv, ldq: 3 * inner, k: qkv + inner, ldk: 3 * inner, v: qkv + 2 * inner, ldv: 3 * inner,
            queries: count, keys: count, heads: head..<(head + 1), dimHead: dimHead, scratch: scratch[worker])
    }
}
