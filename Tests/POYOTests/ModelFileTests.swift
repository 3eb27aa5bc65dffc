import Foundation
import POYO
import Testing

/// Bad model files are refused with an error that names what is wrong, never a crash.
@Suite struct ModelFileTests {
    let source = Fixtures.model("poyo_odd")

    private func bytes() throws -> Data { try Data(contentsOf: URL(fileURLWithPath: source)) }

    private func write(_ data: Data, _ name: String) throws -> String {
        let path = Fixtures.temporaryPath(name)
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Rewrites the fixture model with `edit` applied to its tensors and description.
    private func rewritten(_ name: String, edit: (inout [(name: String, tensor: TensorView)], inout [String: Any]) -> Void) throws -> String {
        let file = try SafeTensorsFile(path: source)
        var tensors = file.tensors.values.sorted { $0.name < $1.name }.map { (name: $0.name, tensor: $0) }
        var description = try #require(JSONSerialization.jsonObject(with: Data(file.metadata["poyo_rt"]!.utf8)) as? [String: Any])
        edit(&tensors, &description)
        var writer = SafeTensorsWriter()
        for entry in tensors { writer.add(entry.tensor, name: entry.name) }
        let json = try JSONSerialization.data(withJSONObject: description)
        writer.metadata = ["poyo_rt": String(decoding: json, as: UTF8.self)]
        let path = Fixtures.temporaryPath(name)
        try writer.write(to: path)
        return path
    }

    private func expectRefusal(_ path: String, _ code: ModelFileError.Code, mentioning words: [String]) {
        do {
            _ = try POYOModel(path: path)
            Issue.record("\(path) was accepted")
        } catch {
            #expect(error.code == code, "\(error)")
            for word in words { #expect(error.description.contains(word), "'\(error)' should mention \(word)") }
        }
    }

    @Test func theFixtureLoads() throws {
        let model = try POYOModel(path: source)
        #expect(model.description.kind == .poyo)
        #expect(model.hyperparameters.dimHead == 24)
    }

    @Test func missingFileIsUnreadable() {
        expectRefusal("/nonexistent/model.safetensors", .unreadable, mentioning: ["/nonexistent/model.safetensors"])
    }

    @Test(arguments: [0, 5, 8, 100, 4000, 700_000])
    func truncatedFileIsRefused(length: Int) throws {
        let data = try bytes()
        let path = try write(data.prefix(length), "truncated-\(length).safetensors")
        expectRefusal(path, .truncated, mentioning: [length < 8 ? "8-byte header length" : "truncated"])
    }

    @Test func garbageHeaderIsRefused() throws {
        var data = try bytes()
        for i in 8..<40 { data[i] = 0xFF }
        expectRefusal(try write(data, "garbage.safetensors"), .corruptHeader, mentioning: ["rule: the header is UTF-8"])
    }

    @Test func hugeHeaderLengthIsRefused() throws {
        var data = try bytes()
        data.replaceSubrange(0..<8, with: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
        expectRefusal(try write(data, "huge.safetensors"), .corruptHeader, mentioning: ["rule: the header is at most 100000000 bytes"])
    }

    @Test func missingTensorIsNamed() throws {
        let path = try rewritten("missing.safetensors") { tensors, _ in tensors.removeAll { $0.name == "proc_layers.1.0.to_qkv.weight" } }
        expectRefusal(path, .missingTensor, mentioning: ["proc_layers.1.0.to_qkv.weight"])
    }

    @Test func unknownTensorIsNamed() throws {
        let path = try rewritten("unknown.safetensors") { tensors, _ in
            tensors.append((name: "readout.extra", tensor: tensors.first { $0.name == "readout.bias" }!.tensor))
        }
        expectRefusal(path, .unexpectedTensor, mentioning: ["readout.extra"])
    }

    @Test func shapeDisagreeingWithMetadataIsNamed() throws {
        // The description claims a head width the tensors do not have...
        let deeper = try rewritten("deeper.safetensors") { _, description in
            var h = description["hyperparameters"] as! [String: Any]
            h["dim_head"] = 12
            description["hyperparameters"] = h
        }
        expectRefusal(deeper, .shapeMismatch, mentioning: ["rotary_emb.omega", "[12]"])
        // ...and a vocabulary with more words than unit_emb has rows.
        let wider = try rewritten("vocab.safetensors") { _, description in
            var vocab = description["unit_vocab"] as! [String: Int]
            vocab["extra/unit"] = vocab.count
            description["unit_vocab"] = vocab
        }
        expectRefusal(wider, .shapeMismatch, mentioning: ["unit_emb.weight"])
    }

    @Test func badDescriptionsAreRefused() throws {
        let noMetadata = try rewritten("nometa.safetensors") { _, description in description = [:] }
        expectRefusal(noMetadata, .badMetadata, mentioning: ["not valid"])
        let future = try rewritten("future.safetensors") { _, description in description["format_version"] = 2 }
        expectRefusal(future, .unsupportedVersion, mentioning: ["format_version 2"])
        let duplicateRows = try rewritten("rows.safetensors") { _, description in
            var vocab = description["session_vocab"] as! [String: Int]
            vocab[vocab.keys.first { $0 != "NA" }!] = 0
            description["session_vocab"] = vocab
        }
        expectRefusal(duplicateRows, .badMetadata, mentioning: ["session_vocab"])
        let kind = try rewritten("kind.safetensors") { _, description in description["kind"] = "Transformer" }
        expectRefusal(kind, .badMetadata, mentioning: ["Transformer"])
    }

    /// An isolated model survives its file being truncated in place (a mapped one would die of
    /// SIGBUS on its next read of a lost page).
    @Test func anIsolatedModelSurvivesItsFileBeingTruncated() throws {
        let path = try write(try bytes(), "isolated.safetensors")
        let model = try POYOModel(path: path, isolated: true)
        let window = try ModelWindow(file: SafeTensorsFile(path: Fixtures.inputs("poyo_odd")))
        let before = try model.forward(window).readouts[0].values
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: 100)
        try handle.close()
        #expect(try model.forward(window).readouts[0].values == before)
        #expect(throws: ModelFileError.self) { try POYOModel(path: path, isolated: true) }
    }

    @Test func unalignedTensorsAreCopiedAndStillCorrect() throws {
        // Metadata of odd length shifts every tensor off 4-byte alignment.
        let file = try SafeTensorsFile(path: source)
        var writer = SafeTensorsWriter()
        for tensor in file.tensors.values.sorted(by: { $0.name < $1.name }) { writer.add(tensor) }
        writer.metadata = file.metadata
        var data = try writer.serialized()
        let headerLength = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        data.insert(UInt8(ascii: " "), at: 8 + headerLength)  // pad the header by one byte
        withUnsafeBytes(of: UInt64(headerLength + 1).littleEndian) { data.replaceSubrange(0..<8, with: $0) }
        let path = try write(data, "unaligned.safetensors")
        let window = try ModelWindow(file: SafeTensorsFile(path: Fixtures.inputs("poyo_odd")))
        let expected = try POYOModel(path: source).forward(window).readouts[0].values
        let actual = try POYOModel(path: path).forward(window).readouts[0].values
        #expect(actual == expected)
    }
}

