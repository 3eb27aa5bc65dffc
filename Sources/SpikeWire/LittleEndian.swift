// Little-endian field access on raw frames: unaligned, because a frame may start anywhere.

extension UnsafeRawBufferPointer {
    @inline(__always)
    func loadLE<T: FixedWidthInteger>(_ offset: Int, as type: T.Type) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

extension UnsafeMutableRawBufferPointer {
    @inline(__always)
    func storeLE<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
    }
}

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
