/// The activations of one forward pass, kept between windows.
final class ForwardScratch {
    var tokenTimes: [Double] = []        // [N'] unmasked input times, seconds
    var tokenSource: [Int] = []          // [N'] the input position of each unmasked token
    let tokenCos = FloatBuffer(), tokenSin = FloatBuffer()     // [N', 2 rotated pairs]
    let keys = FloatBuffer(), values = FloatBuffer()           // [N', cross inner], rotated (the general path, `gatherTokens`)
    var tokenSlot: [Int32] = []          // [N'] the slot (unit, token type) of each token, numbered per window
    var slotKeys: [Int] = []             // [slots] unit * token types + type of each slot
    var spikeSlots = 0                   // slots 0..<spikeSlots are spikes' (numbered first), the rest start/end tokens'
    /// Per (unit, token type) key: its slot in this window when `slotStamp` equals `stamp`.
    var slotOfKey: [Int32] = [], slotStamp: [UInt32] = []
    var stamp: UInt32 = 0
    let latentCos = FloatBuffer(), latentSin = FloatBuffer()   // [L, 2 rotated pairs]
    let queryCos = FloatBuffer(), querySin = FloatBuffer()     // [Q, 2 rotated pairs]
    let latents = FloatBuffer()          // [L, dim], the latent stream
    let outputQueries = FloatBuffer()    // [Q, dim], the decoder stream
    let normed = FloatBuffer()           // [rows, dim]
    let projected = FloatBuffer()        // [rows, 3 * self inner] q / qkv / decoder kv
    let attended = FloatBuffer()         // [rows, inner]
    let hidden = FloatBuffer()           // [rows, 8 dim]
    let gated = FloatBuffer()            // [rows, 4 dim]
    let decoderQueries = FloatBuffer()   // [Q, cross inner]
    let sums = FloatBuffer()             // [heads, rows] running softmax sums
    let maxima = FloatBuffer()           // [heads, rows] running softmax maxima
    /// One per thread of the model's pool: attention scores and packed keys.
    let workers: [AttentionScratch]

    init(threads: Int) {
        workers = (0..<max(1, threads)).map { _ in AttentionScratch() }
    }
}
