extension POYOModel {
    /// `for self_attn, self_ff in proc_layers: latents += self_attn(latents); latents += self_ff(latents)`.
    func process(latents: UnsafeMutablePointer<Float>, count: Int) {
        let h = hyperparameters
        let dim = h.dim
        let inner = h.selfHeads * h.dimHead
        let s = scratch
        let latentCos = UnsafePointer(s.latentCos.pointer), latentSin = UnsafePointer(s.latentSin.pointer)
        let normed = s.normed.reserve(count * dim)
        let qkv = s.projected.reserve(count * 3 * inner)
        let attended = s.attended.reserve(count * inner)
        let scores = s.scores.reserve(count * count), sums = s.sums.reserve(count)
        let hidden = s.hidden.reserve(count * 8 * dim), gated = s.gated.reserve(count * 4 * dim)
        for layer in weights.processingLayers {
            let attention = layer.attention
            layerNormForward(normed, latents, rows: count, dim: dim, attention.norm)
            linearForward(qkv, ldy: 3 * inner, normed, ldx: dim, rows: count, attention.toQKV)
            // q, k and v (rotate_value) all carry the latent times.
            rotary.rotate(qkv, ldx: 3 * inner, rows: count, heads: 3 * h.selfHeads, dimHead: h.dimHead, cos: latentCos, sin: latentSin)
            attentionForward(
                attended, ldo: inner, q: qkv, ldq: 3 * inner, k: qkv + inner, ldk: 3 * inner, v: qkv + 2 * inner, ldv: 3 * inner,
                queries: count, keys: count, heads: h.selfHeads, dimHead: h.dimHead, scores: scores, sums: sums)
            rotary.rotate(attended, ldx: inner, rows: count, heads: h.selfHeads, dimHead: h.dimHead, cos: latentCos, sin: latentSin, inverse: true)
            linearForward(latents, ldy: dim, attended, ldx: inner, rows: count, attention.toOut, accumulate: true)
            feedForwardResidual(latents, rows: count, dim: dim, layer.feedForward, normed: normed, hidden: hidden, gated: gated)
        }
    }
}
