extension TensorView {
    /// The elements as Float, converting F64/F16/BF16 (weights and outputs are float32 in torch_brain).
    public func floatArray() throws(ModelFileError) -> [Float] {
        let count = self.count
        switch dtype {
        case .f32: return (0..<count).map { Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        case .f64: return try doubleArray().map { Float($0) }
        case .f16:
            return (0..<count).map { Float(Float16(bitPattern: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)))) }
        case .bf16:
            return (0..<count).map { Float(bitPattern: UInt32(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) << 16) }
        default: throw wrongType("a floating-point")
        }
    }

    /// The elements as Double (timestamps are float64 in torch_brain; F32 is widened).
    public func doubleArray() throws(ModelFileError) -> [Double] {
        switch dtype {
        case .f64: return (0..<count).map { Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) }
        case .f32, .f16, .bf16: return try floatArray().map { Double($0) }
        default: throw wrongType("a floating-point")
        }
    }

    /// The elements as Int (indices are int64 in torch_brain; I32 is widened).
    public func integerArray() throws(ModelFileError) -> [Int] {
        switch dtype {
        case .i64: return (0..<count).map { Int(Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self))) }
        case .i32: return (0..<count).map { Int(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
        case .u8, .bool: return bytes.map { Int($0) }
        default: throw wrongType("an integer")
        }
    }

    /// The elements as Bool (masks: BOOL or U8, non-zero is true).
    public func boolArray() throws(ModelFileError) -> [Bool] {
        switch dtype {
        case .u8, .bool: return bytes.map { $0 != 0 }
        case .i64, .i32: return try integerArray().map { $0 != 0 }
        default: throw wrongType("a boolean")
        }
    }

    /// The float32 elements read in place when they are 4-byte aligned in the mapping
    /// (the exporter aligns every tensor), or nil when they must be copied.
    public var alignedFloats: UnsafeBufferPointer<Float>? {
        guard dtype == .f32, let base = bytes.baseAddress, Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 else { return nil }
        return UnsafeBufferPointer(start: base.assumingMemoryBound(to: Float.self), count: count)
    }

    private func wrongType(_ wanted: String) -> ModelFileError {
        ModelFileError(.unsupportedDType, path: "", "tensor '\(name)' is \(dtype.rawValue), expected \(wanted) type")
    }
}
