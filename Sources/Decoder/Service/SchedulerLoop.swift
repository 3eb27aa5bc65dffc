import Dispatch
import Foundation
import Logging
import POYO
import SpikeWire
import ZeroMQ

/// The scheduler thread: owns the PUB socket and the model. It drains the ring, runs the due
/// tick if its deadline can still be met (else skips and counts it), publishes the outputs, and
/// every `status_interval` publishes the counters and latency percentiles. Between ticks it
/// swaps in a reloaded model, feeds the systemd watchdog and notices a stalled source.
final class SchedulerLoop {
    /// Messages (outputs and statuses) queued per subscriber on the output socket.
    static let sendHighWaterMark: Int32 = 64
    /// `DISPATCH_TIME_NOW`: a wait that only tries (`DispatchTime.now()` is the current uptime, a
    /// deadline the wait sleeps until).
    static let dispatchTimeNow = DispatchTime(uptimeNanoseconds: 0)
    let configuration: DecoderConfiguration
    let runner: TickRunner
    let counters: DecoderCounters
    let control: ServiceControl
    let wakeup: DispatchSemaphore
    let capture: CaptureLog?
    let notifier: SystemdNotifier
    let handoff: SwitchHandoff
    let quality: QualityMonitor
    let logger: Logger
    private(set) var modelIdentity: ModelIdentity
    /// The session vocabulary word decoded (the status's model frame names it).
    private(set) var session: String
    private(set) var latency = LatencyRecorder()
    private var forwardTime = ForwardTimeEstimate()
    private var statusSequence: UInt64 = 0
    private var stalled = false
    private var warnedOverrun = false
    private var warnedPriority = false
    /// When to prepare the next window (`prepareNextWindow`), CLOCK_MONOTONIC ns; nil: not due.
    private var prepareAt: UInt64?
    /// How long preparations take (`ForwardTimeEstimate`: the second longest of the last 8).
    private var prepareTime = ForwardTimeEstimate()
    /// A preparation must end this long before the next watermark is due (ns).
    static let prepareMargin: UInt64 = 1_000_000
    /// A preparation starts at least this long after a tick's outputs are published (ns).
    static let afterPublish: UInt64 = 1_000_000
    private var hopNS: UInt64
    private var budgetNS: UInt64

    init(
        configuration: DecoderConfiguration, runner: TickRunner, counters: DecoderCounters, control: ServiceControl,
        wakeup: DispatchSemaphore, capture: CaptureLog?, notifier: SystemdNotifier, handoff: SwitchHandoff,
        quality: QualityMonitor, modelIdentity: ModelIdentity, logger: Logger
    ) {
        self.configuration = configuration
        self.runner = runner
        self.counters = counters
        self.control = control
        self.wakeup = wakeup
        self.capture = capture
        self.notifier = notifier
        self.handoff = handoff
        self.quality = quality
        self.modelIdentity = modelIdentity
        session = configuration.session
        self.logger = logger
        budgetNS = UInt64((runner.binding.budget * 1e9).rounded())
        hopNS = UInt64((runner.binding.hop * 1e9).rounded())
    }

    func run(context: ZMQContext, ready: (Result<String, ConfigurationError>) -> Bool) {
        do {
            let socket = try ZMQSocket(context, type: .publisher, linger: 0)
            // A closed loop wants the newest output, not a queue of old ones: small queue per
            // subscriber (ZMQ_SNDHWM; PUB drops what does not fit, and subscribers see the gap in
            // tick_sequence). The client's receive_latest() drops whatever is still queued.
            try socket.setHighWaterMark(send: Self.sendHighWaterMark, receive: 1)
            if configuration.outputs.bind { try socket.bind(configuration.outputs.address) } else { try socket.connect(configuration.outputs.address) }
            guard ready(.success("outputs=\(try socket.lastEndpoint)")) else { return }
            serve(socket)
        } catch {
            _ = ready(.failure(ConfigurationError("outputs socket \(configuration.outputs.address): \(error)")))
        }
    }

    private func serve(_ socket: borrowing ZMQSocket) {
        nameCurrentThread("poyo-scheduler")
        if let cpu = configuration.schedulerCPU, !pinCurrentThread(toCPU: cpu) {
            logger.warning("could not pin the scheduler thread to CPU \(cpu)")
        }
        RealtimeScheduling.applyToCurrentThread(configuration.realtimePriority, thread: "scheduler", logger: logger)
        runner.model.busyPolling = configuration.busyPoll
        let statusInterval = UInt64((configuration.statusInterval * 1e9).rounded())
        let stallTimeout = UInt64((configuration.stallTimeout * 1e9).rounded())
        let watchdogInterval = notifier.watchdogInterval.map { UInt64($0.components.seconds) * 1_000_000_000 + UInt64($0.components.attoseconds / 1_000_000_000) }
        var nextStatus = MonotonicClock.nanoseconds() + statusInterval
        var nextWatchdog = MonotonicClock.nanoseconds()
        while !control.shouldStop {
            // Ticks completed before a configuration switch run with the old model, as in a replay.
            repeat {
                runner.drain()
                while let due = runner.dueTick() {
                    runTick(due, socket: socket)
                    // Half a hop after the tick's watermark: the next window's encoder over its
                    // spikes so far (`encode_ahead`), once the subscribers have had the outputs.
                    if configuration.encodeAhead { schedulePreparation(after: due) }
                    runner.drain()
                }
            } while runner.reachedSwitch && swapConfiguration()
            if let due = prepareAt, MonotonicClock.nanoseconds() >= due {
                prepareAt = nil
                prepareNextWindow()
            }
            let now = MonotonicClock.nanoseconds()
            checkStall(now: now, timeout: stallTimeout)
            if now >= nextStatus {
                publishStatus(socket: socket, now: now)
                nextStatus = now + statusInterval
            }
            if let watchdogInterval, now >= nextWatchdog {
                notifier.watchdog()
                nextWatchdog = now + watchdogInterval
            }
            if control.takeDumpRequest() { logSummary(title: "counters on request") }
            let untilStatus = nextStatus > now ? nextStatus - now : 0
            let untilPrepare = prepareAt.map { $0 > now ? $0 - now : 0 } ?? .max
            let timeout = DispatchTime.now() + .nanoseconds(Int(min(untilStatus, untilPrepare, 50_000_000)))
            if configuration.busyPoll {
                // Spin so that this CPU never idles. DISPATCH_TIME_NOW (raw value 0) tries the
                // semaphore without a system call; `.now()` is a deadline in the future by the time
                // it is read, and waited for with a futex call (measured: 13 000 sleeps a second).
                while wakeup.wait(timeout: Self.dispatchTimeNow) == .timedOut, DispatchTime.now() < timeout, !control.shouldStop {}
            } else {
                _ = wakeup.wait(timeout: timeout)
            }
        }
        // Graceful stop: the tick in progress has finished; tell subscribers where things stand.
        publishStatus(socket: socket, now: MonotonicClock.nanoseconds())
    }

    /// At the ring's `configurationSwitched` entry: swaps in the switch the ingest applied there.
    private func swapConfiguration() -> Bool {
        guard let change = handoff.takeForScheduler() else {
            logger.error("a configuration switch in the ring without its model; the running model keeps serving")
            runner.ignoreSwitch()
            return true
        }
        let started = MonotonicClock.nanoseconds()
        // Only the serving model's workers spin (`busy_poll`): the replaced one's park until it is released.
        runner.model.busyPolling = false
        runner.switchTo(model: change.model, binding: change.binding, publishRawValues: change.configuration.publishRawValues)
        runner.model.busyPolling = configuration.busyPoll
        modelIdentity = change.identity
        session = change.configuration.session
        budgetNS = UInt64(change.binding.budget * 1e9)
        hopNS = UInt64((change.binding.hop * 1e9).rounded())
        prepareAt = nil
        prepareTime = ForwardTimeEstimate()
        forwardTime = ForwardTimeEstimate()
        counters.reloads.increment()
        logger.notice("switched between ticks", metadata: [
            "model": "\(change.identity)", "session": "\(session)", "units": "\(change.binding.units.count)",
            "readouts": "\(change.binding.readouts.map(\.name).joined(separator: ","))", "hop_s": "\(change.binding.hop)",
            "swap_ms": "\(Double(MonotonicClock.nanoseconds() - started) / 1e6)",
        ])
        notifier.status("serving \(change.identity.path) (session \(session))")
        return true
    }

    /// The status's model frame: the model file's identity and the session decoded.
    var modelDescription: String { "\(modelIdentity); session \(session)" }

    private func runTick(_ due: DueTick, socket: borrowing ZMQSocket) {
        let windowTokens = runner.assemble(due)
        let start = MonotonicClock.nanoseconds()
        let remaining = Int64(bitPattern: due.receivedAt &+ budgetNS &- start)
        if forwardTime.shouldSkip(remaining: remaining, windowTokens: windowTokens) {
            runner.skip(due)
            if !warnedOverrun {
                warnedOverrun = true
                logger.warning("tick skipped: its deadline cannot be met (warned once; see ticks_skipped)", metadata: [
                    "tick": "\(due.tick)", "waited_ms": "\(Double(start &- due.receivedAt) / 1e6)", "tokens": "\(windowTokens)",
                    "expected_forward_ms": "\(Double(forwardTime.expected(windowTokens: windowTokens)) / 1e6)",
                    "budget_ms": "\(Double(budgetNS) / 1e6)",
                ])
            }
            return
        }
        var failure: ForwardError?
        guard let messages = runner.run(due, error: &failure) else {
            logger.error("tick \(due.tick) not decoded: \(failure.map(String.init(describing:)) ?? "no source clock")")
            return
        }
        if let first = messages.first {
            forwardTime.record(nanoseconds: first.header.stages.forwardDone &- first.header.stages.windowBuilt, tokens: windowTokens)
        }
        for var message in messages {
            message.header.stages.published = MonotonicClock.nanoseconds()
            let frames = message.frames
            do {
                try socket.send(frames: frames, dontWait: true)
            } catch where !error.isTerminated {
                logger.error("publishing an output failed: \(error)")
            } catch {}  // stopping: the context is being shut down
            latency.record(nanoseconds: message.header.stages.published &- due.receivedAt)
            capture?.append(.published(frames: frames, monotonicNS: message.header.stages.published))
            quality.addDecodes(message)
        }
    }

    /// Prepares the next window (`encode_ahead`, `TickRunner.prepareNextWindow`). A preparation
    /// still running when the next tick's watermark comes delays that tick, but by no more than the
    /// work it then no longer does (the same encoder work, moved earlier), so it is never
    /// skipped; `schedulePreparation` starts it early enough to end before. Under `realtime_priority` the
    /// model's threads run it with ordinary scheduling: it is not urgent, and a co-located rig and
    /// the subscribers need the CPUs too (measured with `tools/bench_serve.py --threads 2
    /// --realtime-priority 10`, README: under SCHED_FIFO right after the tick, the Python
    /// subscriber got the outputs no sooner than without preparing at all; on the scheduler thread
    /// alone right after the tick, its publish -> subscriber p99 went from 0.75 to 3.3 ms).
    private func prepareNextWindow() {
        let started = MonotonicClock.nanoseconds()
        let ordinary = configuration.realtimePriority != nil && RealtimeScheduling.setCurrentThreadOrdinary() == 0
        if ordinary { _ = runner.model.setWorkerOrdinaryScheduling() }
        let prepared = runner.prepareNextWindow()
        if ordinary, let priority = configuration.realtimePriority {
            let workers = runner.model.setWorkerRealtimePriority(Int32(clamping: priority))
            let scheduler = RealtimeScheduling.setCurrentThread(priority: Int32(clamping: priority))
            if (workers != 0 || scheduler != 0) && !warnedPriority {
                warnedPriority = true
                let error = scheduler != 0 ? scheduler : workers
                logger.error("realtime_priority: the \(scheduler != 0 ? "scheduler thread" : "model's workers") were refused SCHED_FIFO at \(priority) again after preparing a window (\(String(cString: strerror(error)))); they run with ordinary scheduling")
            }
        }
        // (Its start is planned from the durations alone: `expected(windowTokens: 0)`.)
        if prepared > 0 { prepareTime.record(nanoseconds: MonotonicClock.nanoseconds() &- started, tokens: prepared) }
    }

    /// When to prepare the next window after the tick `due` (just published): half a hop after
    /// its watermark, when the subscribers have had the outputs, or earlier (but at least
    /// `afterPublish` after now) when the last preparations would not end `prepareMargin` before
    /// the next watermark is due.
    private func schedulePreparation(after due: DueTick) {
        let now = MonotonicClock.nanoseconds()
        let nextWatermarkAt = due.receivedAt &+ hopNS
        let duration = prepareTime.expected(windowTokens: 0)
        let latest = nextWatermarkAt &- min(nextWatermarkAt, Self.prepareMargin &+ duration &+ duration / 4)
        prepareAt = max(now &+ Self.afterPublish, min(due.receivedAt &+ hopNS / 2, latest))
    }

    private func checkStall(now: UInt64, timeout: UInt64) {
        guard let last = runner.lastWatermarkReceivedAt else { return }
        let isStalled = now > last && now - last > timeout
        if isStalled != stalled {
            stalled = isStalled
            if stalled {
                logger.warning("source stalled: no watermark for \(configuration.stallTimeout) s; nothing is published until it resumes")
                notifier.status("source stalled")
            } else {
                logger.notice("source resumed")
                notifier.status("serving \(modelIdentity.path)")
            }
        }
    }

    private func publishStatus(socket: borrowing ZMQSocket, now: UInt64) {
        let summary = LatencyRecorder.summary(latency.period)
        var header = StatusHeader()
        header.statusSequence = statusSequence
        header.monotonicNanoseconds = now
        header.received = counters.received.value
        header.accepted = counters.accepted.value
        header.late = counters.late.value
        header.dropped = counters.dropped.value
        header.ticksRun = counters.ticksRun.value
        header.ticksSkipped = counters.ticksSkipped.value
        header.missedMessages = counters.missedMessages.value
        header.latencySamples = summary.samples
        header.latencyP50 = summary.p50
        header.latencyP90 = summary.p90
        header.latencyP99 = summary.p99
        header.latencyMax = summary.max
        header.state = (stalled ? StatusHeader.sourceStalledFlag : 0) | (runner.lastWatermarkReceivedAt == nil ? StatusHeader.noSourceFlag : 0)
        let rejections = counters.rejectionCounts
        header.rejectionCount = UInt32(rejections.count)
        let message = StatusMessage(
            header: header, model: Self.fitting(modelDescription, bytes: WireFormat.maxModelNameSize), rejections: rejections,
            daemonCounters: counters.daemonCounters(captureFailures: capture?.writeFailures ?? 0, captureDropped: capture?.droppedRecords ?? 0),
            quality: quality.snapshot())
        statusSequence += 1
        latency.startPeriod()
        let frames = message.frames
        do {
            try socket.send(frames: frames, dontWait: true)
        } catch where !error.isTerminated {
            logger.error("publishing a status failed: \(error)")
        } catch {}  // stopping: the context is being shut down
        capture?.append(.published(frames: frames, monotonicNS: now))
    }

    /// `text` cut to at most `bytes` bytes of UTF-8 on a character boundary (a model path may be
    /// longer than a status message carries).
    static func fitting(_ text: String, bytes: Int) -> String {
        guard text.utf8.count > bytes else { return text }
        var cut = ""
        for character in text {
            guard cut.utf8.count + character.utf8.count <= bytes - 3 else { break }
            cut.append(character)
        }
        return cut + "..."
    }

    /// Every counter of the status message (the message counters, each daemon counter under its
    /// protocol name, rejections by reason when any) and the latency so far, in one log line.
    func logSummary(title: String) {
        let run = LatencyRecorder.summary(latency.run)
        var metadata: Logger.Metadata = [
            "received": "\(counters.received.value)", "accepted": "\(counters.accepted.value)",
            "rejected": "\(counters.rejectionCounts.reduce(0, +))", "late": "\(counters.late.value)",
            "dropped": "\(counters.dropped.value)", "missed_messages": "\(counters.missedMessages.value)",
            "ticks_run": "\(counters.ticksRun.value)", "ticks_skipped": "\(counters.ticksSkipped.value)",
            "latency_ms": "p50 \(Double(run.p50) / 1e6) p90 \(Double(run.p90) / 1e6) p99 \(Double(run.p99) / 1e6) max \(Double(run.max) / 1e6) over \(run.samples)",
        ]
        let daemon = counters.daemonCounters(captureFailures: capture?.writeFailures ?? 0, captureDropped: capture?.droppedRecords ?? 0)
        for counter in DaemonCounter.allCases where counter.rawValue < daemon.count {
            metadata[counter.name] = "\(daemon[counter.rawValue])"
        }
        for reason in WireRejection.allCases where counters.rejected(reason) > 0 {
            metadata["rejected_\(reason.name)"] = "\(counters.rejected(reason))"
        }
        logger.notice("\(title)", metadata: metadata)
    }
}
