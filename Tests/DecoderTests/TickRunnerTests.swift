import Decoder
import Foundation
import POYO
import SpikeWire
import Testing

/// The scheduler's pipeline without sockets: rig messages in, output messages out, equal to the
/// offline forward pass on the same windows.
@Suite struct TickRunnerTests {
    static let modelPath = Fixtures.root.appendingPathComponent("Tests/POYOTests/Fixtures/poyo_1p3m.model.safetensors").path
    static let rate: UInt64 = 30_000

    struct Pipeline {
        let model: POYOModel
        let binding: SessionBinding
        let counters = DecoderCounters()
        let ingest: IngestProcessor
        let runner: TickRunner
        var sequence: UInt64 = 1

        init(hop: Double = 0.02) throws {
            model = try POYOModel(path: TickRunnerTests.modelPath)
            var configuration = DecoderConfiguration(model: TickRunnerTests.modelPath, session: "perich/c_20131003")
            configuration.unitPrefix = "perich/c_20131003/unit_"
            configuration.hop = hop
            binding = try SessionBinding(configuration: configuration, model: model.description)
            let ring = SpikeRing(capacity: 1 << 16)
            ingest = IngestProcessor(binding: binding, ring: ring, counters: counters, source: nil)
            runner = TickRunner(model: model, binding: binding, ring: ring, counters: counters, publishRawValues: true)
        }

        mutating func send(_ frames: [[UInt8]]) {
            MultipartFrames(frames).withFrames { _ = ingest.process(frames: $0, receivedAt: MonotonicClock.nanoseconds()) }
            sequence += 1
        }

        mutating func sendBatch(_ events: [SpikeEvent], watermark: Int64?) {
            send(SpikeBatchEncoder.spikeBatch(sourceID: 7, sequence: sequence, tickRate: TickRunnerTests.rate, events: events, watermark: watermark))
        }
    }

    /// Poisson spikes of rig units 0..<200 (mapped by the unit prefix), sorted, 30 kHz ticks.
    static func spikes(seconds: Double, seed: UInt64) -> [SpikeEvent] {
        var generator = SplitMix64(state: seed)
        var events: [SpikeEvent] = []
        for unit in 0..<200 {
            var t = 0.0
            while true {
                t += -log(1 - Double.random(in: 0..<1, using: &generator)) / 20
                if t >= seconds { break }
                events.append(SpikeEvent(time: Int64(t * Double(rate)), unit: UInt32(unit)))
            }
        }
        return events.sorted { $0.time < $1.time }
    }

    @Test func streamingOutputsEqualOfflineForward() throws {
        var pipeline = try Pipeline()
        let events = Self.spikes(seconds: 1.5, seed: 3)
        // The recording starts at tick 0 (a heartbeat), then batches of 1 ms with a watermark each.
        pipeline.send(SpikeBatchEncoder.watermark(sourceID: 7, sequence: pipeline.sequence, tickRate: Self.rate, watermark: 0))
        var start = 0
        var outputs: [OutputMessage] = []
        for millisecond in 0..<1500 {
            let end = Int64(millisecond + 1) * 30
            var stop = start
            while stop < events.count && events[stop].time < end { stop += 1 }
            pipeline.sendBatch(Array(events[start..<stop]), watermark: end - 1)
            start = stop
            pipeline.runner.drain()
            while let due = pipeline.runner.dueTick() {
                var error: ForwardError?
                outputs += try #require(pipeline.runner.run(due, error: &error))
            }
        }
        // First tick: the first 20 ms grid time with a whole second of data before it: t = 1.0 s.
        #expect(outputs.first?.header.windowEnd == 30_000)
        #expect(outputs.count == 26)  // 1.00 s ... 1.50 s every 20 ms
        #expect(pipeline.counters.ticksSkipped.value == 0)

        // Offline: the same windows built independently, through the plain forward pass.
        let offline = try POYOModel(path: Self.modelPath)
        let h = offline.hyperparameters
        let tokenizer = WindowTokenizer(hyperparameters: h, unitRows: pipeline.binding.units.map(\.row), sessionRow: pipeline.binding.sessionRow)
        for message in outputs {
            let windowStart = message.header.windowStart
            let inWindow = events.filter { $0.time >= windowStart && $0.time < message.header.windowEnd }
            var window = ModelWindow()
            tokenizer.tokenize(
                spikeUnits: inWindow.map { Int(pipeline.binding.position(ofRigUnit: $0.unit)!) },
                spikeTimes: inWindow.map { Double($0.time - windowStart) / Double(Self.rate) },
                outputTimestamps: [h.sequenceLength], into: &window)
            let expected = try offline.forward(window).readouts[0]
            let raw = try #require(message.rawValues)
            for (a, b) in zip(raw, expected.values) { #expect(abs(a - b) <= 5e-4 * max(1, abs(b))) }
            // Physical units: the fixture's readout was z-scored with std 20.
            for (physical, r) in zip(message.values, raw) { #expect(abs(physical - r * 20) <= 1e-4 * max(1, abs(physical))) }
            #expect(message.timestamps == [message.header.windowEnd])
        }
    }

    /// The scheduler prepares each next window's encoder between ticks (`encode_ahead`): the
    /// outputs are the same bits as without, and the ticks really resume the prepared state.
    @Test func preparingBetweenTicksGivesTheSameBits() throws {
        var plain = try Pipeline()
        var ahead = try Pipeline()
        let events = Self.spikes(seconds: 1.4, seed: 5)
        for index in [0, 1] {
            let frames = SpikeBatchEncoder.watermark(sourceID: 7, sequence: 1, tickRate: Self.rate, watermark: 0)
            if index == 0 { plain.send(frames) } else { ahead.send(frames) }
        }
        var start = 0
        var plainOutputs: [OutputMessage] = [], aheadOutputs: [OutputMessage] = []
        var resumed = 0, prepared = 0
        for millisecond in 0..<1400 {
            let end = Int64(millisecond + 1) * 30
            var stop = start
            while stop < events.count && events[stop].time < end { stop += 1 }
            plain.sendBatch(Array(events[start..<stop]), watermark: end - 1)
            ahead.sendBatch(Array(events[start..<stop]), watermark: end - 1)
            start = stop
            var error: ForwardError?
            plain.runner.drain()
            while let due = plain.runner.dueTick() { plainOutputs += try #require(plain.runner.run(due, error: &error)) }
            ahead.runner.drain()
            var ran = false
            while let due = ahead.runner.dueTick() {
                aheadOutputs += try #require(ahead.runner.run(due, error: &error))
                if ahead.model.lastPreparedSpikes > 0 { resumed += 1 }
                ran = true
            }
            if ran { prepared += ahead.runner.prepareNextWindow() > 0 ? 1 : 0 }
        }
        #expect(plainOutputs.count == 21)  // 1.00 s ... 1.40 s every 20 ms
        #expect(aheadOutputs.map(\.rawValues) == plainOutputs.map(\.rawValues))
        #expect(aheadOutputs.map(\.header.windowEnd) == plainOutputs.map(\.header.windowEnd))
        // Every tick after the first was prepared, and resumed.
        #expect(prepared == 21)
        #expect(resumed == 20)
        #expect(ahead.counters.ticksPrepared.value == 20 && plain.counters.ticksPrepared.value == 0)
        #expect(ahead.counters.ticksFailed.value == 0 && ahead.counters.ticksSkipped.value == 0)
    }

    @Test func silenceStillTicksOnceWatermarksArrive() throws {
        var pipeline = try Pipeline(hop: 0.1)
        pipeline.sendBatch([SpikeEvent(time: 0, unit: 3)], watermark: 0)
        for step in 1...20 {
            pipeline.send(SpikeBatchEncoder.watermark(sourceID: 7, sequence: pipeline.sequence, tickRate: Self.rate, watermark: Int64(step) * 3_000 - 1))
        }
        pipeline.runner.drain()
        var ticks: [Int64] = []
        while let due = pipeline.runner.dueTick() {
            ticks.append(due.tick)
            var error: ForwardError?
            #expect(pipeline.runner.run(due, error: &error) != nil)
        }
        // All watermarks were read at once: only the newest ready tick runs, the rest are skipped.
        #expect(ticks == [60_000])
        #expect(pipeline.counters.ticksSkipped.value == 10)  // 1.0 s ... 1.9 s
    }

    @Test func unknownUnitsAndOtherSourcesAreCountedNotFatal() throws {
        var pipeline = try Pipeline()
        pipeline.sendBatch([SpikeEvent(time: 5, unit: 3), SpikeEvent(time: 6, unit: 9_999)], watermark: 10)
        pipeline.send(SpikeBatchEncoder.watermark(sourceID: 8, sequence: 1, tickRate: Self.rate, watermark: 10))
        pipeline.send([[1, 2, 3]])  // one frame: rejected
        #expect(pipeline.counters.unknownUnits.value == 1)
        #expect(pipeline.counters.otherSource.value == 1)
        #expect(pipeline.counters.rejected(.frameCount) == 1)
        #expect(pipeline.counters.received.value == 3)
        #expect(pipeline.counters.accepted.value == 1)
    }
}


/// Times and rates at the edges of what the wire allows never trap the daemon.
@Suite struct ExtremeClockTests {
    @Test func timesNearInt64MaxAndAbsurdRatesAreSurvived() throws {
        var pipeline = try TickRunnerTests.Pipeline()
        pipeline.send(SpikeBatchEncoder.spikeBatch(sourceID: 7, sequence: 1, tickRate: UInt64.max, events: [SpikeEvent(time: 1, unit: 1)], watermark: 2))
        #expect(pipeline.counters.rejected(.badTickRate) == 1)
        let huge = Int64.max - 10
        pipeline.send(SpikeBatchEncoder.spikeBatch(sourceID: 7, sequence: 2, tickRate: 30_000, events: [SpikeEvent(time: huge, unit: 1)], watermark: huge))
        pipeline.send(SpikeBatchEncoder.watermark(sourceID: 7, sequence: 3, tickRate: 30_000, watermark: Int64.max))
        pipeline.runner.drain()
        while let due = pipeline.runner.dueTick() {
            var error: ForwardError?
            _ = pipeline.runner.run(due, error: &error)
        }
        #expect(pipeline.counters.accepted.value == 2)
        var schedule = TickSchedule(hopTicks: 600, sequenceTicks: 30_000)
        schedule.observe(firstTime: huge)
        #expect(schedule.nextTick == Int64.max)
        #expect(schedule.takeReady(watermark: Int64.max) == nil)
    }
}

/// Random and mutated rig messages through the whole daemon pipeline (ingest, ring, scheduler,
/// model): nothing traps, and every message lands in exactly one counter.
@Suite struct MutatedStreamTests {
    @Test func mutatedMessagesAreCountedAndNeverCrash() throws {
        var pipeline = try TickRunnerTests.Pipeline(hop: 0.1)
        var generator = SplitMix64(state: 42)
        var sent: UInt64 = 0
        var time: Int64 = 0
        for step in 0..<20_000 {
            time += Int64.random(in: 0...300, using: &generator)
            let events = (0..<Int.random(in: 0...8, using: &generator)).map { _ in
                SpikeEvent(time: time, unit: UInt32.random(in: 0...250, using: &generator))
            }
            var frames = SpikeBatchEncoder.spikeBatch(sourceID: 7, sequence: UInt64(step + 1), tickRate: 30_000, events: events, watermark: time)
            switch Int.random(in: 0..<4, using: &generator) {
            case 0:  // flip bytes of the topic, the preamble or the units. (A corrupt sequence number,
                // rate, time or watermark is accepted once and then, as the protocol says, gets every
                // later message of the source rejected until it restarts: not what this test is about.)
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    let f = Int.random(in: 0..<frames.count, using: &generator)
                    let range = f == 0 ? 0..<frames[0].count : f == 1 ? 0..<8 : (events.count * 8)..<frames[f].count
                    guard !range.isEmpty else { continue }
                    frames[f][Int.random(in: range, using: &generator)] ^= UInt8.random(in: 1...255, using: &generator)
                }
            case 1:  // drop or add a frame
                if Bool.random(using: &generator) { frames.removeLast() } else { frames.append([1, 2, 3]) }
            default:
                break
            }
            pipeline.send(frames)
            sent += 1
            if step % 50 == 0 {
                pipeline.runner.drain()
                while let due = pipeline.runner.dueTick() {
                    var error: ForwardError?
                    _ = pipeline.runner.run(due, error: &error)
                }
            }
        }
        let c = pipeline.counters
        #expect(c.received.value == sent)
        #expect(c.accepted.value + c.rejectionCounts.reduce(0, +) + c.otherSource.value == sent)
        #expect(c.accepted.value > 5_000)
        #expect(c.ticksRun.value > 0)
    }
}

/// One bogus message must not stop decoding for good: after a run of rejections the source's
/// history is forgotten and decoding resumes on the rig's real timeline.
@Suite struct ResynchronizationTests {
    @Test func aBogusFutureTimeIsRecoveredFrom() throws {
        var pipeline = try TickRunnerTests.Pipeline(hop: 0.1)
        var outputs: [OutputMessage] = []
        func decode(_ pipeline: inout TickRunnerTests.Pipeline) {
            pipeline.runner.drain()
            while let due = pipeline.runner.dueTick() {
                var error: ForwardError?
                outputs += pipeline.runner.run(due, error: &error) ?? []
            }
        }
        var time: Int64 = 0
        func batch(_ pipeline: inout TickRunnerTests.Pipeline) {
            time += 300
            pipeline.sendBatch([SpikeEvent(time: time - 100, unit: UInt32(time % 200))], watermark: time - 1)
        }
        for _ in 0..<200 { batch(&pipeline) }  // 2 s of data
        decode(&pipeline)
        let before = outputs.count
        #expect(before > 0)
        // The rig glitches once: a spike a day in the future.
        pipeline.sendBatch([SpikeEvent(time: time + 30_000 * 86_400, unit: 1)], watermark: nil)
        for _ in 0..<(IngestProcessor.resynchronizeAfter - 1) { batch(&pipeline) }
        #expect(pipeline.counters.rejected(.timeWentBackwards) == UInt64(IngestProcessor.resynchronizeAfter - 1))
        #expect(pipeline.counters.resynchronizations.value == 0)
        batch(&pipeline)  // the 100th rejection: the source's history is forgotten
        #expect(pipeline.counters.resynchronizations.value == 1)
        for _ in 0..<250 { batch(&pipeline) }  // accepted again; one window later, ticks resume
        decode(&pipeline)
        #expect(outputs.count > before)
        #expect(outputs.last!.header.windowEnd > time - 30_000)
    }
}
