import SpikeWire

/// The ingest thread's work on one received message: decode and validate it (SpikeWire),
/// check it against its source's history, map its units to the session's, and push its spikes
/// and watermark into the ring. Allocation-free after the first message of a source.
public final class IngestProcessor {
    public private(set) var binding: SessionBinding
    let ring: SpikeRing
    let counters: DecoderCounters
    /// Where behaviour samples go (nil: behaviour is counted but not scored, as in a replay).
    let quality: QualityMonitor?
    /// The last behaviour sequence number of the decoded source, nil before its first.
    private var behaviourSequence: UInt64?
    /// The decoded source's tick rate, once a rig message of it was accepted.
    private var tickRate: UInt64?
    private var tracker = SequenceTracker()
    private let events: UnsafeMutableBufferPointer<SpikeEvent>
    public static let maxTickRate: UInt64 = 1_000_000_000_000

    /// One bogus message (a time far in the future, a huge sequence number, another tick rate)
    /// would otherwise get every later message of the source rejected until the rig restarts,
    /// and decoding would stop for good. After `resynchronizeAfter` such rejections in a row,
    /// the source's history is forgotten: its next message starts it afresh (counted in
    /// `resynchronizations`, logged), and decoding resumes one window later.
    private func resynchronizeIfStuck(after error: WireRejection, source: UInt32, outcome: inout Outcome) {
        switch error {
        case .timeWentBackwards, .duplicateSequence, .watermarkWentBackwards, .tickRateChanged:
            rejectedInARow += 1
            if rejectedInARow >= Self.resynchronizeAfter {
                tracker.forget(source)
                rejectedInARow = 0
                started = false  // the next accepted message tells the scheduler to start afresh
                counters.resynchronizations.increment()
                outcome.resynchronized = true
            }
        default:
            break
        }
    }

    /// A rejected message of the decoded source whose header was read used its sequence number:
    /// the next message must not count it as missing (it is counted once, as rejected).
    private func useUpNumber(of header: RigHeader, outcome: inout Outcome) {
        guard header.sourceID == source else { return }
        let missed = tracker.useUp(sourceID: header.sourceID, sequence: header.sequence)
        counters.missedMessages.increment(by: missed)
        outcome.missedMessages = missed
    }

    /// The last tick rate every configured duration was found to fit (checked once per rate).
    private var fittingTickRate: UInt64 = 0

    /// The source decoded: configured, or the first one heard.
    public private(set) var source: UInt32?
    /// Whether the scheduler has been told the source's clock yet.
    private var started = false
    /// Messages of the decoded source rejected in a row by its history (time or sequence going back).
    private var rejectedInARow = 0
    /// After this many, the source is taken to have a new timeline (see `resynchronizeIfStuck`).
    public static let resynchronizeAfter = 100

    public init(binding: SessionBinding, ring: SpikeRing, counters: DecoderCounters, source: UInt32?, quality: QualityMonitor? = nil) {
        self.binding = binding
        self.ring = ring
        self.counters = counters
        self.quality = quality
        self.source = source
        events = .allocate(capacity: WireFormat.maxEventsPerBatch)
    }

    deinit { events.deallocate() }

    /// What became of one message (also counted in `counters`), for the ingest thread's log.
    public struct Outcome: Equatable, Sendable {
        public var carriedWatermark = false
        public var rejection: WireRejection?
        public var otherSource: UInt32?
        public var lateEvents = 0
        public var unknownUnits = 0
        public var missedMessages: UInt64 = 0
        /// The source's history was forgotten after too many rejections in a row.
        public var resynchronized = false
        /// Why the source's clock was refused (`bad_tick_rate`): which configured duration does
        /// not fit it.
        public var clockRefusal: String?
        /// The first few unmapped rig unit ids of the message (`unknownUnits` counts them all).
        public var unknownUnitIDs: UnknownUnitIDs = UnknownUnitIDs()
        /// Behaviour messages missing by sequence number, and behaviour samples not scored.
        public var missedBehaviour: UInt64 = 0
        public var unusedBehaviour = 0

        /// Whether anything in it deserves a line in the log.
        public var hasBadInput: Bool {
            rejection != nil || otherSource != nil || lateEvents > 0 || unknownUnits > 0 || missedMessages > 0 || resynchronized
                || missedBehaviour > 0 || unusedBehaviour > 0
        }
    }

    /// Switches to a new session binding (a configuration switch): every spike pushed after
    /// this call is in the new binding's unit positions, and the ring says so to the scheduler.
    public func rebind(_ newBinding: SessionBinding) {
        binding = newBinding
        ring.push(.configurationSwitched)
    }

    /// A behaviour message (protocol/SPEC.md 4.5): validated, checked against the decoded
    /// source's behaviour sequence and clock, and handed to the quality monitor.
    private func processBehaviour(frames: UnsafeBufferPointer<UnsafeRawBufferPointer>) -> Outcome {
        var outcome = Outcome()
        let header: BehaviourHeader
        let readout: Range<Int>
        do {
            (header, readout) = try BehaviourHeader.decode(frames: frames)
        } catch {
            counters.reject(error)
            outcome.rejection = error
            return outcome
        }
        guard header.tickRate <= Self.maxTickRate else {
            counters.reject(.badTickRate)
            outcome.rejection = .badTickRate
            return outcome
        }
        guard let source, header.sourceID == source else {
            counters.otherSource.increment()
            outcome.otherSource = header.sourceID
            return outcome
        }
        // As for rig messages (SPEC section 5): the clock first, then the sequence number.
        if let tickRate, tickRate != header.tickRate {
            counters.reject(.tickRateChanged)
            outcome.rejection = .tickRateChanged
            return outcome
        }
        if let last = behaviourSequence, header.sequence != 0 {
            guard header.sequence > last else {
                counters.reject(.duplicateSequence)
                outcome.rejection = .duplicateSequence
                return outcome
            }
            outcome.missedBehaviour = header.sequence - last - 1
        }
        behaviourSequence = header.sequence
        counters.accepted.increment()
        counters.behaviourAccepted.increment()
        if outcome.missedBehaviour > 0 { counters.behaviourMissed.increment(by: outcome.missedBehaviour) }
        let unused = quality?.addBehaviour(readout: UnsafeRawBufferPointer(rebasing: frames[0][readout]), header: header, frames: frames) ?? 0
        if unused > 0 { counters.behaviourUnused.increment(by: UInt64(unused)) }
        outcome.unusedBehaviour = unused
        return outcome
    }

    /// Processes one multipart message received at `receivedAt` (CLOCK_MONOTONIC ns).
    /// `carriedWatermark` says the scheduler may have a window to run.
    @discardableResult
    public func process(frames: UnsafeBufferPointer<UnsafeRawBufferPointer>, receivedAt: UInt64) -> Outcome {
        counters.received.increment()
        if (try? WireMessage.type(of: frames)) == .behaviour { return processBehaviour(frames: frames) }
        var outcome = Outcome()
        let header: RigHeader
        var readHeader: RigHeader?
        do {
            header = try RigMessageDecoder.decode(frames: frames, into: events, header: &readHeader)
        } catch {
            if let read = readHeader { useUpNumber(of: read, outcome: &outcome) }
            counters.reject(error)
            outcome.rejection = error
            return outcome
        }
        // The protocol allows any positive rate; beyond 1 THz no rig exists and tick arithmetic
        // (a window is sequence_length * rate ticks) would approach Int64's range.
        guard header.tickRate <= Self.maxTickRate else {
            useUpNumber(of: header, outcome: &outcome)
            counters.reject(.badTickRate)
            outcome.rejection = .badTickRate
            outcome.clockRefusal = "tick_rate \(header.tickRate) Hz is above the \(Self.maxTickRate) Hz any rig has"
            return outcome
        }
        if source == nil { source = header.sourceID }
        guard header.sourceID == source else {
            counters.otherSource.increment()
            outcome.otherSource = header.sourceID
            return outcome
        }
        // Every configured duration must be a whole number of ticks of the source's clock.
        if header.tickRate != fittingTickRate {
            do {
                _ = try binding.ticks(tickRate: header.tickRate)
                fittingTickRate = header.tickRate
            } catch {
                useUpNumber(of: header, outcome: &outcome)
                counters.reject(.badTickRate)
                outcome.rejection = .badTickRate
                outcome.clockRefusal = error.description
                return outcome
            }
        }
        let batch = UnsafeBufferPointer(rebasing: events[0..<Int(header.eventCount)])
        let admission: SequenceTracker.Admission
        do {
            admission = try tracker.admit(header, events: batch)
        } catch {
            counters.reject(error)
            outcome.rejection = error
            resynchronizeIfStuck(after: error, source: header.sourceID, outcome: &outcome)
            return outcome
        }
        rejectedInARow = 0
        tickRate = header.tickRate
        counters.accepted.increment()
        counters.missedMessages.increment(by: admission.missedMessages)
        if admission.restarted || header.sequence == 0 || !started {
            ring.push(.sourceStarted(tickRate: header.tickRate))
            started = true
        }
        counters.late.increment(by: UInt64(admission.lateEvents))
        var unknown: UInt64 = 0
        for event in batch[admission.lateEvents...] {
            guard let position = binding.position(ofRigUnit: event.unit) else {
                unknown &+= 1
                outcome.unknownUnitIDs.note(event.unit)
                continue
            }
            ring.push(.spike(time: event.time, unit: position))
        }
        if unknown > 0 { counters.unknownUnits.increment(by: unknown) }
        outcome.lateEvents = admission.lateEvents
        outcome.unknownUnits = Int(unknown)
        outcome.missedMessages = admission.missedMessages
        guard let watermark = header.watermark else { return outcome }
        ring.push(.watermark(time: watermark, receivedAt: receivedAt))
        outcome.carriedWatermark = true
        return outcome
    }
}

/// Up to four distinct unit ids, without allocating (the ingest's hot path).
public struct UnknownUnitIDs: Equatable, Sendable {
    public static let capacity = 4
    private var storage: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
    public private(set) var count = 0

    public init() {}

    public mutating func note(_ id: UInt32) {
        let known = withUnsafeBytes(of: storage) { raw in
            (0..<count).contains { raw.load(fromByteOffset: $0 * 4, as: UInt32.self) == id }
        }
        guard count < Self.capacity, !known else { return }
        withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: id, toByteOffset: count * 4, as: UInt32.self) }
        count += 1
    }

    public var ids: [UInt32] {
        withUnsafeBytes(of: storage) { raw in (0..<count).map { raw.load(fromByteOffset: $0 * 4, as: UInt32.self) } }
    }

    public static func == (a: Self, b: Self) -> Bool { a.ids == b.ids }
}
