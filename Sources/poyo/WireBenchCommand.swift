import ArgumentParser
import Foundation
import SpikeWire
import ZeroMQ

/// `poyo wire-bench`: how fast spike batches are decoded and validated on one core, and how long
/// a message takes from a PUB to a SUB socket on this host (tcp on 127.0.0.1 and ipc).
struct WireBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wire-bench",
        abstract: "Benchmark spike-batch decoding and loopback PUB->SUB latency."
    )

    @Option(parsing: .upToNextOption, help: "Events per batch for the decode benchmark.")
    var batchSizes: [Int] = [30, 1_000, WireFormat.maxEventsPerBatch]

    @Option(help: "Seconds of decoding per batch size.")
    var seconds = 1.0

    @Option(help: "Messages per transport for the loopback benchmark (0: skip it).")
    var messages = 5_000

    @Option(help: "Events per batch in the loopback benchmark.")
    var loopbackEvents = 30

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    /// The target: 20 million events per second on one core.
    static let targetEventsPerSecond = 20e6
    /// What a 1000-unit Neuropixels rig at 30 Hz per unit emits.
    static let neuropixelsEventsPerSecond = 30e3

    func validate() throws {
        guard batchSizes.allSatisfy({ (1...WireFormat.maxEventsPerBatch).contains($0) }) else {
            throw ValidationError("batch sizes must be 1...\(WireFormat.maxEventsPerBatch)")
        }
    }

    func run() throws {
        let decode = batchSizes.map { DecodeBenchmark.run(eventsPerBatch: $0, seconds: seconds) }
        let loopback =
            messages > 0
            ? try LoopbackBenchmark.Transport.allCases.map {
                try LoopbackBenchmark.run(over: $0, messages: messages, eventsPerBatch: loopbackEvents)
            } : []
        if json {
            let report = Report(
                decode: decode, loopback: loopback, targetEventsPerSecond: Self.targetEventsPerSecond,
                neuropixelsEventsPerSecond: Self.neuropixelsEventsPerSecond)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print("decode + validate spike batches (RigMessageDecoder into a caller-owned buffer, one core)")
        for result in decode {
            print(
                String(
                    format:
                        "  %6d events/batch: %8.1f M events/s  %10.0f batches/s  %6.1fx the 20 M/s target  %8.0fx a Neuropixels rig",
                    result.eventsPerBatch, result.eventsPerSecond / 1e6, result.batchesPerSecond,
                    result.eventsPerSecond / Self.targetEventsPerSecond,
                    result.eventsPerSecond / Self.neuropixelsEventsPerSecond))
        }
        if !loopback.isEmpty {
            print(
                "loopback PUB -> SUB, \(loopbackEvents)-event batches (encode, send, receive, decode; one thread, one message in flight)"
            )
            for result in loopback {
                print(
                    String(
                        format:
                            "  %@: latency p50 %6.1f us  p90 %6.1f us  p99 %6.1f us  max %7.1f us;  bursts of %d: %9.0f messages/s",
                        result.transport, result.p50Microseconds, result.p90Microseconds, result.p99Microseconds,
                        result.maxMicroseconds, LoopbackBenchmark.burst, result.burstMessagesPerSecond))
            }
        }
    }

    struct Report: Encodable {
        var decode: [DecodeBenchmark.Result]
        var loopback: [LoopbackBenchmark.Result]
        var targetEventsPerSecond: Double
        var neuropixelsEventsPerSecond: Double
    }
}
