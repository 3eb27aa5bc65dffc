import SpikeWire
import Testing
import ZeroMQ

/// The daemon's ingest path end to end: a spike batch encoded, sent through a PUB, received into
/// a reused `ZMQMultipartMessage` and decoded into a caller-owned buffer.
@Suite struct SpikeWireOverSocketsTests {
    @Test(arguments: Loopback.allCases)
    func spikeBatchesAndRejectionsThroughRealSockets(over transport: Loopback) throws {
        let context = try ZMQContext()
        let pair = try connectedPair(context, over: transport)
        try pair.subscriber.setReceiveTimeout(.seconds(5))
        let events = (0..<1000).map { SpikeEvent(time: Int64($0 / 3), unit: UInt32($0 % 384)) }
        try pair.publisher.send(
            frames: SpikeBatchEncoder.spikeBatch(
                sourceID: 2, sequence: 1, tickRate: 30_000, events: events, watermark: 400))
        try pair.publisher.send(frames: [Array("spikes".utf8), [0x50, 0x59, 0x52, 0x54, 2, 1, 0, 0]])
        try pair.publisher.send(
            frames: SpikeBatchEncoder.watermark(sourceID: 2, sequence: 3, tickRate: 30_000, watermark: 900))

        let buffer = UnsafeMutableBufferPointer<SpikeEvent>.allocate(capacity: WireFormat.maxEventsPerBatch)
        defer { buffer.deallocate() }
        var message = ZMQMultipartMessage()
        var tracker = SequenceTracker()
        var results: [Result<RigHeader, WireRejection>] = []
        var admissions: [SequenceTracker.Admission] = []
        while results.count < 3 {
            #expect(try pair.subscriber.receive(into: &message))
            if message.frames.count == 1, Array(message.frames[0]) == hello { continue }
            let result = Result { () throws(WireRejection) in
                let header = try RigMessageDecoder.decode(frames: message.frames, into: buffer)
                admissions.append(
                    try tracker.admit(header, events: UnsafeBufferPointer(rebasing: buffer[0..<Int(header.eventCount)]))
                )
                if header.type == .spikeBatch { #expect(Array(buffer[0..<events.count]) == events) }
                return header
            }
            results.append(result)
        }
        #expect(try results[0].get().eventCount == 1000)
        #expect(throws: WireRejection.unknownVersion) { try results[1].get() }
        #expect(try results[2].get().watermark == 900)
        #expect(admissions.map(\.missedMessages) == [0, 1])
        #expect(tracker.watermark(of: 2) == 900)
    }
}
