import Foundation
import POYO
import Testing

/// The safetensors rules about the whole file (protocol of the format, as the reference library
/// applies them): each broken rule is refused and named. tools/tests/test_safetensors_rules.py
/// checks the same against the reference library's own verdicts.
@Suite struct SafeTensorsRulesTests {
    /// `u64 length`, header, data, written to a scratch file.
    private func file(_ header: String, data: [UInt8] = [], length: UInt64? = nil, _ name: String = #function) throws -> String {
        var bytes = withUnsafeBytes(of: (length ?? UInt64(header.utf8.count)).littleEndian, Array.init)
        bytes += Array(header.utf8) + data
        let path = Fixtures.temporaryPath("rules-\(name.prefix(while: { $0 != "(" }))-\(bytes.count).safetensors")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func refusal(_ path: String) -> String {
        do {
            _ = try SafeTensorsFile(path: path)
            return "accepted"
        } catch {
            return error.description
        }
    }

    private func tensor(_ name: String, dtype: String = "F32", shape: [Int] = [1], _ begin: Int, _ end: Int) -> String {
        "\"\(name)\": {\"dtype\": \"\(dtype)\", \"shape\": \(shape), \"data_offsets\": [\(begin), \(end)]}"
    }

    @Test func headerLengthBounds() throws {
        #expect(refusal(try file("{}", length: 100_000_001)).contains("rule: the header is at most 100000000 bytes"))
        #expect(refusal(try file("{}", length: 40)).contains("rule: the header lies inside the file"))
        #expect(refusal(try file("{}")) == "accepted")
    }

    @Test func theHeaderIsOneJSONObject() throws {
        #expect(refusal(try file("[]")).contains("rule: the header is a JSON object"))
        #expect(refusal(try file("{} {}")).contains("rule: the header is JSON"))
        #expect(refusal(try file("{\"a\": 1}")).contains("rule: a tensor entry is"))
        #expect(refusal(try file("  {}   ")) == "accepted")
        let deep = "{\"__metadata__\": " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}"
        #expect(refusal(try file(deep)).contains("nested deeper than"))
    }

    @Test func offsetsTileTheDataSection() throws {
        let zeros = [UInt8](repeating: 0, count: 16)
        #expect(refusal(try file("{\(tensor("a", 0, 4)), \(tensor("b", 4, 8))}", data: Array(zeros[0..<8]))) == "accepted")
        #expect(refusal(try file("{\(tensor("a", 0, 4)), \(tensor("b", 8, 12))}", data: Array(zeros[0..<12])))
            .contains("rule: data_offsets are contiguous from 0, without gaps or overlaps"))
        #expect(refusal(try file("{\(tensor("a", shape: [2], 0, 8)), \(tensor("b", shape: [2], 4, 12))}", data: Array(zeros[0..<12])))
            .contains("tensor 'b' starts at byte 4, expected 8"))
        #expect(refusal(try file("{\(tensor("a", 0, 4))}", data: Array(zeros[0..<12])))
            .contains("rule: the tensors cover the whole data section"))
        #expect(refusal(try file("{\(tensor("a", shape: [4], 0, 16))}", data: Array(zeros[0..<8]))).contains("the file is truncated"))
        #expect(refusal(try file("{\(tensor("a", 4, 0))}", data: Array(zeros[0..<4]))).contains("begin <= end"))
    }

    @Test func sizesAreShapeTimesDtype() throws {
        let zeros = [UInt8](repeating: 0, count: 16)
        #expect(refusal(try file("{\(tensor("a", shape: [3], 0, 8))}", data: Array(zeros[0..<8])))
            .contains("shape [3] of F32 needs 12 bytes but data_offsets give 8"))
        #expect(refusal(try file("{\(tensor("a", shape: [1 << 62, 1 << 62], 0, 4))}", data: Array(zeros[0..<4]))).contains("fits 64 bits"))
        #expect(refusal(try file("{\(tensor("a", dtype: "F4", shape: [3], 0, 2))}", data: Array(zeros[0..<2]))).contains("whole number of bytes"))
        #expect(refusal(try file("{\(tensor("a", dtype: "F4", shape: [4], 0, 2)), \(tensor("b", dtype: "U32", 2, 6))}", data: Array(zeros[0..<6]))) == "accepted")
        #expect(refusal(try file("{\(tensor("a", dtype: "F128", 0, 4))}", data: Array(zeros[0..<4]))).contains("rule: dtype is one the format defines"))
        #expect(refusal(try file("{\"a\": {\"dtype\": \"U8\", \"shape\": [1.0], \"data_offsets\": [0, 1]}}", data: [0]))
            .contains("rule: shape is a list of non-negative integers"))
    }

    @Test func keysAppearOnceAndMetadataIsStrings() throws {
        #expect(refusal(try file("{\(tensor("a", 0, 4)), \(tensor("a", 0, 4))}", data: [0, 0, 0, 0])).contains("'a' appears more than once"))
        #expect(refusal(try file("{\"__metadata__\": {\"k\": 1}}")).contains("rule: __metadata__ maps strings to strings"))
        let file = try SafeTensorsFile(path: try file("{\"__metadata__\": {\"k\": \"v\\u00e9\\/\"}}"))
        #expect(file.metadata == ["k": "vé/"])
    }
}
