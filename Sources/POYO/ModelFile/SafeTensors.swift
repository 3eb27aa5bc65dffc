import Foundation

/// The element types the safetensors format defines. A file may hold any of them (a session file
/// holds U32); which ones a tensor may have is up to its reader (model weights are F32).
public enum TensorDType: String, Sendable, CaseIterable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", u8 = "U8", bool = "BOOL"
    case u64 = "U64", u32 = "U32", i16 = "I16", u16 = "U16", i8 = "I8"
    case f8e5m2 = "F8_E5M2", f8e4m3 = "F8_E4M3", f8e8m0 = "F8_E8M0"
    case f6e2m3 = "F6_E2M3", f6e3m2 = "F6_E3M2", f4 = "F4", c64 = "C64"

    /// Bits per element (sub-byte types pack several elements per byte).
    public var bitSize: Int {
        switch self {
        case .f64, .i64, .u64, .c64: 64
        case .f32, .i32, .u32: 32
        case .f16, .bf16, .i16, .u16: 16
        case .u8, .bool, .i8, .f8e5m2, .f8e4m3, .f8e8m0: 8
        case .f6e2m3, .f6e3m2: 6
        case .f4: 4
        }
    }

    /// Bytes per element, for the whole-byte types poyo-rt reads.
    public var byteSize: Int { bitSize / 8 }
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

    /// The largest header the format allows (the reference library refuses larger ones).
    public static let maxHeaderSize: UInt64 = 100_000_000

    /// Checks the whole file against the format's rules before anything is read, as the
    /// reference library (`safetensors`) does: the header length fits the file and the format's
    /// limit, the header is UTF-8 JSON, one object of entries with a known
    /// dtype, a shape and two data_offsets; the entries, ordered by offset, cover the data section
    /// exactly (no gap, no overlap, nothing after), and each entry's bytes are its shape times its
    /// dtype's size. poyo-rt also refuses a key given twice. Every error names the rule it breaks.
    public init(file: MappedFile) throws(ModelFileError) {
        self.file = file
        let path = file.path
        let bytes = file.bytes
        func broken(_ code: ModelFileError.Code, _ rule: String, _ detail: String) -> ModelFileError {
            ModelFileError(code, path: path, "not a valid safetensors file (rule: \(rule)): \(detail)")
        }
        guard bytes.count >= 8 else {
            throw broken(.truncated, "the file starts with an 8-byte header length", "the file is \(bytes.count) bytes")
        }
        // Files a user may give by mistake, named before their first bytes are read as a length.
        if bytes.starts(with: [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]) {
            throw ModelFileError(
                .corruptHeader, path: path,
                "not a safetensors file: it is an HDF5 file (a recording in NWB or temporaldata? `poyo-rt replay` plays those; a model file comes from `poyo-rt export`)")
        }
        if bytes.starts(with: Array("PYRTCAP1".utf8)) {
            throw ModelFileError(.corruptHeader, path: path, "not a safetensors file: it is a capture log of `poyo serve` (`poyo replay` or `poyo-rt replay` read it)")
        }
        let headerLength = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard headerLength <= Self.maxHeaderSize else {
            throw broken(.corruptHeader, "the header is at most \(Self.maxHeaderSize) bytes", "the header length says \(headerLength) bytes")
        }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw broken(.truncated, "the header lies inside the file", "the header length says \(headerLength) bytes but only \(bytes.count - 8) follow it: truncated, or not a safetensors file")
        }
        let headerEnd = 8 + Int(headerLength)
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[8..<headerEnd])
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw broken(.corruptHeader, "the header is UTF-8 text", "it is not valid UTF-8")
        }
        let parsed: HeaderJSON
        do {
            parsed = try HeaderJSON.parse(headerBytes)
        } catch {
            throw broken(.corruptHeader, "the header is JSON", "\(error.problem) at byte \(error.offset) of the header")
        }
        guard case .object(let entries) = parsed else {
            throw broken(.corruptHeader, "the header is a JSON object", "it is \(parsed.kind)")
        }
        var seen = Set<String>()
        for entry in entries where !seen.insert(entry.key).inserted {
            throw broken(.corruptHeader, "every key appears once", "'\(entry.key)' appears more than once")
        }
        let data = UnsafeRawBufferPointer(rebasing: bytes[headerEnd...])
        var metadata: [String: String] = [:]
        var layout: [(name: String, dtype: TensorDType, shape: [Int], begin: UInt64, end: UInt64)] = []
        for (name, value) in entries {
            if name == "__metadata__" {
                guard case .object(let fields) = value else {
                    throw broken(.corruptHeader, "__metadata__ maps strings to strings", "it is \(value.kind)")
                }
                for (key, field) in fields {
                    guard case .string(let text) = field else {
                        throw broken(.corruptHeader, "__metadata__ maps strings to strings", "'\(key)' is \(field.kind)")
                    }
                    metadata[key] = text
                }
                continue
            }
            layout.append(try Self.entry(named: name, value, broken: broken))
        }
        // Ordered by offset, the entries must tile the data section from 0 to its end.
        layout.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var covered: UInt64 = 0
        var tensors: [String: TensorView] = [:]
        for entry in layout {
            guard entry.begin == covered else {
                throw broken(.corruptHeader, "data_offsets are contiguous from 0, without gaps or overlaps", "tensor '\(entry.name)' starts at byte \(entry.begin), expected \(covered)")
            }
            covered = entry.end
            guard covered <= UInt64(data.count) else {
                throw broken(.truncated, "data_offsets lie inside the data section", "tensor '\(entry.name)' ends at byte \(entry.end) but the data section has \(data.count) bytes: the file is truncated")
            }
            tensors[entry.name] = TensorView(name: entry.name, dtype: entry.dtype, shape: entry.shape,
                                             bytes: UnsafeRawBufferPointer(rebasing: data[Int(entry.begin)..<Int(entry.end)]))
        }
        guard covered == UInt64(data.count) else {
            throw broken(.corruptHeader, "the tensors cover the whole data section", "they cover \(covered) bytes but the data section has \(data.count) (\(UInt64(data.count) - covered) bytes belong to no tensor)")
        }
        self.tensors = tensors
        self.metadata = metadata
    }

    private static func entry(
        named name: String, _ value: HeaderJSON, broken: (ModelFileError.Code, String, String) -> ModelFileError
    ) throws(ModelFileError) -> (name: String, dtype: TensorDType, shape: [Int], begin: UInt64, end: UInt64) {
        let entryRule = "a tensor entry is {\"dtype\", \"shape\", \"data_offsets\"}"
        guard case .object(let fields) = value else { throw broken(.corruptHeader, entryRule, "'\(name)' is \(value.kind)") }
        func field(_ key: String) throws(ModelFileError) -> HeaderJSON {
            guard let found = fields.last(where: { $0.key == key })?.value else {
                throw broken(.corruptHeader, entryRule, "tensor '\(name)' has no \(key)")
            }
            return found
        }
        guard case .string(let dtypeName) = try field("dtype") else {
            throw broken(.corruptHeader, entryRule, "tensor '\(name)': dtype is not a string")
        }
        guard let dtype = TensorDType(rawValue: dtypeName) else {
            throw broken(.corruptHeader, "dtype is one the format defines (\(TensorDType.allCases.map(\.rawValue).joined(separator: ", ")))", "tensor '\(name)' has dtype '\(dtypeName)'")
        }
        guard case .array(let shapeValues) = try field("shape") else {
            throw broken(.corruptHeader, entryRule, "tensor '\(name)': shape is not a list")
        }
        var shape: [Int] = []
        var elements: UInt64 = 1
        for dimension in shapeValues {
            guard case .integer(let size) = dimension, size <= UInt64(Int.max) else {
                throw broken(.corruptHeader, "shape is a list of non-negative integers", "tensor '\(name)' has \(dimension.kind) in its shape")
            }
            let (product, overflow) = elements.multipliedReportingOverflow(by: size)
            guard !overflow else { throw broken(.corruptHeader, "a tensor's size fits 64 bits", "tensor '\(name)': shape \(shapeValues.count) dimensions overflow") }
            elements = product
            shape.append(Int(size))
        }
        guard case .array(let offsets) = try field("data_offsets"), offsets.count == 2,
              case .integer(let begin) = offsets[0], case .integer(let end) = offsets[1]
        else {
            throw broken(.corruptHeader, "data_offsets are two non-negative integers [begin, end]", "tensor '\(name)' has data_offsets that are not")
        }
        guard begin <= end else {
            throw broken(.corruptHeader, "data_offsets are [begin, end] with begin <= end", "tensor '\(name)' has [\(begin), \(end)]")
        }
        let (bits, overflow) = elements.multipliedReportingOverflow(by: UInt64(dtype.bitSize))
        guard !overflow, bits % 8 == 0 else {
            throw broken(.corruptHeader, "a tensor's size is a whole number of bytes", "tensor '\(name)': \(shape) of \(dtypeName) is not")
        }
        guard bits / 8 == end - begin else {
            throw broken(.corruptHeader, "a tensor's bytes are its element count times its dtype's size", "tensor '\(name)': shape \(shape) of \(dtypeName) needs \(bits / 8) bytes but data_offsets give \(end - begin)")
        }
        return (name, dtype, shape, begin, end)
    }

    public func tensor(_ name: String) throws(ModelFileError) -> TensorView {
        guard let tensor = tensors[name] else {
            throw ModelFileError(.missingTensor, path: path, "tensor '\(name)' is missing")
        }
        return tensor
    }
}
