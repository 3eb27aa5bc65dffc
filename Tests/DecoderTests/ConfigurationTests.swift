import Decoder
import Foundation
import Testing

/// The configuration file as people write it: the documented `units` map, unknown fields,
/// syntax errors with their place, paths relative to the file, endpoints with a transport.
@Suite struct ConfigurationTests {
    @Test(arguments: [
        "model: m\nsession: s\nunits: {17: \"brainset/sess/unit_000\", 3: b/s/u3}\n",
        "model: m\nsession: s\nunits:\n  17: brainset/sess/unit_000\n  3: \"b/s/u3\"\n",
        "{\"model\": \"m\", \"session\": \"s\", \"units\": {\"17\": \"brainset/sess/unit_000\", \"3\": \"b/s/u3\"}}",
    ])
    func theDocumentedUnitsMapIsRead(yaml: String) throws {
        let configuration = try DecoderConfiguration.parse(yaml: yaml)
        #expect(configuration.units == [17: "brainset/sess/unit_000", 3: "b/s/u3"])
        // --print-config (and the capture log) write it the same way, and it reads back.
        let printed = try configuration.yaml()
        #expect(printed.contains("units:\n  3: b/s/u3\n  17: brainset/sess/unit_000\n"), "\(printed)")
        #expect(try DecoderConfiguration.parse(yaml: printed) == configuration)
    }

    @Test func printedNumbersReadAsWritten() throws {
        var configuration = try DecoderConfiguration.parse(yaml: "model: m\nsession: '1e+0'\nhop: 0.02\noutput_offsets: [-0.5, 0]\n")
        configuration.budget = 1e-5
        let printed = try configuration.yaml()
        for line in ["hop: 0.02", "budget: 1e-05", "- -0.5", "- 0.0", "stall_timeout: 1.0", "session: '1e+0'"] {
            #expect(printed.contains(line + "\n"), "\(line) not in \(printed)")
        }
        #expect(try DecoderConfiguration.parse(yaml: printed) == configuration)
    }

    @Test func theFlatListOfEarlierCaptureLogsIsStillRead() throws {
        let configuration = try DecoderConfiguration.parse(yaml: "model: m\nsession: s\nunits:\n- 17\n- w17\n- 3\n- w3\n")
        #expect(configuration.units == [17: "w17", 3: "w3"])
    }

    @Test func aUnitKeyThatIsNotAnIdIsNamed() {
        let error = #expect(throws: ConfigurationError.self) { try DecoderConfiguration.parse(yaml: "model: m\nsession: s\nunits: {abc: w}\n") }
        #expect(error?.description.contains("'abc' is not a rig unit id") == true)
    }

    @Test(arguments: [
        ("model: m\nsession: s\nunit_prefx: p/\n", "line 3, column 1: unknown field 'unit_prefx': did you mean 'unit_prefix'?"),
        ("model: m\nsession: s\nstall_timout: 2\n", "unknown field 'stall_timout': did you mean 'stall_timeout'?"),
        ("model: m\nsession: s\nspikes: {adress: \"tcp://127.0.0.1:1\"}\n", "unknown field 'spikes.adress': did you mean 'spikes.address'?"),
        ("model: m\nsession: [s\nhop: 0.1\n", "not valid YAML: line 3, column 4"),
        ("model: m\nsession: s\nhop: fast\n", "line 3, column 6: field 'hop': expected a number (found 'fast')"),
        ("model: m\n", "missing field 'session'"),
        ("- model\n", "the configuration must be a mapping"),
        ("model: m\nsession: s\nspikes: {address: \"127.0.0.1:5555\"}\n", "spikes.address: endpoint '127.0.0.1:5555' has no transport: write it as TRANSPORT://ADDRESS, e.g. tcp://127.0.0.1:5555"),
        ("model: m\nsession: s\noutputs: {address: \"tpc://127.0.0.1:5556\"}\n", "outputs.address: endpoint 'tpc://127.0.0.1:5556': unknown transport 'tpc'"),
        ("model: m\nsession: s\nspikes: {address: \"tcp://127.0.0.1:99999\"}\n", "endpoint 'tcp://127.0.0.1:99999': port '99999' is not a port number from 1 to 65535"),
        ("model: m\nsession: s\nspikes: {address: \"tcp://127.0.0.1:0\"}\n", "endpoint 'tcp://127.0.0.1:0': port '0' is not a port number from 1 to 65535"),
        ("model: m\nsession: s\nspikes: {address: \"tcp://127.0.0.1\"}\n", "endpoint 'tcp://127.0.0.1' has no port"),
        ("model: m\nsession: s\nring_capacity: 1000000000000\n", "ring_capacity is 1000000000000: it must be 2 to 16777216 entries"),
        ("model: m\nsession: s\nstall_timeout: 1e300\n", "stall_timeout is 1e+300: it must be a positive number of seconds"),
    ])
    func mistakesAreCaughtAndPlaced(yaml: String, message: String) {
        let error = #expect(throws: ConfigurationError.self) {
            let configuration = try DecoderConfiguration.parse(yaml: yaml)
            try configuration.validate()
        }
        #expect(error?.description.contains(message) == true, "\(error?.description ?? "no error")")
    }

    @Test func relativePathsAreRelativeToTheConfigurationFile() throws {
        let directory = Fixtures.temporaryPath("config-dir")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/serve.yaml"
        try "model: models/m.safetensors\nsession: s\ncapture: logs/run-{time}.log\n".write(toFile: path, atomically: true, encoding: .utf8)
        let configuration = try DecoderConfiguration.load(path: path)
        #expect(configuration.model == URL(fileURLWithPath: directory).standardizedFileURL.path + "/models/m.safetensors")
        #expect(configuration.capture == URL(fileURLWithPath: directory).standardizedFileURL.path + "/logs/run-{time}.log")
        try "model: /abs/m.safetensors\nsession: s\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try DecoderConfiguration.load(path: path).model == "/abs/m.safetensors")
    }

    @Test func aMissingFileSaysSo() {
        let error = #expect(throws: ConfigurationError.self) { try DecoderConfiguration.load(path: "/no/such/serve.yaml") }
        #expect(error?.description == "configuration file /no/such/serve.yaml: no such file")
    }
}
