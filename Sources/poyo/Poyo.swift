import POYO
import SpikeWire
import ArgumentParser

@main
struct Poyo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "poyo",
        abstract: "poyo-rt: a real-time POYO / POYO+ neural decoder.",
        version: PoyoVersion.description,
        subcommands: [
            // daemon (issue 4)
            ServeCommand.self, ReplayCommand.self,
            // model (issue 2)
            ForwardCommand.self, InspectCommand.self, BenchCommand.self,
            // wire protocol (issue 3)
            WireBenchCommand.self, WireListenCommand.self, WirePublishCommand.self,
        ]
    )
}

/// What `poyo --version` prints: the release and the formats it speaks.
enum PoyoVersion {
    static let release = "0.1.0"
    static let description = "poyo-rt \(release) (wire protocol \(WireFormat.version), model format \(ModelDescription.formatVersion))"
}
