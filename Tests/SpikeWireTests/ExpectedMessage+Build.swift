import SpikeWire

extension ExpectedMessage {
    /// The message the manifest describes, built with SpikeWire's own types (so encoding it must
    /// give the vector's bytes, and decoding the bytes must give it).
    var wireMessage: WireMessage {
        switch type {
        case "spike_batch", "watermark":
            let times = self.times?.values ?? []
            let units = self.units?.values ?? []
            let header = RigHeader(
                type: type == "watermark" ? .watermark : .spikeBatch, sourceID: sourceId!,
                eventCount: UInt32(times.count), sequence: sequence!, tickRate: tickRate!, watermark: watermark)
            let events = zip(times, units).map { SpikeEvent(time: $0, unit: UInt32($1)) }
            return .rig(header, events: events)
        case "output":
            let count = UInt32(timestamps!.count)
            let stages = StageTimestamps(
                received: self.stages!.received, windowBuilt: self.stages!.windowBuilt,
                forwardDone: self.stages!.forwardDone, published: self.stages!.published, dequeued: self.stages!.dequeued)
            let header = OutputHeader(
                outputCount: count, dimension: dimension!, tickSequence: tickSequence!, tickRate: tickRate!,
                windowStart: windowStart!, windowEnd: windowEnd!, stages: stages, hasRawValues: rawValues != nil)
            return .output(
                OutputMessage(
                    readout: readout!, header: header, timestamps: timestamps!, values: values!, rawValues: rawValues))
        case "behaviour":
            return .behaviour(
                BehaviourMessage(
                    readout: readout!, sourceID: sourceId!, sequence: sequence!, tickRate: tickRate!,
                    timestamps: timestamps!, values: values!, dimension: Int(dimension!)))
        default:
            var header = StatusHeader()
            header.statusSequence = statusSequence!
            header.monotonicNanoseconds = monotonicNs!
            header.received = received!
            header.accepted = accepted!
            header.late = late!
            header.dropped = dropped!
            header.ticksRun = ticksRun!
            header.ticksSkipped = ticksSkipped!
            header.missedMessages = missedMessages!
            header.latencySamples = latencySamples!
            header.latencyP50 = latencyP50Ns!
            header.latencyP90 = latencyP90Ns!
            header.latencyP99 = latencyP99Ns!
            header.latencyMax = latencyMaxNs!
            header.state = state!
            return .status(
                StatusMessage(
                    header: header, model: model!, rejections: rejections!, daemonCounters: daemonCounters!,
                    quality: quality?.map {
                        ReadoutQuality(
                            readout: $0.readout, kind: $0.kind == "r2" ? .rSquared : .accuracy, samples: $0.samples,
                            value: $0.value)
                    }))
        }
    }

    /// The topic suffix of a rig message (`spikes/rig-a` -> `rig-a`).
    var topicSuffix: String {
        guard let topic, let slash = topic.firstIndex(of: "/") else { return "" }
        return String(topic[topic.index(after: slash)...])
    }
}
