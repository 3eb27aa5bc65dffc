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
        if transport == "tcp", let problem = portProblem(in: String(endpoint[separator.upperBound...]), endpoint: endpoint) {
            return problem
        }
        return nil
    }

    /// A tcp address needs a port from 1 to 65535 (or `*` when binding): libzmq takes a number past
    /// 65535 modulo 2^16 and `:0` as "any free port", so a rig configured with the written one
    /// would never connect.
    private static func portProblem(in address: String, endpoint: String) -> String? {
        guard let colon = address.lastIndex(of: ":") else {
            return "endpoint '\(endpoint)' has no port: write tcp://HOST:PORT, e.g. tcp://127.0.0.1:5555"
        }
        let port = address[address.index(after: colon)...]
        if port == "*" { return nil }
        guard let number = Int(port), (1...65535).contains(number) else {
            return "endpoint '\(endpoint)': port '\(port)' is not a port number from 1 to 65535"
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
