import Decoder
import Foundation
import POYO
import SpikeWire
import Testing

/// Behaviour through the ingest (sequence, clock, source, scoring) and a configuration switch in
/// the scheduler's pipeline, without sockets.
@Suite struct BehaviourAndSwitchTests {
    static let rate = TickRunnerTests.rate

    func behaviour(_ readout: String = "cursor_velocity_2d", source: UInt32 = 7, sequence: UInt64, rate: UInt64 = rate, times: [Int64], dimension: Int = 2)
        -> [[UInt8]]
    {
        BehaviourMessage(
            readout: readout, sourceID: source, sequence: sequence, tickRate: rate, timestamps: times,
            values: times.flatMap { t in (0..<dimension).map { Float(t) + Float($0) } }, dimension: dimension
        ).frames
    }

    @Test func behaviourIsCheckedCountedAndScored() throws {
        let model = try POYOModel(path: TickRunnerTests.modelPath)
        var configuration = DecoderConfiguration(model: TickRunnerTests.modelPath, session: "perich/c_20131003")
        configuration.unitPrefix = "perich/c_20131003/unit_"
        let binding = try SessionBinding(configuration: configuration, model: model.description)
        let counters = DecoderCounters()
        let quality = QualityMonitor()
        quality.configure(binding: binding, windowSeconds: 30)
        let ingest = IngestProcessor(binding: binding, ring: SpikeRing(capacity: 1024), counters: counters, source: nil, quality: quality)
        func send(_ frames: [[UInt8]]) -> IngestProcessor.Outcome {
            MultipartFrames(frames).withFrames { ingest.process(frames: $0, receivedAt: 1) }
        }
        // Before the source is known: another source's.
        #expect(send(behaviour(sequence: 0, times: [1])).otherSource == 7)
        _ = send(SpikeBatchEncoder.watermark(sourceID: 7, sequence: 0, tickRate: Self.rate, watermark: 0))
        #expect(send(behaviour(sequence: 0, times: [10, 20])).rejection == nil)
        #expect(send(behaviour(sequence: 0 + 0, times: [30])).rejection == nil)  // 0 restarts the count
        #expect(send(behaviour(sequence: 3, times: [40])).missedBehaviour == 2)
        #expect(send(behaviour(sequence: 3, times: [50])).rejection == .duplicateSequence)
        #expect(send(behaviour(sequence: 4, rate: 1000, times: [60])).rejection == .tickRateChanged)  // 4 not used up
        #expect(send(behaviour(source: 8, sequence: 4, times: [70])).otherSource == 8)
        #expect(send(behaviour("grip", sequence: 4, times: [80, 90], dimension: 1)).unusedBehaviour == 2)
        #expect(send(behaviour(sequence: 5, times: [40, 100])).unusedBehaviour == 1)  // 40 is not after 40
        #expect(counters.behaviourAccepted.value == 5)
        #expect(counters.behaviourMissed.value == 2)
        #expect(counters.behaviourUnused.value == 3)
        #expect(counters.rejected(.duplicateSequence) == 1 && counters.rejected(.tickRateChanged) == 1)
        #expect(counters.otherSource.value == 2)
        #expect(counters.received.value == counters.accepted.value + counters.rejectionCounts.reduce(0, +) + counters.otherSource.value)
        // Decodes at 15 and 95 pair with the behaviour interpolated there (values t, t + 1).
        let header = OutputHeader(
            outputCount: 2, dimension: 2, tickSequence: 0, tickRate: Self.rate, windowStart: 0, windowEnd: 100,
            stages: StageTimestamps(received: 0, windowBuilt: 0, forwardDone: 0, published: 0), hasRawValues: false)
        quality.addDecodes(OutputMessage(readout: "cursor_velocity_2d", header: header, timestamps: [15, 95], values: [15, 16, 95, 96], rawValues: nil))
        let entries = quality.snapshot()
        #expect(entries.count == 1 && entries[0].samples == 2 && entries[0].value == 1)
    }

    @Test func aSwitchContinuesTheTicksAndDecodesLikeARunnerStartedOnTheNewSession() throws {
        let rate = Self.rate
        func binding(session: String, model: POYOModel) throws -> SessionBinding {
            var configuration = DecoderConfiguration(model: TickRunnerTests.modelPath, session: session)
            configuration.unitPrefix = "\(session)/unit_"
            configuration.hop = 0.1
            return try SessionBinding(configuration: configuration, model: model.description)
        }
        let model = try POYOModel(path: TickRunnerTests.modelPath)
        let old = try binding(session: "perich/c_20131003", model: model)
        let newModel = try POYOModel(path: TickRunnerTests.modelPath)
        let new = try binding(session: "perich/m_20150610", model: newModel)
        newModel.prepare(units: new.units.map(\.row))
        let spikes = TickRunnerTests.spikes(seconds: 3, seed: 4)

        func pipeline(_ binding: SessionBinding, _ model: POYOModel) -> (IngestProcessor, TickRunner) {
            let ring = SpikeRing(capacity: 1 << 16)
            let counters = DecoderCounters()
            return (IngestProcessor(binding: binding, ring: ring, counters: counters, source: 7), TickRunner(model: model, binding: binding, ring: ring, counters: counters))
        }
        // Runs 100 ms batches from `from` to `to` seconds, returning the outputs by tick.
        func run(_ ingest: IngestProcessor, _ runner: TickRunner, from: Int, to: Int, sequence: inout UInt64, switchAt: Int? = nil) -> [Int64: [Float]] {
            var outputs: [Int64: [Float]] = [:]
            for step in from..<to {
                if step == switchAt { ingest.rebind(new) }
                let start = Int64(step) * Int64(rate) / 10, end = start + Int64(rate) / 10
                let batch = spikes.filter { $0.time >= start && $0.time < end }
                MultipartFrames(SpikeBatchEncoder.spikeBatch(sourceID: 7, sequence: sequence, tickRate: rate, events: batch, watermark: end - 1))
                    .withFrames { _ = ingest.process(frames: $0, receivedAt: 1) }
                sequence += 1
                while true {  // as the scheduler: ticks due before the switch, the switch, then on
                    runner.drain()
                    while let due = runner.dueTick() {
                        var failure: ForwardError?
                        if let messages = runner.run(due, error: &failure) { outputs[due.tick] = messages[0].values }
                    }
                    guard runner.reachedSwitch else { break }
                    runner.switchTo(model: newModel, binding: new, publishRawValues: false)
                }
            }
            return outputs
        }
        var sequence: UInt64 = 0
        let (ingest, runner) = pipeline(old, model)
        let switched = run(ingest, runner, from: 0, to: 30, sequence: &sequence, switchAt: 15)
        // Every tick from the first (after 1.0 s of data) to 3.0 s, none lost at the switch (1.5 s).
        let second = Int64(rate), hop: Int64 = Int64(rate) / 10
        let first = try #require(switched.keys.min())
        #expect(first <= second + hop)
        let expectedTicks: [Int64] = Array(stride(from: first, through: 3 * second, by: Int(hop)))
        let ticks: [Int64] = switched.keys.sorted()
        #expect(ticks == expectedTicks)
        // From 2.5 s, the windows lie wholly after the switch: equal to a runner on the new session from the start.
        var freshSequence: UInt64 = 0
        let (freshIngest, freshRunner) = pipeline(new, newModel)
        let fresh = run(freshIngest, freshRunner, from: 0, to: 30, sequence: &freshSequence)
        let lastTicks: [Int64] = Array(stride(from: 25 * hop, through: 3 * second, by: Int(hop)))
        for tick in lastTicks {
            #expect(switched[tick] == fresh[tick], "tick \(tick)")
        }
        // Before the switch, the old session's decodes differ from the new one's.
        #expect(switched[first] != nil && switched[first] != fresh[first])
    }
}
