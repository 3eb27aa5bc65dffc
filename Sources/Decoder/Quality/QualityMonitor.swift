import Foundation
import SpikeWire

/// The daemon's live decoding quality: behaviour arrives on the ingest thread, decodes on the
/// scheduler thread, and the status (scheduler) reads R^2 or accuracy per readout over the last
/// `quality_window` seconds of output time. One lock, held for a few microseconds per message;
/// no allocation after `configure` (which runs at load and at a configuration switch).
public final class QualityMonitor: @unchecked Sendable {
    private let lock = NSLock()
    private var scores: [ReadoutScore] = []
    /// Which readouts have received behaviour (only those get a status entry).
    private var heard: [Bool] = []
    private var windowSeconds: Double = 30
    private var tickRate: UInt64?

    public init() {}

    /// Sets the readouts scored (forgetting everything before): each readout's pair ring holds a
    /// window of outputs at `hop` seconds with `outputsPerTick` queries.
    public func configure(binding: SessionBinding, windowSeconds: Double) {
        let ticks = Int((windowSeconds / binding.hop).rounded(.up))
        let capacity = max(16, ticks * binding.outputOffsets.count + 64)
        let fresh = binding.readouts.map {
            ReadoutScore(spec: $0.name, dimension: $0.dim, multinomial: $0.type == "multinomial", pairCapacity: capacity)
        }
        lock.lock()
        scores = fresh
        heard = Array(repeating: false, count: fresh.count)
        self.windowSeconds = windowSeconds
        lock.unlock()
    }

    /// Adds the samples of a validated behaviour message (frames as `BehaviourHeader.decode`
    /// accepted them); returns how many samples were not used.
    public func addBehaviour(readout: UnsafeRawBufferPointer, header: BehaviourHeader, frames: UnsafeBufferPointer<UnsafeRawBufferPointer>) -> Int {
        let count = Int(header.sampleCount)
        lock.lock()
        defer { lock.unlock() }
        guard let index = scores.firstIndex(where: { $0.nameBytes.elementsEqual(readout) }),
              Int(header.dimension) == scores[index].behaviourDimension
        else { return count }
        heard[index] = true
        var unused = 0
        let width = Int(header.dimension) * 4
        for row in 0..<count {
            let time = frames[2].loadUnaligned(fromByteOffset: row * 8, as: Int64.self).littleEndian
            if !scores[index].addBehaviour(time: time, values: frames[3], offset: row * width) { unused += 1 }
        }
        return unused
    }

    /// Adds the decodes of one output message (its timestamps and physical values).
    public func addDecodes(_ message: OutputMessage) {
        lock.lock()
        defer { lock.unlock() }
        tickRate = message.header.tickRate
        // (A decode of the configuration before a switch may still come while the new one is scored.)
        guard let index = scores.firstIndex(where: { $0.name == message.readout }), heard[index],
              message.values.count == message.timestamps.count * scores[index].dimension
        else { return }
        scores[index].addDecodes(times: message.timestamps, values: message.values)
    }

    /// One entry per readout that has received behaviour.
    public func snapshot() -> [ReadoutQuality] {
        lock.lock()
        defer { lock.unlock() }
        guard let tickRate else {
            return scores.indices.filter { heard[$0] }.map { ReadoutQuality(readout: scores[$0].name, kind: scores[$0].kind, samples: 0, value: .nan) }
        }
        let window = Int64(min((windowSeconds * Double(tickRate)).rounded(), 9e18))
        var entries: [ReadoutQuality] = []
        for index in scores.indices where heard[index] { entries.append(scores[index].quality(windowTicks: window)) }
        return entries
    }
}
