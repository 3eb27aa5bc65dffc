/// A decoded output with its arrays: what a subscriber (or a test) works with.
///
/// The daemon's publisher does not build one: it sends `topic`, a header encoded with
/// `OutputHeader.encode(into:)` and its own timestamp and value buffers as frames, allocating nothing.
public struct OutputMessage: Equatable, Sendable {
    /// The readout's name (torch_brain's, e.g. `cursor_velocity_2d`), printable ASCII.
    public var readout: String
    public var header: OutputHeader
    /// Q output timestamps, ticks of the source clock.
    public var timestamps: [Int64]
    /// Q x D values in physical units (the model's normalization undone), row-major.
    public var values: [Float]
    /// Q x D values as the model produced them (normalized), when the daemon sends them.
    public var rawValues: [Float]?

    public init(readout: String, header: OutputHeader, timestamps: [Int64], values: [Float], rawValues: [Float]?) {
        precondition(timestamps.count == Int(header.outputCount), "timestamps must have outputCount entries")
        precondition(values.count == Int(header.outputCount) * Int(header.dimension), "values must be Q x D")
        precondition(rawValues.map { $0.count == values.count } ?? true, "raw values must be Q x D")
        precondition(header.hasRawValues == (rawValues != nil), "hasRawValues must say whether raw values are sent")
        precondition(
            Self.topic(readout: readout).withUnsafeBytes { (try? Topic.validate($0, for: .output))?.isEmpty == false },
            "a readout name is 1 to 248 bytes of printable ASCII without spaces")
        self.readout = readout
        self.header = header
        self.timestamps = timestamps
        self.values = values
        self.rawValues = rawValues
    }

    /// The topic frame of `readout`'s outputs: `output/<readout>`.
    public static func topic(readout: String) -> [UInt8] { Topic.bytes(for: .output, suffix: readout) }

    /// The frames of this message.
    public var frames: [[UInt8]] {
        var header = [UInt8](repeating: 0, count: OutputHeader.size)
        header.withUnsafeMutableBytes { self.header.encode(into: $0) }
        var frames = [Self.topic(readout: readout), header, timestamps.littleEndianBytes, values.littleEndianBytes]
        if let rawValues { frames.append(rawValues.littleEndianBytes) }
        return frames
    }

    /// Decodes and validates an output message.
    public init(frames: UnsafeBufferPointer<UnsafeRawBufferPointer>) throws(WireRejection) {
        let (header, readout) = try OutputHeader.decode(frames: frames)
        self.header = header
        self.readout = String(decoding: frames[0][readout], as: UTF8.self)
        self.timestamps = frames[2].littleEndianArray(of: Int64.self)
        self.values = frames[3].littleEndianArray(of: Float.self)
        self.rawValues = header.hasRawValues ? frames[4].littleEndianArray(of: Float.self) : nil
    }
}
