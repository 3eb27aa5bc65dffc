/// Decodes and validates what a rig sends (spike batches and watermarks) without allocating:
/// the events go into a buffer the caller owns, sized once for `WireFormat.maxEventsPerBatch`.
///
/// Frames: `[topic, header, payload]` for a spike batch, `[topic, header]` for a watermark. The
/// payload is `event_count` little-endian `i64` times followed by `event_count` `u32` units.
/// Checks are stateless; what depends on earlier messages (gaps, duplicates, time going back
/// across batches) is `SequenceTracker`'s job.
public enum RigMessageDecoder {
    /// Validates one multipart message and writes its events to the start of `events`.
    ///
    /// - Returns: the header; its `eventCount` events are in `events[0..<eventCount]`, sorted
    ///   by time, every time >= 0, and `watermark` (if any) is >= the last event's time.
    /// - Throws: the first `WireRejection` that applies, in the order of protocol/SPEC.md.
    public static func decode(
        frames: UnsafeBufferPointer<UnsafeRawBufferPointer>,
        into events: UnsafeMutableBufferPointer<SpikeEvent>
    ) throws(WireRejection) -> RigHeader {
        var header: RigHeader?
        return try decode(frames: frames, into: events, header: &header)
    }

    /// As `decode(frames:into:)`, and `header` is set as soon as the header frame has been read
    /// (preamble, size and flags valid), also when a later check (counts, payload size, tick
    /// rate, times) rejects the message: such a message still uses up its sequence number
    /// (`SequenceTracker.useUp`).
    public static func decode(
        frames: UnsafeBufferPointer<UnsafeRawBufferPointer>,
        into events: UnsafeMutableBufferPointer<SpikeEvent>,
        header readHeader: inout RigHeader?
    ) throws(WireRejection) -> RigHeader {
        readHeader = nil
        let (type, flags, _) = try openMessage(frames) { $0 == .spikeBatch || $0 == .watermark }
        let header = frames[1]
        guard frames.count == (type == .spikeBatch ? 3 : 2) else { throw .frameCount }
        guard header.count == RigHeader.size else { throw .headerSize }
        let allowedFlags: UInt16 = type == .spikeBatch ? RigHeader.hasWatermarkFlag : 0
        guard flags & ~allowedFlags == 0 else { throw .badFlags }
        let carriesWatermark = type == .watermark || flags & RigHeader.hasWatermarkFlag != 0
        let rawWatermark = header.loadLE(32, as: Int64.self)
        guard carriesWatermark || rawWatermark == 0 else { throw .badFlags }

        let count = header.loadLE(12, as: UInt32.self)
        let tickRate = header.loadLE(24, as: UInt64.self)
        let decoded = RigHeader(
            type: type,
            sourceID: header.loadLE(8, as: UInt32.self),
            eventCount: count,
            sequence: header.loadLE(16, as: UInt64.self),
            tickRate: tickRate,
            watermark: carriesWatermark ? rawWatermark : nil
        )
        readHeader = decoded
        if type == .watermark {
            guard count == 0 else { throw .payloadSize }
        } else {
            guard count <= WireFormat.maxEventsPerBatch else { throw .tooMany }
            guard frames[2].count == Int(count) &* WireFormat.bytesPerEvent else { throw .payloadSize }
        }
        guard tickRate > 0 else { throw .badTickRate }
        if carriesWatermark, rawWatermark < 0 { throw .negativeTime }
        if type == .spikeBatch, count > 0 {
            guard events.count >= Int(count) else { throw .bufferTooSmall }
            let last = try decodeEvents(frames[2], count: Int(count), into: events)
            if carriesWatermark, rawWatermark < last { throw .watermarkBeforeEvents }
        }
        return decoded
    }

    /// Copies and checks `count` events; returns the last (largest) time.
    @inline(__always)
    private static func decodeEvents(
        _ payload: UnsafeRawBufferPointer,
        count: Int,
        into events: UnsafeMutableBufferPointer<SpikeEvent>
    ) throws(WireRejection) -> Int64 {
        let unitsOffset = count &* 8
        guard let out = events.baseAddress else { throw .bufferTooSmall }
        var previous: Int64 = 0
        // Times >= 0 and sorted: checking each against the previous one (starting at 0) checks both;
        // which of the two failed is told apart after the loop, off the hot path.
        var sorted = true
        for index in 0..<count {
            let time = payload.loadLE(index &* 8, as: Int64.self)
            let unit = payload.loadLE(unitsOffset &+ index &* 4, as: UInt32.self)
            sorted = sorted && time >= previous
            previous = time
            out[index] = SpikeEvent(time: time, unit: unit)
        }
        guard sorted else {
            for index in 0..<count where out[index].time < 0 { throw .negativeTime }
            throw .unsortedTimes
        }
        return previous
    }
}
