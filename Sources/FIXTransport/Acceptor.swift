import FIXSession
import FIXTagValue
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Serves many sessions on one port: each new connection's first message must be a Logon, whose
/// BeginString and CompIDs pick the session. Unknown CompIDs, a first message that is not a
/// Logon, a session already connected elsewhere or an address outside the allow-list: the
/// connection is closed without a reply and the event is logged.
///
/// ```swift
/// let acceptor = FIXAcceptor(sessions: runtimes, eventLog: { print($0) })
/// let server = try await acceptor.bind(host: "0.0.0.0", port: 9876, group: MultiThreadedEventLoopGroup.singleton)
/// try await server.closeFuture.get()
/// ```
public final class FIXAcceptor: Sendable {
    /// Largest message accepted on a connection.
    public let messageBytesMax: Int
    /// When set, only these remote IP addresses may connect.
    public let allowedAddresses: Set<String>?
    let sessions: [String: FIXSessionRuntime]
    let eventLog: @Sendable (String) -> Void

    public init(sessions: [FIXSessionRuntime], messageBytesMax: Int = 1 << 20, allowedAddresses: Set<String>? = nil,
                eventLog: @escaping @Sendable (String) -> Void = { _ in }) {
        var table: [String: FIXSessionRuntime] = [:]
        for runtime in sessions {
            table[Self.key(runtime.id.beginString, runtime.id.senderCompID, runtime.id.targetCompID)] = runtime
        }
        self.sessions = table
        self.messageBytesMax = messageBytesMax
        self.allowedAddresses = allowedAddresses
        self.eventLog = eventLog
    }

    static func key(_ begin: String, _ ours: String, _ theirs: String) -> String {
        begin + "\u{1}" + ours + "\u{1}" + theirs
    }

    /// The session a Logon from the counterparty belongs to (its TargetCompID is ours).
    func session(for header: (beginString: String, senderCompID: String, targetCompID: String, msgType: String))
        -> FIXSessionRuntime?
    {
        sessions[Self.key(header.beginString, header.targetCompID, header.senderCompID)]
    }

    /// Starts listening; the returned channel's `localAddress` tells the port when 0 was asked.
    public func bind(host: String, port: Int, group: EventLoopGroup, tls: FIXTLSConfiguration? = nil) async throws -> Channel {
        let messageBytesMax = self.messageBytesMax
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try tls.addServerHandler(to: channel) }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FIXFrameDecoder(messageBytesMax: messageBytesMax)))
                    try channel.pipeline.syncOperations.addHandler(AcceptorConnectionHandler(acceptor: self))
                }
            }
            .bind(host: host, port: port)
            .get()
    }
}

/// One accepted connection: routes it to its session on the first message.
final class AcceptorConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = FramedInbound

    let acceptor: FIXAcceptor
    var runtime: FIXSessionRuntime?

    init(acceptor: FIXAcceptor) {
        self.acceptor = acceptor
    }

    func channelActive(context: ChannelHandlerContext) {
        if let allowed = acceptor.allowedAddresses {
            let address = context.channel.remoteAddress?.ipAddress ?? "?"
            if !allowed.contains(address) {
                acceptor.eventLog("connection from \(address) refused: not in the allow-list")
                context.close(promise: nil)
                return
            }
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .garbled(let error):
            if let runtime {
                runtime.garbled(error, on: context.channel)
            } else {
                acceptor.eventLog("garbled first message from \(remote(context)): \(error); closing")
                context.close(promise: nil)
            }
        case .message(let buffer):
            if runtime == nil {
                let header = buffer.withUnsafeReadableBytes { FIXSession.peekHeader($0) }
                guard let header, header.msgType == "A" else {
                    acceptor.eventLog("first message from \(remote(context)) is not a Logon; closing")
                    context.close(promise: nil)
                    return
                }
                guard let session = acceptor.session(for: header) else {
                    acceptor.eventLog("Logon from \(remote(context)) for unknown session \(header.beginString):"
                                      + "\(header.senderCompID)->\(header.targetCompID); closing")
                    context.close(promise: nil)
                    return
                }
                guard session.bind(context.channel) else {
                    acceptor.eventLog("\(session.id): already connected; second connection from \(remote(context)) closed")
                    context.close(promise: nil)
                    return
                }
                runtime = session
            }
            runtime?.received(buffer, on: context.channel)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        runtime?.endOfBatch()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        runtime?.writabilityChanged(context.channel)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        runtime?.unbind(context.channel)
        runtime = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        acceptor.eventLog("connection from \(remote(context)) failed: \(error)")
        context.close(promise: nil)
    }

    private func remote(_ context: ChannelHandlerContext) -> String {
        context.channel.remoteAddress.map { "\($0)" } ?? "?"
    }
}
