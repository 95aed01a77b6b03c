import CRMDelivery
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A webhook receiver on 127.0.0.1 for tests: checks each request's signature, records it,
/// answers with a scripted status (200 by default), and can stop itself after a number of
/// accepted requests and be started again on the same port.
final class WebhookReceiver: Sendable {
    struct Delivery: Sendable {
        var key: String
        var clientID: String
        var signatureValid: Bool
        var status: Int
    }

    struct State: Sendable {
        var deliveries: [Delivery] = []
        /// Statuses to answer for a key, used first to last; then 200.
        var script: [String: [Int]] = [:]
        /// Stop after this many recorded deliveries (then clear).
        var stopAfter: Int?
        var stopping = false
        var server: Channel?
        var children: [ObjectIdentifier: Channel] = [:]
    }

    let secret: [UInt8]
    let state = Mutex(State())
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    init(secret: [UInt8]) { self.secret = secret }

    var deliveries: [Delivery] { state.withLock { $0.deliveries } }
    var isRunning: Bool { state.withLock { $0.server != nil } }

    func script(_ key: String, _ statuses: [Int]) { state.withLock { $0.script[key] = statuses } }
    func stop(after count: Int) { state.withLock { $0.stopAfter = count } }

    /// Starts listening; port 0 picks a free port. Returns the port.
    @discardableResult
    func start(port: Int = 0) async throws -> Int {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(receiver: self))
                    self.state.withLock { $0.children[ObjectIdentifier(channel)] = channel }
                    channel.closeFuture.whenComplete { _ in
                        _ = self.state.withLock { $0.children.removeValue(forKey: ObjectIdentifier(channel)) }
                    }
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
        state.withLock {
            $0.server = channel
            $0.stopping = false
        }
        return channel.localAddress!.port!
    }

    /// Closes the listener and every connection.
    func stop() async {
        let (server, children) = state.withLock { s -> (Channel?, [Channel]) in
            s.stopping = true
            let out = (s.server, Array(s.children.values))
            s.server = nil
            return out
        }
        try? await server?.close()
        for child in children { try? await child.close() }
    }

    /// Closes the listener only (see the handler's outage).
    func stopListening() async {
        let server = state.withLock { s -> Channel? in
            s.stopping = true
            defer { s.server = nil }
            return s.server
        }
        try? await server?.close()
    }

    func shutdown() async {
        await stop()
        try? await group.shutdownGracefully()
    }

    /// Records a request and returns the status to answer, or nil to drop the connection
    /// without an answer (the receiver is stopping).
    func accept(key: String, timestamp: String, signature: String, body: [UInt8]) -> (status: Int, stopNow: Bool)? {
        let valid = Int64(timestamp).map {
            WebhookSignature.verify(header: signature, secret: secret, timestamp: $0, body: body)
        } ?? false
        let clientID = Self.clientID(in: body)
        return state.withLock { s -> (Int, Bool)? in
            guard !s.stopping else { return nil }
            var status = 200
            if var statuses = s.script[key], !statuses.isEmpty {
                status = statuses.removeFirst()
                s.script[key] = statuses
            }
            if !valid { status = 401 }
            s.deliveries.append(Delivery(key: key, clientID: clientID, signatureValid: valid, status: status))
            var stopNow = false
            if let n = s.stopAfter, s.deliveries.count >= n {
                s.stopAfter = nil
                s.stopping = true
                stopNow = true
            }
            return (status, stopNow)
        }
    }

    static func clientID(in body: [UInt8]) -> String {
        let text = String(decoding: body, as: UTF8.self)
        guard let start = text.range(of: "\"clientId\":\"") else { return "" }
        return String(text[start.upperBound...].prefix { $0 != "\"" })
    }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let receiver: WebhookReceiver
        var head: HTTPRequestHead?
        var body: [UInt8] = []

        init(receiver: WebhookReceiver) { self.receiver = receiver }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h):
                head = h
                body = []
            case .body(var buffer):
                body += buffer.readBytes(length: buffer.readableBytes) ?? []
            case .end:
                guard let head else { return }
                let answer = receiver.accept(
                    key: head.headers.first(name: "Idempotency-Key") ?? "",
                    timestamp: head.headers.first(name: "X-FIXBridge-Timestamp") ?? "",
                    signature: head.headers.first(name: "X-FIXBridge-Signature") ?? "", body: body)
                guard let answer else {
                    context.close(promise: nil)
                    return
                }
                var headers = HTTPHeaders()
                headers.add(name: "Content-Length", value: "0")
                let response = HTTPResponseHead(version: head.version,
                                                status: HTTPResponseStatus(statusCode: answer.status),
                                                headers: headers)
                context.write(wrapOutboundOut(.head(response)), promise: nil)
                let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
                if answer.stopNow {
                    let receiver = self.receiver
                    // Only the listener closes: requests answered on other connections just before
                    // this one keep their answers (closing those connections could drop a 200
                    // already written, and the client would rightly send that item again); any
                    // later request on them is dropped unanswered, as `accept` returns nil.
                    done.whenComplete { _ in Task { await receiver.stopListening() } }
                }
            }
        }
    }
}
