/// Why a message was rejected: one counter per case, `rawValue` is the counter's index.
///
/// The values are part of the protocol: a status message carries its rejection counters in this
/// order, and the Python client names them the same way. New reasons are only ever appended.
public enum WireRejection: UInt8, Error, CaseIterable, Sendable {
    /// Fewer than two frames, or not the number of frames the message type has.
    case frameCount = 0
    /// The topic frame is empty, too long, not printable ASCII, or does not match the type.
    case badTopic = 1
    /// The header frame is shorter or longer than the type's header.
    case headerSize = 2
    /// The header frame does not start with `PYRT`.
    case badMagic = 3
    /// A protocol version this side does not speak.
    case unknownVersion = 4
    /// A type byte that no version-1 message has.
    case unknownType = 5
    /// A valid type that this receiver does not take (an output sent to the daemon's ingest).
    case unexpectedType = 6
    /// Unknown flag bits or status `state` bits, or a field that must be zero and is not (a rig
    /// header's watermark without its flag).
    case badFlags = 7
    /// More events, outputs, dimensions or status counters than the protocol allows.
    case tooMany = 8
    /// A payload frame whose size disagrees with the counts in the header.
    case payloadSize = 9
    /// A tick rate of zero.
    case badTickRate = 10
    /// A time (event, watermark, window or output) below zero.
    case negativeTime = 11
    /// Event times that go backwards inside one batch.
    case unsortedTimes = 12
    /// A batch whose own watermark is earlier than its last event.
    case watermarkBeforeEvents = 13
    /// A readout or model name that is not valid (empty, too long, not UTF-8).
    case badString = 14
    /// The caller's event buffer is smaller than the batch.
    case bufferTooSmall = 15
    /// A sequence number not newer than the last one seen from this source (duplicate, reordered).
    case duplicateSequence = 16
    /// A batch whose first event is earlier than the last event already accepted from its source.
    case timeWentBackwards = 17
    /// A watermark earlier than the last watermark of its source.
    case watermarkWentBackwards = 18
    /// A source that changed its declared tick rate without restarting (sequence 0).
    case tickRateChanged = 19

    /// The name used in JSON, the Python client and the status counters: `snake_case`.
    public var name: String {
        switch self {
        case .frameCount: "frame_count"
        case .badTopic: "bad_topic"
        case .headerSize: "header_size"
        case .badMagic: "bad_magic"
        case .unknownVersion: "unknown_version"
        case .unknownType: "unknown_type"
        case .unexpectedType: "unexpected_type"
        case .badFlags: "bad_flags"
        case .tooMany: "too_many"
        case .payloadSize: "payload_size"
        case .badTickRate: "bad_tick_rate"
        case .negativeTime: "negative_time"
        case .unsortedTimes: "unsorted_times"
        case .watermarkBeforeEvents: "watermark_before_events"
        case .badString: "bad_string"
        case .bufferTooSmall: "buffer_too_small"
        case .duplicateSequence: "duplicate_sequence"
        case .timeWentBackwards: "time_went_backwards"
        case .watermarkWentBackwards: "watermark_went_backwards"
        case .tickRateChanged: "tick_rate_changed"
        }
    }
}
