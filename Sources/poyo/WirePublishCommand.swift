import Decoder
import ArgumentParser
import Foundation
import SpikeWire
import ZeroMQ

/// Publishes a known sequence of messages after a slow-joiner handshake: status heartbeats
/// every 10 ms until a line arrives on stdin (the subscriber saw one), then `--count` outputs
/// (or spike batches) by the formula below, then exits. The counterpart of the Python tests.
///
/// Output k: readout `cursor_velocity_2d`, tick_sequence k, tick_rate 30000, window
/// [600 k, 600 k + 30000], timestamps [window_end - 300, window_end], values
/// [k, -k, k + 0.5, k / 4] (2 x 2), raw values (for odd k) the values / 8.
/// Spike batch k (source 3, sequence: heartbeats sent + k): k + 1 events at 100 k + i, unit 7 i,
/// watermark 100 k + 99.
struct WirePublishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wire-publish",
        abstract: "Publish test outputs or spike batches after a handshake (for interoperability tests)."
    )

    enum Kind: String, ExpressibleByArgument { case outputs, spikes }

    @OptionGroup var endpoint: WireEndpointOptions

    @Option(help: "What to publish: outputs (daemon side) or spikes (rig side).")
    var kind: Kind = .outputs

    @Option(help: "Messages to publish after the handshake.")
    var count = 10

    @Option(help: "Seconds to wait for the handshake line on stdin.")
    var handshakeTimeout = 30.0

    func run() throws {
        let context = try ZMQContext()
        // LINGER 2 s: this process exits right after its last send, which must still go out.
        let socket = try ZMQSocket(context, type: .publisher, linger: 2000)
        try endpoint.attach(socket)
        let heartbeats = try handshake(socket)
        for k in 0..<count {
            try socket.send(
                frames: kind == .outputs ? Self.output(k).frames : Self.spikeBatch(k, sequence: heartbeats + UInt64(k)))
        }
        WireJSON.emit(["type": "done", "published": count])
    }

    /// Sends a heartbeat (status, or watermark for the rig side) every 10 ms until stdin has a
    /// line; returns how many it sent (the rig side's next sequence number).
    private func handshake(_ socket: borrowing ZMQSocket) throws -> UInt64 {
        var items = [ZMQPollItem(readableFileDescriptor: STDIN_FILENO)]
        var sequence: UInt64 = 0
        let deadline = Date().addingTimeInterval(handshakeTimeout)
        while Date() < deadline {
            let heartbeat =
                kind == .outputs
                ? StatusMessage(header: StatusHeader(), model: "wire-publish", rejections: [], daemonCounters: [])
                    .frames
                : SpikeBatchEncoder.watermark(sourceID: 3, sequence: sequence, tickRate: 30_000, watermark: 0)
            try socket.send(frames: heartbeat)
            sequence += 1
            if try ZMQPoll.wait(&items, timeout: .milliseconds(10)) > 0 {
                _ = readLine()
                WireJSON.emit(["type": "handshake", "heartbeats": sequence])
                return sequence
            }
        }
        throw CommandError("no handshake line on stdin within \(handshakeTimeout) s")
    }

    static func output(_ k: Int) -> OutputMessage {
        let x = Float(k)
        let values: [Float] = [x, -x, x + 0.5, x / 4]
        let end = Int64(600 * k + 30_000)
        let now = MonotonicClock.nanoseconds()
        let header = OutputHeader(
            outputCount: 2, dimension: 2, tickSequence: UInt64(k), tickRate: 30_000,
            windowStart: Int64(600 * k), windowEnd: end,
            stages: StageTimestamps(
                received: now, windowBuilt: now, forwardDone: now, published: MonotonicClock.nanoseconds()),
            hasRawValues: k % 2 == 1)
        return OutputMessage(
            readout: "cursor_velocity_2d", header: header, timestamps: [end - 300, end], values: values,
            rawValues: k % 2 == 1 ? values.map { $0 / 8 } : nil)
    }

    static func spikeBatch(_ k: Int, sequence: UInt64) -> [[UInt8]] {
        let events = (0...k).map { SpikeEvent(time: Int64(100 * k + $0), unit: UInt32(7 * $0)) }
        return SpikeBatchEncoder.spikeBatch(
            sourceID: 3, sequence: sequence, tickRate: 30_000, events: events, watermark: Int64(100 * k + 99))
    }
}
