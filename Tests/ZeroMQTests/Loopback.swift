import Foundation
import ZeroMQ

/// Endpoints on this host for one test: tcp on 127.0.0.1 with a port the system picks, or an
/// ipc path no other test uses.
enum Loopback: CaseIterable, CustomStringConvertible {
    case tcp, ipc

    var bindEndpoint: String {
        switch self {
        case .tcp: "tcp://127.0.0.1:*"
        case .ipc: "ipc://\(NSTemporaryDirectory())poyo-zmq-\(ProcessInfo.processInfo.globallyUniqueString)"
        }
    }

    var description: String { self == .tcp ? "tcp" : "ipc" }
}

let hello: [UInt8] = Array("hello".utf8)

struct ConnectedPair: ~Copyable {
    let publisher: ZMQSocket
    let subscriber: ZMQSocket
}

/// Binds a PUB, connects a SUB to it and waits until the subscription has propagated (the slow
/// joiner): the PUB sends `hello` until the SUB receives one. Later hellos may still arrive.
func connectedPair(_ context: ZMQContext, over transport: Loopback) throws -> ConnectedPair {
    let publisher = try ZMQSocket(context, type: .publisher)
    try publisher.bind(transport.bindEndpoint)
    let subscriber = try ZMQSocket(context, type: .subscriber)
    try subscriber.subscribe()
    try subscriber.connect(try publisher.lastEndpoint)
    var items = [ZMQPollItem(readable: subscriber)]
    for _ in 0..<1000 {
        try publisher.send(frames: [hello])
        if try ZMQPoll.wait(&items, timeout: .milliseconds(10)) > 0, try subscriber.receiveFrames() == [hello] {
            return ConnectedPair(publisher: publisher, subscriber: subscriber)
        }
    }
    throw ZMQError(code: ETIMEDOUT, function: "handshake")
}

/// The next message that is not a handshake `hello`.
func receiveSkippingHellos(_ socket: borrowing ZMQSocket) throws -> [[UInt8]]? {
    while let frames = try socket.receiveFrames() {
        if frames != [hello] { return frames }
    }
    return nil
}
