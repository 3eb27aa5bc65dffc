/// What a ZeroMQ endpoint must look like before libzmq sees it: `transport://address`.
/// libzmq answers a missing transport with a bare `EINVAL` ("Invalid argument"); this says what
/// is expected instead.
public enum ZMQEndpoint {
    /// The transports libzmq 4.x knows.
    public static let transports = ["tcp", "ipc", "inproc", "pgm", "epgm", "tipc", "vmci", "ws", "wss", "udp"]

    /// Nil when `endpoint` has a known transport and an address; otherwise what is wrong with it
    /// and an example of the expected form.
    public static func problem(with endpoint: String) -> String? {
        guard let separator = Self.separator(in: endpoint) else {
            let example = endpoint.hasPrefix("/") ? "ipc://\(endpoint)" : "tcp://\(endpoint.isEmpty ? "127.0.0.1:5555" : endpoint)"
            return "endpoint '\(endpoint)' has no transport: write it as TRANSPORT://ADDRESS, e.g. \(example) (transports: \(transports.joined(separator: ", ")))"
        }
        let transport = String(endpoint[..<separator.lowerBound])
        guard transports.contains(transport) else {
            return "endpoint '\(endpoint)': unknown transport '\(transport)' (expected one of \(transports.joined(separator: ", ")))"
        }
        guard separator.upperBound < endpoint.endIndex else {
            return "endpoint '\(endpoint)' has no address after '\(transport)://' (e.g. tcp://127.0.0.1:5555, ipc:///run/poyo/spikes.sock)"
        }
        return nil
    }

    /// The range of the first "://" (without Foundation).
    private static func separator(in endpoint: String) -> Range<String.Index>? {
        var index = endpoint.startIndex
        while index < endpoint.endIndex {
            if endpoint[index...].hasPrefix("://") { return index..<endpoint.index(index, offsetBy: 3) }
            index = endpoint.index(after: index)
        }
        return nil
    }
}
