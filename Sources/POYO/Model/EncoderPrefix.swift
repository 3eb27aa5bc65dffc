/// The encoder attention's state over the first spikes of a window that is not complete yet.
///
/// A closed loop knows the next window before its last spikes arrive: at tick T (hop h, window
/// length S) every spike of the window [T + h - S, T + h) up to T is already in, ~98 % of its
/// tokens at h = 20 ms and S = 1 s. `POYOModel.prepareEncoder` attends the latents to the
/// complete key blocks of those spikes between ticks and keeps the running softmax state here
/// (weighted values, sums, maxima, and the weights summed per slot); `forward` of the completed
/// window resumes it when its tokens begin with exactly the prepared ones (compared exactly) and
/// attends only the rest. The key blocks are the same either way, so the output has the same bits
/// as a forward pass without preparation.
final class EncoderPrefix {
    /// The tokens covered (the start/end tokens and the prepared spikes) and the latents.
    private var recorded = WindowPrefix()
    /// Spikes (the tokens after the start/end tokens) attended.
    private(set) var spikes = 0
    /// Slots (numbered per window, spikes first: the prepared window's spike slots) whose summed
    /// weights `aggregated` holds.
    private(set) var slots = 0
    /// Floats per head in `aggregated` (a head's rows are `[slots, latents]` from its offset).
    private(set) var headStride = 0
    /// [latents, cross inner], unnormalized weighted values (unrotated value columns not yet added).
    let out = FloatBuffer()
    /// [cross heads, latents] each.
    let sums = FloatBuffer(), maxima = FloatBuffer()
    /// [cross heads, headStride]: per head, the softmax weights summed per slot, [slots, latents].
    let aggregated = FloatBuffer()

    /// Makes room for the state of `heads` heads over `slots` slots and `latents` latents, and
    /// forgets the one held (it is being overwritten).
    func reserve(latents: Int, inner: Int, heads: Int, slots: Int) {
        spikes = 0
        headStride = slots * latents
        out.reserve(latents * inner)
        sums.reserve(heads * latents)
        maxima.reserve(heads * latents)
        aggregated.reserve(heads * headStride)
    }

    /// Where the state lies, for the heads' parallel region (valid until the next `reserve`).
    var state: PreparedState {
        PreparedState(out: out.pointer, sums: sums.pointer, maxima: maxima.pointer, aggregated: aggregated.pointer, headStride: headStride, slots: slots)
    }

    /// The number of spikes of `w` whose attention can be resumed from this state: `spikes` when
    /// `w` begins with the prepared tokens and has the same latents, else 0. `w` has `prefix`
    /// start/end tokens.
    func resumableSpikes(of w: ModelWindow, prefix: Int) -> Int {
        guard spikes > 0, w.inputMask == nil, prefix == recorded.tokens - spikes, recorded.begins(w) else { return 0 }
        return spikes
    }

    /// Remembers that the state now held covers the first `prefix + spikes` tokens of `w`, and
    /// holds the summed weights of slots `0..<slots`.
    func record(_ w: ModelWindow, prefix: Int, spikes: Int, slots: Int) {
        recorded.record(w, tokens: prefix + spikes)
        self.spikes = spikes
        self.slots = slots
    }
}

/// `EncoderPrefix`'s buffers and sizes, by address.
struct PreparedState {
    let out: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Float>, maxima: UnsafeMutablePointer<Float>
    let aggregated: UnsafeMutablePointer<Float>
    let headStride: Int, slots: Int
}

extension POYOModel {
    /// Attends the encoder to the spikes of `window` ahead of its completion, in whole key blocks
    /// (`EncoderPrefix`), so that `forward` of the completed window — the same start/end tokens,
    /// latents and times, these spikes first, more after them — only attends the rest. The outputs
    /// are the same bits as without it; a window that does not begin with the prepared tokens is
    /// computed whole. `window` is the completed window's tokens so far (its start/end tokens, the
    /// spikes received, its latents); its output queries are not used.
    ///
    /// Returns the number of spikes now prepared (0 when the window has fewer spikes than one key
    /// block, a mask, or a model whose heads are rotated whole). Throws what `forward` throws for
    /// the same window.
    @discardableResult
    public func prepareEncoder(_ window: ModelWindow) throws(ForwardError) -> Int {
        try validate(window)
        let rotated = rotary.tableWidth
        let prefix = StartEndCache.prefixLength(of: window)
        guard window.inputMask == nil, rotated > 0, rotated < hyperparameters.dimHead, prefix > 0 else { return 0 }
        let block = encoderKeyBlock(latents: window.latentIndex.count)
        let spikes = (window.inputUnitIndex.count - prefix) / block * block
        let already = encoderPrefix.resumableSpikes(of: window, prefix: prefix)
        guard spikes > 0, spikes != already else { return already }
        pool.wake()
        _ = encode(window, preparingSpikes: spikes)
        return spikes
    }

    /// Keys attended at a time in the encoder (`slotAttentionForward`): a block of scores of
    /// ~256 KiB stays in L2 through softmax and the value product. Not cut to the token count:
    /// blocks must start at the same tokens whatever was cached or prepared.
    func encoderKeyBlock(latents: Int) -> Int {
        max(64, (Self.scoreBlockBytes / 4 / max(latents, 1)) & ~15)
    }
}
