import ArgumentParser
import FIXBridgeCommands

// Parsed and run explicitly so that asynchronous subcommands (session, venue) run on the
// asynchronous path on every platform.
do {
    var command = try FIXBridgeCommand.parseAsRoot()
    if var asyncCommand = command as? AsyncRunnableCommand {
        try await asyncCommand.runAsync()
    } else {
        try command.run()
    }
} catch {
    FIXBridgeCommand.exit(withError: error)
}
