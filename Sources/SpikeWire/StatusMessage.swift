/// A decoded status message with its model description, rejection counters and daemon counters.
public struct StatusMessage: Equatable, Sendable {
    public var header: StatusHeader
    /// What model the daemon runs (name, kind, file hash): free UTF-8, at most 4096 bytes.
    public var model: String
    /// Rejected rig messages by reason: entry `i` counts `WireRejection(rawValue: i)`.
    /// A newer daemon may send more entries than this side has names for.
    public var rejections: [UInt64]
    /// The daemon's own counters: entry `i` counts `DaemonCounter(rawValue: i)`.
    /// A newer daemon may send more entries than this side has names for.
    public var daemonCounters: [UInt64]
    /// Live decoding quality per readout (frame 5); nil when the sender sent no quality frame
    /// (an older daemon), empty when no readout has received behaviour.
    public var quality: [ReadoutQuality]?

    public init(
        header: StatusHeader, model: String, rejections: [UInt64], daemonCounters: [UInt64], quality: [ReadoutQuality]? = nil
    ) {
        precondition(model.utf8.count <= WireFormat.maxModelNameSize, "model description longer than 4096 bytes")
        precondition(rejections.count <= WireFormat.maxRejectionCounters, "more than 256 rejection counters")
        precondition(daemonCounters.count <= WireFormat.maxDaemonCounters, "more than 256 daemon counters")
        self.header = header
        self.header.rejectionCount = UInt32(rejections.count)
        self.model = model
        self.rejections = rejections
        self.daemonCounters = daemonCounters
        precondition((quality?.count ?? 0) <= ReadoutQuality.maxEntries, "more than 256 quality entries")
        self.quality = quality
    }

    /// The count of rejections for `reason` (0 when the sender had no counter for it).
    public func rejected(_ reason: WireRejection) -> UInt64 {
        Int(reason.rawValue) < rejections.count ? rejections[Int(reason.rawValue)] : 0
    }

    /// The daemon's count of `counter` (0 when the sender had no counter for it).
    public func count(_ counter: DaemonCounter) -> UInt64 {
        counter.rawValue < daemonCounters.count ? daemonCounters[counter.rawValue] : 0
    }

    /// The frames of this message.
    public var frames: [[UInt8]] {
        var header = [UInt8](repeating: 0, count: StatusHeader.size)
        header.withUnsafeMutableBytes { self.header.encode(into: $0) }
        var frames = [
            Topic.bytes(for: .status), header, Array(model.utf8), rejections.littleEndianBytes,
            daemonCounters.littleEndianBytes,
        ]
        if let quality { frames.append(ReadoutQuality.frame(quality)) }
        return frames
    }

    /// Decodes and validates a status message.
    public init(frames: UnsafeBufferPointer<UnsafeRawBufferPointer>) throws(WireRejection) {
        header = try StatusHeader.decode(frames: frames)
        model = String(decoding: frames[2], as: UTF8.self)
        rejections = frames[3].littleEndianArray(of: UInt64.self)
        daemonCounters = frames[4].littleEndianArray(of: UInt64.self)
        quality = frames.count > 5 ? try ReadoutQuality.entries(of: frames[5], decode: true) : nil
    }
}

/// The daemon's own counters in a status message (frame 4): the value is the entry's index.
/// New counters are only ever appended.
public enum DaemonCounter: Int, CaseIterable, Sendable {
    /// Spike events of rig units the configuration does not map.
    case unknownUnits = 0
    /// Rig messages of a source the daemon does not decode.
    case otherSource = 1
    /// Spike events inserted out of time order.
    case reordered = 2
    /// Ticks whose forward pass refused the window.
    case ticksFailed = 3
    /// Capture-log writes that failed.
    case captureFailures = 4
    /// Model reloads (SIGHUP) refused: the file failed to load or decodes another session.
    case reloadsFailed = 5
    /// Times a rig source's history was forgotten after its messages kept being rejected.
    case resynchronizations = 6
    /// Spike events no window holds: before the first window's start (the daemon starts decoding
    /// one whole window after the first data), or between windows when the hop is longer than one.
    case outsideWindows = 7
    /// Capture-log records not written because the writer fell behind by more than its buffer.
    case captureDropped = 8
    /// Behaviour messages accepted (a part of `accepted`).
    case behaviourAccepted = 9
    /// Behaviour messages missing by their sequence numbers.
    case behaviourMissed = 10
    /// Behaviour samples not scored: a readout not decoded or of another dimension, a sample not
    /// after its readout's previous one, a non-finite value, or older than the decodes kept.
    case behaviourUnused = 11
    /// Reloads (SIGHUP) applied: a model reloaded, or a configuration switched to (refused ones
    /// are `reloads_failed`).
    case reloads = 12
    /// Ticks run whose encoder resumed the state prepared between ticks (`encode_ahead`): a part
    /// of `ticks_run`.
    case ticksPrepared = 13

    /// The name used in JSON and the Python client (`DAEMON_COUNTERS`): `snake_case`.
    public var name: String {
        switch self {
        case .unknownUnits: "unknown_units"
        case .otherSource: "other_source"
        case .reordered: "reordered"
        case .ticksFailed: "ticks_failed"
        case .captureFailures: "capture_failures"
        case .reloadsFailed: "reloads_failed"
        case .resynchronizations: "resynchronizations"
        case .outsideWindows: "outside_windows"
        case .captureDropped: "capture_dropped"
        case .behaviourAccepted: "behaviour_accepted"
        case .behaviourMissed: "behaviour_missed"
        case .behaviourUnused: "behaviour_unused"
        case .reloads: "reloads"
        case .ticksPrepared: "ticks_prepared"
        }
    }
}
