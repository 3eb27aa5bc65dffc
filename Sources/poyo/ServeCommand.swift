import ArgumentParser
import Decoder
import Foundation
import Logging

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the real-time decoder: spikes in on a SUB socket, decoded behaviour out on a PUB socket.",
        discussion: """
            The configuration file is YAML (JSON works too); every option below overrides it. \
            See docs/serving.md and demo/serve.yaml. Signals: SIGTERM/SIGINT stop gracefully, \
            SIGHUP re-reads --config and switches to its model, session, units and readouts \
            between ticks (without --config: reloads the model file), SIGUSR1 logs the counters \
            and latencies.
            """
    )

    @Option(help: "Configuration file (YAML).") var config: String?
    @Option(help: "Model file.") var model: String?
    @Option(help: "Session vocabulary word of the recording.") var session: String?
    @Option(help: "Map rig unit N to the vocabulary word <prefix>N.") var unitPrefix: String?
    @Option(help: "Endpoint the spike SUB socket binds (e.g. tcp://127.0.0.1:5555).") var spikes: String?
    @Option(help: "Endpoint the output PUB socket binds (e.g. tcp://127.0.0.1:5556).") var outputs: String?
    @Option(parsing: .unconditional, help: "Seconds between ticks (default: the model's latent_step).") var hop: Double?
    @Option(parsing: .unconditional, help: "Seconds a tick may take after its window completes (default: the hop).") var budget: Double?
    @Option(help: "Capture log to append every message to.") var capture: String?
    @Flag(help: "Do not write a capture log even if the configuration names one.") var noCapture = false
    @Option(parsing: .unconditional, help: "The model's threads (the scheduler thread and threads - 1 workers).") var threads: Int?
    @Option(parsing: .unconditional, help: "CPU for the ingest thread.") var ingestCPU: Int?
    @Option(
        parsing: .unconditional,
        help: "CPU for the scheduler (model) thread, or a comma list: the scheduler thread on the first, the model's workers on the others (e.g. 2,3).")
    var modelCPU: String?
    @Option(parsing: .unconditional, help: "SCHED_FIFO priority (1-99) of the ingest, scheduler and model worker threads (needs root, CAP_SYS_NICE or LimitRTPRIO).")
    var realtimePriority: Int?
    @Flag(
        inversion: .prefixedNo,
        help: "Busy polling (busy_poll): the scheduler thread and the model's workers spin between ticks, each keeping a CPU 100 % busy, even with no rig connected; for CPUs of the daemon's own. Not with --realtime-priority.")
    var busyPoll: Bool?
    @Flag(
        inversion: .prefixedNo,
        help: "Attend the encoder to the next window's final spikes between ticks (encode_ahead, on by default): a tick then attends only its last spikes; the same outputs.")
    var encodeAhead: Bool?
    @Flag(inversion: .prefixedNo, help: "Also publish the raw (normalized) model values (publish_raw_values).") var publishRawValues: Bool?
    @Flag(help: "Print the resolved configuration as YAML and exit.") var printConfig = false
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: String = "info"

    func validate() throws {
        guard config != nil || (model != nil && session != nil) else {
            throw ValidationError("give --config FILE, or at least --model and --session")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("unknown log level '\(logLevel)' (trace, debug, info, notice, warning, error, critical)")
        }
        if let modelCPU, Self.cpuList(modelCPU) == nil {
            throw ValidationError("--model-cpu \(modelCPU): give a CPU number or a comma list of them (e.g. 2 or 2,3)")
        }
    }

    /// `2` or `2,3` as [2] or [2, 3]; nil when not a list of integers.
    static func cpuList(_ text: String) -> [Int]? {
        let cpus = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !cpus.isEmpty, cpus.allSatisfy({ $0 != nil }) else { return nil }
        return cpus.compactMap { $0 }
    }

    func resolvedConfiguration() throws(ConfigurationError) -> DecoderConfiguration {
        var c: DecoderConfiguration
        if let config {
            c = try DecoderConfiguration.load(path: config)
        } else {
            c = DecoderConfiguration(model: model ?? "", session: session ?? "")
        }
        if let model { c.model = model }
        if let session { c.session = session }
        if let unitPrefix { c.unitPrefix = unitPrefix }
        if let spikes { c.spikes.address = spikes }
        if let outputs { c.outputs.address = outputs }
        if let hop { c.hop = hop }
        if let budget { c.budget = budget }
        if let capture { c.capture = capture }
        if noCapture { c.capture = nil }
        if let threads { c.threads = threads }
        if let ingestCPU { c.ingestCPU = ingestCPU }
        if let modelCPU { c.modelCPU = Self.cpuList(modelCPU) }
        if let realtimePriority { c.realtimePriority = realtimePriority }
        if let busyPoll { c.busyPoll = busyPoll }
        if let encodeAhead { c.encodeAhead = encodeAhead }
        if let publishRawValues { c.publishRawValues = publishRawValues }
        do {
            try c.validate()
        } catch {
            // A value from the file: say where it is (one given on the command line is its option).
            let text = config.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }
            for field in error.fields where !overriddenFields.contains(field) {
                if let config, let text, let place = DecoderConfiguration.location(of: field, inYAML: text) {
                    throw ConfigurationError("\(config): \(place): \(error.description)", fields: error.fields)
                }
            }
            throw error
        }
        return c
    }

    /// The configuration fields this command line sets (its options win over the file).
    var overriddenFields: Set<String> {
        let given: [(String, Bool)] = [
            ("spikes.address", spikes != nil), ("outputs.address", outputs != nil), ("hop", hop != nil), ("budget", budget != nil),
            ("threads", threads != nil), ("ingest_cpu", ingestCPU != nil), ("model_cpu", modelCPU != nil),
            ("realtime_priority", realtimePriority != nil), ("busy_poll", busyPoll != nil),
            ("encode_ahead", encodeAhead != nil),
        ]
        return Set(given.filter(\.1).map(\.0))
    }

    func run() throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "poyo.serve")
        // Every reason the daemon cannot start (configuration, model, sockets) is one exit
        // status, 2, with one message; usage errors are the argument parser's (64).
        let configuration: DecoderConfiguration
        do {
            configuration = try resolvedConfiguration()
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(2)
        }
        if printConfig {
            do {
                print(try configuration.yaml(), terminator: "")
            } catch {
                logger.critical("cannot print the configuration: \(error)")
                throw ExitCode(2)
            }
            return
        }
        ServiceControl.installSignalHandlers()
        let service: DecoderService
        do {
            // SIGHUP re-reads the file (the command line's options still win) when there is one.
            let reread: (() throws -> DecoderConfiguration)? = config == nil ? nil : { try resolvedConfiguration() }
            service = try DecoderService(configuration: configuration, logger: logger, reread: reread)
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(2)
        }
        do {
            try service.run()
        } catch {
            logger.critical("cannot serve: \(error)")
            throw ExitCode(2)
        }
    }
}
