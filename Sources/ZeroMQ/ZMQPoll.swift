import CZeroMQ

/// What to wait for on one socket or file descriptor in `ZMQPoll.wait`.
public struct ZMQPollItem {
    var item: zmq_pollitem_t

    /// Waits for `socket` to have a message to receive. The item borrows the socket's handle:
    /// poll on the socket's own thread, while the socket lives.
    public init(readable socket: borrowing ZMQSocket) {
        item = zmq_pollitem_t(socket: socket.handle, fd: -1, events: Int16(ZMQ_POLLIN), revents: 0)
    }

    /// Waits for a plain file descriptor (a pipe, stdin) to be readable.
    public init(readableFileDescriptor fd: Int32) {
        item = zmq_pollitem_t(socket: nil, fd: fd, events: Int16(ZMQ_POLLIN), revents: 0)
    }

    /// Whether the last `wait` found it readable.
    public var isReadable: Bool { item.revents & Int16(ZMQ_POLLIN) != 0 }
}

public enum ZMQPoll {
    /// Waits until one of `items` is readable or `timeout` passes (nil: forever); EINTR retried.
    ///
    /// - Returns: the number of readable items (0 on timeout).
    ///
    /// The corresponding C function is `zmq_poll`.
    @discardableResult
    public static func wait(_ items: inout [ZMQPollItem], timeout: Duration?) throws(ZMQError) -> Int {
        let milliseconds = timeout.map { Int(ZMQSocket.milliseconds($0)) } ?? -1
        let count = Int32(items.count)
        let ready = try items.withUnsafeMutableBufferPointer { buffer throws(ZMQError) in
            try buffer.withMemoryRebound(to: zmq_pollitem_t.self) { raw throws(ZMQError) in
                try zmqCall("zmq_poll") { zmq_poll(raw.baseAddress, count, milliseconds) }
            }
        }
        return Int(ready ?? 0)
    }
}
