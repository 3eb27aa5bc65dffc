/// A failure found while a subcommand runs (not a usage error: the argument parser prints a
/// usage only for errors thrown from `validate()`, and from `run()` it would print the top-level
/// one). Printed as "Error: <description>", exit status 1.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
