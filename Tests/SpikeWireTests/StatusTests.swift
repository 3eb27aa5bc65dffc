import Testing

@testable import SpikeWire

/// The status message's state bits and daemon counters, beyond what the vectors check.
@Suite struct StatusTests {
    @Test func daemonCountersAreDenseIndicesWithTheirNames() {
        #expect(DaemonCounter.allCases.map(\.rawValue) == Array(0..<DaemonCounter.allCases.count))
        #expect(
            DaemonCounter.allCases.map(\.name)
                == ["unknown_units", "other_source", "reordered", "ticks_failed", "capture_failures", "reloads_failed", "resynchronizations",
                    "outside_windows", "capture_dropped", "behaviour_accepted", "behaviour_missed", "behaviour_unused", "reloads",
                    "ticks_prepared",
                ])
    }

    @Test func countsByNameAreZeroWhenTheSenderHadNoEntry() {
        let short = StatusMessage(header: StatusHeader(), model: "", rejections: [], daemonCounters: [4, 5])
        #expect(short.count(.unknownUnits) == 4)
        #expect(short.count(.otherSource) == 5)
        #expect(short.count(.captureFailures) == 0)
        #expect(short.rejected(.badMagic) == 0)
    }

    @Test func stateAndCountersRoundTrip() throws {
        var header = StatusHeader()
        header.state = StatusHeader.sourceStalledFlag | StatusHeader.noSourceFlag
        header.statusSequence = 3
        let counters = (0..<UInt64(DaemonCounter.allCases.count + 2)).map { $0 * 10 }
        let message = StatusMessage(header: header, model: "m", rejections: [1, 2], daemonCounters: counters)
        let decoded = try MultipartFrames(message.frames).withFrames { frames throws(WireRejection) in
            try StatusMessage(frames: frames)
        }
        #expect(decoded == message)
        #expect(decoded.header.isSourceStalled && decoded.header.hasNoSource)
        #expect(decoded.count(.captureFailures) == 40)
        #expect(decoded.daemonCounters.count == DaemonCounter.allCases.count + 2)
    }

    @Test func maximumDaemonCountersAreAcceptedOneMoreIsTooMany() throws {
        let message = StatusMessage(
            header: StatusHeader(), model: "", rejections: [],
            daemonCounters: Array(repeating: 1, count: WireFormat.maxDaemonCounters))
        var frames = message.frames
        let decoded = try MultipartFrames(frames).withFrames { frames throws(WireRejection) in
            try StatusMessage(frames: frames)
        }
        #expect(decoded.daemonCounters.count == WireFormat.maxDaemonCounters)
        frames[4] += [UInt8](repeating: 0, count: 8)
        let reason = #expect(throws: WireRejection.self) {
            try MultipartFrames(frames).withFrames { frames throws(WireRejection) in
                _ = try StatusMessage(frames: frames)
            }
        }
        #expect(reason == .tooMany)
    }
}
