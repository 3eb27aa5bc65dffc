import Decoder
import Foundation
import SpikeWire
import ZeroMQ

/// Spike batches through real PUB and SUB sockets on this host. One thread owns both sockets
/// and keeps one message in flight, so each sample is send -> libzmq I/O thread -> receive.
enum LoopbackBenchmark {
    enum Transport: String, CaseIterable, Encodable {
        case tcp, ipc

        var endpoint: String {
            switch self {
            case .tcp: "tcp://127.0.0.1:*"
            case .ipc: "ipc://\(NSTemporaryDirectory())poyo-wire-bench-\(getpid())"
            }
        }
    }

    struct Result: Encodable {
        var transport: String
        var messages: Int
        var p50Microseconds: Double
        var p90Microseconds: Double
        var p99Microseconds: Double
        var maxMicroseconds: Double
        var burstMessagesPerSecond: Double
    }

    /// Messages sent before receiving them all in the throughput part: below the high-water marks.
    static let burst = 500

    static func run(over transport: Transport, messages: Int, eventsPerBatch: Int) throws -> Result {
        let context = try ZMQContext()
        // PUB drops silently at its high-water mark, which a fast burst reaches before the I/O
        // thread drains it: raise the marks so the burst measures throughput, not drops.
        let publisher = try ZMQSocket(context, type: .publisher)
        try publisher.setHighWaterMark(send: 100_000, receive: 100_000)
        try publisher.bind(transport.endpoint)
        let subscriber = try ZMQSocket(context, type: .subscriber)
        try subscriber.setHighWaterMark(send: 100_000, receive: 100_000)
        try subscriber.subscribe(Array("spikes".utf8))
        try subscriber.connect(try publisher.lastEndpoint)
        try subscriber.setReceiveTimeout(.seconds(5))

        let frames = DecodeBenchmark.batch(events: eventsPerBatch)
        let events = UnsafeMutableBufferPointer<SpikeEvent>.allocate(capacity: WireFormat.maxEventsPerBatch)
        defer { events.deallocate() }
        var message = ZMQMultipartMessage()

        // Slow joiner: publish until the subscription has reached the publisher.
        var items = [ZMQPollItem(readable: subscriber)]
        repeat { try publisher.send(frames: frames) } while try ZMQPoll.wait(&items, timeout: .milliseconds(10)) == 0
        while try subscriber.receive(into: &message, dontWait: true) {}

        var latencies = [UInt64](repeating: 0, count: messages)
        for index in 0..<messages {
            let sent = MonotonicClock.nanoseconds()
            try publisher.send(frames: frames)
            try receiveOne(from: subscriber, into: &message, events: events)
            latencies[index] = MonotonicClock.nanoseconds() - sent
        }
        latencies.sort()
        func percentile(_ p: Double) -> Double {
            Double(latencies[min(latencies.count - 1, Int(p * Double(latencies.count)))]) / 1e3
        }

        let rounds = max(1, messages / burst)
        let start = MonotonicClock.nanoseconds()
        for _ in 0..<rounds {
            for _ in 0..<burst { try publisher.send(frames: frames) }
            for _ in 0..<burst { try receiveOne(from: subscriber, into: &message, events: events) }
        }
        let wall = Double(MonotonicClock.nanoseconds() - start) / 1e9
        return Result(
            transport: transport.rawValue, messages: messages, p50Microseconds: percentile(0.5),
            p90Microseconds: percentile(0.9), p99Microseconds: percentile(0.99),
            maxMicroseconds: Double(latencies.last ?? 0) / 1e3, burstMessagesPerSecond: Double(rounds * burst) / wall)
    }

    /// Receives and decodes one spike batch; a message lost on loopback is an error here.
    static func receiveOne(
        from subscriber: borrowing ZMQSocket, into message: inout ZMQMultipartMessage,
        events: UnsafeMutableBufferPointer<SpikeEvent>
    ) throws {
        guard try subscriber.receive(into: &message) else { throw ZMQError(code: ETIMEDOUT, function: "zmq_msg_recv") }
        _ = try? RigMessageDecoder.decode(frames: message.frames, into: events)
    }
}
