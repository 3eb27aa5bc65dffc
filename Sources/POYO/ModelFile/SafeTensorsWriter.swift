import Foundation

/// Writes a safetensors file: the header padded with spaces to a multiple of 8 bytes
/// (as the Python library does), then each tensor's little-endian bytes in order.
public struct SafeTensorsWriter {
    private var entries: [(name: String, dtype: TensorDType, shape: [Int], data: Data)] = []
    public var metadata: [String: String] = [:]

    public init() {}

    public mutating func add(_ name: String, shape: [Int], floats: [Float]) {
        precondition(shape.reduce(1, *) == floats.count, "shape \(shape) does not hold \(floats.count) values")
        let data = floats.withUnsafeBufferPointer { Data(buffer: $0) }
        entries.append((name, .f32, shape, data))
    }

    public mutating func add(_ name: String, shape: [Int], doubles: [Double]) {
        precondition(shape.reduce(1, *) == doubles.count, "shape \(shape) does not hold \(doubles.count) values")
        let data = doubles.withUnsafeBufferPointer { Data(buffer: $0) }
        entries.append((name, .f64, shape, data))
    }

    public mutating func add(_ name: String, shape: [Int], integers: [Int]) {
        precondition(shape.reduce(1, *) == integers.count, "shape \(shape) does not hold \(integers.count) values")
        let data = integers.map { Int64($0) }.withUnsafeBufferPointer { Data(buffer: $0) }
        entries.append((name, .i64, shape, data))
    }

    /// Copies a tensor of another file as it is (any dtype).
    public mutating func add(_ tensor: TensorView, name: String? = nil, shape: [Int]? = nil) {
        entries.append((name ?? tensor.name, tensor.dtype, shape ?? tensor.shape, Data(tensor.bytes)))
    }

    public func serialized() throws -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        for entry in entries {
            header[entry.name] = [
                "dtype": entry.dtype.rawValue,
                "shape": entry.shape,
                "data_offsets": [offset, offset + entry.data.count],
            ] as [String: Any]
            offset += entry.data.count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        for entry in entries { file.append(entry.data) }
        return file
    }

    public func write(to path: String) throws {
        try serialized().write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
