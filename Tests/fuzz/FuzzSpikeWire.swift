// libFuzzer target for SpikeWire's decoders, built by run.sh together with Sources/SpikeWire
// into one module (so no `import`). The input is a multipart message in the container of
// protocol/vectors (u32 frame count, then u32 length and bytes per frame), read leniently:
// whatever the bytes say, the decoders see some frames.
//
// Every decoder must reject or accept without crashing; an accepted message must encode to
// frames that decode to a message with the same frames; the ingest decoders (rig messages, behaviour
// read in place) and SequenceTracker must agree with the owning decoder. A violation aborts, which libFuzzer reports with the input.

nonisolated(unsafe) var tracker = SequenceTracker()
nonisolated(unsafe) let events = UnsafeMutableBufferPointer<SpikeEvent>.allocate(capacity: WireFormat.maxEventsPerBatch)

func containerFrames(_ data: UnsafeRawBufferPointer) -> [[UInt8]] {
    func u32(_ offset: Int) -> Int? {
        offset + 4 <= data.count ? Int(data.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian) : nil
    }
    guard let count = u32(0) else { return [Array(data)] }
    var frames: [[UInt8]] = []
    var offset = 4
    for _ in 0..<min(count, 16) {
        guard let length = u32(offset) else { break }
        let end = min(offset + 4 + length, data.count)
        frames.append(Array(data[(offset + 4)..<end]))
        offset = end
    }
    return frames
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSpikeWire(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let message = MultipartFrames(containerFrames(UnsafeRawBufferPointer(start: data, count: size)))
    message.withFrames { frames in
        let owned = Result { () throws(WireRejection) in try WireMessage(frames: frames) }
        let ingest = Result { () throws(WireRejection) in try RigMessageDecoder.decode(frames: frames, into: events) }
        switch (owned, ingest) {
        case (.success(.rig(let header, let decoded)), .success(let ingestHeader)):
            precondition(header == ingestHeader, "the two rig decoders disagree")
            precondition(
                Array(events[0..<Int(header.eventCount)]) == decoded, "the two rig decoders disagree on events")
            if let admission = try? tracker.admit(
                header, events: UnsafeBufferPointer(rebasing: events[0..<decoded.count]))
            {
                precondition(admission.lateEvents <= decoded.count, "more late events than events")
            }
        case (.success(.rig), .failure), (.failure, .success):
            preconditionFailure("the two rig decoders disagree on accepting \(owned) / \(ingest)")
        case (_, .failure(.unexpectedType)):
            break  // an output or status message, valid or not: not the ingest decoder's to judge
        case (.failure(let a), .failure(let b)):
            precondition(a == b, "the two rig decoders reject for different reasons: \(a) / \(b)")
        default:
            break
        }
        if (try? WireMessage.type(of: frames)) == .behaviour {
            let inPlace = Result { () throws(WireRejection) in try BehaviourHeader.decode(frames: frames) }
            switch (owned, inPlace) {
            case (.success(.behaviour(let message)), .success(let (header, _))):
                precondition(message.header == header, "the two behaviour decoders disagree")
            case (.failure(let a), .failure(let b)):
                precondition(a == b, "the two behaviour decoders reject for different reasons: \(a) / \(b)")
            default:
                preconditionFailure("the two behaviour decoders disagree on accepting \(owned) / \(inPlace)")
            }
        }
        if case .success(let decoded) = owned {
            let again = MultipartFrames(decoded.frames).withFrames { frames in
                Result { () throws(WireRejection) in try WireMessage(frames: frames) }
            }
            // Bytes, not ==: a NaN value is valid and never equal to itself.
            precondition(
                (try? again.get().frames) == decoded.frames, "an accepted message does not survive encode + decode")
        }
    }
    return 0
}
