extension POYOModel {
    /// `latents = latent_emb[latent_index]; latents += enc_atn(latents, inputs); latents += enc_ffn(latents)`.
    /// Returns the latent stream [L, dim] in scratch. Parallel regions: the tokens' K/V gather in
    /// blocks, the attention per head, the output projection and feed-forward in row blocks.
    func encode(_ w: ModelWindow) -> UnsafeMutablePointer<Float> {
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

        // Inputs: K/V rows per (unit, type) from the table, rotated by the token's time as they
        // are gathered; masked tokens are left out.
        s.tokenTimes.removeAll(keepingCapacity: true)
        s.tokenSource.removeAll(keepingCapacity: true)
        for i in first..<w.inputUnitIndex.count where w.inputMask?[i] ?? true {
            s.tokenTimes.append(w.inputTimestamps[i])
            s.tokenSource.append(i)
            // Units first seen here get their table rows now, outside the parallel region.
            _ = unitKeyValues.rows(of: w.inputUnitIndex[i], weights: weights, dim: dim)
        }
        let tokens = s.tokenTimes.count
        let tokenCos = s.tokenCos.reserve(tokens * width), tokenSin = s.tokenSin.reserve(tokens * width)
        let keys = s.keys.reserve(tokens * inner)
        let values = s.values.reserve(tokens * inner)
        let table = unitKeyValues
        s.tokenTimes.withUnsafeBufferPointer { times in
            s.tokenSource.withUnsafeBufferPointer { source in
                w.inputUnitIndex.withUnsafeBufferPointer { units in
                    w.inputTokenType.withUnsafeBufferPointer { types in
                        pool.forEachBlock(of: tokens, granule: 64) { block, _ in
                            let start = block.lowerBound
                            rotary.angles(of: times.baseAddress! + start, count: block.count, cos: tokenCos + start * width, sin: tokenSin + start * width)
                            for j in block {
                                let i = source[j]
                                let kv = table.prepared(units[i]) + types[i] * 2 * inner
                                let c = tokenCos + j * width, sn = tokenSin + j * width
                                rotary.rotate(keys + j * inner, ldx: inner, rows: 1, heads: h.crossHeads, dimHead: h.dimHead, cos: c, sin: sn, from: kv)
                                rotary.rotate(values + j * inner, ldx: inner, rows: 1, heads: h.crossHeads, dimHead: h.dimHead, cos: c, sin: sn, from: kv + inner)
                            }
                        }
                    }
                }
            }
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
        if split {
            attendSplit(w, queries: queries, keys: keys, values: values, tokens: tokens, count: count, prefix: prefix, cached: cached, into: attended)
        } else {
            pool.run(tasks: h.crossHeads) { head, worker in
                attentionForward(
                    attended, ldo: inner, q: queries, ldq: inner, k: keys, ldk: inner, v: values, ldv: inner,
                    queries: count, keys: tokens, heads: head..<(head + 1), dimHead: h.dimHead, scratch: s.workers[worker])
            }
        }
        attentionOutputAndFeedForward(
            latents, count: count, attended: attended, heads: h.crossHeads, toOut: weights.encoderAttention.toOut,
            feedForward: weights.encoderFeedForward)
        return latents
    }

    /// The encoder attention with the unrotated score half per latent index (`splitAttentionForward`),
    /// resuming the start/end tokens' cached state; one task per head.
    private func attendSplit(
        _ w: ModelWindow, queries: UnsafeMutablePointer<Float>, keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>,
        tokens: Int, count: Int, prefix: Int, cached: Bool, into attended: UnsafeMutablePointer<Float>
    ) {
        let h = hyperparameters
        let inner = h.crossHeads * h.dimHead
        let s = scratch
        // A block of scores of ~256 KiB stays in L2 through softmax and the value product.
        let keyBlock = max(64, min(max(tokens, 1), (Self.scoreBlockBytes / 4 / max(count, 1)) & ~15))
        let sums = s.sums.reserve(h.crossHeads * count), maxima = s.maxima.reserve(h.crossHeads * count)
        latentQueries.withUnsafeBufferPointer { table in
            w.latentIndex.withUnsafeBufferPointer { groups in
                func attend(
                    _ out: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Float>, maxima: UnsafeMutablePointer<Float>,
                    from key: Int, count keyCount: Int, resume: Bool, normalize: Bool
                ) {
                    pool.run(tasks: h.crossHeads) { head, worker in
                        splitAttentionForward(
                            out, ldo: inner, q: queries, ldq: inner,
                            sharedQueries: table.baseAddress!, ldShared: inner, groups: h.numLatentsPerStep, rowGroup: groups.baseAddress!,
                            k: keys + key * inner, ldk: inner, v: values + key * inner, ldv: inner,
                            queries: count, keys: keyCount, heads: head..<(head + 1), dimHead: h.dimHead, rotatedColumns: rotary.tableWidth,
                            keyBlock: keyBlock, scratch: s.workers[worker], sums: sums, maxima: maxima,
                            resume: resume, normalize: normalize)
                    }
                }
                var resumeFrom = 0
                if prefix > 0 {
                    let cache = startEndCache
                    if !cached {
                        attend(
                            cache.out.reserve(count * inner), sums: cache.sums.reserve(h.crossHeads * count),
                            maxima: cache.maxima.reserve(h.crossHeads * count), from: 0, count: prefix, resume: false, normalize: false)
                        cache.record(w, prefix: prefix)
                        resumeFrom = prefix
                    }
                    attended.update(from: cache.out.pointer, count: count * inner)
                    sums.update(from: cache.sums.pointer, count: h.crossHeads * count)
                    maxima.update(from: cache.maxima.pointer, count: h.crossHeads * count)
                }
                attend(attended, sums: sums, maxima: maxima, from: resumeFrom, count: tokens - resumeFrom, resume: prefix > 0, normalize: true)
            }
        }
    }
}
