import CZeroMQ

/// A libzmq socket. Not thread-safe (libzmq's rule), hence noncopyable and not `Sendable`: the
/// thread that makes it is the one that uses and closes it. Closed when it goes out of scope.
///
/// LINGER is always set (0 unless told otherwise), so closing never waits on unsent messages
/// and the context's termination never hangs.
public struct ZMQSocket: ~Copyable {
    let handle: UnsafeMutableRawPointer
    private let context: ZMQContext

    /// Creates a socket with LINGER set to `linger` (milliseconds; 0 drops unsent messages at close).
    ///
    /// The corresponding C function is `zmq_socket`.
    public init(_ context: ZMQContext, type: ZMQSocketType, linger: Int32 = 0) throws(ZMQError) {
        guard let handle = zmq_socket(context.handle, type.rawValue) else {
            throw ZMQError(code: zmq_errno(), function: "zmq_socket")
        }
        var linger = linger
        guard zmq_setsockopt(handle, ZMQ_LINGER, &linger, MemoryLayout<Int32>.size) == 0 else {
            let error = ZMQError(code: zmq_errno(), function: "zmq_setsockopt")
            zmq_close(handle)
            throw error
        }
        self.handle = handle
        self.context = context
    }

    deinit {
        // zmq_close only fails on a socket that is not one (a bug this type rules out).
        zmq_close(handle)
    }

    /// Accepts connections on `endpoint` (`tcp://127.0.0.1:5555`, `tcp://127.0.0.1:*`, `ipc:///tmp/x`).
    ///
    /// The corresponding C function is `zmq_bind`.
    public func bind(_ endpoint: String) throws(ZMQError) {
        _ = try zmqCall("zmq_bind") { zmq_bind(handle, endpoint) }
    }

    /// Connects to `endpoint`; libzmq reconnects by itself if the peer is not there yet.
    ///
    /// The corresponding C function is `zmq_connect`.
    public func connect(_ endpoint: String) throws(ZMQError) {
        _ = try zmqCall("zmq_connect") { zmq_connect(handle, endpoint) }
    }

    /// The endpoint last bound, with the port the system chose for `tcp://...:*`.
    ///
    /// The corresponding C function is `zmq_getsockopt` with `ZMQ_LAST_ENDPOINT`.
    public var lastEndpoint: String {
        get throws(ZMQError) {
            var buffer = [CChar](repeating: 0, count: 1024)
            var size = buffer.count
            _ = try zmqCall("zmq_getsockopt") { zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size) }
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// Receives messages whose first frame starts with `prefix` (a SUB socket receives nothing
    /// until it subscribes; the empty prefix means everything).
    ///
    /// The corresponding C function is `zmq_setsockopt` with `ZMQ_SUBSCRIBE`.
    public func subscribe(_ prefix: [UInt8] = []) throws(ZMQError) {
        _ = try zmqCall("zmq_setsockopt") {
            prefix.withUnsafeBytes { zmq_setsockopt(handle, ZMQ_SUBSCRIBE, $0.baseAddress, $0.count) }
        }
    }

    /// Sets an integer option (`ZMQ_SNDHWM`, `ZMQ_RCVHWM`, `ZMQ_IMMEDIATE`, ...).
    ///
    /// The corresponding C function is `zmq_setsockopt`.
    public func setOption(_ option: Int32, _ value: Int32) throws(ZMQError) {
        var value = value
        _ = try zmqCall("zmq_setsockopt") { zmq_setsockopt(handle, option, &value, MemoryLayout<Int32>.size) }
    }

    /// Reads an integer option.
    ///
    /// The corresponding C function is `zmq_getsockopt`.
    public func option(_ option: Int32) throws(ZMQError) -> Int32 {
        var value: Int32 = 0
        var size = MemoryLayout<Int32>.size
        _ = try zmqCall("zmq_getsockopt") { zmq_getsockopt(handle, option, &value, &size) }
        return value
    }

    /// How long a receive waits before returning nil: nil waits forever.
    ///
    /// The corresponding C function is `zmq_setsockopt` with `ZMQ_RCVTIMEO`.
    public func setReceiveTimeout(_ timeout: Duration?) throws(ZMQError) {
        try setOption(ZMQ_RCVTIMEO, timeout.map(Self.milliseconds) ?? -1)
    }

    /// How long a send waits before returning false: nil waits forever.
    ///
    /// The corresponding C function is `zmq_setsockopt` with `ZMQ_SNDTIMEO`.
    public func setSendTimeout(_ timeout: Duration?) throws(ZMQError) {
        try setOption(ZMQ_SNDTIMEO, timeout.map(Self.milliseconds) ?? -1)
    }

    /// Messages queued per peer before a PUB drops (and a SUB stops reading): default 1000.
    ///
    /// The corresponding C function is `zmq_setsockopt` with `ZMQ_SNDHWM` and `ZMQ_RCVHWM`.
    public func setHighWaterMark(send: Int32, receive: Int32) throws(ZMQError) {
        try setOption(ZMQ_SNDHWM, send)
        try setOption(ZMQ_RCVHWM, receive)
    }

    /// Frames larger than `bytes` make libzmq drop the connection that sent them (-1: no limit).
    /// An ingest socket sets it just above the largest valid frame, so a broken or hostile peer
    /// cannot make it buffer gigabytes.
    ///
    /// The corresponding C function is `zmq_setsockopt` with `ZMQ_MAXMSGSIZE`.
    public func setMaximumMessageSize(_ bytes: Int64) throws(ZMQError) {
        var value = bytes
        _ = try zmqCall("zmq_setsockopt") { zmq_setsockopt(handle, ZMQ_MAXMSGSIZE, &value, MemoryLayout<Int64>.size) }
    }

    /// The limit set by `setMaximumMessageSize`.
    ///
    /// The corresponding C function is `zmq_getsockopt` with `ZMQ_MAXMSGSIZE`.
    public var maximumMessageSize: Int64 {
        get throws(ZMQError) {
            var value: Int64 = 0
            var size = MemoryLayout<Int64>.size
            _ = try zmqCall("zmq_getsockopt") { zmq_getsockopt(handle, ZMQ_MAXMSGSIZE, &value, &size) }
            return value
        }
    }

    static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        return Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}

/// A socket must stay on the thread that made it (libzmq sockets are not thread-safe).
@available(*, unavailable, message: "a ZMQSocket belongs to the thread that made it")
extension ZMQSocket: Sendable {}
