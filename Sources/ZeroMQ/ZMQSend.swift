import CZeroMQ

extension ZMQSocket {
    /// Sends one frame; `more` says another frame of the same message follows. libzmq copies
    /// the bytes, so `frame` may be reused at once. A multipart message is delivered whole or not at all.
    ///
    /// - Returns: false if the frame could not be queued without waiting (`dontWait`, or the send
    ///   timeout passed); a PUB socket never waits: at its high-water mark it drops.
    ///
    /// The corresponding C function is `zmq_send`.
    @discardableResult
    public func send(_ frame: UnsafeRawBufferPointer, more: Bool = false, dontWait: Bool = false) throws(ZMQError)
        -> Bool
    {
        let flags = (more ? ZMQ_SNDMORE : 0) | (dontWait ? ZMQ_DONTWAIT : 0)
        return try zmqCall("zmq_send") { Int32(zmq_send(handle, frame.baseAddress, frame.count, flags)) } != nil
    }

    /// Sends a whole multipart message.
    ///
    /// - Returns: false if the first frame could not be queued without waiting (nothing was sent).
    ///
    /// The corresponding C function is `zmq_send`.
    @discardableResult
    public func send(frames: [[UInt8]], dontWait: Bool = false) throws(ZMQError) -> Bool {
        for (index, frame) in frames.enumerated() {
            let more = index + 1 < frames.count
            let sent = try frame.withUnsafeBytes { bytes in
                Result { () throws(ZMQError) in try send(bytes, more: more, dontWait: dontWait) }
            }.get()
            if !sent {
                // libzmq accepts the rest of a message once it took its first frame.
                guard index == 0 else { throw ZMQError(code: EAGAIN, function: "zmq_send") }
                return false
            }
        }
        return true
    }
}
