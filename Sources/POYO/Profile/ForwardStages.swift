#if canImport(Glibc)
import Glibc
#endif

/// The stages of one forward pass, in order, as `poyo bench --stages` reports them.
public enum ForwardStage: Int, CaseIterable, Sendable {
    /// The tokens' rotated keys and values gathered from the per-unit table.
    case encoderInputs
    /// The encoder's cross-attention (scores, softmax, value product).
    case encoderAttention
    /// Row blocks: each attention block's output projection and feed-forward (the encoder's and
    /// every self-attention layer's), fused with the next layer's layer norm, q/k/v and rotation.
    case rowBlocks
    /// Self-attention layers: the attention heads.
    case processAttention
    /// The decoder's cross-attention, feed-forward and readout.
    case decoder

    /// The stage's key in `poyo bench --json` (`stage_mean_ms`).
    public var key: String {
        switch self {
        case .encoderInputs: "encoder_inputs"
        case .encoderAttention: "encoder_attention"
        case .rowBlocks: "row_blocks"
        case .processAttention: "self_attention_heads"
        case .decoder: "decoder"
        }
    }

    public var name: String {
        switch self {
        case .encoderInputs: "encoder inputs (slots, angles)"
        case .encoderAttention: "encoder attention"
        case .rowBlocks: "row blocks (out, FFN, q/k/v)"
        case .processAttention: "self-attention heads"
        case .decoder: "decoder + readout"
        }
    }
}

/// Wall time per `ForwardStage`, summed over the forward passes run while `enabled`
/// (off by default: then `mark` costs one branch). Nanoseconds of CLOCK_MONOTONIC.
public final class ForwardStageClock {
    public var enabled = false
    public private(set) var nanoseconds = [UInt64](repeating: 0, count: ForwardStage.allCases.count)
    public private(set) var passes = 0
    private var last: UInt64 = 0

    func start() {
        guard enabled else { return }
        passes += 1
        last = Self.now()
    }

    /// Charges the time since the previous mark (or `start`) to `stage`.
    func mark(_ stage: ForwardStage) {
        guard enabled else { return }
        let now = Self.now()
        nanoseconds[stage.rawValue] &+= now &- last
        last = now
    }

    public func reset() {
        nanoseconds = [UInt64](repeating: 0, count: ForwardStage.allCases.count)
        passes = 0
    }

    private static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }
}
