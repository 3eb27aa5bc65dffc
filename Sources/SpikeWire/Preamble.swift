// The 8 bytes every header starts with, and the checks every message starts with.

/// Checks the preamble shared by every header and returns the message type it names.
///
/// Order of checks (protocol/SPEC.md, "Validation order"): size, magic, version, type.
@inline(__always)
func readPreamble(_ header: UnsafeRawBufferPointer) throws(WireRejection) -> (MessageType, UInt16) {
    guard header.count >= WireFormat.preambleSize else { throw .headerSize }
    let m = WireFormat.magic
    guard header[0] == m.0, header[1] == m.1, header[2] == m.2, header[3] == m.3 else { throw .badMagic }
    guard header[4] == WireFormat.version else { throw .unknownVersion }
    guard let type = MessageType(rawValue: header[5]) else { throw .unknownType }
    return (type, header.loadLE(6, as: UInt16.self))
}

/// Writes the preamble of a header of `type` with `flags`.
@inline(__always)
func writePreamble(_ type: MessageType, flags: UInt16, into header: UnsafeMutableRawBufferPointer) {
    precondition(header.count >= type.headerSize, "header buffer smaller than \(type.headerSize) bytes")
    let m = WireFormat.magic
    header[0] = m.0
    header[1] = m.1
    header[2] = m.2
    header[3] = m.3
    header[4] = WireFormat.version
    header[5] = type.rawValue
    header.storeLE(flags, at: 6)
}

/// The checks every message starts with (protocol/SPEC.md section 6, steps 1 to 3): at least two
/// frames, a valid preamble, a type this receiver takes, a topic of that type.
///
/// - Returns: the type, the flags, and the byte range of the topic's suffix in frame 0.
@inline(__always)
func openMessage(
    _ frames: UnsafeBufferPointer<UnsafeRawBufferPointer>, accepting accepts: (MessageType) -> Bool
) throws(WireRejection) -> (type: MessageType, flags: UInt16, topicSuffix: Range<Int>) {
    guard frames.count >= 2 else { throw .frameCount }
    let (type, flags) = try readPreamble(frames[1])
    guard accepts(type) else { throw .unexpectedType }
    return (type, flags, try Topic.validate(frames[0], for: type))
}
