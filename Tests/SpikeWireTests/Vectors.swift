import Foundation
import SpikeWire

/// protocol/vectors: the files and what manifest.json says about them.
enum Vectors {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("protocol/vectors")

    static let manifest: Manifest = {
        let data = try! Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try! decoder.decode(Manifest.self, from: data)
    }()

    static var accepted: [Vector] { manifest.vectors.filter { $0.expect == "accept" } }
    static var rejected: [Vector] { manifest.vectors.filter { $0.expect == "reject" } }

    /// The frames of a vector file: `u32 count`, then `u32 length` and bytes per frame.
    static func frames(of vector: Vector) throws -> [[UInt8]] {
        try frames(container: [UInt8](Data(contentsOf: directory.appendingPathComponent(vector.file))))
    }

    static func frames(container bytes: [UInt8]) -> [[UInt8]] {
        func u32(_ offset: Int) -> Int {
            (0..<4).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
        }
        var frames: [[UInt8]] = []
        var offset = 4
        for _ in 0..<u32(0) {
            let length = u32(offset)
            frames.append(Array(bytes[(offset + 4)..<(offset + 4 + length)]))
            offset += 4 + length
        }
        precondition(offset == bytes.count, "trailing bytes in a vector file")
        return frames
    }
}

struct Manifest: Decodable {
    var vectors: [Vector]
    var sequences: [Scenario]
}

struct Vector: Decodable, CustomStringConvertible {
    var name: String
    var file: String
    var expect: String
    var receiver: String
    var rejection: String?
    var message: ExpectedMessage?
    /// An older form of a header (shorter) that decoders still accept; encoders write the current
    /// one, which begins with the same bytes.
    var olderForm: Bool?
    var description: String { name }
}

/// An integer array written out, or as `{start, step, count, modulo}`.
enum IntegerArray: Decodable {
    case values([Int64])
    case pattern(start: Int64, step: Int64, count: Int, modulo: Int64)

    init(from decoder: Decoder) throws {
        if let values = try? [Int64](from: decoder) {
            self = .values(values)
            return
        }
        struct Pattern: Decodable { var start: Int64, step: Int64, count: Int, modulo: Int64 }
        let p = try Pattern(from: decoder)
        self = .pattern(start: p.start, step: p.step, count: p.count, modulo: p.modulo)
    }

    var values: [Int64] {
        switch self {
        case .values(let values): values
        case .pattern(let start, let step, let count, let modulo):
            (0..<Int64(count)).map { modulo == 0 ? start + $0 * step : (start + $0 * step) % modulo }
        }
    }
}

struct ExpectedStages: Decodable {
    var received: UInt64, windowBuilt: UInt64, forwardDone: UInt64, published: UInt64, dequeued: UInt64
}

/// The union of the fields of every message type, as the manifest writes them.
struct ExpectedMessage: Decodable {
    var type: String
    var topic: String?
    // rig messages
    var sourceId: UInt32?
    var sequence: UInt64?
    var tickRate: UInt64?
    var watermark: Int64?
    var times: IntegerArray?
    var units: IntegerArray?
    // output
    var readout: String?
    var tickSequence: UInt64?
    var windowStart: Int64?
    var windowEnd: Int64?
    var stages: ExpectedStages?
    var timestamps: [Int64]?
    var dimension: UInt32?
    var values: [Float]?
    var rawValues: [Float]?
    // status
    var statusSequence: UInt64?
    var monotonicNs: UInt64?
    var received: UInt64?
    var accepted: UInt64?
    var late: UInt64?
    var dropped: UInt64?
    var ticksRun: UInt64?
    var ticksSkipped: UInt64?
    var missedMessages: UInt64?
    var latencySamples: UInt64?
    var latencyP50Ns: UInt64?
    var latencyP90Ns: UInt64?
    var latencyP99Ns: UInt64?
    var latencyMaxNs: UInt64?
    var model: String?
    var rejections: [UInt64]?
    var state: UInt32?
    var daemonCounters: [UInt64]?
    var quality: [ExpectedQuality]?
}

struct ExpectedQuality: Decodable {
    var readout: String
    var kind: String
    var samples: UInt64
    var value: Double
}

struct Scenario: Decodable, CustomStringConvertible {
    struct Step: Decodable {
        struct Expect: Decodable {
            var rejection: String?
            var missedMessages: UInt64?
            var lateEvents: Int?
            var restarted: Bool?
        }
        var frames: [String]
        var expect: Expect
    }
    var name: String
    var steps: [Step]
    var description: String { name }
}

extension [UInt8] {
    init(hex: String) {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        self = bytes
    }
}
