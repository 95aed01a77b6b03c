import FIXBridgeCommands

FIXBridgeCommand.main()
