/// The 128-byte header frame of a status message (daemon -> subscribers, periodic).
///
/// ```
/// offset size field (all u64 unless said)
///      0    8 preamble: "PYRT", version 1, type 4, flags 0
///      8      status_sequence      +1 per status message
///     16      monotonic_ns         CLOCK_MONOTONIC of the daemon when the status was made
///     24      received             rig messages received (accepted + rejected)
///     32      accepted             rig messages accepted
///     40      late                 spike events at or before their source's previous watermark
///     48      dropped              ring entries overwritten, spikes the window history had no room for
///     56      ticks_run
///     64      ticks_skipped        ticks that could not meet their deadline
///     72      missed_messages      rig messages missing according to sequence numbers
///     80      latency_samples      outputs the percentiles below are over
///     88      latency_p50_ns       published - received, over the last status period
///     96      latency_p90_ns
///    104      latency_p99_ns
///    112      latency_max_ns
///    120    4 rejection_count u32  R, entries of the rejection frame
///    124    4 state u32            bit 0 source_stalled, bit 1 no_source, other bits 0
/// ```
/// Frames: `[topic "status", header, model (UTF-8, may be empty), rejections R x u64,
/// daemon counters D x u64, (quality entries, `ReadoutQuality`)]`; entry `i` of the rejections counts `WireRejection(rawValue: i)`,
/// entry `i` of the daemon counters `DaemonCounter(rawValue: i)` (D = frame size / 8).
public struct StatusHeader: Equatable, Sendable {
    public static let size = 128

    /// `state` bit 0: the decoded source sent no watermark for the configured stall timeout
    /// (the daemon publishes nothing stale meanwhile).
    public static let sourceStalledFlag: UInt32 = 1
    /// `state` bit 1: nothing has been received from the decoded source yet.
    public static let noSourceFlag: UInt32 = 2
    /// The `state` bits this version defines; a status with any other bit set is `badFlags`.
    public static let knownStateFlags: UInt32 = sourceStalledFlag | noSourceFlag

    public var statusSequence: UInt64 = 0
    public var monotonicNanoseconds: UInt64 = 0
    public var received: UInt64 = 0
    public var accepted: UInt64 = 0
    public var late: UInt64 = 0
    public var dropped: UInt64 = 0
    public var ticksRun: UInt64 = 0
    public var ticksSkipped: UInt64 = 0
    public var missedMessages: UInt64 = 0
    public var latencySamples: UInt64 = 0
    public var latencyP50: UInt64 = 0
    public var latencyP90: UInt64 = 0
    public var latencyP99: UInt64 = 0
    public var latencyMax: UInt64 = 0
    public var rejectionCount: UInt32 = 0
    /// The daemon's state: `sourceStalledFlag`, `noSourceFlag` or both, or 0.
    public var state: UInt32 = 0

    public init() {}

    /// Whether `state` says the decoded source stalled (no watermark for the stall timeout).
    public var isSourceStalled: Bool { state & Self.sourceStalledFlag != 0 }
    /// Whether `state` says nothing has been received from the decoded source yet.
    public var hasNoSource: Bool { state & Self.noSourceFlag != 0 }

    /// Writes the header into the first `StatusHeader.size` bytes of `buffer` (no allocation).
    public func encode(into buffer: UnsafeMutableRawBufferPointer) {
        writePreamble(.status, flags: 0, into: buffer)
        buffer.storeLE(statusSequence, at: 8)
        buffer.storeLE(monotonicNanoseconds, at: 16)
        buffer.storeLE(received, at: 24)
        buffer.storeLE(accepted, at: 32)
        buffer.storeLE(late, at: 40)
        buffer.storeLE(dropped, at: 48)
        buffer.storeLE(ticksRun, at: 56)
        buffer.storeLE(ticksSkipped, at: 64)
        buffer.storeLE(missedMessages, at: 72)
        buffer.storeLE(latencySamples, at: 80)
        buffer.storeLE(latencyP50, at: 88)
        buffer.storeLE(latencyP90, at: 96)
        buffer.storeLE(latencyP99, at: 104)
        buffer.storeLE(latencyMax, at: 112)
        buffer.storeLE(rejectionCount, at: 120)
        buffer.storeLE(state, at: 124)
    }

    /// Validates the frames of a status message and returns its header.
    public static func decode(frames: UnsafeBufferPointer<UnsafeRawBufferPointer>) throws(WireRejection) -> StatusHeader
    {
        let (_, flags, _) = try openMessage(frames) { $0 == .status }
        let bytes = frames[1]
        guard frames.count == 5 || frames.count == 6 else { throw .frameCount }
        guard bytes.count == size else { throw .headerSize }
        let state = bytes.loadLE(124, as: UInt32.self)
        guard flags == 0, state & ~knownStateFlags == 0 else { throw .badFlags }
        var header = StatusHeader()
        header.statusSequence = bytes.loadLE(8, as: UInt64.self)
        header.monotonicNanoseconds = bytes.loadLE(16, as: UInt64.self)
        header.received = bytes.loadLE(24, as: UInt64.self)
        header.accepted = bytes.loadLE(32, as: UInt64.self)
        header.late = bytes.loadLE(40, as: UInt64.self)
        header.dropped = bytes.loadLE(48, as: UInt64.self)
        header.ticksRun = bytes.loadLE(56, as: UInt64.self)
        header.ticksSkipped = bytes.loadLE(64, as: UInt64.self)
        header.missedMessages = bytes.loadLE(72, as: UInt64.self)
        header.latencySamples = bytes.loadLE(80, as: UInt64.self)
        header.latencyP50 = bytes.loadLE(88, as: UInt64.self)
        header.latencyP90 = bytes.loadLE(96, as: UInt64.self)
        header.latencyP99 = bytes.loadLE(104, as: UInt64.self)
        header.latencyMax = bytes.loadLE(112, as: UInt64.self)
        header.rejectionCount = bytes.loadLE(120, as: UInt32.self)
        header.state = state
        guard header.rejectionCount <= WireFormat.maxRejectionCounters,
            frames[4].count <= WireFormat.maxDaemonCounters * 8
        else { throw .tooMany }
        guard frames[3].count == Int(header.rejectionCount) * 8, frames[4].count % 8 == 0 else { throw .payloadSize }
        guard frames[2].count <= WireFormat.maxModelNameSize, validUTF8(frames[2]) else { throw .badString }
        if frames.count > 5 { _ = try ReadoutQuality.entries(of: frames[5], decode: false) }
        return header
    }
}

/// Whether `bytes` is well-formed UTF-8.
func validUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
    var iterator = bytes.makeIterator()
    var decoder = UTF8()
    while true {
        switch decoder.decode(&iterator) {
        case .scalarValue: continue
        case .emptyInput: return true
        case .error: return false
        }
    }
}
