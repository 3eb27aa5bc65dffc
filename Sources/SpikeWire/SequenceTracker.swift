/// Per-source bookkeeping of what the rig promised: sequence numbers (gaps, duplicates), event
/// times across batches, and watermarks. Feed it every message `RigMessageDecoder` accepted.
///
/// Allocates only when a source is seen for the first time.
public struct SequenceTracker {
    /// What admitting a message found, when it was not rejected.
    public struct Admission: Equatable, Sendable {
        /// Messages of this source that never arrived just before this one (0 when in order).
        public var missedMessages: UInt64
        /// Events at the start of the batch at or before the source's previous watermark: the rig
        /// broke its promise; the caller drops them and counts them as late.
        public var lateEvents: Int
        /// The source restarted (sequence 0 after other messages): its state was reset.
        public var restarted: Bool
    }

    struct SourceState {
        var lastSequence: UInt64
        var tickRate: UInt64
        var lastEventTime: Int64  // -1 before the first event
        var watermark: Int64  // -1 before the first watermark
    }

    private var sources: [UInt32: SourceState] = [:]

    public init(expectedSources: Int = 4) {
        sources.reserveCapacity(expectedSources)
    }

    /// Forgets everything about `sourceID`: its next message starts it afresh, as a restart would.
    /// (A receiver's policy, not the rig's: see the daemon's resynchronisation.)
    public mutating func forget(_ sourceID: UInt32) {
        sources[sourceID] = nil
    }

    /// A message of a known source whose header was read but whose content was rejected
    /// (protocol/SPEC.md section 5): its sequence number is used up, so the next message does
    /// not count it as missed. Returns the messages missed just before it (0 when in order).
    /// A new source, sequence 0 (a restart) or a number not above the last one change nothing.
    @discardableResult
    public mutating func useUp(sourceID: UInt32, sequence: UInt64) -> UInt64 {
        guard sequence != 0, let last = sources[sourceID]?.lastSequence, sequence > last else { return 0 }
        sources[sourceID]?.lastSequence = sequence
        return sequence &- last &- 1
    }

    /// The latest watermark of `sourceID`, or nil before its first one.
    public func watermark(of sourceID: UInt32) -> Int64? {
        guard let state = sources[sourceID], state.watermark >= 0 else { return nil }
        return state.watermark
    }

    /// Checks `header` (and its decoded, sorted `events`) against the source's history and, unless
    /// rejected, records it.
    ///
    /// Rules, in order: a new source, or sequence 0, starts afresh; the tick rate must not change;
    /// the sequence must grow (a jump counts the missed messages; a rejected message still uses
    /// its number up); the first event must not precede the last accepted one; a watermark must
    /// not go back. Events at or before the previous watermark are reported as late.
    public mutating func admit(
        _ header: RigHeader, events: UnsafeBufferPointer<SpikeEvent>
    ) throws(WireRejection) -> Admission {
        precondition(events.count == Int(header.eventCount), "events must be the batch's decoded events")
        var restarted = false
        var missed: UInt64 = 0
        var state: SourceState
        if let known = sources[header.sourceID], header.sequence != 0 {
            state = known
            guard header.tickRate == state.tickRate else { throw .tickRateChanged }
            guard header.sequence > state.lastSequence else { throw .duplicateSequence }
            missed = header.sequence &- state.lastSequence &- 1
            sources[header.sourceID]?.lastSequence = header.sequence
            state.lastSequence = header.sequence
        } else {
            restarted = sources[header.sourceID] != nil
            state = SourceState(
                lastSequence: header.sequence, tickRate: header.tickRate, lastEventTime: -1, watermark: -1)
            sources[header.sourceID] = state
        }
        var late = 0
        if let first = events.first, let last = events.last {
            guard first.time >= state.lastEventTime else { throw .timeWentBackwards }
            if first.time <= state.watermark {
                late = events.partitioningIndex { $0.time > state.watermark }
            }
            state.lastEventTime = last.time
        }
        if let watermark = header.watermark {
            guard watermark >= state.watermark else { throw .watermarkWentBackwards }
            state.watermark = watermark
        }
        sources[header.sourceID] = state
        return Admission(missedMessages: missed, lateEvents: late, restarted: restarted)
    }
}

extension UnsafeBufferPointer {
    /// The first index whose element satisfies `belongsInSecondPartition` (elements partitioned).
    @inline(__always)
    func partitioningIndex(where belongsInSecondPartition: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = low + (high - low) / 2
            if belongsInSecondPartition(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
