import CZeroMQ

/// A libzmq call failed: which call, the errno it left, and where in Swift it was made.
public struct ZMQError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The errno value (`zmq_errno()`), POSIX or one of libzmq's own (`ETERM`, `EFSM`, ...).
    public var code: Int32
    /// The libzmq function that failed, e.g. `zmq_msg_recv`.
    public var function: String
    public var file: String
    public var line: UInt

    public init(code: Int32, function: String, file: String = #fileID, line: UInt = #line) {
        self.code = code
        self.function = function
        self.file = file
        self.line = line
    }

    /// The context was shut down (`zmq_ctx_shutdown`) or terminated: the owning thread should
    /// close its sockets and return.
    public var isTerminated: Bool { code == czmq_eterm() }

    public var description: String {
        "\(function) failed: \(String(cString: zmq_strerror(code))) (errno \(code)) at \(file):\(line)"
    }

    public static func == (lhs: ZMQError, rhs: ZMQError) -> Bool {
        lhs.code == rhs.code && lhs.function == rhs.function
    }
}

/// Runs a libzmq call that returns -1 and sets errno on failure, the way swift-system's
/// `valueOrErrno(retryOnInterrupt:)` does: retries EINTR, returns nil on EAGAIN (a timeout or
/// a non-blocking call that would block), stops the program on errors only a bug can cause
/// (a closed or foreign socket, a bad address), and throws any other error.
@inline(__always)
func zmqCall(
    _ function: StaticString, file: String = #fileID, line: UInt = #line, _ call: () -> Int32
) throws(ZMQError) -> Int32? {
    while true {
        let result = call()
        if result != -1 { return result }
        let code = zmq_errno()
        switch code {
        case EINTR: continue
        case EAGAIN: return nil
        case EFAULT, czmq_enotsock():
            preconditionFailure(
                "\(function): \(String(cString: zmq_strerror(code))): a closed or invalid socket or message")
        default:
            throw ZMQError(code: code, function: "\(function)", file: file, line: line)
        }
    }
}
