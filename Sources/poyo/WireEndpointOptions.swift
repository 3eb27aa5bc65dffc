import ArgumentParser
import ZeroMQ

/// `--bind ENDPOINT` or `--connect ENDPOINT`, shared by the wire commands.
struct WireEndpointOptions: ParsableArguments {
    @Option(help: "Endpoint to bind (tcp://127.0.0.1:5555, ipc:///tmp/poyo.sock).")
    var bind: String?

    @Option(help: "Endpoint to connect to.")
    var connect: String?

    func validate() throws {
        guard (bind == nil) != (connect == nil) else {
            throw ValidationError("give exactly one of --bind and --connect")
        }
        if let problem = (bind ?? connect).flatMap(ZMQEndpoint.problem(with:)) {
            throw ValidationError(problem)
        }
    }

    /// Binds or connects `socket`; prints the bound endpoint (with the port chosen for `:*`).
    func attach(_ socket: borrowing ZMQSocket) throws {
        if let bind {
            try socket.bind(bind)
            WireJSON.emit(["type": "listening", "endpoint": try socket.lastEndpoint])
        } else if let connect {
            try socket.connect(connect)
        }
    }
}
