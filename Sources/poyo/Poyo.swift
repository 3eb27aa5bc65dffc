import ArgumentParser

@main
struct Poyo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "poyo",
        abstract: "poyo-rt: a real-time POYO / POYO+ neural decoder.",
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
