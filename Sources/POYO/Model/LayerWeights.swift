/// `nn.LayerNorm(dim)`: affine weight and bias, [dim] each.
struct LayerNormWeights {
    let weight: UnsafePointer<Float>
    let bias: UnsafePointer<Float>
}

/// `nn.Linear(inFeatures, outFeatures)`: weight [outFeatures, inFeatures] (torch layout), bias [outFeatures].
/// `packed` is the same weight transposed into zero-padded panels of 16 output features
/// (`packTransposed`), made once at load for `panelGEMM`.
struct LinearWeights {
    let weight: UnsafePointer<Float>
    let bias: UnsafePointer<Float>?
    let outFeatures: Int
    let inFeatures: Int
    let packed: Panels
}

/// `RotaryCrossAttention`: `norm`, `norm_context`, `to_q`, `to_kv`, `to_out`.
struct CrossAttentionWeights {
    let norm: LayerNormWeights
    let normContext: LayerNormWeights
    let toQ: LinearWeights
    let toKV: LinearWeights
    let toOut: LinearWeights
}

/// `RotarySelfAttention`: `norm`, `to_qkv`, `to_out`.
struct SelfAttentionWeights {
    let norm: LayerNormWeights
    let toQKV: LinearWeights
    let toOut: LinearWeights
}

/// `Sequential(LayerNorm, FeedForward)`: the GEGLU feed-forward with its pre-norm.
/// `up` is `net.0` [8 dim, dim] (first half value, second half gate), `down` is `net.3` [dim, 4 dim].
struct FeedForwardWeights {
    let norm: LayerNormWeights
    let up: LinearWeights
    let down: LinearWeights
}

/// One of `proc_layers`: self-attention then feed-forward.
struct ProcessingLayerWeights {
    let attention: SelfAttentionWeights
    let feedForward: FeedForwardWeights
}
