import CZeroMQ

/// Reusable storage for received multipart messages: `zmq_msg_t`s allocated once and never
/// copied (libzmq forbids copying them by value), and the frames lent as raw buffers, so the
/// receive path allocates nothing. Belongs to the thread of the socket it receives from.
///
/// It keeps at most `capacity` frames; the rest of a longer message is received and discarded,
/// and `frameCount` still says how many frames the message had. Give it more capacity than the
/// largest valid message has frames, so that a decoder sees a longer one as wrong.
public struct ZMQMultipartMessage: ~Copyable {
    private let messages: UnsafeMutablePointer<zmq_msg_t>
    private let views: UnsafeMutableBufferPointer<UnsafeRawBufferPointer>
    /// Frames kept per message.
    public let capacity: Int
    /// Frames the last message had (may exceed `capacity`).
    public private(set) var frameCount = 0

    /// The corresponding C function is `zmq_msg_init`.
    public init(capacity: Int = 8) {
        precondition(capacity >= 1, "a message has at least one frame")
        self.capacity = capacity
        // One more message than kept frames: the scratch one that discards a longer message's tail.
        messages = .allocate(capacity: capacity + 1)
        for index in 0...capacity { zmq_msg_init(messages + index) }
        views = .allocate(capacity: capacity)
        views.initialize(repeating: UnsafeRawBufferPointer(start: nil, count: 0))
    }

    deinit {
        for index in 0...capacity { zmq_msg_close(messages + index) }
        messages.deallocate()
        views.deallocate()
    }

    /// The frames kept from the last message, valid until the next receive into this storage.
    public var frames: UnsafeBufferPointer<UnsafeRawBufferPointer> {
        UnsafeBufferPointer(rebasing: views[0..<min(frameCount, capacity)])
    }

    /// Receives a frame into slot `index` (the scratch slot past `capacity` discards).
    mutating func receiveFrame(from socket: borrowing ZMQSocket, flags: Int32) throws(ZMQError) -> Bool? {
        let slot = messages + min(frameCount, capacity)
        guard try zmqCall("zmq_msg_recv", { zmq_msg_recv(slot, socket.handle, flags) }) != nil else { return nil }
        if frameCount < capacity {
            views[frameCount] = UnsafeRawBufferPointer(start: zmq_msg_data(slot), count: zmq_msg_size(slot))
        }
        frameCount += 1
        return zmq_msg_more(slot) != 0
    }

    mutating func reset() { frameCount = 0 }
}

extension ZMQSocket {
    /// Receives one whole multipart message into `message`.
    ///
    /// - Returns: false if none arrived before the receive timeout (or at once with `dontWait`).
    /// - Throws: `ZMQError` with `isTerminated` once the context is shut down.
    ///
    /// The corresponding C function is `zmq_msg_recv`.
    public func receive(into message: inout ZMQMultipartMessage, dontWait: Bool = false) throws(ZMQError) -> Bool {
        message.reset()
        guard var more = try message.receiveFrame(from: self, flags: dontWait ? ZMQ_DONTWAIT : 0) else { return false }
        // The rest of a multipart message has arrived with its first frame: these never wait.
        while more {
            guard let next = try message.receiveFrame(from: self, flags: 0) else {
                throw ZMQError(code: EAGAIN, function: "zmq_msg_recv")
            }
            more = next
        }
        return true
    }

    /// Receives one whole multipart message as owned frames (allocates; for tools and tests).
    ///
    /// The corresponding C function is `zmq_msg_recv`.
    public func receiveFrames(dontWait: Bool = false) throws(ZMQError) -> [[UInt8]]? {
        var message = ZMQMultipartMessage(capacity: 64)
        guard try receive(into: &message, dontWait: dontWait) else { return nil }
        return message.frames.map { Array($0) }
    }
}

/// Its frames point into messages received on one socket's thread.
@available(*, unavailable, message: "a ZMQMultipartMessage belongs to the thread of its socket")
extension ZMQMultipartMessage: Sendable {}
