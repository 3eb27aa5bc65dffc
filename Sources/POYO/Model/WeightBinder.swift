/// Owns the mapping of a model file and the few tensors that had to be copied.
final class WeightStorage: @unchecked Sendable {
    let file: SafeTensorsFile
    var copies: [UnsafeMutableBufferPointer<Float>] = []

    init(file: SafeTensorsFile) { self.file = file }

    deinit { for copy in copies { copy.deallocate() } }
}

/// Looks tensors up by torch_brain name, checks each shape against the model
/// description, and remembers which names were used so that leftovers are refused.
struct WeightBinder {
    let file: SafeTensorsFile
    let storage: WeightStorage
    private var used: Set<String> = []

    init(file: SafeTensorsFile) {
        self.file = file
        self.storage = WeightStorage(file: file)
    }

    mutating func floats(_ name: String, _ shape: [Int]) throws(ModelFileError) -> UnsafePointer<Float> {
        let tensor = try file.tensor(name)
        guard tensor.shape == shape else {
            throw ModelFileError(.shapeMismatch, path: file.path, "tensor '\(name)' has shape \(tensor.shape) but the model description needs \(shape)")
        }
        guard tensor.dtype == .f32 else {
            throw ModelFileError(.unsupportedDType, path: file.path, "tensor '\(name)' is \(tensor.dtype.rawValue); model weights must be F32")
        }
        used.insert(name)
        if let aligned = tensor.alignedFloats, let base = aligned.baseAddress {
            return base
        }
        let values = try tensor.floatArray()
        let copy = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(values.count, 1))
        _ = copy.initialize(from: values)
        storage.copies.append(copy)
        return UnsafePointer(copy.baseAddress!)
    }

    func rows(of name: String, columns: Int) throws(ModelFileError) -> Int {
        let tensor = try file.tensor(name)
        guard tensor.shape.count == 2, tensor.shape[1] == columns else {
            throw ModelFileError(.shapeMismatch, path: file.path, "tensor '\(name)' has shape \(tensor.shape) but needs [rows, \(columns)]")
        }
        return tensor.shape[0]
    }

    mutating func layerNorm(_ prefix: String, dim: Int) throws(ModelFileError) -> LayerNormWeights {
        LayerNormWeights(weight: try floats("\(prefix).weight", [dim]), bias: try floats("\(prefix).bias", [dim]))
    }

    mutating func linear(_ prefix: String, out: Int, in inFeatures: Int, bias: Bool) throws(ModelFileError) -> LinearWeights {
        let weight = try floats("\(prefix).weight", [out, inFeatures])
        let packed = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(packedCount(rows: out, depth: inFeatures), 1))
        storage.copies.append(packed)
        return LinearWeights(
            weight: weight,
            bias: bias ? try floats("\(prefix).bias", [out]) : nil,
            outFeatures: out, inFeatures: inFeatures,
            packed: packTransposed(weight, ldm: inFeatures, rows: out, depth: inFeatures, into: packed.baseAddress!)
        )
    }

    mutating func crossAttention(_ prefix: String, dim: Int, inner: Int) throws(ModelFileError) -> CrossAttentionWeights {
        CrossAttentionWeights(
            norm: try layerNorm("\(prefix).norm", dim: dim),
            normContext: try layerNorm("\(prefix).norm_context", dim: dim),
            toQ: try linear("\(prefix).to_q", out: inner, in: dim, bias: false),
            toKV: try linear("\(prefix).to_kv", out: 2 * inner, in: dim, bias: false),
            toOut: try linear("\(prefix).to_out", out: dim, in: inner, bias: true)
        )
    }

    /// `Sequential(LayerNorm, FeedForward)` at `prefix`: `prefix.0` and `prefix.1.net.{0,3}`.
    mutating func feedForward(_ prefix: String, dim: Int) throws(ModelFileError) -> FeedForwardWeights {
        FeedForwardWeights(
            norm: try layerNorm("\(prefix).0", dim: dim),
            up: try linear("\(prefix).1.net.0", out: 8 * dim, in: dim, bias: true),
            down: try linear("\(prefix).1.net.3", out: dim, in: 4 * dim, bias: true)
        )
    }

    func refuseUnused() throws(ModelFileError) {
        let unused = Set(file.tensors.keys).subtracting(used).sorted()
        if let first = unused.first {
            throw ModelFileError(.unexpectedTensor, path: file.path, "tensor '\(first)' is not part of this \(unused.count > 1 ? "model (and \(unused.count - 1) more)" : "model")")
        }
    }
}
