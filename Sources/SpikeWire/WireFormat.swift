// The constants of the poyo-rt wire protocol, version 1 (protocol/SPEC.md).

#if _endian(big)
    // Array frames (event times, output values) are the host's memory, sent as is.
    #error("SpikeWire assumes a little-endian host: the wire format is little-endian.")
#endif

/// What every poyo-rt message starts with in its header frame: `"PYRT"`, a version, a type, flags.
public enum WireFormat {
    /// The four bytes every header frame starts with: ASCII `PYRT`.
    public static let magic: (UInt8, UInt8, UInt8, UInt8) = (0x50, 0x59, 0x52, 0x54)
    /// The protocol version this module speaks; a message with another one is rejected.
    public static let version: UInt8 = 1
    /// Size of the part every header shares: magic (4), version (1), type (1), flags (2).
    public static let preambleSize = 8
    /// Longest topic frame, in bytes.
    public static let maxTopicSize = 255
    /// Most spike events one batch may carry (a 1000-unit rig at 30 Hz emits 30 per millisecond).
    public static let maxEventsPerBatch = 65_536
    /// Most output timestamps one output message may carry.
    public static let maxOutputCount = 65_536
    /// Largest output dimension.
    public static let maxOutputDimension = 1_024
    /// Longest model description in a status message, in bytes of UTF-8.
    public static let maxModelNameSize = 4_096
    /// Most rejection counters a status message may carry.
    public static let maxRejectionCounters = 256
    /// Most daemon counters a status message may carry (`DaemonCounter`, and later ones).
    public static let maxDaemonCounters = 256
    /// Size of one spike event on the wire: an `i64` time and a `u32` unit, in two arrays.
    public static let bytesPerEvent = 12
    /// The largest frame a rig may send (the payload of a maximum batch): a limit for the
    /// ingest socket's maximum message size.
    public static let maxRigFrameSize = maxEventsPerBatch * bytesPerEvent
}

/// The type byte of a message (offset 5 of the header frame).
public enum MessageType: UInt8, CaseIterable, Sendable {
    /// Rig -> daemon: spike events of one source, optionally with a watermark.
    case spikeBatch = 1
    /// Rig -> daemon: every spike of the source up to a time has been sent (heartbeat).
    case watermark = 2
    /// Daemon -> subscribers: one tick's decoded output of one readout.
    case output = 3
    /// Daemon -> subscribers: periodic counters and latency percentiles.
    case status = 4
    /// Rig or task software -> daemon: the true behaviour of one readout (live scoring, capture).
    case behaviour = 5

    /// The topic prefix of this type: the topic frame is the prefix, or the prefix, `/` and a suffix.
    public var topicPrefix: String { topicPrefixBytes.description }

    /// The prefix as static bytes: checking a topic touches no `String`.
    var topicPrefixBytes: StaticString {
        switch self {
        case .spikeBatch: "spikes"
        case .watermark: "watermark"
        case .output: "output"
        case .status: "status"
        case .behaviour: "behaviour"
        }
    }

    /// Size of the header frame of this type, in bytes.
    public var headerSize: Int {
        switch self {
        case .spikeBatch, .watermark: RigHeader.size
        case .output: OutputHeader.size
        case .status: StatusHeader.size
        case .behaviour: BehaviourHeader.size
        }
    }
}
