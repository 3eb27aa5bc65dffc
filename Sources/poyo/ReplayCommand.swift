import ArgumentParser
import Decoder
import Foundation

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay a capture log offline through the decoder and compare with what the live run published.",
        discussion: """
            Every received message is fed, in order, through the same ingest and scheduler code the
            live run used; each tick the live run published is decoded again and compared value by
            value. Exit status 0 when every output matches exactly, 1 otherwise.
            """
    )

    @Argument(help: "Capture log (poyo serve --capture).") var capture: String
    @Option(help: "Replay with this model file instead of the one the run used.") var model: String?
    @Flag(help: "Print one JSON line per replayed output.") var json = false

    func run() throws {
        let replay = try CaptureReplay(path: capture, modelOverride: model)
        let result = try replay.run()
        if json {
            for output in result.outputs {
                let line: [String: Any] = [
                    "readout": output.readout, "tick_sequence": output.header.tickSequence,
                    "window_end": output.header.windowEnd, "timestamps": output.timestamps, "values": output.values,
                ]
                print(String(decoding: try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]), as: UTF8.self))
            }
        }
        let summary = "replayed \(result.ticksCompared) ticks: \(result.mismatches) mismatches, max |difference| \(result.maxDifference)" + (result.ticksOnlyLive > 0 ? ", \(result.ticksOnlyLive) published ticks not reproduced" : "")
        FileHandle.standardError.write(Data((summary + "\n").utf8))
        if result.mismatches > 0 || result.ticksOnlyLive > 0 { throw ExitCode(1) }
    }
}
