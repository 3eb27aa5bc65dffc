/// The 88-byte header frame of a decoded output (daemon -> subscribers); 80 bytes from daemons
/// older than `dequeued_ns`, accepted with `stages.dequeued` 0.
///
/// ```
/// offset size field
///      0    8 preamble: "PYRT", version 1, type 3, flags u16 (bit 0: raw values frame follows)
///      8    4 output_count  u32  Q, output timestamps
///     12    4 dimension     u32  D, values per timestamp
///     16    8 tick_sequence u64  the daemon's tick counter, +1 per tick run or skipped
///     24    8 tick_rate     u64  ticks per second of the source clock the times below are on
///     32    8 window_start  i64  ticks, the window's first instant
///     40    8 window_end    i64  ticks, the window's last instant (the watermark that completed it)
///     48   32 stages        4 x u64 CLOCK_MONOTONIC ns: received, window built, forward done, published
///     80    8 dequeued_ns   u64  CLOCK_MONOTONIC ns: the scheduler took the tick (appended in v1)
/// ```
/// Frames: `[topic "output/<readout>", header, timestamps Q x i64, values Q x D f32, (raw Q x D f32)]`.
public struct OutputHeader: Equatable, Sendable {
    public static let size = 88
    /// The header's size before `dequeued_ns` was appended; still accepted.
    public static let sizeWithoutDequeued = 80
    /// Flag bit 0: a fifth frame holds the raw (normalized, as the model produced them) values.
    public static let hasRawValuesFlag: UInt16 = 1

    public var outputCount: UInt32
    public var dimension: UInt32
    public var tickSequence: UInt64
    public var tickRate: UInt64
    public var windowStart: Int64
    public var windowEnd: Int64
    public var stages: StageTimestamps
    public var hasRawValues: Bool

    public init(
        outputCount: UInt32, dimension: UInt32, tickSequence: UInt64, tickRate: UInt64,
        windowStart: Int64, windowEnd: Int64, stages: StageTimestamps, hasRawValues: Bool
    ) {
        self.outputCount = outputCount
        self.dimension = dimension
        self.tickSequence = tickSequence
        self.tickRate = tickRate
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.stages = stages
        self.hasRawValues = hasRawValues
    }

    /// Bytes of one values frame (physical or raw): Q x D float32.
    public var valuesFrameSize: Int { Int(outputCount) * Int(dimension) * 4 }

    /// Writes the header into the first `OutputHeader.size` bytes of `buffer` (no allocation).
    public func encode(into buffer: UnsafeMutableRawBufferPointer) {
        writePreamble(.output, flags: hasRawValues ? Self.hasRawValuesFlag : 0, into: buffer)
        buffer.storeLE(outputCount, at: 8)
        buffer.storeLE(dimension, at: 12)
        buffer.storeLE(tickSequence, at: 16)
        buffer.storeLE(tickRate, at: 24)
        buffer.storeLE(windowStart, at: 32)
        buffer.storeLE(windowEnd, at: 40)
        buffer.storeLE(stages.received, at: 48)
        buffer.storeLE(stages.windowBuilt, at: 56)
        buffer.storeLE(stages.forwardDone, at: 64)
        buffer.storeLE(stages.published, at: 72)
        buffer.storeLE(stages.dequeued, at: 80)
    }

    /// Validates the frames of an output message and returns its header and readout name range
    /// in the topic frame. Times must be >= 0 and `windowStart <= windowEnd`; values may be any
    /// float (a NaN from the model is the subscriber's to see, not the transport's to hide).
    public static func decode(frames: UnsafeBufferPointer<UnsafeRawBufferPointer>) throws(WireRejection) -> (
        OutputHeader, readout: Range<Int>
    ) {
        let (_, flags, readout) = try openMessage(frames) { $0 == .output }
        let header = frames[1]
        guard !readout.isEmpty else { throw .badTopic }
        guard flags & ~hasRawValuesFlag == 0 else { throw .badFlags }
        let hasRaw = flags & hasRawValuesFlag != 0
        guard frames.count == (hasRaw ? 5 : 4) else { throw .frameCount }
        guard header.count == size || header.count == sizeWithoutDequeued else { throw .headerSize }
        let decoded = OutputHeader(
            outputCount: header.loadLE(8, as: UInt32.self),
            dimension: header.loadLE(12, as: UInt32.self),
            tickSequence: header.loadLE(16, as: UInt64.self),
            tickRate: header.loadLE(24, as: UInt64.self),
            windowStart: header.loadLE(32, as: Int64.self),
            windowEnd: header.loadLE(40, as: Int64.self),
            stages: StageTimestamps(
                received: header.loadLE(48, as: UInt64.self),
                windowBuilt: header.loadLE(56, as: UInt64.self),
                forwardDone: header.loadLE(64, as: UInt64.self),
                published: header.loadLE(72, as: UInt64.self),
                dequeued: header.count == size ? header.loadLE(80, as: UInt64.self) : 0),
            hasRawValues: hasRaw)
        guard decoded.outputCount <= WireFormat.maxOutputCount, decoded.dimension <= WireFormat.maxOutputDimension
        else {
            throw .tooMany
        }
        guard frames[2].count == Int(decoded.outputCount) * 8, frames[3].count == decoded.valuesFrameSize,
            !hasRaw || frames[4].count == decoded.valuesFrameSize
        else { throw .payloadSize }
        guard decoded.tickRate > 0 else { throw .badTickRate }
        guard decoded.windowStart >= 0, decoded.windowEnd >= 0 else { throw .negativeTime }
        for index in 0..<Int(decoded.outputCount) where frames[2].loadLE(index * 8, as: Int64.self) < 0 {
            throw .negativeTime
        }
        guard decoded.windowStart <= decoded.windowEnd else { throw .unsortedTimes }
        return (decoded, readout)
    }
}
