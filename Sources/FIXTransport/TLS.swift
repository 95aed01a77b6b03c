import NIOCore

/// TLS settings for a connection. Placeholder until swift-nio-ssl is wired in: plain TCP only.
public struct FIXTLSConfiguration: Sendable {
    func addServerHandler(to channel: Channel) throws {
        throw FIXTransportError(message: "TLS is not available in this build")
    }

    func addClientHandler(to channel: Channel, serverHostname: String) throws {
        throw FIXTransportError(message: "TLS is not available in this build")
    }
}

/// A transport failure with a readable message.
public struct FIXTransportError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
