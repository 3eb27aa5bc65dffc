/// Frames owned in one allocation, lent as the `UnsafeBufferPointer<UnsafeRawBufferPointer>` the
/// decoders take. For tools and tests; the daemon lends the frames of the socket's messages.
public final class MultipartFrames {
    private let storage: UnsafeMutableRawBufferPointer
    private let views: UnsafeMutableBufferPointer<UnsafeRawBufferPointer>

    public init(_ frames: [[UInt8]]) {
        let total = frames.reduce(0) { $0 + $1.count }
        storage = .allocate(byteCount: max(total, 1), alignment: 16)
        views = .allocate(capacity: max(frames.count, 1))
        var offset = 0
        for (index, frame) in frames.enumerated() {
            let slice = UnsafeMutableRawBufferPointer(rebasing: storage[offset..<(offset + frame.count)])
            slice.copyBytes(from: frame)
            views[index] = UnsafeRawBufferPointer(slice)
            offset += frame.count
        }
        count = frames.count
    }

    /// Number of frames.
    public let count: Int

    /// Calls `body` with the frames.
    public func withFrames<R, E: Error>(_ body: (UnsafeBufferPointer<UnsafeRawBufferPointer>) throws(E) -> R) throws(E)
        -> R
    {
        try body(UnsafeBufferPointer(rebasing: views[0..<count]))
    }

    deinit {
        storage.deallocate()
        views.deallocate()
    }
}
