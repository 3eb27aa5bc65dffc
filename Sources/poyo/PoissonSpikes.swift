import Decoder
import Foundation
import POYO

/// Homogeneous Poisson spike trains for `units` units at `rate` Hz over one window,
/// merged in time order: the synthetic load of `poyo bench`.
struct PoissonSpikes {
    let units: Int
    let rate: Double
    let duration: Double
    var generator: SplitMix64

    private(set) var spikeUnits: [Int] = []
    private(set) var spikeTimes: [Double] = []
    private var merged: [(time: Double, unit: Int)] = []

    init(units: Int, rate: Double, duration: Double, seed: UInt64) {
        self.units = units
        self.rate = rate
        self.duration = duration
        generator = SplitMix64(state: seed)
    }

    /// Draws a fresh window of spikes (times in [0, duration), seconds).
    mutating func draw() {
        merged.removeAll(keepingCapacity: true)
        for unit in 0..<units {
            var t = 0.0
            while true {
                t += -Foundation.log(1 - Double.random(in: 0..<1, using: &generator)) / rate
                if t >= duration { break }
                merged.append((t, unit))
            }
        }
        merged.sort { $0.time < $1.time }
        spikeUnits.removeAll(keepingCapacity: true)
        spikeTimes.removeAll(keepingCapacity: true)
        for spike in merged {
            spikeUnits.append(spike.unit)
            spikeTimes.append(spike.time)
        }
    }
}
