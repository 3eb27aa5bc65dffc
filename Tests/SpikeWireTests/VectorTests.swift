import Testing

@testable import SpikeWire

/// SpikeWire against protocol/vectors, the files the Python tests read too.
@Suite struct VectorTests {
    @Test(arguments: Vectors.accepted)
    func validVectorDecodesAndEncodesToTheSameBytes(_ vector: Vector) throws {
        let frames = try Vectors.frames(of: vector)
        let expected = try #require(vector.message)
        let decoded = try MultipartFrames(frames).withFrames { frames throws(WireRejection) in
            try WireMessage(frames: frames)
        }
        #expect(decoded == expected.wireMessage)
        var encoded = expected.wireMessage.frames
        if case .rig(let header, _) = decoded {
            encoded[0] = Topic.bytes(for: header.type, suffix: expected.topicSuffix)
        }
        if vector.olderForm == true {
            encoded[1] = Array(encoded[1].prefix(frames[1].count))
        }
        #expect(encoded == frames)
    }

    @Test(arguments: Vectors.rejected)
    func invalidVectorIsRejectedWithItsReason(_ vector: Vector) throws {
        let message = MultipartFrames(try Vectors.frames(of: vector))
        let reason = #expect(throws: WireRejection.self) {
            try message.withFrames { frames throws(WireRejection) in
                if vector.receiver == "ingest" {
                    try decodeRig(frames)
                } else {
                    _ = try WireMessage(frames: frames)
                }
            }
        }
        #expect(reason?.name == vector.rejection)
    }

    @Test(arguments: Vectors.manifest.sequences)
    func sequenceScenario(_ scenario: Scenario) throws {
        var tracker = SequenceTracker()
        var events = [SpikeEvent](repeating: SpikeEvent(time: 0, unit: 0), count: 64)
        for step in scenario.steps {
            let message = MultipartFrames(step.frames.map { [UInt8](hex: $0) })
            let result: Result<SequenceTracker.Admission, WireRejection> = events.withUnsafeMutableBufferPointer {
                buffer in
                message.withFrames { frames in
                    Result { () throws(WireRejection) in
                        var read: RigHeader?
                        let header: RigHeader
                        do throws(WireRejection) {
                            header = try RigMessageDecoder.decode(frames: frames, into: buffer, header: &read)
                        } catch {
                            // Rejected after its header was read: the number is used up.
                            if let read { tracker.useUp(sourceID: read.sourceID, sequence: read.sequence) }
                            throw error
                        }
                        let decoded = UnsafeBufferPointer(rebasing: buffer[0..<Int(header.eventCount)])
                        return try tracker.admit(header, events: decoded)
                    }
                }
            }
            switch result {
            case .success(let admission):
                #expect(step.expect.rejection == nil)
                #expect(admission.missedMessages == step.expect.missedMessages)
                #expect(admission.lateEvents == step.expect.lateEvents)
                #expect(admission.restarted == step.expect.restarted)
            case .failure(let reason):
                #expect(reason.name == step.expect.rejection)
            }
        }
    }

    @Test func everyRejectionReasonIsCoveredByAVector() {
        var covered = Set(Vectors.rejected.compactMap(\.rejection))
        covered.formUnion(Vectors.manifest.sequences.flatMap { $0.steps.compactMap(\.expect.rejection) })
        let uncovered = Set(WireRejection.allCases.map(\.name)).subtracting(covered)
        // The caller's buffer size is not a property of the bytes: tested below.
        #expect(uncovered == ["buffer_too_small"])
    }

    @Test func rejectionsAreDenseCounterIndices() {
        #expect(WireRejection.allCases.map { Int($0.rawValue) } == Array(0..<WireRejection.allCases.count))
    }

    @Test func batchLargerThanTheCallersBufferIsRejected() throws {
        let vector = try #require(Vectors.accepted.first { $0.name == "spike_batch_basic" })
        let message = MultipartFrames(try Vectors.frames(of: vector))
        var small = [SpikeEvent](repeating: SpikeEvent(time: 0, unit: 0), count: 4)
        let reason = #expect(throws: WireRejection.self) {
            try small.withUnsafeMutableBufferPointer { buffer throws(WireRejection) in
                try message.withFrames { frames throws(WireRejection) in
                    _ = try RigMessageDecoder.decode(frames: frames, into: buffer)
                }
            }
        }
        #expect(reason == .bufferTooSmall)
    }
}

/// Decodes rig frames into a buffer of the largest batch, as the daemon's ingest does.
func decodeRig(_ frames: UnsafeBufferPointer<UnsafeRawBufferPointer>) throws(WireRejection) {
    let events = UnsafeMutableBufferPointer<SpikeEvent>.allocate(capacity: WireFormat.maxEventsPerBatch)
    defer { events.deallocate() }
    _ = try RigMessageDecoder.decode(frames: frames, into: events)
}
