import CZeroMQ

/// A libzmq context: its I/O threads and the sockets made from it. Thread-safe (libzmq's own
/// guarantee), so it may be shared; every `ZMQSocket` keeps its context alive.
public final class ZMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    /// Creates a context with `ioThreads` I/O threads.
    ///
    /// The corresponding C functions are `zmq_ctx_new` and `zmq_ctx_set`.
    public init(ioThreads: Int32 = 1) throws(ZMQError) {
        guard let handle = zmq_ctx_new() else { throw ZMQError(code: zmq_errno(), function: "zmq_ctx_new") }
        self.handle = handle
        _ = try zmqCall("zmq_ctx_set") { zmq_ctx_set(handle, ZMQ_IO_THREADS, ioThreads) }
    }

    /// Makes every blocking call on this context's sockets, now and later, fail with `ETERM`
    /// (`ZMQError.isTerminated`), from any thread: the way to stop threads blocked in receive.
    ///
    /// The corresponding C function is `zmq_ctx_shutdown`.
    public func shutdown() {
        _ = try? zmqCall("zmq_ctx_shutdown") { zmq_ctx_shutdown(handle) }
    }

    /// Terminates the context; runs when the last socket and reference are gone, so it never
    /// waits on an open socket (and every socket has LINGER set, so it never waits on messages).
    ///
    /// The corresponding C function is `zmq_ctx_term`.
    deinit {
        while zmq_ctx_term(handle) == -1 && zmq_errno() == EINTR {}
    }
}
