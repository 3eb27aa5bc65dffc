import Dispatch
import Foundation
import Logging
import POYO
import SpikeWire
import Synchronization
import ZeroMQ

/// Carries a value into a thread closure; the value is used by that thread only (or is
/// thread-safe itself), which the type system cannot see.
struct ThreadHandoff<Value>: @unchecked Sendable {
    let value: Value
}

/// `poyo serve`: the real-time decoder. Loads the model and binds the session at init (so a
/// bad configuration fails before any socket opens), then `run()` starts the ingest and
/// scheduler threads, says READY=1 to systemd once both sockets are bound, and returns after a
/// graceful stop (SIGTERM/SIGINT: the tick in progress finishes, the capture log is flushed).
public final class DecoderService: @unchecked Sendable {
    /// The configuration serving now (changed by a switch; read and written by the main thread).
    public private(set) var configuration: DecoderConfiguration
    public private(set) var binding: SessionBinding
    public let counters = DecoderCounters()
    public let control: ServiceControl
    let logger: Logger
    let notifier: SystemdNotifier
    /// The model loaded at start, until `run` hands it to the scheduler (so that a reload that
    /// replaces it releases it and its worker threads).
    private var startupModel: POYOModel?
    let modelIdentity: ModelIdentity
    let capture: CaptureLog?
    let wakeup: DispatchSemaphore
    let quality = QualityMonitor()
    /// Re-reads the configuration the daemon was started with (its file, with the command line's
    /// overrides applied again) for SIGHUP; nil: SIGHUP reloads the same model file.
    let reread: (() throws -> DecoderConfiguration)?

    public init(
        configuration: DecoderConfiguration, logger: Logger, notifier: SystemdNotifier = SystemdNotifier(),
        reread: (() throws -> DecoderConfiguration)? = nil
    ) throws {
        self.configuration = configuration
        self.reread = reread
        self.logger = logger
        self.notifier = notifier
        // Before the model starts its workers: a refusal later could only be logged.
        if let priority = configuration.realtimePriority { try RealtimeScheduling.probe(priority: priority) }
        let unavailable = RealtimeScheduling.unavailableCPUs((configuration.ingestCPU.map { [$0] } ?? []) + (configuration.modelCPU ?? []))
        if !unavailable.isEmpty {
            logger.warning("ingest_cpu / model_cpu: this process may not run on CPU \(unavailable.map(String.init).joined(separator: ", ")) (absent, offline or outside its affinity); threads assigned to it run unpinned")
        }
        // Model threads outnumbering their CPUs: at one FIFO priority they are never preempted by each
        // other and wait for each other a whole region at a time; busy polling, they take each
        // other's CPUs.
        let cpus = configuration.modelCPU.map { Set($0).count } ?? ProcessInfo.processInfo.activeProcessorCount
        if configuration.threads > cpus {
            let oversubscribed = "with threads \(configuration.threads) on \(cpus) CPU(s)\(configuration.modelCPU == nil ? "" : " of model_cpu")"
            if let priority = configuration.realtimePriority {
                logger.warning("realtime_priority \(priority) \(oversubscribed): model threads at one SCHED_FIFO priority that share a CPU wait for each other a whole parallel region at a time; give each model thread its own CPU")
            }
            if configuration.busyPoll {
                logger.warning("busy_poll \(oversubscribed): the spinning model threads take each other's CPUs; give each model thread its own CPU, and leave one for the ingest thread and libzmq")
            }
        }
        (startupModel, binding, modelIdentity) = try Self.loadModel(configuration: configuration)
        capture = try configuration.capture.map { try CaptureLog(path: Self.expandTime(in: $0)) }
        let wakeup = DispatchSemaphore(value: 0)
        self.wakeup = wakeup
        control = ServiceControl(wake: { wakeup.signal() })
    }

    /// Loads, binds and warms up a model: its per-unit tables filled, its start/end-token state
    /// cached and its scratch sized by a busy synthetic window (every unit at 50 Hz), so that the
    /// first real ticks neither allocate nor run slow. Its workers are pinned (`model_cpu` list)
    /// and given `realtime_priority` here, at start and on every reload (a new model has new
    /// workers). Throws when the model does not load or bind, or its workers are refused SCHED_FIFO.
    static func loadModel(configuration: DecoderConfiguration) throws -> (POYOModel, SessionBinding, ModelIdentity) {
        // Isolated from the file: an operator replacing it in place must not crash the daemon (SIGBUS).
        let model = try POYOModel(path: configuration.model, isolated: true, threads: configuration.threads, cpus: configuration.modelThreadCPUs)
        if let priority = configuration.realtimePriority {
            let error = model.setWorkerRealtimePriority(Int32(priority))
            if error != 0 { throw RealtimeScheduling.refusal(priority: priority, error: error) }
        }
        let binding = try SessionBinding(configuration: configuration, model: model.description)
        let identity = try ModelIdentity(file: configuration.model)
        model.prepare(units: binding.units.map(\.row))
        // Any clock the configuration fits will do for a synthetic window; nanoseconds fit most.
        let clock = [30_000, 1_000_000_000, 1_000_000].lazy.compactMap { try? binding.ticks(tickRate: $0) }.first
            ?? SourceClockTicks(tickRate: 30_000, hop: 1, sequence: max(1, Int64(binding.hyperparameters.sequenceLength * 30_000)),
                                latentStep: 1, outputOffsets: binding.outputOffsets.map { _ in 0 })
        var history = SpikeHistory()
        let spikes = Int(50 * binding.hyperparameters.sequenceLength) * binding.units.count
        for i in 0..<spikes {
            history.insert(time: Int64(i) * clock.sequence / Int64(max(spikes, 1)), unit: Int32(i % binding.units.count))
        }
        var assembler = WindowAssembler(binding: binding, kind: model.description.kind)
        assembler.assemble(start: 0, end: clock.sequence, clock: clock, history: history)
        for _ in 0..<3 { _ = try model.forward(assembler.window) }
        return (model, binding, identity)
    }

    /// `{time}` in a capture path becomes the UTC start time, so every start gets its own log.
    static func expandTime(in path: String) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime]
        return path.replacingOccurrences(of: "{time}", with: formatter.string(from: Date()).replacingOccurrences(of: ":", with: "-"))
    }

    /// Serves until a stop is requested; throws if a socket cannot be opened.
    public func run() throws {
        if configuration.lockMemory, mlockall(MCL_CURRENT | MCL_FUTURE) != 0 {
            logger.warning("lock_memory: mlockall failed (\(String(cString: strerror(errno)))); raise LimitMEMLOCK")
        }
        let context = try ZMQContext()
        let ring = SpikeRing(capacity: configuration.ringCapacity)
        quality.configure(binding: binding, windowSeconds: configuration.qualityWindow)
        let processor = IngestProcessor(binding: binding, ring: ring, counters: counters, source: configuration.source, quality: quality)
        // No `guard let`: a local binding would keep this model, and its worker threads, alive for
        // all of run(), past a reload that replaces it (test_busy_polling_moves_to_the_reloaded_model).
        guard startupModel != nil else { throw ConfigurationError("the daemon was already run; start a new one") }
        let runner = TickRunner(model: startupModel!, binding: binding, ring: ring, counters: counters, publishRawValues: configuration.publishRawValues)
        startupModel = nil
        let handoff = SwitchHandoff()
        capture?.append(.session(configuration: try configuration.yaml(), model: modelIdentity, monotonicNS: MonotonicClock.nanoseconds()))
        let ingest = IngestLoop(
            configuration: configuration, processor: processor, control: control, wakeup: wakeup, capture: capture,
            handoff: handoff, quality: quality, logger: logger)
        let scheduler = SchedulerLoop(
            configuration: configuration, runner: runner, counters: counters, control: control, wakeup: wakeup,
            capture: capture, notifier: notifier, handoff: handoff, quality: quality, modelIdentity: modelIdentity, logger: logger)

        let endpoints = Mutex<[String]>([])
        let failures = Mutex<[ConfigurationError]>([])
        let opened = DispatchSemaphore(value: 0)
        let proceed = DispatchSemaphore(value: 0)
        let bothOpened = Atomic<Bool>(false)
        let finished = DispatchSemaphore(value: 0)
        // Each thread reports its socket, then waits until both are open: neither starts serving
        // (nor publishes a status) when the other's socket failed.
        let report: @Sendable (Result<String, ConfigurationError>) -> Bool = { result in
            switch result {
            case .success(let endpoint): endpoints.withLock { $0.append(endpoint) }
            case .failure(let error): failures.withLock { $0.append(error) }
            }
            opened.signal()
            proceed.wait()
            return bothOpened.load(ordering: .acquiring)
        }
        let contextHandoff = ThreadHandoff(value: context)
        let ingestHandoff = ThreadHandoff(value: ingest)
        let schedulerHandoff = ThreadHandoff(value: scheduler)
        let ingestThread = Thread {
            ingestHandoff.value.run(context: contextHandoff.value, ready: report)
            finished.signal()
        }
        ingestThread.name = "poyo-ingest"
        let schedulerThread = Thread {
            schedulerHandoff.value.run(context: contextHandoff.value, ready: report)
            finished.signal()
        }
        schedulerThread.name = "poyo-scheduler"
        ingestThread.start()
        schedulerThread.start()
        opened.wait()
        opened.wait()
        let failure = failures.withLock { $0.first }
        bothOpened.store(failure == nil, ordering: .releasing)
        proceed.signal()
        proceed.signal()
        if let failure {
            control.requestStop()
            finished.wait()
            finished.wait()
            context.shutdown()
            throw failure
        }
        let bound = endpoints.withLock { $0 }.sorted()
        notifier.ready(status: "serving \(modelIdentity.path)")
        logger.notice("serving", metadata: [
            "model": "\(modelIdentity)", "session": "\(configuration.session)", "units": "\(binding.units.count)",
            "readouts": "\(binding.readouts.map(\.name).joined(separator: ","))", "hop_s": "\(binding.hop)",
            "budget_s": "\(binding.budget)", "endpoints": "\(bound.joined(separator: " "))",
            "capture": "\(capture?.path ?? "off")", "threads": "\(configuration.threads)",
            "scheduling": "\(configuration.realtimePriority.map { "SCHED_FIFO \($0)" } ?? "ordinary")\(configuration.busyPoll ? ", busy polling" : "")",
            "model_cpu": "\(configuration.modelCPU.map { $0.map(String.init).joined(separator: ",") } ?? "unpinned")",
            "ingest_cpu": "\(configuration.ingestCPU.map(String.init) ?? "unpinned")",
            "encode_ahead": "\(configuration.encodeAhead)",
        ])

        var running = 2
        while !control.shouldStop {
            if control.takeReloadRequest() { reload(into: handoff) }
            if finished.wait(timeout: .now() + .milliseconds(100)) == .success {
                // A thread ended on its own (its socket failed): stop the other one too.
                running -= 1
                control.requestStop()
            }
        }
        notifier.stopping()
        logger.notice("stopping")
        // Threads notice the flag within 100 ms; the scheduler finishes its tick first.
        while running > 0, finished.wait(timeout: .now() + .seconds(5)) == .success { running -= 1 }
        context.shutdown()
        while running > 0, finished.wait(timeout: .now() + .seconds(2)) == .success { running -= 1 }
        if running > 0 { logger.error("\(running) thread(s) did not stop in time") }
        capture?.close()
        scheduler.logSummary(title: "stopped")
    }

    /// SIGHUP. With a configuration file (`poyo serve --config F`): re-reads it, and switches to
    /// its model, session, unit map, readouts, hop, budget, output offsets and quality window; a
    /// change to a field fixed at start (sockets, threads, ring, capture, source, timers) is
    /// refused, naming the fields. Without one: loads the same model file again, and refuses it
    /// when it decodes another session, unit set or readouts. Either way the new model is loaded,
    /// bound and warmed up here, off the scheduler thread; the ingest applies the switch at its
    /// next message and the scheduler swaps it in between ticks. A refusal is logged and counted
    /// (`reloads_failed`), and the running configuration keeps serving.
    private func reload(into handoff: SwitchHandoff) {
        notifier.reloading()
        defer { notifier.notify("READY=1") }
        do {
            let next: DecoderConfiguration
            if let reread {
                next = try reread()
                let fixed = next.fixedFieldsDiffering(from: configuration)
                guard fixed.isEmpty else {
                    counters.reloadsFailed.increment()
                    logger.error("reload refused: the configuration changes \(fixed.joined(separator: ", ")), which cannot change while the daemon runs (restart it for those); the running configuration keeps serving")
                    return
                }
            } else {
                next = configuration
            }
            let (model, newBinding, identity) = try Self.loadModel(configuration: next)
            if reread == nil {
                guard newBinding.units == binding.units, newBinding.sessionRow == binding.sessionRow,
                      newBinding.readouts.map(\.name) == binding.readouts.map(\.name),
                      newBinding.readouts.map(\.dim) == binding.readouts.map(\.dim)
                else {
                    counters.reloadsFailed.increment()
                    logger.error("reload refused: \(configuration.model) decodes a different session, units or readouts; the running model keeps serving (start the daemon with --config to switch sessions)")
                    return
                }
            }
            handoff.offer(ConfigurationSwitch(model: model, binding: newBinding, identity: identity, configuration: next))
            logger.notice("reloaded; switching at the next message, between ticks", metadata: [
                "model": "\(identity)", "session": "\(next.session)", "units": "\(newBinding.units.count)",
                "readouts": "\(newBinding.readouts.map(\.name).joined(separator: ","))",
            ])
            configuration = next
            binding = newBinding
        } catch {
            counters.reloadsFailed.increment()
            logger.error("reload failed: \(error); the running configuration keeps serving")
        }
    }
}
