/// The activations of one forward pass, kept between windows.
final class ForwardScratch {
    var tokenTimes: [Double] = []        // [N'] unmasked input times, seconds
    let tokenCos = FloatBuffer(), tokenSin = FloatBuffer()     // [N', 2 rotated pairs]
    let keys = FloatBuffer(), values = FloatBuffer()           // [N', cross inner], rotated
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
    let scores = FloatBuffer()           // [rows, keys] one head
    let sharedScores = FloatBuffer()     // [latent indices, keys], encoder unrotated score part
    let sums = FloatBuffer()
    let maxima = FloatBuffer()           // [rows] running softmax maxima             // [rows]
}
