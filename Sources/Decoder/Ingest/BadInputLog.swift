import Logging

/// Says in the log what the counters count: the first time each kind of bad input is seen, then
/// at most once per `interval` per kind with how many came since, so a rig that sends garbage
/// at 1 kHz cannot flood the journal.
struct BadInputLog {
    let logger: Logger
    let interval: UInt64 = 5_000_000_000
    private var lastLogged: [String: UInt64] = [:]
    private var unlogged: [String: UInt64] = [:]
    /// The first unmapped rig unit ids seen, named in the log.
    private var unknownIDs: [UInt32] = []
    static let unknownIDsNamed = 8

    init(logger: Logger) { self.logger = logger }

    mutating func note(_ outcome: IngestProcessor.Outcome, at now: UInt64) {
        if let rejection = outcome.rejection {
            // One kind per reason (never per value: a peer could make the keys grow without bound).
            note("rejected rig message: \(rejection.name)", count: 1, at: now, detail: outcome.clockRefusal)
        }
        if let other = outcome.otherSource {
            note("message of a rig source this daemon does not decode", count: 1, at: now, detail: "source \(other)")
        }
        if outcome.lateEvents > 0 {
            note("late spike events (at or before the source's previous watermark), dropped", count: UInt64(outcome.lateEvents), at: now)
        }
        if outcome.unknownUnits > 0 {
            for id in outcome.unknownUnitIDs.ids where unknownIDs.count < Self.unknownIDsNamed && !unknownIDs.contains(id) {
                unknownIDs.append(id)
            }
            let named = unknownIDs.map(String.init).joined(separator: ", ")
            note("spike events of rig units the configuration does not map", count: UInt64(outcome.unknownUnits), at: now,
                 detail: "rig unit ids \(named)\(unknownIDs.count == Self.unknownIDsNamed ? ", ..." : ""); map them in `units` or `unit_prefix`")
        }
        if outcome.resynchronized {
            logger.error("the rig source's messages kept going back in time or sequence: its history is forgotten and it starts afresh (decoding resumes one window later)")
        }
        if outcome.missedBehaviour > 0 {
            note("behaviour messages missing by sequence number", count: outcome.missedBehaviour, at: now)
        }
        if outcome.unusedBehaviour > 0 {
            note("behaviour samples not scored (readout not decoded or of another dimension, not after the previous sample, or not finite)", count: UInt64(outcome.unusedBehaviour), at: now)
        }
        if outcome.missedMessages > 0 {
            note("rig messages missing by sequence number", count: outcome.missedMessages, at: now)
        }
    }

    private mutating func note(_ what: String, count: UInt64, at now: UInt64, detail: String? = nil) {
        let pending = unlogged[what, default: 0] + count
        if let last = lastLogged[what], now &- last < interval {
            unlogged[what] = pending
            return
        }
        var metadata: Logger.Metadata = ["count": "\(pending)", "since": lastLogged[what] == nil ? "start" : "last report"]
        if let detail { metadata["detail"] = "\(detail)" }
        logger.warning("\(what)", metadata: metadata)
        lastLogged[what] = now
        unlogged[what] = 0
    }
}
