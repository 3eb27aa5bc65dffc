import ArgumentParser
import Decoder
import Foundation

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay a capture log offline through the decoder and compare with what the live run published.",
        discussion: """
            Every received message is fed, in order, through the same ingest and scheduler code the \
            live run used; each tick the live run published is decoded again and compared value by \
            value. The result goes to stdout: one summary line ("replayed N ticks: M mismatches, ..."), \
            and a second line when the log ends early (cut inside a record, e.g. the daemon was killed \
            during a write, or at a damaged record): where, and that the complete records before it \
            were replayed. With --json every line is JSON: the outputs, then {"summary": {...}}. \
            Errors go to stderr.

            Exit status: 0 when every published output is reproduced exactly and the log is complete; \
            1 when an output differs or is not reproduced, or the log cannot be replayed; 2 when every \
            output replayed matches but the log ends inside a record or at a damaged record (what came \
            after it is unchecked). See docs/capture-log.md.
            """
    )

    /// Every output replayed matched, but the log ends early (docs/capture-log.md).
    static let partialLogExitCode: Int32 = 2

    @Argument(help: "Capture log (poyo serve --capture).") var capture: String
    @Option(help: "Replay with this model file instead of the one the run used.") var model: String?
    @Flag(help: "Print one JSON line per replayed output, then a JSON summary line.") var json = false

    func run() throws {
        let replay = try CaptureReplay(path: capture, modelOverride: model)
        let result = try replay.run()
        let summary = "replayed \(result.ticksCompared) ticks: \(result.mismatches) mismatches, max |difference| \(result.maxDifference)" + (result.ticksOnlyLive > 0 ? ", \(result.ticksOnlyLive) published ticks not reproduced" : "")
        let cut = replay.endDescription.map { "capture log \(capture) \($0): the \(replay.recordCount) complete records before it were replayed" }
        if json {
            for output in result.outputs {
                let line: [String: Any] = [
                    "readout": output.readout, "tick_sequence": output.header.tickSequence,
                    "window_end": output.header.windowEnd, "timestamps": output.timestamps, "values": output.values,
                ]
                try printJSON(line)
            }
            var end: [String: Any] = ["state": "complete"]
            switch replay.end {
            case .complete: break
            case .insideRecord(let offset): end = ["state": "inside_record", "offset": offset, "message": cut ?? ""]
            case .damagedRecord(let offset): end = ["state": "damaged_record", "offset": offset, "message": cut ?? ""]
            }
            try printJSON(["summary": [
                "ticks_compared": result.ticksCompared, "mismatches": result.mismatches,
                "max_difference": Double(result.maxDifference), "ticks_not_reproduced": result.ticksOnlyLive,
                "records_replayed": replay.recordCount, "log_end": end, "text": summary,
            ] as [String: Any]])
        } else {
            print(summary)
            if let cut { print(cut) }
        }
        if result.mismatches > 0 || result.ticksOnlyLive > 0 { throw ExitCode.failure }
        if replay.end != .complete { throw ExitCode(Self.partialLogExitCode) }
    }

    private func printJSON(_ object: [String: Any]) throws {
        print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
    }
}
