import ArgumentParser

/// The `fixbridge` command line: each subcommand lives in its own file.
public struct FIXBridgeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fixbridge",
        abstract: "FIX and FAST connectivity, trade book, reconciliation and CRM for brokerages.",
        version: "0.1.0",
        subcommands: [ShowCommand.self]
    )

    public init() {}
}
