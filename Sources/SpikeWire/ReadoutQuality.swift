/// One entry of a status message's quality frame (frame 5): how well the daemon's decodes of one
/// readout matched the behaviour it received over the last `quality_window` seconds.
///
/// ```
/// u8  name_length N (1 to 255)
/// N   name         the readout, printable ASCII (as in topics)
/// u8  kind         0 = R^2 (continuous readouts), 1 = accuracy (multinomial)
/// u64 samples      decode/behaviour pairs the value is over
/// f64 value        R^2 (uniform average over dimensions) or accuracy; NaN with no pairs
/// ```
public struct ReadoutQuality: Equatable, Sendable {
    public enum Kind: UInt8, Sendable {
        /// Coefficient of determination, 1 - SS_res / SS_tot per dimension, averaged over dimensions.
        case rSquared = 0
        /// Fraction of decodes whose largest logit is the behaviour's class.
        case accuracy = 1
    }

    public static let maxEntries = 256

    public var readout: String
    public var kind: Kind
    public var samples: UInt64
    public var value: Double

    public init(readout: String, kind: Kind, samples: UInt64, value: Double) {
        precondition((1...255).contains(readout.utf8.count), "a readout name is 1 to 255 bytes")
        self.readout = readout
        self.kind = kind
        self.samples = samples
        self.value = value
    }

    /// Bytes of the entry on the wire.
    var encodedSize: Int { 1 + readout.utf8.count + 1 + 8 + 8 }

    /// The quality frame of `entries`.
    public static func frame(_ entries: [ReadoutQuality]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entries.reduce(0) { $0 + $1.encodedSize })
        for entry in entries {
            bytes.append(UInt8(entry.readout.utf8.count))
            bytes.append(contentsOf: entry.readout.utf8)
            bytes.append(entry.kind.rawValue)
            withUnsafeBytes(of: entry.samples.littleEndian) { bytes.append(contentsOf: $0) }
            withUnsafeBytes(of: entry.value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    /// Validates a quality frame; with `decode`, returns its entries (else an empty array).
    static func entries(of frame: UnsafeRawBufferPointer, decode: Bool) throws(WireRejection) -> [ReadoutQuality] {
        var entries: [ReadoutQuality] = []
        var offset = 0
        var count = 0
        while offset < frame.count {
            count += 1
            guard count <= maxEntries else { throw .tooMany }
            let length = Int(frame[offset])
            guard offset + 1 + length + 17 <= frame.count else { throw .payloadSize }
            let name = UnsafeRawBufferPointer(rebasing: frame[(offset + 1)..<(offset + 1 + length)])
            guard length > 0, name.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else { throw .badString }
            offset += 1 + length
            guard let kind = Kind(rawValue: frame[offset]) else { throw .badFlags }
            let samples = frame.loadLE(offset + 1, as: UInt64.self)
            let value = Double(bitPattern: frame.loadLE(offset + 9, as: UInt64.self))
            offset += 17
            if decode {
                entries.append(ReadoutQuality(readout: String(decoding: name, as: UTF8.self), kind: kind, samples: samples, value: value))
            }
        }
        return entries
    }
}
