import SpikeWire
import Synchronization

/// Everything counted between the socket and the output, shared by the ingest thread, the
/// scheduler and the status publisher (relaxed atomics: each is a monotone count).
/// Nothing received is lost without landing in one of these.
public final class DecoderCounters: @unchecked Sendable {
    /// Rig messages received (accepted + rejected + other source).
    public let received = Atomic<UInt64>(0)
    public let accepted = Atomic<UInt64>(0)
    /// Rejected rig messages, indexed by `WireRejection.rawValue`.
    private let rejections: UnsafeMutablePointer<Atomic<UInt64>>
    private static let reasons = WireRejection.allCases.count
    /// Messages of a rig source this daemon does not decode.
    public let otherSource = Atomic<UInt64>(0)
    /// Rig messages missing according to sequence numbers.
    public let missedMessages = Atomic<UInt64>(0)
    /// Spike events of units the configuration does not map.
    public let unknownUnits = Atomic<UInt64>(0)
    /// Spike events at or before their source's previous watermark (the rig broke its promise),
    /// dropped by the ingest.
    public let late = Atomic<UInt64>(0)
    /// Ring entries (spikes, watermarks) overwritten before the scheduler read them, and spikes
    /// the spike history had no room for (`SpikeHistory.limit`).
    public let dropped = Atomic<UInt64>(0)
    /// Spike events no window holds: before the first window's start, or between windows.
    public let outsideWindows = Atomic<UInt64>(0)
    /// Spike events inserted out of time order (accepted; torch_brain windows are time-sorted).
    public let reordered = Atomic<UInt64>(0)
    public let ticksRun = Atomic<UInt64>(0)
    /// Ticks not run: superseded by a newer ready tick, or unable to meet their deadline.
    public let ticksSkipped = Atomic<UInt64>(0)
    /// Ticks whose forward pass failed (a bad window; the message says why in the log).
    public let ticksFailed = Atomic<UInt64>(0)
    /// Model reloads refused (the file failed to load, or decodes another session).
    public let reloadsFailed = Atomic<UInt64>(0)
    /// Times the decoded source's history was forgotten after its messages kept being rejected.
    public let resynchronizations = Atomic<UInt64>(0)
    /// Behaviour messages accepted (also counted in `accepted`).
    public let behaviourAccepted = Atomic<UInt64>(0)
    /// Behaviour messages missing by sequence number.
    public let behaviourMissed = Atomic<UInt64>(0)
    /// Behaviour samples not scored (see `DaemonCounter.behaviourUnused`).
    public let behaviourUnused = Atomic<UInt64>(0)
    /// Reloads (SIGHUP) applied.
    public let reloads = Atomic<UInt64>(0)
    /// Ticks run that resumed an encoder state prepared between ticks (a part of `ticksRun`).
    public let ticksPrepared = Atomic<UInt64>(0)

    public init() {
        rejections = .allocate(capacity: Self.reasons)
        for i in 0..<Self.reasons { (rejections + i).initialize(to: Atomic(0)) }
    }

    deinit {
        rejections.deinitialize(count: Self.reasons)
        rejections.deallocate()
    }

    public func reject(_ reason: WireRejection) {
        rejections[Int(reason.rawValue)].add(1, ordering: .relaxed)
    }

    public func rejected(_ reason: WireRejection) -> UInt64 {
        rejections[Int(reason.rawValue)].load(ordering: .relaxed)
    }

    /// The daemon counters of a status message, in `DaemonCounter` order.
    public func daemonCounters(captureFailures: UInt64, captureDropped: UInt64) -> [UInt64] {
        [
            unknownUnits.value, otherSource.value, reordered.value, ticksFailed.value, captureFailures,
            reloadsFailed.value, resynchronizations.value, outsideWindows.value, captureDropped,
            behaviourAccepted.value, behaviourMissed.value, behaviourUnused.value, reloads.value,
            ticksPrepared.value,
        ]
    }

    /// Every rejection counter, indexed by reason (the status message's rejection frame).
    public var rejectionCounts: [UInt64] { (0..<Self.reasons).map { rejections[$0].load(ordering: .relaxed) } }
}

extension Atomic where Value == UInt64 {
    @inline(__always)
    public func increment(by amount: UInt64 = 1) { add(amount, ordering: .relaxed) }
    public var value: UInt64 { load(ordering: .relaxed) }
}
