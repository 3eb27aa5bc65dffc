import ArgumentParser
import Foundation
import SpikeWire
import ZeroMQ

/// Subscribes and prints every message as a JSON line: decoded, or `{"type":"rejected",...}`
/// with the reason. Rig messages go through the ingest path (`RigMessageDecoder` into a
/// preallocated buffer, then `SequenceTracker`), so this is also how to check a rig's output.
struct WireListenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wire-listen",
        abstract: "Subscribe to poyo-rt messages and print them as JSON lines."
    )

    @OptionGroup var endpoint: WireEndpointOptions

    @Option(help: "Topic prefixes to subscribe to (repeatable; default: everything).")
    var subscribe: [String] = []

    @Option(help: "Exit after this many messages (0: never).")
    var count = 0

    @Option(help: "Exit with status 1 after this many seconds without a message (0: wait forever).")
    var timeout = 0.0

    func run() throws {
        let context = try ZMQContext()
        let socket = try ZMQSocket(context, type: .subscriber)
        for prefix in subscribe.isEmpty ? [""] : subscribe { try socket.subscribe(Array(prefix.utf8)) }
        if timeout > 0 { try socket.setReceiveTimeout(.milliseconds(Int64(timeout * 1000))) }
        try endpoint.attach(socket)

        let events = UnsafeMutableBufferPointer<SpikeEvent>.allocate(capacity: WireFormat.maxEventsPerBatch)
        defer { events.deallocate() }
        var tracker = SequenceTracker()
        var message = ZMQMultipartMessage()
        var printed = 0
        while count == 0 || printed < count {
            guard try socket.receive(into: &message) else {
                WireJSON.emit(["type": "timeout", "seconds": timeout])
                throw ExitCode(1)
            }
            WireJSON.emit(Self.describe(message.frames, events: events, tracker: &tracker))
            printed += 1
        }
    }

    static func describe(
        _ frames: UnsafeBufferPointer<UnsafeRawBufferPointer>, events: UnsafeMutableBufferPointer<SpikeEvent>,
        tracker: inout SequenceTracker
    ) -> [String: Any] {
        do throws(WireRejection) {
            switch try WireMessage.type(of: frames) {
            case .spikeBatch, .watermark:
                let header = try RigMessageDecoder.decode(frames: frames, into: events)
                let decoded = UnsafeBufferPointer(rebasing: events[0..<Int(header.eventCount)])
                var object = WireJSON.rig(header, events: decoded)
                let admission = try tracker.admit(header, events: decoded)
                object["missed_messages"] = admission.missedMessages
                object["late_events"] = admission.lateEvents
                object["restarted"] = admission.restarted
                return object
            case .output:
                return WireJSON.output(try OutputMessage(frames: frames))
            case .status:
                return WireJSON.status(try StatusMessage(frames: frames))
            case .behaviour:
                return WireJSON.behaviour(try BehaviourMessage(frames: frames))
            }
        } catch {
            return ["type": "rejected", "rejection": error.name, "frames": frames.count]
        }
    }
}
