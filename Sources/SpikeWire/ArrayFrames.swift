// Arrays as frames: the wire is little-endian, and so is every host SpikeWire builds on.

extension Array where Element: BitwiseCopyable {
    /// The elements' bytes, as they are in memory (little-endian).
    var littleEndianBytes: [UInt8] {
        withUnsafeBytes { [UInt8]($0) }
    }
}

extension UnsafeRawBufferPointer {
    /// The frame read as an array of `T`, whatever the frame's alignment.
    func littleEndianArray<T: BitwiseCopyable>(of type: T.Type) -> [T] {
        let count = self.count / MemoryLayout<T>.size
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(
                from: UnsafeRawBufferPointer(rebasing: self[0..<(count * MemoryLayout<T>.size)]))
            initialized = count
        }
    }
}
