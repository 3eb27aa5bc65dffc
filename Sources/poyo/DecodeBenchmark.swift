import Decoder
import SpikeWire

/// Decode + validate throughput of `RigMessageDecoder` on one core, the ingest thread's work.
enum DecodeBenchmark {
    struct Result: Encodable {
        var eventsPerBatch: Int
        var batches: Int
        var seconds: Double
        var eventsPerSecond: Double
        var batchesPerSecond: Double
    }

    /// A batch of Poisson-like sorted times over 1000 units at 30 kHz; `variant` changes the times.
    static func batch(events count: Int, variant: Int = 0) -> [[UInt8]] {
        var time = Int64(variant) * 1_000
        let events = (0..<count).map { index -> SpikeEvent in
            time += Int64((index &* 7919 &+ variant) % 5)
            return SpikeEvent(time: time, unit: UInt32((index &* 104_729) % 1000))
        }
        return SpikeBatchEncoder.spikeBatch(sourceID: 1, sequence: 1, tickRate: 30_000, events: events, watermark: time)
    }

    /// Distinct batches the benchmark cycles through (a power of two).
    static let variants = 8

    static func run(eventsPerBatch: Int, seconds: Double) -> Result {
        // Distinct batches in turn, so that no work can be carried over from one decode to the next.
        let messages = (0..<variants).map { MultipartFrames(batch(events: eventsPerBatch, variant: $0)) }
        let frames = UnsafeMutableBufferPointer<UnsafeBufferPointer<UnsafeRawBufferPointer>>.allocate(
            capacity: variants)
        defer { frames.deallocate() }
        for (index, message) in messages.enumerated() {
            // The frame views stay valid while `messages` holds their storage.
            frames[index] = message.withFrames { $0 }
        }
        let events = UnsafeMutableBufferPointer<SpikeEvent>.allocate(capacity: WireFormat.maxEventsPerBatch)
        defer { events.deallocate() }
        let chunk = max(1, 2_000_000 / eventsPerBatch)
        var batches = 0
        var checksum: Int64 = 0
        let start = MonotonicClock.nanoseconds()
        var elapsed: UInt64 = 0
        repeat {
            for iteration in 0..<chunk {
                guard
                    let header = try? RigMessageDecoder.decode(frames: frames[iteration & (variants - 1)], into: events)
                else { fatalError("the benchmark's own batch was rejected") }
                checksum &+= events[Int(header.eventCount) - 1].time
            }
            batches += chunk
            elapsed = MonotonicClock.nanoseconds() - start
        } while Double(elapsed) < seconds * 1e9
        withExtendedLifetime(messages) {}
        precondition(checksum != 0, "keeps the decoding from being optimized away")
        let wall = Double(elapsed) / 1e9
        return Result(
            eventsPerBatch: eventsPerBatch, batches: batches, seconds: wall,
            eventsPerSecond: Double(batches * eventsPerBatch) / wall, batchesPerSecond: Double(batches) / wall)
    }
}
