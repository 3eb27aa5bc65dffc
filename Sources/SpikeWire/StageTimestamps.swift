/// When a tick passed each stage in the daemon: CLOCK_MONOTONIC nanoseconds of the daemon's host.
///
/// `published - received` is the daemon's own latency; a subscriber on the same host can also
/// subtract `published` from its own CLOCK_MONOTONIC at receipt to get the transport's share.
/// `dequeued - received` is the ring wait (the scheduler's wake-up and drain, or the tick before),
/// `windowBuilt - dequeued` the window's assembly.
public struct StageTimestamps: Equatable, Sendable {
    /// The message that completed the window (last spike or watermark) was received.
    public var received: UInt64
    /// The window's tokens were built.
    public var windowBuilt: UInt64
    /// The model's forward pass finished.
    public var forwardDone: UInt64
    /// The output was handed to the PUB socket.
    public var published: UInt64
    /// The scheduler took the tick: the completing watermark was drained from the ingest ring and
    /// the tick found due (before its window is built). 0 in an 80-byte header (an older daemon).
    public var dequeued: UInt64

    public init(received: UInt64, windowBuilt: UInt64, forwardDone: UInt64, published: UInt64, dequeued: UInt64 = 0) {
        self.received = received
        self.windowBuilt = windowBuilt
        self.forwardDone = forwardDone
        self.published = published
        self.dequeued = dequeued
    }
}
