import Foundation

/// The element types a safetensors file may hold that poyo-rt reads.
public enum TensorDType: String, Sendable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", u8 = "U8", bool = "BOOL"

    public var byteSize: Int {
        switch self {
        case .f64, .i64: 8
        case .f32, .i32: 4
        case .f16, .bf16: 2
        case .u8, .bool: 1
        }
    }
}

/// One tensor of a safetensors file, read in place from the mapping.
public struct TensorView: @unchecked Sendable {
    public let name: String
    public let dtype: TensorDType
    public let shape: [Int]
    /// The tensor's bytes inside the file's mapping (little-endian).
    public let bytes: UnsafeRawBufferPointer

    public var count: Int { shape.reduce(1, *) }
}

/// A parsed safetensors file: `u64 header length`, a JSON header naming each tensor's
/// dtype, shape and byte range, then the data. Every range is checked against the
/// file size at open, so a truncated or corrupt file is an error, never a bad read.
public struct SafeTensorsFile: Sendable {
    public let file: MappedFile
    public let tensors: [String: TensorView]
    /// The header's `__metadata__` (string to string, as the format defines it).
    public let metadata: [String: String]

    public var path: String { file.path }

    public init(path: String) throws(ModelFileError) {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws(ModelFileError) {
        self.file = file
        let path = file.path
        let bytes = file.bytes
        guard bytes.count >= 8 else {
            throw ModelFileError(.truncated, path: path, "file is \(bytes.count) bytes, shorter than the 8-byte safetensors header length")
        }
        let headerLength = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw ModelFileError(.truncated, path: path, "header claims \(headerLength) bytes but the file has only \(bytes.count - 8) after the length: truncated or not a safetensors file")
        }
        let headerEnd = 8 + Int(headerLength)
        let headerData = Data(bytes[8..<headerEnd])
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: headerData)
        } catch {
            throw ModelFileError(.corruptHeader, path: path, "header is not valid JSON: not a safetensors file, or corrupt")
        }
        guard let header = parsed as? [String: Any] else {
            throw ModelFileError(.corruptHeader, path: path, "header is not a JSON object")
        }
        let data = UnsafeRawBufferPointer(rebasing: bytes[headerEnd...])
        var tensors: [String: TensorView] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let entries = value as? [String: String] else {
                    throw ModelFileError(.corruptHeader, path: path, "__metadata__ is not an object of strings")
                }
                metadata = entries
                continue
            }
            tensors[name] = try Self.tensor(named: name, entry: value, data: data, path: path)
        }
        self.tensors = tensors
        self.metadata = metadata
    }

    private static func tensor(named name: String, entry: Any, data: UnsafeRawBufferPointer, path: String) throws(ModelFileError) -> TensorView {
        guard let fields = entry as? [String: Any],
              let dtypeName = fields["dtype"] as? String,
              let shapeValues = fields["shape"] as? [Any],
              let offsetValues = fields["data_offsets"] as? [Any], offsetValues.count == 2
        else {
            throw ModelFileError(.corruptHeader, path: path, "tensor '\(name)': entry needs dtype, shape and two data_offsets")
        }
        guard let dtype = TensorDType(rawValue: dtypeName) else {
            throw ModelFileError(.unsupportedDType, path: path, "tensor '\(name)': dtype \(dtypeName) is not supported")
        }
        var shape: [Int] = []
        for value in shapeValues {
            guard let dimension = exactInteger(value), dimension >= 0, dimension < 1 << 40 else {
                throw ModelFileError(.corruptHeader, path: path, "tensor '\(name)': shape \(shapeValues) is not a list of non-negative integers")
            }
            shape.append(dimension)
        }
        guard let begin = exactInteger(offsetValues[0]), let end = exactInteger(offsetValues[1]), 0 <= begin, begin <= end else {
            throw ModelFileError(.corruptHeader, path: path, "tensor '\(name)': data_offsets \(offsetValues) are not an ordered pair of integers")
        }
        guard end <= data.count else {
            throw ModelFileError(.truncated, path: path, "tensor '\(name)': bytes \(begin)..<\(end) lie past the end of the data (\(data.count) bytes): the file is truncated")
        }
        var byteCount = dtype.byteSize
        for dimension in shape {
            let (product, overflow) = byteCount.multipliedReportingOverflow(by: dimension)
            guard !overflow else {
                throw ModelFileError(.corruptHeader, path: path, "tensor '\(name)': shape \(shape) is too large")
            }
            byteCount = product
        }
        guard byteCount == end - begin else {
            throw ModelFileError(.corruptHeader, path: path, "tensor '\(name)': shape \(shape) of \(dtypeName) needs \(byteCount) bytes but data_offsets give \(end - begin)")
        }
        return TensorView(name: name, dtype: dtype, shape: shape, bytes: UnsafeRawBufferPointer(rebasing: data[begin..<end]))
    }

    /// An integral JSON number as Int (JSONSerialization may give Int, Double or NSNumber).
    private static func exactInteger(_ value: Any) -> Int? {
        if let number = value as? NSNumber {
            let double = number.doubleValue
            guard double.rounded() == double, abs(double) < 9e15 else { return nil }
            return number.intValue
        }
        return nil
    }

    public func tensor(_ name: String) throws(ModelFileError) -> TensorView {
        guard let tensor = tensors[name] else {
            throw ModelFileError(.missingTensor, path: path, "tensor '\(name)' is missing")
        }
        return tensor
    }
}
