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
                type: type == "watermark" ? .watermark : .spikeBatch, sourceID: source_id!,
                eventCount: UInt32(times.count), sequence: sequence!, tickRate: tick_rate!, watermark: watermark)
            let events = zip(times, units).map { SpikeEvent(time: $0, unit: UInt32($1)) }
            return .rig(header, events: events)
        case "output":
            let count = UInt32(timestamps!.count)
            let stages = StageTimestamps(
                received: self.stages!.received, windowBuilt: self.stages!.window_built,
                forwardDone: self.stages!.forward_done, published: self.stages!.published)
            let header = OutputHeader(
                outputCount: count, dimension: dimension!, tickSequence: tick_sequence!, tickRate: tick_rate!,
                windowStart: window_start!, windowEnd: window_end!, stages: stages, hasRawValues: raw_values != nil)
            return .output(OutputMessage(readout: readout!, header: header, timestamps: timestamps!, values: values!, rawValues: raw_values))
        default:
            var header = StatusHeader()
            header.statusSequence = status_sequence!
            header.monotonicNanoseconds = monotonic_ns!
            header.received = received!
            header.accepted = accepted!
            header.late = late!
            header.dropped = dropped!
            header.ticksRun = ticks_run!
            header.ticksSkipped = ticks_skipped!
            header.missedMessages = missed_messages!
            header.latencySamples = latency_samples!
            header.latencyP50 = latency_p50_ns!
            header.latencyP90 = latency_p90_ns!
            header.latencyP99 = latency_p99_ns!
            header.latencyMax = latency_max_ns!
            return .status(StatusMessage(header: header, model: model!, rejections: rejections!))
        }
    }

    /// The topic suffix of a rig message (`spikes/rig-a` -> `rig-a`).
    var topicSuffix: String {
        guard let topic, let slash = topic.firstIndex(of: "/") else { return "" }
        return String(topic[topic.index(after: slash)...])
    }
}
