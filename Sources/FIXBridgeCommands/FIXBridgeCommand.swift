import ArgumentParser

/// The `fixbridge` command line: each subcommand lives in its own file.
@available(macOS 10.15, *)
public struct FIXBridgeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fixbridge",
        abstract: "FIX and FAST connectivity, trade book, reconciliation and CRM for brokerages.",
        version: "0.1.0",
        subcommands: [
            ShowCommand.self, ValidateCommand.self, FASTCommand.self, SessionCommand.self, VenueCommand.self,
            BookCommand.self, ReplayCommand.self, RunCommand.self, ReconcileCommand.self, BreaksCommand.self, CRMCommand.self,
        ]
    )

    public init() {}
}

/// Subcommands that must run on the asynchronous path; `main` calls this instead of `run`, since
/// through an existential the synchronous default `run` would be chosen.
public protocol AsyncRunnableCommand {
    mutating func runAsync() async throws
}

extension SessionCommand: AsyncRunnableCommand {
    public mutating func runAsync() async throws { try await run() }
}

extension VenueCommand: AsyncRunnableCommand {
    public mutating func runAsync() async throws { try await run() }
}
