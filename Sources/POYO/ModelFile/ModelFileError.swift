/// Why a model, inputs or safetensors file cannot be used. The description says
/// which file and what in it is wrong, so a person can act on it.
public struct ModelFileError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case unreadable
        case truncated
        case corruptHeader
        case unsupportedDType
        case missingTensor
        case unexpectedTensor
        case shapeMismatch
        case badMetadata
        case unsupportedVersion
    }

    public let code: Code
    public let path: String
    public let message: String

    public init(_ code: Code, path: String, _ message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
