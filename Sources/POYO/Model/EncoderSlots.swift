extension POYOModel {
    /// The tokens `first...` of `w` that are not masked, for `attendSlots`: each token's slot
    /// (its (unit, token type), numbered in order of first appearance in this window:
    /// `scratch.tokenSlot`, `scratch.slotKeys`) and its angle tables (`scratch.tokenCos`,
    /// `scratch.tokenSin`; each head's attention rotates its keys and values per key block, `SlotHeadKeys`).
    /// The first `prefixTokens` tokens (start/end tokens attended here, not resumed from the cache)
    /// get their slots after all others, so that the slots of the tokens after them, and with them
    /// every sum over slots, are the same whether the start/end state was cached or not. Angles
    /// are computed for the collected tokens `angles` (clamped to N'): those attended. Returns N'.
    func gatherSlotTokens(_ w: ModelWindow, first: Int, prefixTokens: Int, angles: Range<Int>) -> Int {
        let h = hyperparameters
        let dim = h.dim
        let types = UnitKeyValueTable.tokenTypes
        let s = scratch
        let tokens = collectTokens(w, first: first)

        // Slots, in local arrays (a class's array property is checked for exclusive access at
        // every subscript: ~4x slower in this loop).
        var stamps: [UInt32] = [], slotOfKey: [Int32] = [], slotKeys: [Int] = [], tokenSlot: [Int32] = []
        swap(&stamps, &s.slotStamp)
        swap(&slotOfKey, &s.slotOfKey)
        swap(&slotKeys, &s.slotKeys)
        swap(&tokenSlot, &s.tokenSlot)
        let keyCount = description.unitVocab.count * types
        if stamps.count != keyCount {
            stamps = Array(repeating: 0, count: keyCount)
            slotOfKey = Array(repeating: 0, count: keyCount)
            s.stamp = 0
        }
        s.stamp &+= 1
        if s.stamp == 0 {
            for k in stamps.indices { stamps[k] = 0 }
            s.stamp = 1
        }
        let stamp = s.stamp
        slotKeys.removeAll(keepingCapacity: true)
        tokenSlot.removeAll(keepingCapacity: true)
        tokenSlot.append(contentsOf: repeatElement(0, count: tokens))
        s.tokenSource.withUnsafeBufferPointer { source in
            w.inputUnitIndex.withUnsafeBufferPointer { units in
                w.inputTokenType.withUnsafeBufferPointer { tokenTypes in
                    func numberSlots(of range: Range<Int>) {
                        for j in range {
                            let i = source[j]
                            let key = units[i] &* types &+ tokenTypes[i]
                            if stamps[key] != stamp {
                                stamps[key] = stamp
                                slotOfKey[key] = Int32(truncatingIfNeeded: slotKeys.count)
                                slotKeys.append(key)
                                // Units first seen here get their table rows now, outside the parallel region.
                                _ = unitKeyValues.rows(of: units[i], weights: weights, dim: dim)
                            }
                            tokenSlot[j] = slotOfKey[key]
                        }
                    }
                    numberSlots(of: prefixTokens..<tokens)
                    s.spikeSlots = slotKeys.count
                    numberSlots(of: 0..<prefixTokens)
                }
            }
        }
        swap(&stamps, &s.slotStamp)
        swap(&slotOfKey, &s.slotOfKey)
        swap(&slotKeys, &s.slotKeys)
        swap(&tokenSlot, &s.tokenSlot)
        let angled = angles.clamped(to: 0..<tokens)
        withTokenKeyValues(w) { pool.forEachBlock(of: angled.count, granule: 64, TokenAngles(tokens: $0, offset: angled.lowerBound)) }
        return tokens
    }

    /// The encoder attention per slot (`slotAttentionForward`), one task per head, resuming the
    /// start/end tokens' cached state (computed and recorded here when it does not match).
    /// Per head it first builds the slot operands: the unrotated key and value columns of each
    /// slot, and the unrotated score part of each slot against each latent.
    /// With `resumedSpikes`, the state after the start/end tokens and that many spikes comes from
    /// `encoderPrefix`; with `preparingSpikes`, the attention stops after that many spikes and the
    /// state is kept in `encoderPrefix` (`prepareEncoder`).
    func attendSlots(
        _ w: ModelWindow, queries: UnsafeMutablePointer<Float>, tokens: Int, count: Int, prefix: Int, cached: Bool,
        resumedSpikes: Int, preparingSpikes: Int, into attended: UnsafeMutablePointer<Float>
    ) {
        let h = hyperparameters
        let dimHead = h.dimHead, heads = h.crossHeads, inner = heads * dimHead, groups = h.numLatentsPerStep
        let rotated = rotary.tableWidth
        let s = scratch
        let slots = s.slotKeys.count
        let scale = 1 / Float(dimHead).squareRoot()
        let keyBlock = encoderKeyBlock(latents: count)
        let prepared = encoderPrefix
        if preparingSpikes > 0 { prepared.reserve(latents: count, inner: inner, heads: heads, slots: s.spikeSlots) }
        let sums = s.sums.reserve(heads * count), maxima = s.maxima.reserve(heads * count)
        let cache = startEndCache
        let cacheOut = cache.out.reserve(prefix > 0 ? count * inner : 0)
        let cacheSums = cache.sums.reserve(prefix > 0 ? heads * count : 0), cacheMaxima = cache.maxima.reserve(prefix > 0 ? heads * count : 0)
        s.tokenSlot.withUnsafeBufferPointer { tokenSlot in
            s.slotKeys.withUnsafeBufferPointer { slotKeys in
                latentQueries.withUnsafeBufferPointer { latentQueries in
                    w.latentIndex.withUnsafeBufferPointer { latentIndex in
                        pool.run(tasks: heads, SlotAttentionHeads(
                            rotary: rotary, tokenCos: s.tokenCos.pointer, tokenSin: s.tokenSin.pointer, table: unitKeyValues,
                            scratch: s.workers, queries: queries, latentQueries: latentQueries.baseAddress!,
                            latentIndex: latentIndex.baseAddress!, slotKeys: slotKeys.baseAddress!, slots: slots, spikeSlots: s.spikeSlots, tokenSlot: tokenSlot.baseAddress!,
                            tokens: tokens, count: count, dimHead: dimHead, inner: inner,
                            groups: groups, rotated: rotated, scale: scale, keyBlock: keyBlock, prefix: prefix, cached: cached,
                            attended: attended, sums: sums, maxima: maxima, cacheOut: cacheOut, cacheSums: cacheSums, cacheMaxima: cacheMaxima,
                            prepared: prepared.state, resumedSpikes: resumedSpikes, preparingSpikes: preparingSpikes))
                    }
                }
            }
        }
        if prefix > 0 && !cached { cache.record(w, prefix: prefix) }
        if preparingSpikes > 0 {
            // The spikes' slots are numbered first, in order of appearance: the same numbers in the
            // completed window. Those only seen after the prepared spikes have rows of zeros.
            prepared.record(w, prefix: prefix, spikes: preparingSpikes, slots: s.spikeSlots)
        }
    }
}

/// The slot gather's region: the tokens' angle tables, in blocks (each head's attention then
/// rotates its key blocks with them, `SlotHeadKeys`).
private struct TokenAngles: ParallelRows {
    let tokens: TokenKeyValues
    /// The first token of row 0.
    let offset: Int

    func run(rows block: Range<Int>, worker: Int) {
        tokens.angles((block.lowerBound + offset)..<(block.upperBound + offset))
    }
}

/// Rotates one token's key and value columns of a head (`rotary.tableWidth` each, from `key` and
/// `value`) by the token's angle rows `c` and `sn` (`RotaryFrequencies.angles`) into `keys` and
/// `values`, as `RotaryFrequencies.rotate` computes them (pair p: (x0 c - x1 s, x1 c + x0 s)).
@inline(__always)
func rotateHalves(
    key: UnsafePointer<Float>, value: UnsafePointer<Float>, cos c: UnsafePointer<Float>, sin sn: UnsafePointer<Float>,
    rotary: RotaryFrequencies, keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>
) {
    let width = rotary.tableWidth
    guard width == 32 else {
        rotary.rotate(keys, ldx: width, rows: 1, heads: 1, dimHead: width, cos: c, sin: sn, from: key)
        rotary.rotate(values, ldx: width, rows: 1, heads: 1, dimHead: width, cos: c, sin: sn, from: value)
        return
    }
    // poyo_1.3M's shape (dim_head 64): the angles in registers for the key and the value.
    let cr = UnsafeRawPointer(c), sr = UnsafeRawPointer(sn)
    let c0 = cr.loadUnaligned(as: SIMD8<Float>.self), c1 = cr.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
    let c2 = cr.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self), c3 = cr.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self)
    let s0 = sr.loadUnaligned(as: SIMD8<Float>.self), s1 = sr.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
    let s2 = sr.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self), s3 = sr.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self)
    @inline(__always) func rotated(_ v: SIMD8<Float>, _ cv: SIMD8<Float>, _ sv: SIMD8<Float>) -> SIMD8<Float> {
        (v * cv).addingProduct(SIMD8(v[1], v[0], v[3], v[2], v[5], v[4], v[7], v[6]), sv)
    }
    @inline(__always) func rotate(into target: UnsafeMutablePointer<Float>, from source: UnsafePointer<Float>) {
        let t = UnsafeMutableRawPointer(target), x = UnsafeRawPointer(source)
        t.storeBytes(of: rotated(x.loadUnaligned(as: SIMD8<Float>.self), c0, s0), as: SIMD8<Float>.self)
        t.storeBytes(of: rotated(x.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self), c1, s1), toByteOffset: 32, as: SIMD8<Float>.self)
        t.storeBytes(of: rotated(x.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self), c2, s2), toByteOffset: 64, as: SIMD8<Float>.self)
        t.storeBytes(of: rotated(x.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self), c3, s3), toByteOffset: 96, as: SIMD8<Float>.self)
    }
    rotate(into: keys, from: key)
    rotate(into: values, from: value)
}

/// `attendSlots`' region, one task per head: the head's slot operands, then its attention over the
/// start/end tokens (when not cached) and the rest of the tokens.
private struct SlotAttentionHeads: ParallelTasks {
    let rotary: RotaryFrequencies
    /// [N, rotated] each: the tokens' angle tables, as `gatherSlotTokens` filled them.
    let tokenCos: UnsafePointer<Float>, tokenSin: UnsafePointer<Float>
    let table: UnitKeyValueTable
    let scratch: [AttentionScratch]
    let queries: UnsafeMutablePointer<Float>, latentQueries: UnsafePointer<Float>, latentIndex: UnsafePointer<Int>
    /// Slots are numbered spikes first: `0..<spikeSlots` are spikes', the rest start/end tokens'.
    let slotKeys: UnsafePointer<Int>, slots: Int, spikeSlots: Int, tokenSlot: UnsafePointer<Int32>
    let tokens: Int, count: Int, dimHead: Int, inner: Int, groups: Int, rotated: Int
    let scale: Float
    let keyBlock: Int, prefix: Int, cached: Bool
    let attended: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Float>, maxima: UnsafeMutablePointer<Float>
    let cacheOut: UnsafeMutablePointer<Float>, cacheSums: UnsafeMutablePointer<Float>, cacheMaxima: UnsafeMutablePointer<Float>
    /// The state prepared ahead (`EncoderPrefix`): resumed after `resumedSpikes` spikes, or
    /// written after `preparingSpikes` spikes.
    let prepared: PreparedState
    let resumedSpikes: Int, preparingSpikes: Int

    func run(task head: Int, worker: Int) {
        let scratch = scratch[worker]
        let types = UnitKeyValueTable.tokenTypes, unrotated = dimHead - rotated
        let column = head * dimHead
        let slotK = scratch.slotKeys.reserve(slots * unrotated), slotV = scratch.slotValues.reserve(slots * unrotated)
        // Per slot, the head's rotated key and value columns before rotation: [slots, 2 * rotated],
        // compact (tens of KiB) where the K/V table is ~4 KiB a unit.
        let slotRotated = scratch.slotRotated.reserve(slots * 2 * rotated)
        for slot in 0..<slots {
            let key = slotKeys[slot]
            let row = table.prepared(key / types) + (key % types) * 2 * inner + column
            (slotRotated + slot * 2 * rotated).update(from: row, count: rotated)
            (slotRotated + slot * 2 * rotated + rotated).update(from: row + inner, count: rotated)
            (slotK + slot * unrotated).update(from: row + rotated, count: unrotated)
            (slotV + slot * unrotated).update(from: row + inner + rotated, count: unrotated)
        }
        let sharedPanels = packTransposed(
            latentQueries + column + rotated, ldm: inner, rows: groups, depth: unrotated,
            into: scratch.packedShared.reserve(packedCount(rows: groups, depth: unrotated)))
        let groupScores = scratch.slotGroupScores.reserve(slots * groups)
        panelGEMM(groupScores, ldc: groups, slotK, lda: unrotated, sharedPanels, m: slots, k: unrotated, Epilogue(alpha: scale))
        let slotScores = scratch.slotScores.reserve(slots * count)
        for slot in 0..<slots {
            let scores = slotScores + slot * count, byGroup = groupScores + slot * groups
            for i in 0..<count { scores[i] = byGroup[latentIndex[i]] }
        }
        let queryPanels = packTransposed(
            queries + column, ldm: inner, rows: count, depth: rotated,
            into: scratch.packedKeys.reserve(packedCount(rows: count, depth: rotated)))
        let blocks = SlotHeadKeys(
            rotary: rotary, cosines: tokenCos, sines: tokenSin, tokenSlot: tokenSlot, slotRows: slotRotated,
            keys: scratch.blockKeys.reserve(keyBlock * rotated), values: scratch.blockValues.reserve(keyBlock * rotated))
        let operands = SlotAttentionHead(
            queryPanels: queryPanels, blocks: blocks,
            tokenSlot: tokenSlot, slotScores: slotScores, slotValues: slotV, slots: slots, latents: count,
            rotated: rotated, unrotated: unrotated, scale: scale)
        let out = attended + column, headSums = sums + head * count, headMaxima = maxima + head * count
        let aggregated = scratch.sharedScores.reserve(slots * count)
        var resumeFrom = 0
        if prefix > 0 {
            if !cached {
                slotAttentionForward(
                    operands, keys: 0..<prefix, out: cacheOut + column, ldo: inner, sums: cacheSums + head * count,
                    maxima: cacheMaxima + head * count, aggregated: aggregated, carriedSlots: 0,
                    keyBlock: keyBlock, scratch: scratch, resume: false, closing: spikeSlots..<slots, normalize: false)
                resumeFrom = prefix
            }
            restore(out: out, sums: headSums, maxima: headMaxima, column: column, from: cacheOut, cacheSums + head * count, cacheMaxima + head * count)
        }
        var carriedSlots = 0
        if resumedSpikes > 0 {
            // The start/end tokens are cached here (`resumableSpikes`): the spikes begin at token 0.
            restore(out: out, sums: headSums, maxima: headMaxima, column: column, from: prepared.out, prepared.sums + head * count, prepared.maxima + head * count)
            carriedSlots = prepared.slots
            aggregated.update(from: prepared.aggregated + head * prepared.headStride, count: carriedSlots * count)
            resumeFrom = resumedSpikes
        }
        let preparing = preparingSpikes > 0
        slotAttentionForward(
            operands, keys: resumeFrom..<(preparing ? resumeFrom + preparingSpikes : tokens), out: out, ldo: inner, sums: headSums, maxima: headMaxima,
            aggregated: aggregated, carriedSlots: carriedSlots,
            keyBlock: keyBlock, scratch: scratch, resume: prefix > 0 || resumedSpikes > 0, closing: preparing ? nil : 0..<spikeSlots,
            normalize: true)
        if preparing {
            for i in 0..<count { (prepared.out + i * inner + column).update(from: out + i * inner, count: dimHead) }
            (prepared.sums + head * count).update(from: headSums, count: count)
            (prepared.maxima + head * count).update(from: headMaxima, count: count)
            (prepared.aggregated + head * prepared.headStride).update(from: aggregated, count: spikeSlots * count)
        }
    }

    /// Copies a saved state of this head (`out`'s columns of the head from rows of `inner`, its
    /// sums and maxima) into the working one.
    private func restore(
        out: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Float>, maxima: UnsafeMutablePointer<Float>, column: Int,
        from savedOut: UnsafeMutablePointer<Float>, _ savedSums: UnsafePointer<Float>, _ savedMaxima: UnsafePointer<Float>
    ) {
        for i in 0..<count { (out + i * inner).update(from: savedOut + i * inner + column, count: dimHead) }
        sums.update(from: savedSums, count: count)
        maxima.update(from: savedMaxima, count: count)
    }
}
