import Foundation
import Yams
import ZeroMQ

/// Everything `poyo serve` needs, from one YAML file (JSON is valid YAML too) plus
/// command-line overrides. YAML because rig configurations are edited by people who comment
/// them, and torch_brain users already write their model configs in it (hydra).
/// Times are seconds; unit maps go from the rig's unit id to the model's unit vocabulary word.
public struct DecoderConfiguration: Codable, Sendable, Equatable {
    /// A ZeroMQ endpoint and whether the daemon binds it (default) or connects to it.
    public struct Endpoint: Codable, Sendable, Equatable {
        public var address: String
        public var bind: Bool = true

        enum CodingKeys: String, CodingKey, CaseIterable {
            case address, bind
        }

        public init(address: String, bind: Bool = true) {
            self.address = address
            self.bind = bind
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            address = try c.decode(String.self, forKey: .address)
            bind = try c.decodeIfPresent(Bool.self, forKey: .bind) ?? true
        }
    }

    /// Model file (`poyo-rt export` writes one).
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
    /// CPU to pin the ingest thread to (nil = no pinning).
    public var ingestCPU: Int?
    /// CPUs of the model (nil = no pinning). In the file an integer (`model_cpu: 2`: the scheduler
    /// thread alone is pinned, the workers are not) or a list (`model_cpu: [2, 3]`: the scheduler
    /// thread on the first, the workers over the others; see `modelThreadCPUs`).
    public var modelCPU: [Int]?
    /// SCHED_FIFO priority (1-99, `sched(7)`) of the ingest, scheduler and model worker threads;
    /// nil = ordinary scheduling. Needs root, CAP_SYS_NICE or an RLIMIT_RTPRIO of at least it
    /// (checked at start: `RealtimeScheduling.probe`).
    public var realtimePriority: Int?
    /// Whether the scheduler thread and the model's workers spin between ticks instead of
    /// sleeping (busy polling): each keeps its CPU 100 % busy, and in exchange the forward pass
    /// runs at the speed of a busy core (an idle virtual CPU ran the next window 25-35 % slower,
    /// with a longer tail). Not with `realtime_priority` (spinning SCHED_FIFO threads would starve
    /// every ordinary thread of their CPUs, libzmq's I/O thread included).
    public var busyPoll = false
    /// Whether the scheduler attends the encoder to the next window's spikes between ticks, as far
    /// as the watermark has made them final (`POYOModel.prepareEncoder`), so that a tick attends
    /// only its last spikes: the same outputs, bit for bit, ~90 % of the encoder off the tick's path.
    public var encodeAhead = true
    /// Entries of the ingest ring (rounded up to a power of two).
    public var ringCapacity: Int = 1 << 20
    /// Whether outputs also carry the raw (normalized) model values.
    public var publishRawValues = false
    /// Lock the daemon's memory (mlockall) so no page fault stalls a tick (needs LimitMEMLOCK).
    public var lockMemory = false
    /// Seconds of output time the live quality (R^2, accuracy) in the status is computed over.
    public var qualityWindow: Double = 30

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, session, units, readouts, source, hop, budget, spikes, outputs, capture, threads
        case unitPrefix = "unit_prefix", outputOffsets = "output_offsets", stallTimeout = "stall_timeout"
        case statusInterval = "status_interval", ingestCPU = "ingest_cpu", modelCPU = "model_cpu"
        case ringCapacity = "ring_capacity", publishRawValues = "publish_raw_values", lockMemory = "lock_memory"
        case qualityWindow = "quality_window", realtimePriority = "realtime_priority", busyPoll = "busy_poll"
        case encodeAhead = "encode_ahead"
    }

    public init(model: String, session: String) {
        self.model = model
        self.session = session
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        session = try c.decode(String.self, forKey: .session)
        units = try Self.decodeUnits(c)
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
        modelCPU = try Self.decodeCPUs(c, forKey: .modelCPU)
        ringCapacity = try c.decodeIfPresent(Int.self, forKey: .ringCapacity) ?? (1 << 20)
        publishRawValues = try c.decodeIfPresent(Bool.self, forKey: .publishRawValues) ?? false
        lockMemory = try c.decodeIfPresent(Bool.self, forKey: .lockMemory) ?? false
        qualityWindow = try c.decodeIfPresent(Double.self, forKey: .qualityWindow) ?? 30
        realtimePriority = try c.decodeIfPresent(Int.self, forKey: .realtimePriority)
        busyPoll = try c.decodeIfPresent(Bool.self, forKey: .busyPoll) ?? false
        encodeAhead = try c.decodeIfPresent(Bool.self, forKey: .encodeAhead) ?? true
    }

    /// An integer or a list of integers (`model_cpu: 2`, `model_cpu: [2, 3]`), as a list.
    private static func decodeCPUs(_ c: KeyedDecodingContainer<CodingKeys>, forKey key: CodingKeys) throws -> [Int]? {
        guard c.contains(key), try !c.decodeNil(forKey: key) else { return nil }
        if let cpu = try? c.decode(Int.self, forKey: key) { return [cpu] }
        guard let cpus = try? c.decode([Int].self, forKey: key) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: c, debugDescription: "expected a CPU number or a list of them (e.g. \(key.rawValue): 2, or \(key.rawValue): [2, 3])")
        }
        return cpus
    }

    /// The scheduler (model) thread's CPU: `model_cpu`'s first entry.
    public var schedulerCPU: Int? { modelCPU?.first }

    /// The CPUs of the model's threads in `POYOModel(cpus:)`'s form (thread i on element
    /// `i % count`, 0 the scheduler thread): with `model_cpu: [c0, c1, ...]` the scheduler thread
    /// is on c0 and worker i (1..<threads) on element `1 + (i - 1) % (count - 1)` of the list,
    /// so no worker shares the scheduler's CPU. Empty (workers not pinned) without a list of 2 or more.
    public var modelThreadCPUs: [Int] {
        guard let cpus = modelCPU, cpus.count >= 2 else { return [] }
        return [cpus[0]] + (1..<max(threads, 2)).map { cpus[1 + ($0 - 1) % (cpus.count - 1)] }
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
        if realtimePriority != other.realtimePriority { names.append("realtime_priority") }
        if busyPoll != other.busyPoll { names.append("busy_poll") }
        if encodeAhead != other.encodeAhead { names.append("encode_ahead") }
        if source != other.source { names.append("source") }
        if stallTimeout != other.stallTimeout { names.append("stall_timeout") }
        if statusInterval != other.statusInterval { names.append("status_interval") }
        return names
    }

    /// Reads a configuration file; the error names the file and the field. Relative paths in it
    /// (`model`, `capture`) are relative to the file's directory, not to the current one (a
    /// systemd unit and a shell in another directory must read the same configuration alike).
    public static func load(path: String) throws(ConfigurationError) -> DecoderConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read (permissions, or not UTF-8 text)" : "no such file"
            throw ConfigurationError("configuration file \(path): \(reason)")
        }
        var configuration: DecoderConfiguration
        do {
            configuration = try parse(yaml: text)
        } catch {
            throw ConfigurationError("\(path): \(error.description)")
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        configuration.model = Self.resolve(configuration.model, against: directory)
        configuration.capture = configuration.capture.map { Self.resolve($0, against: directory) }
        return configuration
    }

    /// `path` as is when absolute, else relative to `directory`.
    static func resolve(_ path: String, against directory: URL) -> String {
        guard !path.hasPrefix("/"), !path.isEmpty else { return path }
        return directory.appendingPathComponent(path).standardizedFileURL.path
    }

    /// Parses a configuration from YAML (or JSON) text. Unknown fields are refused with the
    /// nearest valid name; every error names the field and its line and column.
    public static func parse(yaml text: String) throws(ConfigurationError) -> DecoderConfiguration {
        let node: Node
        do {
            guard let root = try Yams.compose(yaml: text) else {
                throw ConfigurationError("the configuration is empty: give at least `model` and `session`")
            }
            node = ConfigurationKeys.normalizingUnitKeys(root)
        } catch let error as ConfigurationError {
            throw error
        } catch let error as YamlError {
            throw ConfigurationError("not valid YAML: \(ConfigurationKeys.describe(error))")
        } catch {
            throw ConfigurationError("not valid YAML: \(error)")
        }
        try ConfigurationKeys.check(node)
        do {
            return try YAMLDecoder().decode(DecoderConfiguration.self, from: node)
        } catch let error as DecodingError {
            throw ConfigurationError(ConfigurationKeys.describe(error, in: node))
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError("\(error)")
        }
    }

    /// The configuration as YAML (what a capture log records, and `poyo serve --print-config`).
    /// Numbers are written as people write them (`0.02`, `1.0`), not as the encoder's `2e-2`.
    public func yaml() throws -> String {
        let text = try YAMLEncoder().encode(self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(Self.plainNumber).joined(separator: "\n")
    }

    /// A `key: 1e+0` or `- 2e-2` line with the number in plain decimal; any other line as is.
    static func plainNumber(_ line: Substring) -> String {
        let separator = line.range(of: ": ") ?? (line.hasPrefix("- ") ? line.startIndex..<line.index(line.startIndex, offsetBy: 2) : nil)
        guard let separator else { return String(line) }
        let value = line[separator.upperBound...]
        guard value.contains("e"), value.first.map({ $0.isNumber || $0 == "-" }) == true, let number = Double(value) else {
            return String(line)
        }
        return line[..<separator.upperBound] + "\(number)"
    }

    /// `units` as YAML writes it: a mapping from rig unit id to vocabulary word
    /// (`units: {17: "brainset/session/unit_017"}`), in block or flow style.
    /// (Capture logs of earlier versions hold the flat list `[id, word, id, word, ...]`; it is read too.)
    private static func decodeUnits(_ c: KeyedDecodingContainer<CodingKeys>) throws -> [UInt32: String] {
        guard c.contains(.units), try !c.decodeNil(forKey: .units) else { return [:] }
        if var list = try? c.nestedUnkeyedContainer(forKey: .units) {
            var units: [UInt32: String] = [:]
            while !list.isAtEnd {
                let id = try list.decode(UInt32.self)
                units[id] = try list.decode(String.self)
            }
            return units
        }
        let words = try c.decode([String: String].self, forKey: .units)
        var units: [UInt32: String] = [:]
        for (key, word) in words {
            guard let id = UInt32(key.trimmingCharacters(in: .whitespaces)) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .units, in: c,
                    debugDescription: "'\(key)' is not a rig unit id: keys are integers 0 to \(UInt32.max), e.g. units: {17: \"brainset/session/unit_017\"}")
            }
            units[id] = word
        }
        return units
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(session, forKey: .session)
        if !units.isEmpty {
            var map = c.nestedContainer(keyedBy: UnitKey.self, forKey: .units)
            for (id, word) in units.sorted(by: { $0.key < $1.key }) { try map.encode(word, forKey: UnitKey(id)) }
        }
        try c.encodeIfPresent(unitPrefix, forKey: .unitPrefix)
        try c.encodeIfPresent(readouts, forKey: .readouts)
        try c.encodeIfPresent(source, forKey: .source)
        try c.encodeIfPresent(hop, forKey: .hop)
        try c.encodeIfPresent(budget, forKey: .budget)
        try c.encode(outputOffsets, forKey: .outputOffsets)
        try c.encode(stallTimeout, forKey: .stallTimeout)
        try c.encode(statusInterval, forKey: .statusInterval)
        try c.encode(spikes, forKey: .spikes)
        try c.encode(outputs, forKey: .outputs)
        try c.encodeIfPresent(capture, forKey: .capture)
        try c.encode(threads, forKey: .threads)
        try c.encodeIfPresent(ingestCPU, forKey: .ingestCPU)
        if let modelCPU {
            // As people write it: one CPU as an integer, several as a list.
            if modelCPU.count == 1 { try c.encode(modelCPU[0], forKey: .modelCPU) } else { try c.encode(modelCPU, forKey: .modelCPU) }
        }
        try c.encode(ringCapacity, forKey: .ringCapacity)
        try c.encode(publishRawValues, forKey: .publishRawValues)
        try c.encode(lockMemory, forKey: .lockMemory)
        try c.encodeIfPresent(realtimePriority, forKey: .realtimePriority)
        try c.encode(busyPoll, forKey: .busyPoll)
        try c.encode(encodeAhead, forKey: .encodeAhead)
    }

    private struct UnitKey: CodingKey {
        let stringValue: String
        var intValue: Int? { Int(stringValue) }
        init(_ id: UInt32) { stringValue = String(id) }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { stringValue = String(intValue) }
    }

    /// The longest duration a configuration may give (hop, budget, stall_timeout, status_interval).
    public static let maxSeconds: Double = 86_400

    /// The SCHED_FIFO priorities Linux has (`sched_get_priority_min/max(SCHED_FIFO)`).
    public static let realtimePriorities = 1...99

    /// The largest ring the daemon allocates (entries of 24 bytes: 16M entries are 384 MiB).
    public static let maxRingCapacity = 1 << 24

    /// Checks what can be checked without the model: endpoints, positive times and counts.
    /// Every message names the field and the value; the error's `field` is the field's path as in
    /// the file (`hop`, `spikes.address`), for `location(of:inYAML:)`.
    public func validate() throws(ConfigurationError) {
        for (name, endpoint) in [("spikes", spikes), ("outputs", outputs)] {
            if let problem = ZMQEndpoint.problem(with: endpoint.address) {
                throw ConfigurationError("\(name).address: \(problem)", field: "\(name).address")
            }
        }
        for (name, value) in [("hop", hop), ("budget", budget), ("stall_timeout", stallTimeout), ("status_interval", statusInterval)] {
            if let value, !(value.isFinite && value > 0 && value <= Self.maxSeconds) {
                throw ConfigurationError("\(name) is \(value): it must be a positive number of seconds, at most \(Int(Self.maxSeconds)) (a day)", field: name)
            }
        }
        guard threads >= 1, threads <= 64 else {
            throw ConfigurationError("threads is \(threads): it must be 1 to 64 (the model's threads; 1 runs each window on the scheduler thread alone)", field: "threads")
        }
        guard ringCapacity >= 2, ringCapacity <= Self.maxRingCapacity else {
            throw ConfigurationError("ring_capacity is \(ringCapacity): it must be 2 to \(Self.maxRingCapacity) entries", field: "ring_capacity")
        }
        if let ingestCPU, ingestCPU < 0 { throw ConfigurationError("ingest_cpu is \(ingestCPU): CPUs are numbered from 0", field: "ingest_cpu") }
        if let modelCPU {
            let shown = modelCPU.count == 1 ? "\(modelCPU[0])" : "\(modelCPU)"
            if modelCPU.isEmpty { throw ConfigurationError("model_cpu is []: give a CPU number, or a list of them (the scheduler thread's first)", field: "model_cpu") }
            if modelCPU.contains(where: { $0 < 0 }) { throw ConfigurationError("model_cpu is \(shown): CPUs are numbered from 0", field: "model_cpu") }
        }
        if let realtimePriority, !Self.realtimePriorities.contains(realtimePriority) {
            throw ConfigurationError("realtime_priority is \(realtimePriority): it must be 1 to 99 (the SCHED_FIFO priority; leave it out for ordinary scheduling)", field: "realtime_priority")
        }
        if busyPoll, let realtimePriority {
            throw ConfigurationError(
                "busy_poll with realtime_priority \(realtimePriority): model threads spinning under SCHED_FIFO would starve every ordinary thread of their CPUs "
                    + "(libzmq's I/O thread, the rig); choose one (busy_poll for the steadiest forward pass, realtime_priority to share the CPUs)", fields: ["busy_poll", "realtime_priority"])
        }
    }
}

extension DecoderConfiguration {
    /// "line L, column C" of a field's value in a configuration's YAML text (`field` a path such
    /// as `hop` or `spikes.address`), or nil when the text does not give that field (it came from
    /// a default or the command line) or does not parse.
    public static func location(of field: String, inYAML text: String) -> String? {
        guard var node = try? Yams.compose(yaml: text) else { return nil }
        for name in field.split(separator: ".") {
            guard let next = node.mapping?[String(name)] else { return nil }
            node = next
        }
        guard let mark = node.mark else { return nil }
        return "line \(mark.line), column \(mark.column)"
    }
}

/// Why a configuration cannot be used.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    /// The fields whose values are wrong, as written in the file (`hop`, `spikes.address`); two
    /// for a combination refused, the first the one to point at.
    public let fields: [String]
    /// The first of `fields`, where there is one.
    public var field: String? { fields.first }
    public init(_ description: String, field: String? = nil) {
        self.description = description
        fields = field.map { [$0] } ?? []
    }
    public init(_ description: String, fields: [String]) {
        self.description = description
        self.fields = fields
    }
}
