/// Byte layout of capture records: `u32 body length`, `u32 crc32 of body`, body =
/// `u8 kind`, `u64 monotonic ns`, then per kind (all little-endian):
/// - session: `u32 n` + n bytes of configuration YAML, `u32 n` + n bytes of model path,
///   `u64 model size`, `u32 model crc32`;
/// - received / published: `u32 frame count`, then per frame `u32 length` + bytes.
enum CaptureCodec {
    static let fileMagic = Array("PYRTCAP1".utf8)
    static let recordHeaderSize = 8
    /// A record larger than this is corruption, not data (a message is at most ~1 MB).
    static let maxBodySize = 64 << 20

    static func encode(_ record: CaptureRecord) -> [UInt8] {
        var body: [UInt8] = [record.kind]
        switch record {
        case .session(let configuration, let model, let ns):
            append(ns, to: &body)
            appendBytes(Array(configuration.utf8), to: &body)
            appendBytes(Array(model.path.utf8), to: &body)
            append(model.size, to: &body)
            append(model.crc32, to: &body)
        case .received(let frames, let ns), .published(let frames, let ns):
            append(ns, to: &body)
            append(UInt32(frames.count), to: &body)
            for frame in frames { appendBytes(frame, to: &body) }
        }
        var record: [UInt8] = []
        record.reserveCapacity(body.count + recordHeaderSize)
        append(UInt32(body.count), to: &record)
        append(CRC32.checksum(body), to: &record)
        record.append(contentsOf: body)
        return record
    }

    /// Decodes one body (already length- and CRC-checked); nil when its inside is malformed.
    static func decodeBody(_ body: ArraySlice<UInt8>) -> CaptureRecord? {
        var reader = ByteReader(bytes: body)
        guard let kind = reader.u8(), let ns = reader.u64() else { return nil }
        switch kind {
        case 1:
            guard let configuration = reader.lengthPrefixed().map({ String(decoding: $0, as: UTF8.self) }),
                  let path = reader.lengthPrefixed().map({ String(decoding: $0, as: UTF8.self) }),
                  let size = reader.u64(), let crc = reader.u32(), reader.isAtEnd
            else { return nil }
            return .session(configuration: configuration, model: ModelIdentity(path: path, size: size, crc32: crc), monotonicNS: ns)
        case 2, 3:
            guard let count = reader.u32(), count <= 1024 else { return nil }
            var frames: [[UInt8]] = []
            for _ in 0..<count {
                guard let frame = reader.lengthPrefixed() else { return nil }
                frames.append(frame)
            }
            guard reader.isAtEnd else { return nil }
            return kind == 2 ? .received(frames: frames, monotonicNS: ns) : .published(frames: frames, monotonicNS: ns)
        default:
            return nil
        }
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private static func appendBytes(_ value: [UInt8], to bytes: inout [UInt8]) {
        append(UInt32(value.count), to: &bytes)
        bytes.append(contentsOf: value)
    }
}

/// Little-endian reads from a byte slice that fail (nil) instead of trapping at the end.
struct ByteReader {
    let bytes: ArraySlice<UInt8>
    var offset: Int

    init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        offset = bytes.startIndex
    }

    var isAtEnd: Bool { offset == bytes.endIndex }

    mutating func integer<T: FixedWidthInteger>(_: T.Type) -> T? {
        let size = MemoryLayout<T>.size
        guard bytes.endIndex - offset >= size else { return nil }
        var value: T = 0
        for i in 0..<size { value |= T(bytes[offset + i]) << (8 * i) }
        offset += size
        return value
    }

    mutating func u8() -> UInt8? { integer(UInt8.self) }
    mutating func u32() -> UInt32? { integer(UInt32.self) }
    mutating func u64() -> UInt64? { integer(UInt64.self) }

    mutating func lengthPrefixed() -> [UInt8]? {
        guard let count = u32(), bytes.endIndex - offset >= Int(count) else { return nil }
        defer { offset += Int(count) }
        return Array(bytes[offset..<(offset + Int(count))])
    }
}
