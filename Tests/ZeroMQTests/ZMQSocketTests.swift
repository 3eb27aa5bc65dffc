import CZeroMQ
import Testing

@testable import ZeroMQ

@Suite struct ZMQSocketTests {
    @Test(arguments: Loopback.allCases)
    func publishAndSubscribeMultipart(over transport: Loopback) throws {
        let context = try ZMQContext()
        let pair = try connectedPair(context, over: transport)
        try pair.subscriber.setReceiveTimeout(.seconds(5))
        let sent: [[UInt8]] = [Array("topic".utf8), [1, 2, 3], [], Array(repeating: 7, count: 100_000)]
        try pair.publisher.send(frames: sent)
        #expect(try receiveSkippingHellos(pair.subscriber) == sent)
    }

    @Test func subscriptionFiltersOnTheFirstFrame() throws {
        let context = try ZMQContext()
        let publisher = try ZMQSocket(context, type: .publisher)
        try publisher.bind(Loopback.tcp.bindEndpoint)
        let subscriber = try ZMQSocket(context, type: .subscriber)
        try subscriber.subscribe(Array("output/".utf8))
        try subscriber.connect(try publisher.lastEndpoint)
        try subscriber.setReceiveTimeout(.seconds(5))
        // Handshake on the subscribed prefix, then send one filtered and one wanted message.
        var items = [ZMQPollItem(readable: subscriber)]
        repeat {
            try publisher.send(frames: [Array("output/hello".utf8)])
        } while try ZMQPoll.wait(&items, timeout: .milliseconds(10)) == 0
        try publisher.send(frames: [Array("status".utf8), [1]])
        try publisher.send(frames: [Array("output/x".utf8), [2]])
        var received: [[UInt8]]?
        repeat { received = try subscriber.receiveFrames() } while received == [Array("output/hello".utf8)]
        #expect(received == [Array("output/x".utf8), [2]])
    }

    @Test func receiveTimesOutWithFalse() throws {
        let context = try ZMQContext()
        let subscriber = try ZMQSocket(context, type: .subscriber)
        try subscriber.subscribe()
        try subscriber.bind(Loopback.tcp.bindEndpoint)
        try subscriber.setReceiveTimeout(.milliseconds(20))
        var message = ZMQMultipartMessage()
        #expect(try subscriber.receive(into: &message) == false)
        #expect(try subscriber.receive(into: &message, dontWait: true) == false)
        #expect(message.frames.isEmpty)
    }

    @Test func shutdownMakesReceiveThrowTerminated() throws {
        let context = try ZMQContext()
        let subscriber = try ZMQSocket(context, type: .subscriber)
        try subscriber.bind(Loopback.ipc.bindEndpoint)
        context.shutdown()
        var message = ZMQMultipartMessage()
        let error = #expect(throws: ZMQError.self) { _ = try subscriber.receive(into: &message) }
        #expect(error?.isTerminated == true)
        #expect(error?.function == "zmq_msg_recv")
    }

    @Test func lingerIsAlwaysSet() throws {
        let context = try ZMQContext()
        let socket = try ZMQSocket(context, type: .publisher)
        #expect(try socket.option(ZMQ_LINGER) == 0)
        let patient = try ZMQSocket(context, type: .push, linger: 250)
        #expect(try patient.option(ZMQ_LINGER) == 250)
    }

    @Test func maximumMessageSizeIsSet() throws {
        let context = try ZMQContext()
        let socket = try ZMQSocket(context, type: .subscriber)
        #expect(try socket.maximumMessageSize == -1)
        try socket.setMaximumMessageSize(1 << 20)
        #expect(try socket.maximumMessageSize == 1 << 20)
    }

    @Test func bindErrorsAreTyped() throws {
        let context = try ZMQContext()
        let first = try ZMQSocket(context, type: .publisher)
        try first.bind("tcp://127.0.0.1:*")
        let taken = try first.lastEndpoint
        let second = try ZMQSocket(context, type: .publisher)
        let inUse = #expect(throws: ZMQError.self) { try second.bind(taken) }
        #expect(inUse?.code == czmq_eaddrinuse())
        let unknown = #expect(throws: ZMQError.self) { try second.bind("carrier-pigeon://coop") }
        #expect(unknown?.code == czmq_eprotonosupport())
        #expect(unknown?.description.contains("zmq_bind") == true)
    }

    @Test func longerMessagesThanCapacityKeepTheirFrameCount() throws {
        let context = try ZMQContext()
        let push = try ZMQSocket(context, type: .push)
        try push.bind(Loopback.ipc.bindEndpoint)
        let pull = try ZMQSocket(context, type: .pull)
        try pull.connect(try push.lastEndpoint)
        try pull.setReceiveTimeout(.seconds(5))
        let frames = (0..<10).map { [UInt8($0)] }
        try push.send(frames: frames)
        try push.send(frames: [[42]])
        var message = ZMQMultipartMessage(capacity: 3)
        #expect(try pull.receive(into: &message))
        #expect(message.frameCount == 10)
        #expect(message.frames.map { Array($0) } == [[0], [1], [2]])
        // The discarded tail does not leak into the next message.
        #expect(try pull.receive(into: &message))
        #expect(message.frameCount == 1)
        #expect(message.frames.map { Array($0) } == [[42]])
    }

    @Test func pollSeesReadableSocketsAndTimesOut() throws {
        let context = try ZMQContext()
        let push = try ZMQSocket(context, type: .push)
        try push.bind(Loopback.tcp.bindEndpoint)
        let pull = try ZMQSocket(context, type: .pull)
        try pull.connect(try push.lastEndpoint)
        var items = [ZMQPollItem(readable: pull)]
        #expect(try ZMQPoll.wait(&items, timeout: .zero) == 0)
        #expect(items[0].isReadable == false)
        try push.send(frames: [[1]])
        #expect(try ZMQPoll.wait(&items, timeout: .seconds(5)) == 1)
        #expect(items[0].isReadable)
    }
}
