/// One spike: which unit fired, and when, on its source's clock.
public struct SpikeEvent: Equatable, Hashable, Sendable {
    /// Ticks of the source's clock (`tickRate` per second, declared in every rig message), >= 0.
    public var time: Int64
    /// The rig's own compact unit id (channel or sorted unit), mapped to the model's vocabulary
    /// by the daemon's configuration.
    public var unit: UInt32

    public init(time: Int64, unit: UInt32) {
        self.time = time
        self.unit = unit
    }
}
