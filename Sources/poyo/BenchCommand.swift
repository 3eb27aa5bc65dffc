import ArgumentParser
import Foundation
import POYO

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the forward pass on fresh windows of Poisson spikes.",
        discussion: """
            Each iteration draws a new window of spikes from U units of the model's vocabulary \
            at HZ (start/end tokens for every unit included), builds it as torch_brain's tokenizer \
            does, and times the forward pass alone. tools/bench_peers.py runs the alternatives \
            (torch eager, torch.compile, ONNX Runtime) on the same kind of windows.
            """
    )

    @Option(help: "Model file.") var model: String
    @Option(parsing: .unconditional, help: "Units in the window, taken from the model's unit vocabulary (default 200, or all of its units if fewer).")
    var units: Int?
    @Option(help: "Firing rate of every unit, Hz.") var rate = 20.0
    @Option(parsing: .unconditional, help: "Threads of the model, 1 to 64 (the caller and threads - 1 workers).") var threads = 1
    @Option(help: "Timed iterations.") var iterations = 200
    @Option(help: "Untimed iterations first.") var warmup = 20
    @Option(help: "Output queries per window (evenly spaced, the last at the window end).") var queries = 1
    @Option(help: "Seed of the spike generator.") var seed: UInt64 = 1
    @Flag(help: "Also print the mean wall time of each stage of the forward pass.") var stages = false
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Start a window every PERIOD seconds, idle in between, as the daemon does at hop PERIOD (default: back to back).",
        discussion: "An idle core can run the next window slower than one kept busy (frequency scaling, a virtual CPU handed to others): this is the forward pass the daemon sees."))
    var period: Double?
    @Flag(help: ArgumentHelp(
        "Busy polling, as the daemon's busy_poll: with --period the caller spins until each window is due and the workers never park.",
        discussion: "Keeps the model's CPUs busy between windows, so that --period times what a busy core does (back to back, without --period, there is no idle time and it changes nothing)."))
    var busyPoll = false
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Attend the encoder to each window's spikes older than its last AHEAD seconds first, untimed, as the daemon's encode_ahead does between ticks (POYOModel.prepareEncoder; at hop H it leaves about H / 2, so AHEAD = H is the conservative bound).",
        discussion: "The time is then that of the forward pass once the window completes: the daemon's critical path. Same outputs, bit for bit."))
    var ahead: Double?
    @Flag(help: "Print one JSON object instead of text.") var json = false

    func validate() throws {
        guard (units ?? 1) >= 1 else { throw ValidationError("--units must be at least 1") }
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be 1 to 64 (the model's threads: the caller and threads - 1 workers)") }
        guard rate.isFinite, rate >= 0 else { throw ValidationError("--rate must be a non-negative number of Hz") }
        guard iterations >= 1, warmup >= 0 else { throw ValidationError("--iterations must be at least 1 and --warmup at least 0") }
        guard queries >= 1 else { throw ValidationError("--queries must be at least 1") }
        if let period { guard period.isFinite, period > 0, period <= 10 else { throw ValidationError("--period must be a number of seconds in (0, 10]") } }
        if let ahead { guard ahead.isFinite, ahead >= 0 else { throw ValidationError("--ahead must be a non-negative number of seconds") } }
    }

    func run() throws {
        let model = try POYOModel(path: model, threads: threads)
        model.busyPolling = busyPoll
        let d = model.description
        let h = d.hyperparameters
        let vocabulary = d.unitVocab.filter { $0.key != "NA" }.sorted { $0.value < $1.value }.map(\.value)
        let units = self.units ?? min(200, vocabulary.count)
        guard units > 0, units <= vocabulary.count else {
            throw CommandError("--units \(units): the model has \(vocabulary.count) units")
        }
        if let ahead, ahead >= h.sequenceLength {
            throw CommandError("--ahead \(ahead): the model's window is \(h.sequenceLength) s; give less (the daemon at hop H leaves about H / 2 of each window to its tick)")
        }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        #if DEBUG
        FileHandle.standardError.write(Data("note: a debug build: its timings and FMA peak are not a release build's (swift build -c release; .build/release/poyo bench)\n".utf8))
        #endif
        if threads > cores {
            FileHandle.standardError.write(Data("note: --threads \(threads) on \(cores) CPUs: the threads share cores and every parallel region waits for the slowest\n".utf8))
        }
        let session = d.sessionVocab.filter { $0.key != "NA" }.map(\.value).min() ?? 0
        let tokenizer = WindowTokenizer(
            hyperparameters: h, unitRows: Array(vocabulary.prefix(units)), sessionRow: session,
            decoderID: d.kind == .poyoPlus ? d.readouts[0].id : nil)
        let outputTimes = (1...queries).map { h.sequenceLength * Double($0) / Double(queries) }
        model.prepare(units: tokenizer.unitRows)

        var spikes = PoissonSpikes(units: units, rate: rate, duration: h.sequenceLength, seed: seed)
        var window = ModelWindow()
        var output = ModelOutput(specs: d.readouts)
        var milliseconds: [Double] = []
        var tokenCounts: [Int] = []
        let periodNanoseconds = period.map { UInt64(($0 * 1e9).rounded()) }
        var due = DispatchTime.now().uptimeNanoseconds
        for iteration in 0..<(warmup + iterations) {
            if iteration == warmup { model.stageClock.enabled = stages }
            spikes.draw()
            if let ahead {
                // The window as it stands `ahead` seconds before it completes.
                let known = spikes.spikeTimes.firstIndex { $0 >= h.sequenceLength - ahead } ?? spikes.spikeTimes.count
                tokenizer.tokenize(
                    spikeUnits: spikes.spikeUnits[..<known], spikeTimes: spikes.spikeTimes[..<known],
                    outputTimestamps: outputTimes, into: &window)
                try model.prepareEncoder(window)
            }
            tokenizer.tokenize(spikeUnits: spikes.spikeUnits, spikeTimes: spikes.spikeTimes, outputTimestamps: outputTimes, into: &window)
            if let periodNanoseconds {
                due += periodNanoseconds
                let now = DispatchTime.now().uptimeNanoseconds
                if due <= now {
                    due = now
                } else if busyPoll {
                    while DispatchTime.now().uptimeNanoseconds < due {}
                } else {
                    usleep(UInt32((due - now) / 1000))
                }
            }
            let start = DispatchTime.now().uptimeNanoseconds
            try model.forward(window, into: &output)
            let elapsed = DispatchTime.now().uptimeNanoseconds - start
            if iteration >= warmup {
                milliseconds.append(Double(elapsed) / 1e6)
                tokenCounts.append(window.inputUnitIndex.count)
            }
        }
        milliseconds.sort()
        func percentile(_ p: Double) -> Double { milliseconds[min(milliseconds.count - 1, Int(p / 100 * Double(milliseconds.count)))] }
        let tokens = Double(tokenCounts.reduce(0, +)) / Double(tokenCounts.count)
        let cost = model.forwardCost(tokens: Int(tokens), units: units, queries: queries)
        let gflops = cost.poyoRT / (percentile(50) / 1e3) / 1e9
        let peak = KernelInfo.measuredCorePeak()
        // Threads beyond the CPUs share them: the peak is that of the cores there are.
        let usedCores = min(model.threads, cores)
        let share = gflops / (peak * Double(usedCores))
        let clock = model.stageClock
        let stageMilliseconds = Dictionary(uniqueKeysWithValues: ForwardStage.allCases.map {
            ($0.key, Double(clock.nanoseconds[$0.rawValue]) / Double(max(clock.passes, 1)) / 1e6)
        })
        if json {
            let fields: [String: Any] = [
                "p50_ms": percentile(50), "p90_ms": percentile(90), "p99_ms": percentile(99),
                "min_ms": milliseconds[0], "max_ms": milliseconds[milliseconds.count - 1],
                "tokens": tokens, "units": units, "rate_hz": rate, "threads": threads,
                "iterations": iterations, "queries": queries,
                // With --ahead, the whole window's FLOPs over the time left at the tick is no rate the cores ran at.
                "gflop_per_s_at_p50": ahead == nil ? gflops as Any : NSNull(),
                "core_peak_gflop_per_s": peak, "share_of_peak": ahead == nil ? share as Any : NSNull(), "kernels": KernelInfo.matrixProduct,
                "gflop_per_window": cost.poyoRT / 1e9, "period_s": period.map { $0 as Any } ?? NSNull(), "busy_poll": busyPoll,
                "ahead_s": ahead.map { $0 as Any } ?? NSNull(),
            ].merging(stages ? ["stage_mean_ms": stageMilliseconds] : [:]) { a, _ in a }
            let data = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(String(format: "%d iterations, %.0f tokens/window (%d units at %.1f Hz), %d thread(s)", iterations, tokens, units, rate, threads)
                + (period.map { ", a window every \($0) s" } ?? ", back to back") + (busyPoll ? ", busy polling" : "")
                + (ahead.map { ", encoder prepared up to \($0) s before each window's end" } ?? ""))
            print(String(format: "forward p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  (min %.3f, max %.3f)", percentile(50), percentile(90), percentile(99), milliseconds[0], milliseconds[milliseconds.count - 1]))
            if ahead == nil {
                print(String(format: "%.2f GFLOP per window in poyo-rt, %.1f GFLOP/s at p50", cost.poyoRT / 1e9, gflops))
            } else {
                print(String(format: "%.2f GFLOP per whole window in poyo-rt (a part attended ahead, untimed: no GFLOP/s)", cost.poyoRT / 1e9))
            }
            print("kernels: \(KernelInfo.matrixProduct); \(model.threads) thread(s): the caller and \(model.threads - 1) worker(s)")
            if ahead == nil {
                print(String(
                    format: "%.0f%% of the peak of %d core(s): one core's FMA peak measured now %.1f GFLOP/s (12 FMA chains, no memory)",
                    share * 100, usedCores, peak))
            }
            if stages {
                print("mean per stage (ms):")
                for stage in ForwardStage.allCases {
                    print("  " + stage.name.padding(toLength: 32, withPad: " ", startingAt: 0) + String(format: " %7.3f", stageMilliseconds[stage.key]!))
                }
            }
        }
    }
}
