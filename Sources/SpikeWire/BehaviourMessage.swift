/// The 40-byte header frame of a behaviour message (rig or task software -> daemon): the true
/// behaviour of one readout, so that the daemon can score its decodes live and record it.
///
/// ```
/// offset size field
///      0    8 preamble: "PYRT", version 1, type 5, flags 0
///      8    4 source_id     u32  the rig source whose clock the times are on
///     12    4 sample_count  u32  Q, 0 to 65536
///     16    8 sequence      u64  per source, +1 per behaviour message (its own count, not the spikes')
///     24    8 tick_rate     u64  ticks per second of the source clock, > 0
///     32    4 dimension     u32  D, 0 to 1024
///     36    4 reserved      u32  0
/// ```
/// Frames: `[topic "behaviour/<readout>", header, timestamps Q x i64 (ticks, >= 0, non-decreasing),
/// values Q x D f32 (physical units, row-major)]`.
public struct BehaviourHeader: Equatable, Sendable {
    public static let size = 40

    public var sourceID: UInt32
    public var sampleCount: UInt32
    public var sequence: UInt64
    public var tickRate: UInt64
    public var dimension: UInt32

    public init(sourceID: UInt32, sampleCount: UInt32, sequence: UInt64, tickRate: UInt64, dimension: UInt32) {
        self.sourceID = sourceID
        self.sampleCount = sampleCount
        self.sequence = sequence
        self.tickRate = tickRate
        self.dimension = dimension
    }

    /// Writes the header into the first `BehaviourHeader.size` bytes of `buffer` (no allocation).
    public func encode(into buffer: UnsafeMutableRawBufferPointer) {
        writePreamble(.behaviour, flags: 0, into: buffer)
        buffer.storeLE(sourceID, at: 8)
        buffer.storeLE(sampleCount, at: 12)
        buffer.storeLE(sequence, at: 16)
        buffer.storeLE(tickRate, at: 24)
        buffer.storeLE(dimension, at: 32)
        buffer.storeLE(UInt32(0), at: 36)
    }

    /// Validates the frames of a behaviour message (allocating nothing) and returns its header and
    /// the byte range of the readout's name in the topic frame. The timestamps are frame 2 and the
    /// values frame 3, read in place by the caller. Values may be any float (NaN: a missing sample).
    public static func decode(frames: UnsafeBufferPointer<UnsafeRawBufferPointer>) throws(WireRejection) -> (
        BehaviourHeader, readout: Range<Int>
    ) {
        let (_, flags, readout) = try openMessage(frames) { $0 == .behaviour }
        guard !readout.isEmpty else { throw .badTopic }
        let bytes = frames[1]
        guard frames.count == 4 else { throw .frameCount }
        guard bytes.count == size else { throw .headerSize }
        guard flags == 0, bytes.loadLE(36, as: UInt32.self) == 0 else { throw .badFlags }
        let header = BehaviourHeader(
            sourceID: bytes.loadLE(8, as: UInt32.self), sampleCount: bytes.loadLE(12, as: UInt32.self),
            sequence: bytes.loadLE(16, as: UInt64.self), tickRate: bytes.loadLE(24, as: UInt64.self),
            dimension: bytes.loadLE(32, as: UInt32.self))
        guard header.sampleCount <= WireFormat.maxOutputCount, header.dimension <= WireFormat.maxOutputDimension else {
            throw .tooMany
        }
        let count = Int(header.sampleCount)
        guard frames[2].count == count * 8, frames[3].count == count * Int(header.dimension) * 4 else {
            throw .payloadSize
        }
        guard header.tickRate > 0 else { throw .badTickRate }
        var previous: Int64 = 0
        var sorted = true
        for index in 0..<count {
            let time = frames[2].loadLE(index &* 8, as: Int64.self)
            sorted = sorted && time >= previous
            previous = time
        }
        if !sorted {
            for index in 0..<count where frames[2].loadLE(index &* 8, as: Int64.self) < 0 { throw .negativeTime }
            throw .unsortedTimes
        }
        return (header, readout)
    }
}

/// A decoded behaviour message with its arrays: for tools, tests and the fuzzer. The daemon's
/// ingest reads the frames in place with `BehaviourHeader.decode`.
public struct BehaviourMessage: Equatable, Sendable {
    /// The readout the behaviour is the truth of (torch_brain's name, e.g. `cursor_velocity_2d`).
    public var readout: String
    public var header: BehaviourHeader
    /// Q sample times, ticks of the source clock, non-decreasing.
    public var timestamps: [Int64]
    /// Q x D values in physical units, row-major.
    public var values: [Float]

    public init(readout: String, sourceID: UInt32, sequence: UInt64, tickRate: UInt64, timestamps: [Int64], values: [Float], dimension: Int) {
        precondition(values.count == timestamps.count * dimension, "values must be Q x D")
        precondition(
            Self.topic(readout: readout).withUnsafeBytes { (try? Topic.validate($0, for: .behaviour))?.isEmpty == false },
            "a readout name is 1 to 245 bytes of printable ASCII without spaces")
        self.readout = readout
        header = BehaviourHeader(
            sourceID: sourceID, sampleCount: UInt32(timestamps.count), sequence: sequence, tickRate: tickRate,
            dimension: UInt32(dimension))
        self.timestamps = timestamps
        self.values = values
    }

    /// The topic frame of `readout`'s behaviour: `behaviour/<readout>`.
    public static func topic(readout: String) -> [UInt8] { Topic.bytes(for: .behaviour, suffix: readout) }

    /// The frames of this message.
    public var frames: [[UInt8]] {
        var bytes = [UInt8](repeating: 0, count: BehaviourHeader.size)
        bytes.withUnsafeMutableBytes { header.encode(into: $0) }
        return [Self.topic(readout: readout), bytes, timestamps.littleEndianBytes, values.littleEndianBytes]
    }

    /// Decodes and validates a behaviour message.
    public init(frames: UnsafeBufferPointer<UnsafeRawBufferPointer>) throws(WireRejection) {
        let (header, readout) = try BehaviourHeader.decode(frames: frames)
        self.header = header
        self.readout = String(decoding: frames[0][readout], as: UTF8.self)
        timestamps = frames[2].littleEndianArray(of: Int64.self)
        values = frames[3].littleEndianArray(of: Float.self)
    }
}
