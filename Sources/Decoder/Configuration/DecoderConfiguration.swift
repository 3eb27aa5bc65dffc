import Foundation
import Yams

/// Everything `poyo serve` needs, from one YAML file (JSON is valid YAML too) plus
/// command-line overrides. YAML because rig configurations are edited by people who comment
/// them, and torch_brain users already write their model configs in it (hydra).
/// Times are seconds; unit maps go from the rig's unit id to the model's unit vocabulary word.
public struct DecoderConfiguration: Codable, Sendable, Equatable {
    /// A ZeroMQ endpoint and whether the daemon binds it (default) or connects to it.
    public struct Endpoint: Codable, Sendable, Equatable {
        public var address: String
        public var bind: Bool = true

        public init(address: String, bind: Bool = true) {
            self.address = address
            self.bind = bind
        }
    }

    /// Model file (tools/export_torch_brain.py).
    public var model: String
    /// The session vocabulary word of the recording being decoded.
    public var session: String
    /// Rig unit id -> unit vocabulary word. Units not listed are counted as unknown.
    public var units: [UInt32: String] = [:]
    /// Alternative to `units`: every vocabulary word `<prefix><integer>` maps rig id `<integer>`.
    public var unitPrefix: String?
    /// POYO+: the tasks to decode; default every readout of the model.
    public var readouts: [String]?
    /// Only spikes of this rig source are decoded; nil = the first source heard.
    public var source: UInt32?
    /// Seconds between ticks; default the model's latent_step.
    public var hop: Double?
    /// Seconds a tick may take from the watermark that completes its window to its output; default hop.
    public var budget: Double?
    /// Output query times relative to the tick time, seconds, each in (-sequence_length, 0].
    public var outputOffsets: [Double] = [0]
    /// Seconds without a watermark after which the source counts as stalled.
    public var stallTimeout: Double = 1
    /// Seconds between status messages.
    public var statusInterval: Double = 1
    public var spikes = Endpoint(address: "tcp://127.0.0.1:5555")
    public var outputs = Endpoint(address: "tcp://127.0.0.1:5556")
    /// Capture log path; nil = no capture. `{time}` in it becomes the start time (UTC, ISO 8601).
    public var capture: String?
    /// Threads for the model's matrix products.
    public var threads: Int = 1
    /// CPUs to pin the ingest and model threads to (nil = no pinning).
    public var ingestCPU: Int?
    public var modelCPU: Int?
    /// Entries of the ingest ring (rounded up to a power of two).
    public var ringCapacity: Int = 1 << 20
    /// Whether outputs also carry the raw (normalized) model values.
    public var publishRawValues = false
    /// Lock the daemon's memory (mlockall) so no page fault stalls a tick (needs LimitMEMLOCK).
    public var lockMemory = false
    /// Seconds of output time the live quality (R^2, accuracy) in the status is computed over.
    public var qualityWindow: Double = 30

    enum CodingKeys: String, CodingKey {
        case model, session, units, readouts, source, hop, budget, spikes, outputs, capture, threads
        case unitPrefix = "unit_prefix", outputOffsets = "output_offsets", stallTimeout = "stall_timeout"
        case statusInterval = "status_interval", ingestCPU = "ingest_cpu", modelCPU = "model_cpu"
        case ringCapacity = "ring_capacity", publishRawValues = "publish_raw_values", lockMemory = "lock_memory"
        case qualityWindow = "quality_window"
    }

    public init(model: String, session: String) {
        self.model = model
        self.session = session
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        session = try c.decode(String.self, forKey: .session)
        units = try c.decodeIfPresent([UInt32: String].self, forKey: .units) ?? [:]
        unitPrefix = try c.decodeIfPresent(String.self, forKey: .unitPrefix)
        readouts = try c.decodeIfPresent([String].self, forKey: .readouts)
        source = try c.decodeIfPresent(UInt32.self, forKey: .source)
        hop = try c.decodeIfPresent(Double.self, forKey: .hop)
        budget = try c.decodeIfPresent(Double.self, forKey: .budget)
        outputOffsets = try c.decodeIfPresent([Double].self, forKey: .outputOffsets) ?? [0]
        stallTimeout = try c.decodeIfPresent(Double.self, forKey: .stallTimeout) ?? 1
        statusInterval = try c.decodeIfPresent(Double.self, forKey: .statusInterval) ?? 1
        spikes = try c.decodeIfPresent(Endpoint.self, forKey: .spikes) ?? Endpoint(address: "tcp://127.0.0.1:5555")
        outputs = try c.decodeIfPresent(Endpoint.self, forKey: .outputs) ?? Endpoint(address: "tcp://127.0.0.1:5556")
        capture = try c.decodeIfPresent(String.self, forKey: .capture)
        threads = try c.decodeIfPresent(Int.self, forKey: .threads) ?? 1
        ingestCPU = try c.decodeIfPresent(Int.self, forKey: .ingestCPU)
        modelCPU = try c.decodeIfPresent(Int.self, forKey: .modelCPU)
        ringCapacity = try c.decodeIfPresent(Int.self, forKey: .ringCapacity) ?? (1 << 20)
        publishRawValues = try c.decodeIfPresent(Bool.self, forKey: .publishRawValues) ?? false
        lockMemory = try c.decodeIfPresent(Bool.self, forKey: .lockMemory) ?? false
        qualityWindow = try c.decodeIfPresent(Double.self, forKey: .qualityWindow) ?? 30
    }

    /// The fields a running daemon cannot take from a new configuration (SIGHUP): its sockets,
    /// threads, ring, capture file, source and timers were set up at start. Returns the names
    /// (as in the file) of those that differ from `other`.
    public func fixedFieldsDiffering(from other: DecoderConfiguration) -> [String] {
        var names: [String] = []
        if spikes != other.spikes { names.append("spikes") }
        if outputs != other.outputs { names.append("outputs") }
        if capture != other.capture { names.append("capture") }
        if threads != other.threads { names.append("threads") }
        if ingestCPU != other.ingestCPU { names.append("ingest_cpu") }
        if modelCPU != other.modelCPU { names.append("model_cpu") }
        if ringCapacity != other.ringCapacity { names.append("ring_capacity") }
        if lockMemory != other.lockMemory { names.append("lock_memory") }
        if source != other.source { names.append("source") }
        if stallTimeout != other.stallTimeout { names.append("stall_timeout") }
        if statusInterval != other.statusInterval { names.append("status_interval") }
        return names
    }

    /// Reads a configuration file; the error names the file and the field.
    public static func load(path: String) throws(ConfigurationError) -> DecoderConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError("\(path): cannot read: \(error.localizedDescription)")
        }
        do {
            return try parse(yaml: text)
        } catch {
            throw ConfigurationError("\(path): \(error.description)")
        }
    }

    /// Parses a configuration from YAML (or JSON) text.
    public static func parse(yaml text: String) throws(ConfigurationError) -> DecoderConfiguration {
        do {
            return try YAMLDecoder().decode(DecoderConfiguration.self, from: text)
        } catch let error as DecodingError {
            throw ConfigurationError(Self.describe(error))
        } catch {
            throw ConfigurationError("not valid YAML: \(error)")
        }
    }

    /// The configuration as YAML (what a capture log records, and `poyo serve --print-config`).
    public func yaml() throws -> String { try YAMLEncoder().encode(self) }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing field '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "field '\(path(context))': \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

/// Why a configuration cannot be used.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
