import Testing

@testable import SpikeWire

/// Random and mutated frames never crash a decoder, and whatever is accepted survives a round trip.
/// Deterministic (seeded); the coverage-guided fuzzer is Tests/fuzz/run.sh.
@Suite struct MutationTests {
    /// SplitMix64: a small seeded generator, so a failure can be replayed.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func mutate(_ frames: [[UInt8]], using rng: inout SeededGenerator) -> [[UInt8]] {
        var frames = frames
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let index = Int.random(in: 0..<frames.count, using: &rng)
            switch Int.random(in: 0..<6, using: &rng) {
            case 0 where !frames[index].isEmpty:
                frames[index][Int.random(in: 0..<frames[index].count, using: &rng)] ^=
                    1 << UInt8.random(in: 0..<8, using: &rng)
            case 1:
                frames[index].removeLast(Int.random(in: 0...frames[index].count, using: &rng))
            case 2:
                frames[index] += (0..<Int.random(in: 1...16, using: &rng)).map { _ in
                    UInt8.random(in: 0...255, using: &rng)
                }
            case 3:
                frames.insert(
                    (0..<Int.random(in: 0...48, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) },
                    at: index)
            case 4 where frames.count > 1:
                frames.remove(at: index)
            default:
                // A header field set to an extreme value: counts, sizes and times near their limits.
                if frames.count > 1, frames[1].count >= 16 {
                    let offset = Int.random(in: 8..<(frames[1].count - 7), using: &rng)
                    let value: UInt64 = [0, 1, UInt64(Int64.max), UInt64(bitPattern: -1), 65_536, 65_537].randomElement(
                        using: &rng)!
                    withUnsafeBytes(of: value.littleEndian) {
                        frames[1].replaceSubrange(offset..<(offset + 8), with: $0)
                    }
                }
            }
        }
        return frames
    }

    @Test(arguments: Vectors.manifest.vectors.filter { $0.name != "spike_batch_max" })
    func mutatedVectorsAreRejectedOrRoundTrip(_ vector: Vector) throws {
        let original = try Vectors.frames(of: vector)
        var rng = SeededGenerator(state: UInt64(vector.name.utf8.reduce(0) { $0 &* 31 &+ Int($1) }.magnitude))
        var accepted = 0
        for _ in 0..<500 {
            let frames = Self.mutate(original, using: &rng)
            let message = MultipartFrames(frames)
            let decoded = message.withFrames { frames in
                Result { () throws(WireRejection) in try WireMessage(frames: frames) }
            }
            guard case .success(let decoded) = decoded else { continue }
            accepted += 1
            let again = MultipartFrames(decoded.frames).withFrames { frames in
                Result { () throws(WireRejection) in try WireMessage(frames: frames) }
            }
            // Bytes, not ==: a NaN value is valid and never equal to itself.
            #expect((try? again.get().frames) == decoded.frames)
        }
        #expect(accepted < 500, "some mutations must be rejected")
    }

    @Test func randomFramesAreRejected() {
        var rng = SeededGenerator(state: 42)
        for _ in 0..<5000 {
            let frames = (0..<Int.random(in: 0...6, using: &rng)).map { _ in
                (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            }
            let result = MultipartFrames(frames).withFrames { frames in
                Result { () throws(WireRejection) in try WireMessage(frames: frames) }
            }
            // Random bytes start with "PYRT" and version 1 with probability 2^-40.
            #expect(throws: WireRejection.self) { try result.get() }
        }
    }
}
