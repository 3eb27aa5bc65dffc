import CZeroMQ

/// The socket patterns poyo-rt uses.
public enum ZMQSocketType: Sendable {
    case publisher, subscriber, push, pull, pair

    var rawValue: Int32 {
        switch self {
        case .publisher: ZMQ_PUB
        case .subscriber: ZMQ_SUB
        case .push: ZMQ_PUSH
        case .pull: ZMQ_PULL
        case .pair: ZMQ_PAIR
        }
    }
}
