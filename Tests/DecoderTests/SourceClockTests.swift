import Decoder
import POYO
import SpikeWire
import Testing

/// Every configured duration is a whole number of ticks of the source clock, or the clock is
/// refused with a message naming the value and the clock; the model is queried at exactly the
/// times published.
@Suite struct SourceClockTests {
    static func binding(hop: Double? = nil, offsets: [Double] = [0]) throws -> SessionBinding {
        let model = try POYOModel(path: TickRunnerTests.modelPath)
        var configuration = DecoderConfiguration(model: TickRunnerTests.modelPath, session: "perich/c_20131003")
        configuration.unitPrefix = "perich/c_20131003/unit_"
        configuration.hop = hop
        configuration.outputOffsets = offsets
        return try SessionBinding(configuration: configuration, model: model.description)
    }

    @Test func durationsThatFitAreExactTicks() throws {
        let ticks = try Self.binding(hop: 0.02, offsets: [-0.5, -0.02, 0]).ticks(tickRate: 30_000)
        #expect(ticks.hop == 600 && ticks.sequence == 30_000 && ticks.latentStep == 3_750)
        #expect(ticks.outputOffsets == [-15_000, -600, 0])
        // 0.1 s on a nanosecond clock: 0.1 * 1e9 is 100000000.00000001 in binary, still whole.
        #expect(try Self.binding(hop: 0.1).ticks(tickRate: 1_000_000_000).hop == 100_000_000)
    }

    @Test(arguments: [
        (10 as UInt64, 0.02, [0.0], "hop 0.02 s is 0.2 ticks of the source clock at 10 Hz"),
        (1, 0.02, [0.0], "hop 0.02 s is 0.02 ticks of the source clock at 1 Hz"),
        (10, 0.5, [0.0], "latent_step (the model's) 0.125 s is 1.25 ticks of the source clock at 10 Hz"),
        (1_000, 0.02, [-0.0155], "output_offsets[0] -0.0155 s is -15.5 ticks of the source clock at 1000 Hz"),
    ])
    func durationsThatDoNotFitAreRefusedByName(rate: UInt64, hop: Double, offsets: [Double], message: String) throws {
        let binding = try Self.binding(hop: hop, offsets: offsets)
        let error = try #require(throws: ConfigurationError.self) { try binding.ticks(tickRate: rate) }
        #expect(error.description.contains(message), "\(error)")
    }

    @Test func aClockTheConfigurationDoesNotFitIsRejectedAsBadTickRateAndNamed() throws {
        let pipeline = try TickRunnerTests.Pipeline(hop: 0.02)
        var outcome: IngestProcessor.Outcome?
        MultipartFrames(SpikeBatchEncoder.spikeBatch(sourceID: 7, sequence: 0, tickRate: 10, events: [SpikeEvent(time: 1, unit: 1)], watermark: 2))
            .withFrames { outcome = pipeline.ingest.process(frames: $0, receivedAt: 1) }
        #expect(outcome?.rejection == .badTickRate)
        #expect(outcome?.clockRefusal?.contains("hop 0.02 s is 0.2 ticks of the source clock at 10 Hz") == true)
        #expect(pipeline.counters.rejected(.badTickRate) == 1 && pipeline.counters.accepted.value == 0)
        pipeline.runner.drain()
        #expect(pipeline.runner.tickRate == nil)
    }

    @Test func theModelIsQueriedAtExactlyThePublishedTimes() throws {
        let binding = try Self.binding(hop: 0.02, offsets: [-0.25, 0])
        let clock = try binding.ticks(tickRate: 1_000)
        var assembler = WindowAssembler(binding: binding, kind: .poyo)
        assembler.assemble(start: 1_000, end: 2_000, clock: clock, history: SpikeHistory())
        let published = assembler.outputTicks(tick: 2_000, clock: clock)
        #expect(published == [1_750, 2_000])
        #expect(assembler.window.outputTimestamps == published.map { Double($0 - 1_000) / 1_000 })
    }
}

/// Each loss has one name: a rejected message is counted once (not also as missing), and spikes
/// before the first window are not late.
@Suite struct OneLossOneNameTests {
    @Test func aRejectedBatchUsesUpItsSequenceNumber() throws {
        var pipeline = try TickRunnerTests.Pipeline()
        pipeline.sendBatch([SpikeEvent(time: 10, unit: 1)], watermark: 20)
        // Unsorted times: rejected by the stateless checks, after its header was read.
        var frames = SpikeBatchEncoder.spikeBatch(sourceID: 7, sequence: pipeline.sequence, tickRate: TickRunnerTests.rate,
                                                  events: [SpikeEvent(time: 30, unit: 1), SpikeEvent(time: 40, unit: 2)], watermark: 50)
        frames[2].replaceSubrange(0..<8, with: withUnsafeBytes(of: Int64(45).littleEndian, Array.init))
        pipeline.send(frames)
        pipeline.sendBatch([SpikeEvent(time: 60, unit: 1)], watermark: 70)
        #expect(pipeline.counters.rejected(.unsortedTimes) == 1)
        #expect(pipeline.counters.missedMessages.value == 0)
        #expect(pipeline.counters.accepted.value == 2)
        // A real gap before a rejected message is still counted, once.
        pipeline.sequence += 2
        frames[1].replaceSubrange(16..<24, with: withUnsafeBytes(of: pipeline.sequence.littleEndian, Array.init))
        pipeline.send(frames)
        pipeline.sendBatch([SpikeEvent(time: 80, unit: 1)], watermark: 90)
        #expect(pipeline.counters.missedMessages.value == 2)
        #expect(pipeline.counters.rejected(.unsortedTimes) == 2)
    }

    @Test func aMessageOnARefusedClockUsesUpItsNumberToo() throws {
        var pipeline = try TickRunnerTests.Pipeline(hop: 0.02)
        pipeline.sendBatch([SpikeEvent(time: 10, unit: 1)], watermark: 20)
        pipeline.send(SpikeBatchEncoder.spikeBatch(sourceID: 7, sequence: pipeline.sequence, tickRate: 10, events: [], watermark: 30))
        pipeline.send(SpikeBatchEncoder.spikeBatch(sourceID: 7, sequence: pipeline.sequence, tickRate: UInt64.max, events: [], watermark: 30))
        pipeline.sendBatch([SpikeEvent(time: 40, unit: 1)], watermark: 50)
        #expect(pipeline.counters.rejected(.badTickRate) == 2)
        #expect(pipeline.counters.missedMessages.value == 0)
        #expect(pipeline.counters.accepted.value == 2)
    }

    @Test func spikesBeforeTheFirstWindowAreOutsideWindowsNotLate() throws {
        // The rig's clock reads 100 at start; the first tick is the first 20 ms grid time with a
        // whole second after tick 100: 30 600, so its window starts at 600.
        var pipeline = try TickRunnerTests.Pipeline(hop: 0.02)
        pipeline.send(SpikeBatchEncoder.watermark(sourceID: 7, sequence: pipeline.sequence, tickRate: TickRunnerTests.rate, watermark: 100))
        let events = stride(from: Int64(200), to: 1_200, by: 25).map { SpikeEvent(time: $0, unit: UInt32($0 % 200)) }
        pipeline.sendBatch(events, watermark: 1_199)
        pipeline.runner.drain()
        #expect(pipeline.counters.late.value == 0)
        #expect(pipeline.counters.outsideWindows.value == UInt64(events.filter { $0.time < 600 }.count))
        #expect(pipeline.counters.dropped.value == 0)
    }

    @Test func theSpikeHistoryIsBoundedAndCountsWhatItCannotKeep() {
        var history = SpikeHistory(capacity: 2, limit: 3)
        #expect((0..<3).map { history.insert(time: Int64($0), unit: 0) } == [.appended, .appended, .appended])
        #expect(history.insert(time: 5, unit: 0) == .full)
        history.evict(before: 2)
        #expect(history.insert(time: 6, unit: 0) == .appended)
        #expect(history.count == 2)
    }

    @Test func unmappedUnitIdsAreNamedWithoutAllocatingPerEvent() throws {
        let pipeline = try TickRunnerTests.Pipeline()
        var outcome: IngestProcessor.Outcome?
        let events = [900, 901, 900, 902, 903, 904, 5].enumerated().map { SpikeEvent(time: Int64($0.offset), unit: UInt32($0.element)) }
        MultipartFrames(SpikeBatchEncoder.spikeBatch(sourceID: 7, sequence: 0, tickRate: TickRunnerTests.rate, events: events, watermark: 10))
            .withFrames { outcome = pipeline.ingest.process(frames: $0, receivedAt: 1) }
        #expect(outcome?.unknownUnits == 6)
        #expect(outcome?.unknownUnitIDs.ids == [900, 901, 902, 903])
    }
}
