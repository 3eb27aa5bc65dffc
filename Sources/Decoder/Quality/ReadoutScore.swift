import SpikeWire

/// One readout's live scoring: the behaviour received (a ring of samples), the decodes waiting
/// for behaviour past them, and the decode/behaviour pairs of the quality window (a ring).
/// Every buffer is sized when the readout is configured; adding samples and decodes allocates nothing.
///
/// Alignment: a decode at output time t is paired with the behaviour at t, linearly interpolated
/// between the last sample at or before t and the first after it (continuous readouts), or the
/// last sample at or before t (multinomial: a class index is not interpolated). A decode waits
/// until a behaviour sample at or after t has arrived; one earlier than every sample kept is dropped.
struct ReadoutScore {
    let name: String
    let nameBytes: [UInt8]
    /// Values per decode (the readout's dimension; classes for a multinomial readout).
    let dimension: Int
    /// Values per behaviour sample: the dimension, or 1 (the class index) for a multinomial readout.
    let behaviourDimension: Int
    let kind: ReadoutQuality.Kind

    // Behaviour samples: times (ticks) and values, a ring of `behaviourMask + 1`.
    private var behaviourTimes: [Int64]
    private var behaviourValues: [Float]
    private let behaviourMask: Int
    private var behaviourEnd = 0  // next slot written (monotone; slot = index & mask)
    private var behaviourCount = 0

    // Decodes waiting for behaviour past them, oldest first.
    private var pendingTimes: [Int64]
    private var pendingValues: [Float]
    private let pendingMask: Int
    private var pendingStart = 0
    private var pendingCount = 0

    // Pairs: time, decode (dimension values), truth (behaviourDimension values).
    private var pairTimes: [Int64]
    private var pairDecoded: [Float]
    private var pairTruth: [Double]
    private let pairMask: Int
    private var pairEnd = 0
    private var pairCount = 0
    // Accumulators of `quality` (per dimension), allocated once.
    private var sums: [Double]
    private var squares: [Double]
    private var residuals: [Double]

    init(spec name: String, dimension: Int, multinomial: Bool, pairCapacity: Int, behaviourCapacity: Int = 4096, pendingCapacity: Int = 1024) {
        self.name = name
        nameBytes = Array(name.utf8)
        self.dimension = dimension
        kind = multinomial ? .accuracy : .rSquared
        behaviourDimension = multinomial ? 1 : dimension
        func powerOfTwo(_ n: Int) -> Int {
            var c = 1
            while c < n { c <<= 1 }
            return c
        }
        let b = powerOfTwo(behaviourCapacity), p = powerOfTwo(pendingCapacity), q = powerOfTwo(pairCapacity)
        behaviourMask = b - 1
        pendingMask = p - 1
        pairMask = q - 1
        behaviourTimes = .init(repeating: 0, count: b)
        behaviourValues = .init(repeating: 0, count: b * behaviourDimension)
        pendingTimes = .init(repeating: 0, count: p)
        pendingValues = .init(repeating: 0, count: p * dimension)
        pairTimes = .init(repeating: 0, count: q)
        pairDecoded = .init(repeating: 0, count: q * dimension)
        pairTruth = .init(repeating: 0, count: q * behaviourDimension)
        sums = .init(repeating: 0, count: behaviourDimension)
        squares = .init(repeating: 0, count: behaviourDimension)
        residuals = .init(repeating: 0, count: behaviourDimension)
    }

    var latestBehaviourTime: Int64? { behaviourCount > 0 ? behaviourTimes[(behaviourEnd - 1) & behaviourMask] : nil }

    /// Adds one behaviour sample; false when it is not used (not after the previous sample, or
    /// not finite). Resolves the decodes it completes.
    mutating func addBehaviour(time: Int64, values: UnsafeRawBufferPointer, offset: Int) -> Bool {
        if let latest = latestBehaviourTime, time <= latest { return false }
        let slot = behaviourEnd & behaviourMask
        for d in 0..<behaviourDimension {
            let value = Float(bitPattern: values.loadUnaligned(fromByteOffset: offset + 4 * d, as: UInt32.self).littleEndian)
            guard value.isFinite else { return false }
            behaviourValues[slot * behaviourDimension + d] = value
        }
        behaviourTimes[slot] = time
        behaviourEnd &+= 1
        behaviourCount = min(behaviourCount + 1, behaviourMask + 1)
        resolvePending()
        return true
    }

    /// Adds the decodes of one output: `times.count` rows of `dimension` values (physical units).
    mutating func addDecodes(times: [Int64], values: [Float]) {
        for (row, time) in times.enumerated() {
            if pendingCount == pendingMask + 1 {  // full: the oldest decode will never be scored
                pendingStart &+= 1
                pendingCount -= 1
            }
            let slot = (pendingStart &+ pendingCount) & pendingMask
            pendingTimes[slot] = time
            for d in 0..<dimension { pendingValues[slot * dimension + d] = values[row * dimension + d] }
            pendingCount += 1
        }
        resolvePending()
    }

    private mutating func resolvePending() {
        guard let latest = latestBehaviourTime else { return }
        while pendingCount > 0 {
            let slot = pendingStart & pendingMask
            let time = pendingTimes[slot]
            guard time <= latest else { return }
            pendingStart &+= 1
            pendingCount -= 1
            pair(time: time, decodeSlot: slot)
        }
    }

    /// Pairs the decode in `decodeSlot` with the behaviour at `time` (which is <= the latest sample).
    private mutating func pair(time: Int64, decodeSlot: Int) {
        // The first kept sample after `time` (binary search over the ring, oldest to newest).
        let oldest = behaviourEnd &- behaviourCount
        var low = 0, high = behaviourCount
        while low < high {
            let mid = (low + high) / 2
            if behaviourTimes[(oldest &+ mid) & behaviourMask] <= time { low = mid + 1 } else { high = mid }
        }
        guard low > 0 else { return }  // before every sample kept: cannot be scored
        let before = (oldest &+ low &- 1) & behaviourMask
        let slot = pairEnd & pairMask
        pairTimes[slot] = time
        for d in 0..<dimension { pairDecoded[slot * dimension + d] = pendingValues[decodeSlot * dimension + d] }
        let t0 = behaviourTimes[before]
        if kind == .rSquared, t0 < time, low < behaviourCount {
            let after = (oldest &+ low) & behaviourMask
            let t1 = behaviourTimes[after]
            let fraction = Double(time - t0) / Double(t1 - t0)
            for d in 0..<behaviourDimension {
                let v0 = Double(behaviourValues[before * behaviourDimension + d])
                let v1 = Double(behaviourValues[after * behaviourDimension + d])
                pairTruth[slot * behaviourDimension + d] = v0 + (v1 - v0) * fraction
            }
        } else {
            for d in 0..<behaviourDimension {
                pairTruth[slot * behaviourDimension + d] = Double(behaviourValues[before * behaviourDimension + d])
            }
        }
        pairEnd &+= 1
        pairCount = min(pairCount + 1, pairMask + 1)
    }

    /// R^2 (averaged over dimensions) or accuracy over the pairs whose time is within `windowTicks`
    /// of the newest pair, and how many pairs that is.
    mutating func quality(windowTicks: Int64) -> ReadoutQuality {
        guard pairCount > 0 else { return ReadoutQuality(readout: name, kind: kind, samples: 0, value: .nan) }
        let newest = pairTimes[(pairEnd - 1) & pairMask]
        var count = 0
        for d in 0..<behaviourDimension {
            sums[d] = 0
            squares[d] = 0
            residuals[d] = 0
        }
        var correct = 0
        // Newest first, stopping at the window's start.
        for age in 0..<pairCount {
            let slot = (pairEnd &- 1 &- age) & pairMask
            guard newest - pairTimes[slot] < windowTicks else { break }
            count += 1
            if kind == .accuracy {
                var best = 0
                for d in 1..<max(dimension, 1) where pairDecoded[slot * dimension + d] > pairDecoded[slot * dimension + best] { best = d }
                if dimension > 0, Double(best) == pairTruth[slot] { correct += 1 }
            } else {
                for d in 0..<behaviourDimension {
                    let truth = pairTruth[slot * behaviourDimension + d]
                    let error = truth - Double(pairDecoded[slot * dimension + d])
                    sums[d] += truth
                    residuals[d] += error * error
                }
            }
        }
        if kind == .accuracy {
            return ReadoutQuality(readout: name, kind: kind, samples: UInt64(count), value: Double(correct) / Double(count))
        }
        // SS_tot about the mean, in a second pass (exact where sum-of-squares cancels).
        for age in 0..<count {
            let slot = (pairEnd &- 1 &- age) & pairMask
            for d in 0..<behaviourDimension {
                let centred = pairTruth[slot * behaviourDimension + d] - sums[d] / Double(count)
                squares[d] += centred * centred
            }
        }
        var total = 0.0
        for d in 0..<behaviourDimension { total += squares[d] > 0 ? 1 - residuals[d] / squares[d] : .nan }
        let value = behaviourDimension > 0 ? total / Double(behaviourDimension) : .nan
        return ReadoutQuality(readout: name, kind: kind, samples: UInt64(count), value: value)
    }
}
