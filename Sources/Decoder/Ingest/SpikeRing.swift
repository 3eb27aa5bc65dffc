import Synchronization

/// One entry of the ingest ring: a spike, or a watermark of its source.
public enum RingEntry: Equatable, Sendable {
    /// A spike of the unit at `unit` in the session's unit list, at `time` ticks of the source clock.
    case spike(time: Int64, unit: Int32)
    /// Every spike up to and including `time` ticks has been sent; it arrived at `receivedAt`
    /// (CLOCK_MONOTONIC ns).
    case watermark(time: Int64, receivedAt: UInt64)
    /// The source (re)started with a clock of `tickRate` Hz: earlier state no longer applies.
    case sourceStarted(tickRate: UInt64)
    /// The ingest switched to a new configuration (SIGHUP): spikes before this entry are in the
    /// old session's unit positions, after it in the new one's. The scheduler swaps here.
    case configurationSwitched
}

/// The lock-free single-producer/single-consumer ring between the ingest thread (producer)
/// and the scheduler (consumer).
///
/// Bounded, and never blocking the producer: when the consumer falls a whole ring behind, the
/// producer overwrites the oldest entries, and the consumer counts them as dropped when it gets
/// there (a real-time decoder wants the newest data). Each slot carries the position it holds
/// (a per-slot sequence lock), so an entry overwritten while being read is detected and counted,
/// never returned torn. Capacity is a power of two; positions wrap with `&+` and `& mask`.
public final class SpikeRing: @unchecked Sendable {
    private let mask: Int
    /// Per slot: the position + 1 it holds once complete (0 while being written), then two payload words.
    private let slots: UnsafeMutablePointer<Atomic<UInt64>>
    private let head = Atomic<Int>(0)  // next position the producer writes
    private var tail = 0  // next position the consumer reads (consumer only)
    public let capacity: Int

    private static let watermarkBit: UInt64 = 1 << 63
    private static let sourceStartedBit: UInt64 = 1 << 62
    private static let switchedBit: UInt64 = 1 << 61

    public init(capacity requested: Int) {
        var capacity = 1
        while capacity < max(requested, 2) { capacity <<= 1 }
        self.capacity = capacity
        mask = capacity - 1
        slots = .allocate(capacity: 3 * capacity)
        for i in 0..<(3 * capacity) { (slots + i).initialize(to: Atomic(0)) }
    }

    deinit {
        slots.deinitialize(count: 3 * capacity)
        slots.deallocate()
    }

    /// Producer side: appends an entry, overwriting the oldest one when the ring is full.
    public func push(_ entry: RingEntry) {
        let position = head.load(ordering: .relaxed)
        let slot = slots + 3 &* (position & mask)
        let (first, second): (UInt64, UInt64)
        switch entry {
        case .spike(let time, let unit):
            (first, second) = (UInt64(bitPattern: time), UInt64(UInt32(bitPattern: unit)))
        case .watermark(let time, let receivedAt):
            (first, second) = (UInt64(bitPattern: time), Self.watermarkBit | (receivedAt & ~Self.watermarkBit))
        case .sourceStarted(let tickRate):
            (first, second) = (tickRate, Self.sourceStartedBit)
        case .configurationSwitched:
            (first, second) = (0, Self.switchedBit)
        }
        slot[0].store(0, ordering: .relaxed)
        atomicMemoryFence(ordering: .releasing)
        slot[1].store(first, ordering: .relaxed)
        slot[2].store(second, ordering: .relaxed)
        slot[0].store(UInt64(position &+ 1), ordering: .releasing)
        head.store(position &+ 1, ordering: .releasing)
    }

    /// Consumer side: the next entry, or nil when the ring is empty. `dropped` grows by the
    /// entries the producer overwrote before they could be read.
    public func pop(dropped: inout UInt64) -> RingEntry? {
        while true {
            let written = head.load(ordering: .acquiring)
            if written &- tail > capacity {
                dropped &+= UInt64(written &- capacity &- tail)
                tail = written &- capacity
            }
            guard tail != written else { return nil }
            let slot = slots + 3 &* (tail & mask)
            let stamp = slot[0].load(ordering: .acquiring)
            let first = slot[1].load(ordering: .relaxed)
            let second = slot[2].load(ordering: .relaxed)
            atomicMemoryFence(ordering: .acquiring)
            let position = tail
            tail &+= 1
            guard stamp == UInt64(position &+ 1), slot[0].load(ordering: .relaxed) == stamp else {
                dropped &+= 1  // overwritten while we read it
                continue
            }
            if second == Self.sourceStartedBit {
                return .sourceStarted(tickRate: first)
            }
            if second == Self.switchedBit {
                return .configurationSwitched
            }
            if second & Self.watermarkBit != 0 {
                return .watermark(time: Int64(bitPattern: first), receivedAt: second & ~Self.watermarkBit)
            }
            return .spike(time: Int64(bitPattern: first), unit: Int32(bitPattern: UInt32(truncatingIfNeeded: second)))
        }
    }
}
