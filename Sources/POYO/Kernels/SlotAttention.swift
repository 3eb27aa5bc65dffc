/// One head of the encoder's cross-attention, with everything that depends on a token only
/// through its (unit, token type) — its *slot* — done once per slot instead of once per token.
///
/// A token's key and value are `to_kv(LN(unit_emb[u] + token_type_emb[t]))` rotated by the
/// token's time, and only the first `rotated` columns of a head carry a rotation. So:
/// - the unrotated part of a score is `q_unrot(latent index) · k_unrot(slot)`: one row of
///   `slotScores` ([slots, latents], scale included) per slot, added to each token's scores;
/// - the unrotated part of the output is `Σ_j p_ij v_unrot(slot(j)) = Σ_slot (Σ_{j in slot} p_ij) v_unrot(slot)`:
///   the softmax weights are summed per slot (`aggregated`, [slots, latents]) and multiplied by
///   `slotValues` ([slots, unrotated]) once at the end of a key range;
/// - only the rotated halves of the keys and values are per token (`blocks`: rotated per key block,
///   just before use, into L1/L2-resident buffers).
/// For poyo_1.3M (200 units at 20 Hz, 2 heads) that is 0.15 GFLOP per window instead of 0.23.
///
/// Scores are kept transposed, [keys, latents]: the latents' running maxima and sums are then
/// column operations over whole rows (vectorized across latents), a token's weights are one row
/// to add to its slot, and the value product reads them in place (`panelGEMM(transposedA:)`).
/// Same result as `torch_brain`'s `RotaryCrossAttention` up to float rounding (softmax over all
/// keys at once, F.scaled_dot_product_attention).
struct SlotAttentionHead {
    /// Qᵀ of the head's rotated columns, rotated by the latent times: [rotated, latents] panels.
    var queryPanels: Panels
    /// The tokens' rotated key and value columns of this head, computed per key block.
    var blocks: SlotHeadKeys
    /// [N]: the slot of each token.
    var tokenSlot: UnsafePointer<Int32>
    /// [slots, latents]: scale · q_unrot(latent index of each latent) · k_unrot(slot).
    var slotScores: UnsafePointer<Float>
    /// [slots, unrotated]: the unrotated value columns of each slot.
    var slotValues: UnsafePointer<Float>
    var slots: Int
    var latents: Int
    var rotated: Int
    var unrotated: Int
    /// 1 / sqrt(dim_head).
    var scale: Float
}

/// A head's rotated key and value columns for a block of tokens, rotated (`rotateHalves`) from
/// the head's per-slot rows by each token's angles into `keys` and `values` ([key block, rotated]
/// each, the thread's own scratch) just before the block's score product reads them: they stay in
/// L1/L2 instead of a [heads, N, rotated] pair of arrays (2.25 MB for poyo_1.3M at 200 units x
/// 20 Hz) written by one pass and read back by the next (2.0-2.7 % of a window at 1 thread).
/// The per-slot rows are the head's columns of the K/V table copied compact, [slots, 2 * rotated]
/// (~50 KiB), where reading the table itself (~4 KiB a unit) missed L2 on most tokens (1.0-1.2 %).
struct SlotHeadKeys {
    let rotary: RotaryFrequencies
    /// [N, rotated] each: the tokens' angle tables (`RotaryFrequencies.angles`).
    let cosines: UnsafePointer<Float>, sines: UnsafePointer<Float>
    /// [N]: the slot of each token.
    let tokenSlot: UnsafePointer<Int32>
    /// [slots, 2 * rotated]: the head's rotated key columns, then value columns, of each slot, unrotated.
    let slotRows: UnsafePointer<Float>
    let keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>

    /// Rotates the tokens `range` (at most a key block) into rows 0..<range.count of `keys` and `values`.
    func fill(_ range: Range<Int>) {
        let width = rotary.tableWidth
        for j in range {
            let row = (j &- range.lowerBound) &* width
            let source = slotRows + Int(tokenSlot[j]) &* 2 &* width
            rotateHalves(
                key: source, value: source + width, cos: cosines + j &* width, sin: sines + j &* width,
                rotary: rotary, keys: keys + row, values: values + row)
        }
    }
}

/// Attends the latents of `head` to its keys `range` (in blocks of `keyBlock` keys), updating the
/// running softmax state: `out` [latents, ldo] (the head's dim_head columns), `sums` and `maxima`
/// [latents], and `aggregated` [slots, latents] (the softmax weights summed per slot, not yet
/// multiplied by the slots' unrotated values). Without `resume` the state starts empty. The first
/// `carriedSlots` rows of `aggregated` are resumed too (the others start at zero).
/// With `closing` it then adds the unrotated value product of those slots (their rows of
/// `aggregated`ᵀ · `slotValues`: summed over those slots only, so that the result does not depend
/// on how many other slots the window has) and, with `normalize`, divides by the sums; without, the
/// range is left open, to be resumed later with more keys (`EncoderPrefix`), and one split at
/// key-block boundaries gives the same bits as the whole range in one call.
/// Scratch: `scratch`'s buffers.
func slotAttentionForward(
    _ head: SlotAttentionHead, keys range: Range<Int>,
    out: UnsafeMutablePointer<Float>, ldo: Int, sums: UnsafeMutablePointer<Float>, maxima: UnsafeMutablePointer<Float>,
    aggregated: UnsafeMutablePointer<Float>, carriedSlots: Int,
    keyBlock: Int, scratch: AttentionScratch, resume: Bool, closing: Range<Int>?, normalize: Bool
) {
    let latents = head.latents, dimHead = head.rotated &+ head.unrotated
    if !resume {
        for i in 0..<latents {
            sums[i] = 0
            maxima[i] = -.infinity
            (out + i &* ldo).update(repeating: 0, count: dimHead)
        }
    }
    let scores = scratch.scores.reserve(keyBlock &* latents)
    (aggregated + carriedSlots &* latents).update(repeating: 0, count: (head.slots &- carriedSlots) &* latents)
    let blockMaxima = scratch.sums.reserve(2 &* latents), factors = blockMaxima + latents

    var start = range.lowerBound
    while start < range.upperBound {
        let count = min(keyBlock, range.upperBound &- start)
        head.blocks.fill(start..<(start &+ count))
        let blockKeys = head.blocks.keys, blockValues = head.blocks.values
        // Scores [count, latents]: the rotated product plus the slot's unrotated part, added as
        // each tile is stored.
        panelGEMM(
            scores, ldc: latents, blockKeys, lda: head.rotated, head.queryPanels,
            m: count, k: head.rotated,
            Epilogue(alpha: head.scale, gathered: GatheredRows(base: head.slotScores, index: head.tokenSlot + start, stride: latents)))

        columnMaxima(scores, rows: count, columns: latents, into: blockMaxima)
        var grew = false
        for i in 0..<latents {
            factors[i] = 1
            guard blockMaxima[i] > maxima[i] else { continue }
            if maxima[i] > -.infinity {
                factors[i] = vectorExp(SIMD8(repeating: maxima[i] - blockMaxima[i]))[0]
                sums[i] *= factors[i]
                scale(out + i &* ldo, count: dimHead, by: factors[i])
                grew = true
            }
            maxima[i] = blockMaxima[i]
        }
        if grew && (start > range.lowerBound || carriedSlots > 0) {
            for slot in 0..<head.slots { multiply(aggregated + slot &* latents, by: factors, count: latents) }
        }
        exponentiateColumns(
            scores, rows: count, columns: latents, maxima: maxima, sums: sums,
            aggregated: aggregated, slotOfRow: head.tokenSlot + start)
        // The rotated value columns: out[:, :rotated] += pᵀ · values.
        panelGEMM(
            out, ldc: ldo, scores, lda: latents, Panels(blockValues, ldb: head.rotated, columns: head.rotated),
            m: latents, k: count, Epilogue(accumulate: true), transposedA: true)
        start &+= count
    }
    // The unrotated value columns, once per slot: out[:, rotated:] += aggregatedᵀ · slotValues.
    guard let closing else { return }
    if (!range.isEmpty || carriedSlots > 0) && !closing.isEmpty {
        panelGEMM(
            out + head.rotated, ldc: ldo, aggregated + closing.lowerBound &* latents, lda: latents,
            Panels(head.slotValues + closing.lowerBound &* head.unrotated, ldb: head.unrotated, columns: head.unrotated),
            m: latents, k: closing.count, Epilogue(accumulate: true), transposedA: true)
    }
    if normalize {
        for i in 0..<latents { scale(out + i &* ldo, count: dimHead, by: 1 / sums[i]) }
    }
}

/// x[i] *= factors[i] for i < count.
private func multiply(_ x: UnsafeMutablePointer<Float>, by factors: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { x[i] *= factors[i] }
}
