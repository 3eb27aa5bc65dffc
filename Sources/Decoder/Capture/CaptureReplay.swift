import Foundation
import POYO
import SpikeWire

/// Replays a capture log through the same pipeline the live run used (ingest processor, ring,
/// tick runner), offline and deterministically, and compares every output with the one the
/// live run published. Ticks the live run skipped are skipped here too.
public struct CaptureReplay {
    public struct Result: Sendable {
        public var ticksCompared = 0
        public var ticksOnlyLive = 0
        public var mismatches = 0
        /// Largest |replayed - published| over every value compared.
        public var maxDifference: Float = 0
        public var outputs: [OutputMessage] = []
    }

    let records: [CaptureRecord]
    let modelOverride: String?
    /// The model file of the run's first session record (the one `--model` replaces).
    let firstModelPath: String?
    /// How the log's readable part ends: a log cut inside a record (or with a damaged one) is
    /// replayed up to its last complete record, and says so here.
    public let end: CaptureReader.End
    /// `CaptureReader.endDescription`: nil for a complete log.
    public let endDescription: String?
    /// The complete records read (and replayed).
    public var recordCount: Int { records.count }

    public init(path: String, modelOverride: String? = nil) throws(ConfigurationError) {
        let reader = try CaptureReader(path: path)
        records = reader.records
        end = reader.end
        endDescription = reader.endDescription
        self.modelOverride = modelOverride
        if case .session(_, let identity, _) = records.first { firstModelPath = identity.path } else { firstModelPath = nil }
        guard case .session = records.first else {
            if records.isEmpty, let cut = reader.endDescription {
                throw ConfigurationError("capture log \(path) \(cut), before any complete session record: nothing to replay")
            }
            throw ConfigurationError("capture log \(path): does not start with a session record")
        }
    }

    public func run() throws -> Result {
        // Outputs the live run published, by (tick sequence, readout).
        var published: [String: OutputMessage] = [:]
        for case .published(let frames, _) in records {
            let owned = MultipartFrames(frames)
            if let message = try? owned.withFrames({ (frames) throws(WireRejection) in try OutputMessage(frames: frames) }) {
                published["\(message.header.tickSequence)/\(message.readout)"] = message
            }
        }
        var result = Result()
        var runner: TickRunner?
        var processor: IngestProcessor?
        var pending: (POYOModel, SessionBinding, Bool)?
        let counters = DecoderCounters()

        // Runs what the ring completes, as the live scheduler did: ticks due before a switch
        // with the old model, then the switch, then on.
        func runDueTicks(_ runner: TickRunner) {
            repeat {
                runner.drain()
                while let due = runner.dueTick() {
                    let live = runner.binding.readouts.compactMap { published["\(due.sequence)/\($0.name)"] }
                    guard !live.isEmpty else {
                        runner.skip(due)
                        continue
                    }
                    var failure: ForwardError?
                    guard let messages = runner.run(due, error: &failure) else {
                        result.mismatches += 1
                        continue
                    }
                    result.ticksCompared += 1
                    for message in messages {
                        result.outputs.append(message)
                        guard let reference = published["\(due.sequence)/\(message.readout)"],
                              reference.timestamps == message.timestamps, reference.values.count == message.values.count
                        else {
                            result.mismatches += 1
                            continue
                        }
                        let difference = zip(reference.values, message.values).map { abs($0 - $1) }.max() ?? 0
                        result.maxDifference = max(result.maxDifference, difference)
                        if reference.values != message.values { result.mismatches += 1 }
                    }
                }
                guard runner.reachedSwitch else { return }
                if let (model, binding, raw) = pending {
                    runner.switchTo(model: model, binding: binding, publishRawValues: raw)
                    pending = nil
                } else {
                    runner.ignoreSwitch()
                }
            } while true
        }

        for record in records {
            switch record {
            case .session(let yaml, let identity, _):
                var configuration = try DecoderConfiguration.parse(yaml: yaml)
                // --model replaces the first model; a switch to another file replays with that file.
                if runner == nil || modelOverride != nil && identity.path == firstModelPath {
                    configuration.model = modelOverride ?? identity.path
                } else {
                    configuration.model = identity.path
                }
                let found = try ModelIdentity(file: configuration.model)
                guard configuration.model != identity.path || (found.size == identity.size && found.crc32 == identity.crc32) else {
                    throw ConfigurationError("model file \(configuration.model) is not the one the run used (\(identity)); pass --model to replay with another")
                }
                // The model's threads split rows and heads, never a sum: any count gives the same bits.
                let (model, binding, _) = try DecoderService.loadModel(configuration: configuration)
                if let runner, let processor {
                    pending = (model, binding, configuration.publishRawValues)
                    processor.rebind(binding)
                    runDueTicks(runner)
                } else {
                    let ring = SpikeRing(capacity: configuration.ringCapacity)
                    processor = IngestProcessor(binding: binding, ring: ring, counters: counters, source: configuration.source)
                    runner = TickRunner(model: model, binding: binding, ring: ring, counters: counters, publishRawValues: configuration.publishRawValues)
                }
            case .received(let frames, let at):
                guard let processor, let runner else { continue }
                MultipartFrames(frames).withFrames { _ = processor.process(frames: $0, receivedAt: at) }
                runDueTicks(runner)
            case .published:
                continue
            }
        }
        result.ticksOnlyLive = Set(published.keys.map { $0.split(separator: "/").first! }).count - result.ticksCompared
        return result
    }
}
