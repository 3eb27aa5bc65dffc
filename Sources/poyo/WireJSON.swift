import Foundation
import SpikeWire

/// Messages as JSON objects, one per line, for `poyo wire-listen` (and the Python tests that
/// read it). Field names are the manifest's (protocol/vectors/manifest.json).
enum WireJSON {
    /// Writes `object` and a newline to stdout at once, unbuffered: a reader on a pipe (the
    /// Python tests) sees each line as soon as it is written.
    static func emit(_ object: [String: Any]) {
        var data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        data.append(0x0A)
        FileHandle.standardOutput.write(data)
    }

    static func rig(_ header: RigHeader, events: UnsafeBufferPointer<SpikeEvent>) -> [String: Any] {
        var object: [String: Any] = [
            "type": header.type == .watermark ? "watermark" : "spike_batch",
            "source_id": header.sourceID, "sequence": header.sequence, "tick_rate": header.tickRate,
            "watermark": header.watermark.map { $0 as Any } ?? NSNull(),
        ]
        if header.type == .spikeBatch {
            object["times"] = events.map(\.time)
            object["units"] = events.map(\.unit)
        }
        return object
    }

    static func output(_ message: OutputMessage) -> [String: Any] {
        let h = message.header
        return [
            "type": "output", "readout": message.readout, "tick_sequence": h.tickSequence, "tick_rate": h.tickRate,
            "window_start": h.windowStart, "window_end": h.windowEnd, "dimension": h.dimension,
            "stages": [
                "received": h.stages.received, "window_built": h.stages.windowBuilt,
                "forward_done": h.stages.forwardDone, "published": h.stages.published, "dequeued": h.stages.dequeued,
            ],
            "timestamps": message.timestamps, "values": message.values.map(number),
            "raw_values": message.rawValues.map { $0.map(number) as Any } ?? NSNull(),
        ]
    }

    static func status(_ message: StatusMessage) -> [String: Any] {
        let h = message.header
        var object: [String: Any] = [
            "type": "status", "status_sequence": h.statusSequence, "monotonic_ns": h.monotonicNanoseconds,
            "received": h.received, "accepted": h.accepted, "late": h.late, "dropped": h.dropped,
            "ticks_run": h.ticksRun, "ticks_skipped": h.ticksSkipped, "missed_messages": h.missedMessages,
            "latency_samples": h.latencySamples, "latency_p50_ns": h.latencyP50, "latency_p90_ns": h.latencyP90,
            "latency_p99_ns": h.latencyP99, "latency_max_ns": h.latencyMax, "model": message.model,
            "rejections": message.rejections, "state": h.state, "daemon_counters": message.daemonCounters,
        ]
        object["quality"] = message.quality.map { entries in
            entries.map { entry -> [String: Any] in
                [
                    "readout": entry.readout, "kind": entry.kind == .rSquared ? "r2" : "accuracy",
                    "samples": entry.samples, "value": number(entry.value),
                ]
            } as Any
        } ?? NSNull()
        return object
    }

    static func behaviour(_ message: BehaviourMessage) -> [String: Any] {
        let h = message.header
        return [
            "type": "behaviour", "readout": message.readout, "source_id": h.sourceID, "sequence": h.sequence,
            "tick_rate": h.tickRate, "dimension": h.dimension, "timestamps": message.timestamps,
            "values": message.values.map(number),
        ]
    }

    static func number(_ value: Double) -> Any {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        return value
    }

    /// JSON has no NaN or infinity: those are written as the strings "nan", "inf", "-inf".
    static func number(_ value: Float) -> Any {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        return Double(value)
    }
}
