import POYO

/// One record of a capture log (docs/capture-log.md).
public enum CaptureRecord: Equatable, Sendable {
    /// The run's configuration (YAML) and the model's identity; first in every log, and again
    /// after a model swap.
    case session(configuration: String, model: ModelIdentity, monotonicNS: UInt64)
    /// A multipart message as the ingest socket received it.
    case received(frames: [[UInt8]], monotonicNS: UInt64)
    /// A multipart message as the daemon published it (outputs and status).
    case published(frames: [[UInt8]], monotonicNS: UInt64)

    var kind: UInt8 {
        switch self {
        case .session: 1
        case .received: 2
        case .published: 3
        }
    }
}

/// Which model file a run used: its path, size and CRC-32 (so a replay can refuse another file).
public struct ModelIdentity: Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var size: UInt64
    public var crc32: UInt32

    public init(path: String, size: UInt64, crc32: UInt32) {
        self.path = path
        self.size = size
        self.crc32 = crc32
    }

    /// Reads the file once to identify it.
    public init(file: String) throws {
        let mapped = try MappedFile(path: file)
        self.init(path: file, size: UInt64(mapped.bytes.count), crc32: CRC32.checksum(mapped.bytes))
    }

    public var description: String { "\(path) (\(size) bytes, crc32 \(String(crc32, radix: 16)))" }
}
