/// The 40-byte header frame of the rig's messages (spike batch and watermark).
///
/// ```
/// offset size field
///      0    8 preamble: "PYRT", version 1, type (1 spike batch, 2 watermark), flags u16
///      8    4 source_id   u32
///     12    4 event_count u32   (0 for a watermark)
///     16    8 sequence    u64   one counter per source over both types, for gap detection
///     24    8 tick_rate   u64   ticks per second of the source's clock, > 0
///     32    8 watermark   i64   ticks; meaningful for type 2, or type 1 with flag bit 0; else 0
/// ```
public struct RigHeader: Equatable, Sendable {
    public static let size = 40
    /// Flag bit 0 of a spike batch: the `watermark` field is meaningful.
    public static let hasWatermarkFlag: UInt16 = 1

    public var type: MessageType
    public var sourceID: UInt32
    public var eventCount: UInt32
    public var sequence: UInt64
    /// Ticks per second of the source's clock (30 000 for sample indices of a 30 kHz rig).
    public var tickRate: UInt64
    /// Every spike of the source at or before this tick has been sent; nil when not carried.
    public var watermark: Int64?

    public init(
        type: MessageType, sourceID: UInt32, eventCount: UInt32, sequence: UInt64, tickRate: UInt64, watermark: Int64?
    ) {
        precondition(type == .spikeBatch || type == .watermark, "a rig header is a spike batch or a watermark")
        self.type = type
        self.sourceID = sourceID
        self.eventCount = eventCount
        self.sequence = sequence
        self.tickRate = tickRate
        self.watermark = watermark
    }

    /// Writes the header into the first `RigHeader.size` bytes of `buffer`.
    public func encode(into buffer: UnsafeMutableRawBufferPointer) {
        let flags: UInt16 = (type == .spikeBatch && watermark != nil) ? Self.hasWatermarkFlag : 0
        writePreamble(type, flags: flags, into: buffer)
        buffer.storeLE(sourceID, at: 8)
        buffer.storeLE(eventCount, at: 12)
        buffer.storeLE(sequence, at: 16)
        buffer.storeLE(tickRate, at: 24)
        buffer.storeLE(watermark ?? 0, at: 32)
    }

    /// The header as bytes.
    public var bytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.size) { buffer, count in
            encode(into: UnsafeMutableRawBufferPointer(buffer))
            count = Self.size
        }
    }
}
