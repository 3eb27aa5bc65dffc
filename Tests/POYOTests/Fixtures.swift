import Foundation
import POYO

/// The parity fixtures made with torch_brain by tools/make_fixtures.py (see Fixtures/README.md).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static func model(_ name: String) -> String { path("\(name).model.safetensors") }
    static func inputs(_ name: String) -> String { path("\(name).inputs.safetensors") }
    static func expected(_ name: String) -> String { path("\(name).expected.safetensors") }

    /// A scratch directory for files a test writes (removed by the system's tmp cleaning).
    static func temporaryPath(_ name: String) -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("poyo-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent(name).path
    }
}

/// The larger of two errors, NaN when either is: `max(worst, .nan)` keeps `worst`, so a NaN
/// result would read as agreement.
func worse(_ a: Double, _ b: Double) -> Double { a.isNaN || b.isNaN ? .nan : max(a, b) }

/// max |a - b| / max(1, max |b|): the parity measure of the model issue.
func scaledMaxError(_ actual: [Float], _ reference: [Float]) -> Double {
    precondition(actual.count == reference.count)
    var worst = 0.0
    var scale = 1.0
    for (a, b) in zip(actual, reference) {
        worst = worse(worst, abs(Double(a) - Double(b)))
        scale = max(scale, abs(Double(b)))
    }
    if actual.contains(where: { !$0.isFinite }) { return .infinity }
    return worst / scale
}
