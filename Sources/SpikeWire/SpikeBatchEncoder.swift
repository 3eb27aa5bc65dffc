/// Encodes what a rig sends: the payload of a spike batch, and whole messages for tools and tests.
public enum SpikeBatchEncoder {
    /// Bytes of the payload frame of a batch of `count` events.
    public static func payloadSize(count: Int) -> Int { count * WireFormat.bytesPerEvent }

    /// Writes the payload frame: every time (`i64`), then every unit (`u32`), little-endian.
    public static func encodePayload(
        _ events: UnsafeBufferPointer<SpikeEvent>, into payload: UnsafeMutableRawBufferPointer
    ) {
        precondition(payload.count >= payloadSize(count: events.count), "payload buffer too small")
        let unitsOffset = events.count &* 8
        for (index, event) in events.enumerated() {
            payload.storeLE(event.time, at: index &* 8)
            payload.storeLE(event.unit, at: unitsOffset &+ index &* 4)
        }
    }

    /// The frames `[topic, header, payload]` of a spike batch (its `eventCount` is `events.count`).
    public static func spikeBatch(
        sourceID: UInt32, sequence: UInt64, tickRate: UInt64, events: [SpikeEvent],
        watermark: Int64? = nil, topicSuffix: String = ""
    ) -> [[UInt8]] {
        let header = RigHeader(
            type: .spikeBatch, sourceID: sourceID, eventCount: UInt32(events.count),
            sequence: sequence, tickRate: tickRate, watermark: watermark)
        let payload = [UInt8](unsafeUninitializedCapacity: payloadSize(count: events.count)) { buffer, count in
            events.withUnsafeBufferPointer { encodePayload($0, into: UnsafeMutableRawBufferPointer(buffer)) }
            count = payloadSize(count: events.count)
        }
        return [Topic.bytes(for: .spikeBatch, suffix: topicSuffix), header.bytes, payload]
    }

    /// The frames `[topic, header]` of a watermark (heartbeat).
    public static func watermark(
        sourceID: UInt32, sequence: UInt64, tickRate: UInt64, watermark: Int64, topicSuffix: String = ""
    ) -> [[UInt8]] {
        let header = RigHeader(
            type: .watermark, sourceID: sourceID, eventCount: 0,
            sequence: sequence, tickRate: tickRate, watermark: watermark)
        return [Topic.bytes(for: .watermark, suffix: topicSuffix), header.bytes]
    }
}
