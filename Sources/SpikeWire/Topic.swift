#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The first frame of every message: the type's prefix, optionally `/` and a suffix, so that a
/// SUB socket can filter on it (`output/cursor_velocity_2d`, `spikes/rig-a`).
public enum Topic {
    /// Checks that `topic` belongs to `type` and returns the suffix's byte range (empty when none).
    ///
    /// A topic is 1 to 255 bytes of printable ASCII (0x21...0x7E).
    @inline(__always)
    static func validate(_ topic: UnsafeRawBufferPointer, for type: MessageType) throws(WireRejection) -> Range<Int> {
        guard topic.count >= 1, topic.count <= WireFormat.maxTopicSize else { throw .badTopic }
        for byte in topic where byte < 0x21 || byte > 0x7E { throw .badTopic }
        let prefix = type.topicPrefixBytes
        let index = prefix.utf8CodeUnitCount
        guard topic.count >= index,
            memcmp(topic.baseAddress!, prefix.utf8Start, index) == 0
        else { throw .badTopic }
        if topic.count == index { return index..<index }
        guard topic[index] == UInt8(ascii: "/"), topic.count > index + 1 else { throw .badTopic }
        return (index + 1)..<topic.count
    }

    /// Whether `suffix` makes a valid topic for `type` (`prefix/suffix`: at most 255 bytes of
    /// printable ASCII in all), so that a sender can refuse a name before it has to send it.
    public static func isValidSuffix(_ suffix: String, for type: MessageType) -> Bool {
        guard !suffix.isEmpty else { return false }
        return bytes(for: type, suffix: suffix).withUnsafeBytes { (try? validate($0, for: type)) != nil }
    }

    /// The topic frame `prefix` or `prefix/suffix` for `type`.
    public static func bytes(for type: MessageType, suffix: String = "") -> [UInt8] {
        suffix.isEmpty ? Array(type.topicPrefix.utf8) : Array("\(type.topicPrefix)/\(suffix)".utf8)
    }
}
