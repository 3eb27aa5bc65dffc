/// A decoded status message with its model description and rejection counters.
public struct StatusMessage: Equatable, Sendable {
    public var header: StatusHeader
    /// What model the daemon runs (name, kind, file hash): free UTF-8, at most 4096 bytes.
    public var model: String
    /// Rejected rig messages by reason: entry `i` counts `WireRejection(rawValue: i)`.
    /// A newer daemon may send more entries than this side has names for.
    public var rejections: [UInt64]

    public init(header: StatusHeader, model: String, rejections: [UInt64]) {
        precondition(model.utf8.count <= WireFormat.maxModelNameSize, "model description longer than 4096 bytes")
        precondition(rejections.count <= WireFormat.maxRejectionCounters, "more than 256 rejection counters")
        self.header = header
        self.header.rejectionCount = UInt32(rejections.count)
        self.model = model
        self.rejections = rejections
    }

    /// The count of rejections for `reason` (0 when the sender had no counter for it).
    public func rejected(_ reason: WireRejection) -> UInt64 {
        Int(reason.rawValue) < rejections.count ? rejections[Int(reason.rawValue)] : 0
    }

    /// The frames of this message.
    public var frames: [[UInt8]] {
        var header = [UInt8](repeating: 0, count: StatusHeader.size)
        header.withUnsafeMutableBytes { self.header.encode(into: $0) }
        return [Topic.bytes(for: .status), header, Array(model.utf8), rejections.littleEndianBytes]
    }

    /// Decodes and validates a status message.
    public init(frames: UnsafeBufferPointer<UnsafeRawBufferPointer>) throws(WireRejection) {
        header = try StatusHeader.decode(frames: frames)
        model = String(decoding: frames[2], as: UTF8.self)
        rejections = frames[3].littleEndianArray(of: UInt64.self)
    }
}
