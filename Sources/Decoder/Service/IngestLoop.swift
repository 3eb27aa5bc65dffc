import Dispatch
import Logging
import SpikeWire
import ZeroMQ

/// The ingest thread: owns the SUB socket, receives every rig message, hands it to the
/// `IngestProcessor` (decode, validate, map, push to the ring) and wakes the scheduler when a
/// watermark arrived. It never waits on the model.
struct IngestLoop {
    /// Messages the ingest socket queues per connected rig (ZMQ_RCVHWM): with frames of at most
    /// 786 432 bytes, at most ~75 MiB per peer.
    static let receiveHighWaterMark: Int32 = 100
    let configuration: DecoderConfiguration
    let processor: IngestProcessor
    let control: ServiceControl
    let wakeup: DispatchSemaphore
    let capture: CaptureLog?
    let handoff: SwitchHandoff
    let quality: QualityMonitor
    let logger: Logger

    /// Opens the socket (reporting the outcome through `ready`) and runs until stopped.
    func run(context: ZMQContext, ready: (Result<String, ConfigurationError>) -> Bool) {
        do {
            let socket = try openSocket(context)
            guard ready(.success("spikes=\(try socket.lastEndpoint)")) else { return }
            receive(from: socket)
        } catch {
            _ = ready(.failure(ConfigurationError("spikes socket \(configuration.spikes.address): \(error)")))
        }
    }

    private func openSocket(_ context: ZMQContext) throws(ZMQError) -> ZMQSocket {
        let socket = try ZMQSocket(context, type: .subscriber, linger: 0)
        // Bounded queue, bounded frames: a peer (broken or hostile) sending as fast as it can
        // cannot make the daemon buffer more than receiveHighWaterMark messages of at most
        // maxRigFrameSize bytes per frame; beyond, libzmq stops reading the connection (the
        // kernel's socket buffer, then the rig's PUB queue, take the rest; what the rig's PUB
        // drops shows up as missed_messages).
        try socket.setHighWaterMark(send: 1000, receive: Self.receiveHighWaterMark)
        try socket.setMaximumMessageSize(Int64(WireFormat.maxRigFrameSize))
        try socket.subscribe(Array(MessageType.spikeBatch.topicPrefix.utf8))
        try socket.subscribe(Array(MessageType.watermark.topicPrefix.utf8))
        try socket.subscribe(Array(MessageType.behaviour.topicPrefix.utf8))
        try socket.setReceiveTimeout(.milliseconds(100))
        if configuration.spikes.bind { try socket.bind(configuration.spikes.address) } else { try socket.connect(configuration.spikes.address) }
        return socket
    }

    private func receive(from socket: borrowing ZMQSocket) {
        nameCurrentThread("poyo-ingest")
        if let cpu = configuration.ingestCPU, !pinCurrentThread(toCPU: cpu) {
            logger.warning("could not pin the ingest thread to CPU \(cpu)")
        }
        RealtimeScheduling.applyToCurrentThread(configuration.realtimePriority, thread: "ingest", logger: logger)
        // One more frame than any rig message has, so a longer message is seen as one.
        var message = ZMQMultipartMessage(capacity: 5)
        var badInput = BadInputLog(logger: logger)
        while !control.shouldStop {
            if let change = handoff.takeOffer() { apply(change) }
            do {
                guard try socket.receive(into: &message) else { continue }
            } catch {
                if error.isTerminated { break }
                logger.error("ingest receive failed: \(error)")
                continue
            }
            let receivedAt = MonotonicClock.nanoseconds()
            if let capture {
                capture.append(.received(frames: message.frames.map { Array($0) }, monotonicNS: receivedAt))
            }
            let outcome = processor.process(frames: message.frames, receivedAt: receivedAt)
            if outcome.carriedWatermark { wakeup.signal() }
            if outcome.hasBadInput { badInput.note(outcome, at: receivedAt) }
        }
    }

    /// A configuration switch at this point of the message stream: the unit map and the readouts
    /// scored change here, the capture log records it here, and the ring tells the scheduler.
    private func apply(_ change: ConfigurationSwitch) {
        capture?.append(.session(configuration: (try? change.configuration.yaml()) ?? "", model: change.identity, monotonicNS: MonotonicClock.nanoseconds()))
        quality.configure(binding: change.binding, windowSeconds: change.configuration.qualityWindow)
        processor.rebind(change.binding)
    }
}
