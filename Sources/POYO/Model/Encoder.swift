extension POYOModel {
    /// `latents = latent_emb[latent_index]; attended = enc_atn(latents, inputs)`: the encoder up to its
    /// attention output, [L, cross inner] (rotated by the latent times). `process` adds its output
    /// projection and feed-forward (`latents += to_out(attended); latents += enc_ffn(latents)`) in
    /// its first row blocks. Returns the latent stream [L, dim] and `attended`, in scratch.
    /// Parallel regions: the tokens' angles (or, on the general path, their K/V) in blocks, the attention per head.
    /// With `preparingSpikes` (`prepareEncoder`), it attends the start/end tokens and that many spikes
    /// only, keeps the state in `encoderPrefix` and leaves `attended` unfinished.
    func encode(_ w: ModelWindow, preparingSpikes: Int = 0) -> (latents: UnsafeMutablePointer<Float>, attended: UnsafeMutablePointer<Float>) {
        let h = hyperparameters
        let dim = h.dim
        let inner = h.crossHeads * h.dimHead
        let width = rotary.tableWidth
        let s = scratch
        let rotary = rotary

        // The split attention resumes the cached start/end-token state; tokens it covers are skipped.
        let rotatedColumns = width
        let split = rotatedColumns > 0 && rotatedColumns < h.dimHead
        let prefix = split ? StartEndCache.prefixLength(of: w) : 0
        let cached = prefix > 0 && startEndCache.matches(w, prefix: prefix)
        let first = cached ? prefix : 0
        // Spikes already attended by `prepareEncoder` (resumed with the cached start/end state).
        let preparing = preparingSpikes > 0
        let resumed = split && cached && !preparing ? encoderPrefix.resumableSpikes(of: w, prefix: prefix) : 0
        if !preparing { lastPreparedSpikes = resumed }
        // The collected tokens whose angles are needed, those attended here: from the first not
        // resumed (a resumed window has its start/end tokens cached: its spikes are collected from 0).
        let angled = resumed..<(preparing ? prefix - first + preparingSpikes : Int.max)

        let tokens = split
            ? gatherSlotTokens(w, first: first, prefixTokens: first == 0 ? prefix : 0, angles: angled)
            : gatherTokens(w, first: first)
        if !preparing { stageClock.mark(.encoderInputs) }
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

        // Sized for the self-attention too: `process` reads this output while it writes its own heads'.
        let attended = s.attended.reserve(count * max(inner, h.selfHeads * h.dimHead))
        if split {
            attendSlots(
                w, queries: queries, tokens: tokens, count: count, prefix: prefix, cached: cached,
                resumedSpikes: resumed, preparingSpikes: preparingSpikes, into: attended)
        } else {
            pool.run(tasks: h.crossHeads, CrossAttentionHeads(
                attended: attended, queries: queries, keys: s.keys.pointer, values: s.values.pointer, inner: inner,
                count: count, tokens: tokens, dimHead: h.dimHead, scratch: s.workers))
        }
        if !preparing { stageClock.mark(.encoderAttention) }
        return (latents, attended)
    }

    /// The tokens `first...` of `w` that are not masked, with their keys and values [N', cross inner]
    /// rotated by their times (`scratch.keys`, `scratch.values`): the general path, for models
    /// whose heads are rotated whole. Returns N'.
    private func gatherTokens(_ w: ModelWindow, first: Int) -> Int {
        let h = hyperparameters
        let inner = h.crossHeads * h.dimHead
        let s = scratch
        let tokens = collectTokens(w, first: first)
        for j in 0..<tokens {
            // Units first seen here get their table rows now, outside the parallel region.
            _ = unitKeyValues.rows(of: w.inputUnitIndex[s.tokenSource[j]], weights: weights, dim: h.dim)
        }
        let keys = s.keys.reserve(tokens * inner), values = s.values.reserve(tokens * inner)
        withTokenKeyValues(w) { pool.forEachBlock(of: tokens, granule: 64, WholeHeadRotation(tokens: $0, keys: keys, values: values)) }
        return tokens
    }

    /// Lists the tokens `first...` of `w` that are not masked (`scratch.tokenTimes`, their positions
    /// in `scratch.tokenSource`); returns their count N'. Masked tokens are left out of the attention.
    func collectTokens(_ w: ModelWindow, first: Int) -> Int {
        let s = scratch
        s.tokenTimes.removeAll(keepingCapacity: true)
        s.tokenSource.removeAll(keepingCapacity: true)
        let count = w.inputUnitIndex.count
        if let mask = w.inputMask {
            for i in first..<count where mask[i] {
                s.tokenTimes.append(w.inputTimestamps[i])
                s.tokenSource.append(i)
            }
        } else {
            s.tokenTimes.append(contentsOf: w.inputTimestamps[first..<count])
            s.tokenSource.append(contentsOf: first..<count)
        }
        return s.tokenTimes.count
    }

    /// Calls `body` with the collected tokens (`collectTokens`) and where their keys and values come
    /// from, their angle tables reserved in scratch (valid for the call).
    func withTokenKeyValues(_ w: ModelWindow, _ body: (TokenKeyValues) -> Void) {
        let h = hyperparameters
        let s = scratch
        let width = rotary.tableWidth, tokens = s.tokenTimes.count
        let cosines = s.tokenCos.reserve(tokens * width), sines = s.tokenSin.reserve(tokens * width)
        s.tokenTimes.withUnsafeBufferPointer { times in
            s.tokenSource.withUnsafeBufferPointer { source in
                w.inputUnitIndex.withUnsafeBufferPointer { units in
                    w.inputTokenType.withUnsafeBufferPointer { types in
                        body(TokenKeyValues(
                            rotary: rotary, table: unitKeyValues, times: times.baseAddress!, source: source.baseAddress!,
                            units: units.baseAddress!, types: types.baseAddress!, cosines: cosines, sines: sines,
                            inner: h.crossHeads * h.dimHead, heads: h.crossHeads, dimHead: h.dimHead))
                    }
                }
            }
        }
    }
}

/// The tokens of a window and where their keys and values come from: each token's (unit, type)
/// rows of the K/V table, rotated by its time (angles computed per block of tokens).
struct TokenKeyValues {
    let rotary: RotaryFrequencies
    let table: UnitKeyValueTable
    let times: UnsafePointer<Double>, source: UnsafePointer<Int>, units: UnsafePointer<Int>, types: UnsafePointer<Int>
    let cosines: UnsafeMutablePointer<Float>, sines: UnsafeMutablePointer<Float>
    let inner: Int, heads: Int, dimHead: Int

    /// Fills the rotation tables of the tokens `block`.
    func angles(_ block: Range<Int>) {
        let width = rotary.tableWidth
        rotary.angles(of: times + block.lowerBound, count: block.count, cos: cosines + block.lowerBound * width, sin: sines + block.lowerBound * width)
    }

    /// Token j's K/V row of the table: [2 * inner], K then V, unrotated.
    func row(of j: Int) -> UnsafePointer<Float> {
        let i = source[j]
        return table.prepared(units[i]) + types[i] * 2 * inner
    }
}

/// The general gather: each token's whole key and value rows [cross inner], rotated.
private struct WholeHeadRotation: ParallelRows {
    let tokens: TokenKeyValues
    let keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>

    func run(rows block: Range<Int>, worker: Int) {
        tokens.angles(block)
        let width = tokens.rotary.tableWidth, inner = tokens.inner
        for j in block {
            let kv = tokens.row(of: j)
            let c = tokens.cosines + j * width, sn = tokens.sines + j * width
            tokens.rotary.rotate(keys + j * inner, ldx: inner, rows: 1, heads: tokens.heads, dimHead: tokens.dimHead, cos: c, sin: sn, from: kv)
            tokens.rotary.rotate(values + j * inner, ldx: inner, rows: 1, heads: tokens.heads, dimHead: tokens.dimHead, cos: c, sin: sn, from: kv + inner)
        }
    }
}

/// The general encoder attention, one task per head.
private struct CrossAttentionHeads: ParallelTasks {
    let attended: UnsafeMutablePointer<Float>, queries: UnsafeMutablePointer<Float>
    let keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>
    let inner: Int, count: Int, tokens: Int, dimHead: Int
    let scratch: [AttentionScratch]

    func run(task head: Int, worker: Int) {
        attentionForward(
            attended, ldo: inner, q: queries, ldq: inner, k: keys, ldk: inner, v: values, ldv: inner,
            queries: count, keys: tokens, heads: head..<(head + 1), dimHead: dimHead, scratch: scratch[worker])
    }
}
