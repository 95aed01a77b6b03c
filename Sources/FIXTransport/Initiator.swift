import FIXSession
import FIXTagValue
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Connects one session to its counterparty, trying a list of hosts in turn and reconnecting
/// with backoff (from `reconnectIntervalSeconds`, doubling up to `reconnectIntervalMaxSeconds`)
/// whenever the connection drops, until `stop`.
///
/// ```swift
/// let initiator = FIXInitiator(runtime: runtime, endpoints: [("venue-a", 9876), ("venue-b", 9876)])
/// initiator.start(group: MultiThreadedEventLoopGroup.singleton)
/// ```
public final class FIXInitiator: @unchecked Sendable {
    public let runtime: FIXSessionRuntime
    public let endpoints: [(host: String, port: Int)]
    public let reconnectIntervalSeconds: Int
    public let reconnectIntervalMaxSeconds: Int
    public let messageBytesMax: Int
    let tls: FIXTLSConfiguration?

    private let lock = NIOLock()
    private var stopped = false
    private var attempt = 0
    private var channel: Channel?

    public init(runtime: FIXSessionRuntime, endpoints: [(host: String, port: Int)], reconnectIntervalSeconds: Int = 5,
                reconnectIntervalMaxSeconds: Int = 60, messageBytesMax: Int = 1 << 20, tls: FIXTLSConfiguration? = nil) {
        precondition(!endpoints.isEmpty, "an initiator needs at least one endpoint")
        self.runtime = runtime
        self.endpoints = endpoints
        self.reconnectIntervalSeconds = max(1, reconnectIntervalSeconds)
        self.reconnectIntervalMaxSeconds = max(reconnectIntervalSeconds, reconnectIntervalMaxSeconds)
        self.messageBytesMax = messageBytesMax
        self.tls = tls
    }

    public func start(group: EventLoopGroup) {
        connect(group: group, delay: .zero)
    }

    /// Logs out, closes the connection and stops reconnecting.
    public func stop() {
        let channel: Channel? = lock.withLock {
            stopped = true
            return self.channel
        }
        runtime.logout()
        _ = channel
    }

    /// Closes the connection without a Logout and stops reconnecting, as a cut line or a
    /// crashed process would: the counterparty sees the connection drop. For recordings and
    /// tests of recovery; `stop` is the graceful end.
    public func abort() {
        let channel: Channel? = lock.withLock {
            stopped = true
            return self.channel
        }
        channel?.close(promise: nil)
    }

    private func connect(group: EventLoopGroup, delay: TimeAmount) {
        let (endpoint, isStopped): ((host: String, port: Int), Bool) = lock.withLock {
            let endpoint = endpoints[attempt % endpoints.count]
            attempt += 1
            return (endpoint, stopped)
        }
        if isStopped { return }
        let loop = group.next()
        loop.scheduleTask(in: delay) {
            let messageBytesMax = self.messageBytesMax
            let tls = self.tls
            let runtime = self.runtime
            ClientBootstrap(group: loop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(.seconds(10))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls { try tls.addClientHandler(to: channel, serverHostname: endpoint.host) }
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FIXFrameDecoder(messageBytesMax: messageBytesMax)))
                        try channel.pipeline.syncOperations.addHandler(InitiatorConnectionHandler(runtime: runtime))
                    }
                }
                .connect(host: endpoint.host, port: endpoint.port)
                .whenComplete { result in
                    switch result {
                    case .success(let channel):
                        self.lock.withLock {
                            self.attempt = 0
                            self.channel = channel
                        }
                        channel.closeFuture.whenComplete { _ in
                            self.lock.withLock { self.channel = nil }
                            self.connect(group: group, delay: .seconds(Int64(self.reconnectIntervalSeconds)))
                        }
                    case .failure(let error):
                        runtime.eventLog("\(runtime.id): connect to \(endpoint.host):\(endpoint.port) failed: \(error)")
                        let backoff = self.lock.withLock {
                            min(self.reconnectIntervalMaxSeconds,
                                self.reconnectIntervalSeconds << min(6, max(0, self.attempt - self.endpoints.count)))
                        }
                        self.connect(group: group, delay: .seconds(Int64(backoff)))
                    }
                }
        }
    }
}

final class InitiatorConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = FramedInbound
    let runtime: FIXSessionRuntime

    init(runtime: FIXSessionRuntime) {
        self.runtime = runtime
    }

    func channelActive(context: ChannelHandlerContext) {
        if !runtime.bind(context.channel) {
            context.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .garbled(let error): runtime.garbled(error, on: context.channel)
        case .message(let buffer): runtime.received(buffer, on: context.channel)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        runtime.endOfBatch()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        runtime.writabilityChanged(context.channel)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        runtime.unbind(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        runtime.eventLog("\(runtime.id): connection failed: \(error)")
        context.close(promise: nil)
    }
}
