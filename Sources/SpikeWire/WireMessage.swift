/// Any poyo-rt message, decoded into owned arrays: for tools, tests and the fuzzer, not the hot path.
public enum WireMessage: Equatable, Sendable {
    case rig(RigHeader, events: [SpikeEvent])
    case output(OutputMessage)
    case status(StatusMessage)
    case behaviour(BehaviourMessage)

    /// The type a message says it is, after checking its preamble (not the rest).
    public static func type(of frames: UnsafeBufferPointer<UnsafeRawBufferPointer>) throws(WireRejection) -> MessageType
    {
        guard frames.count >= 2 else { throw .frameCount }
        return try readPreamble(frames[1]).0
    }

    /// Decodes and validates a message of any type.
    public init(frames: UnsafeBufferPointer<UnsafeRawBufferPointer>) throws(WireRejection) {
        switch try Self.type(of: frames) {
        case .spikeBatch, .watermark:
            // Room for what the payload can hold: a header that claims more is rejected before
            // the buffer is looked at.
            let capacity =
                frames.count > 2 ? min(frames[2].count / WireFormat.bytesPerEvent, WireFormat.maxEventsPerBatch) : 0
            var events = [SpikeEvent](repeating: SpikeEvent(time: 0, unit: 0), count: capacity)
            let header = try events.withUnsafeMutableBufferPointer { buffer throws(WireRejection) in
                try RigMessageDecoder.decode(frames: frames, into: buffer)
            }
            self = .rig(header, events: Array(events.prefix(Int(header.eventCount))))
        case .output:
            self = .output(try OutputMessage(frames: frames))
        case .status:
            self = .status(try StatusMessage(frames: frames))
        case .behaviour:
            self = .behaviour(try BehaviourMessage(frames: frames))
        }
    }

    /// The frames of this message.
    public var frames: [[UInt8]] {
        switch self {
        case .rig(let header, let events):
            if header.type == .watermark {
                SpikeBatchEncoder.watermark(
                    sourceID: header.sourceID, sequence: header.sequence, tickRate: header.tickRate,
                    watermark: header.watermark ?? 0)
            } else {
                SpikeBatchEncoder.spikeBatch(
                    sourceID: header.sourceID, sequence: header.sequence, tickRate: header.tickRate,
                    events: events, watermark: header.watermark)
            }
        case .output(let output): output.frames
        case .status(let status): status.frames
        case .behaviour(let behaviour): behaviour.frames
        }
    }
}
