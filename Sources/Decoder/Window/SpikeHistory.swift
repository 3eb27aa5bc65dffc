/// The spikes the scheduler still needs, in time order: a deque of (time in source ticks,
/// unit position in the session's unit list) that windows read by binary search.
///
/// Spikes usually arrive in time order and are appended; one that arrives out of order is
/// inserted at its place (torch_brain's windows are time-sorted), which is cheap because late
/// spikes are late by little. Storage grows by doubling and never shrinks, so a session that
/// has seen its busiest second allocates nothing more.
///
/// It holds at most `limit` spikes (a window and what came after it, until the next tick evicts
/// the older ones): a rig, or a hostile peer, that sends spikes without letting windows complete
/// cannot make it, or the window the model is given, grow without bound.
public struct SpikeHistory {
    /// The default `limit`: 131 072 spikes, a 1000-unit array firing at 100 Hz for 1.3 s.
    public static let defaultLimit = 1 << 17
    private var times: [Int64] = []
    private var units: [Int32] = []
    private var start = 0  // index of the oldest kept spike
    public let limit: Int

    /// What became of an inserted spike.
    public enum Insertion: Equatable, Sendable {
        case appended
        /// Out of order: inserted before later spikes.
        case reordered
        /// Not kept: the history holds `limit` spikes already.
        case full
    }

    public init(capacity: Int = 1 << 16, limit: Int = SpikeHistory.defaultLimit) {
        self.limit = limit
        times.reserveCapacity(min(capacity, limit))
        units.reserveCapacity(min(capacity, limit))
    }

    public var count: Int { times.count - start }
    public var latestTime: Int64? { count > 0 ? times[times.count - 1] : nil }

    /// Forgets every spike, keeping the storage.
    public mutating func removeAll() {
        times.removeAll(keepingCapacity: true)
        units.removeAll(keepingCapacity: true)
        start = 0
    }

    /// Adds a spike, unless the history is full.
    @discardableResult
    public mutating func insert(time: Int64, unit: Int32) -> Insertion {
        guard count < limit else { return .full }
        if start > 0 && times.count == times.capacity { compact() }
        if count == 0 || time >= times[times.count - 1] {
            times.append(time)
            units.append(unit)
            return .appended
        }
        // After every spike at or before `time`: equal times keep their arrival order.
        let index = firstIndex(after: time)
        times.insert(time, at: index)
        units.insert(unit, at: index)
        return .reordered
    }

    /// Forgets every spike earlier than `time`; returns how many.
    @discardableResult
    public mutating func evict(before time: Int64) -> Int {
        let end = firstIndex(atOrAfter: time)
        let evicted = end - start
        start = end
        // Compact once the dead prefix is large, keeping capacity.
        if start > 4096 && start * 2 > times.count { compact() }
        return evicted
    }

    private mutating func compact() {
        times.removeSubrange(0..<start)
        units.removeSubrange(0..<start)
        start = 0
    }

    /// The spikes with `from <= time < to`, as index range into `time(at:)` / `unit(at:)`.
    public func range(from: Int64, to: Int64) -> Range<Int> {
        firstIndex(atOrAfter: from)..<firstIndex(atOrAfter: to)
    }

    /// Renumbers the units after a configuration switch: `positions[old]` is the unit's position
    /// in the new session's unit list, or -1 when the new configuration does not map it (its
    /// spikes are forgotten). In place, allocation-free.
    public mutating func remap(_ positions: [Int32]) {
        var kept = start
        for index in start..<times.count {
            let old = Int(units[index])
            let new = old < positions.count ? positions[old] : -1
            guard new >= 0 else { continue }
            times[kept] = times[index]
            units[kept] = new
            kept += 1
        }
        times.removeSubrange(kept...)
        units.removeSubrange(kept...)
    }

    public func time(at index: Int) -> Int64 { times[index] }
    public func unit(at index: Int) -> Int32 { units[index] }

    private func firstIndex(atOrAfter time: Int64) -> Int {
        var low = start, high = times.count
        while low < high {
            let mid = (low + high) / 2
            if times[mid] < time { low = mid + 1 } else { high = mid }
        }
        return low
    }

    private func firstIndex(after time: Int64) -> Int {
        var low = start, high = times.count
        while low < high {
            let mid = (low + high) / 2
            if times[mid] <= time { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
