import NIOCore
import NIOSSL

/// TLS for FIX connections (swift-nio-ssl, which carries its own BoringSSL).
///
/// An acceptor needs a certificate chain and key; adding `trustRootsFile` with
/// `requireClientCertificate` makes it mutual TLS. An initiator needs the CA to trust (or the
/// system's), and a client certificate and key for mutual TLS.
///
/// ```swift
/// let server = try FIXTLSConfiguration.server(certificateChainFile: "venue.pem", privateKeyFile: "venue.key",
///                                             trustRootsFile: "clients-ca.pem", requireClientCertificate: true)
/// let client = try FIXTLSConfiguration.client(trustRootsFile: "venue-ca.pem",
///                                             certificateChainFile: "broker.pem", privateKeyFile: "broker.key")
/// ```
public struct FIXTLSConfiguration: Sendable {
    let context: NIOSSLContext
    let isServer: Bool

    /// Server side: present `certificateChainFile`; with `requireClientCertificate`, accept only
    /// clients whose certificate chains to `trustRootsFile`.
    public static func server(certificateChainFile: String, privateKeyFile: String, trustRootsFile: String? = nil,
                              requireClientCertificate: Bool = false) throws -> FIXTLSConfiguration {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certificateChainFile).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: privateKeyFile, format: .pem)
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            if let trustRootsFile { tls.trustRoots = .file(trustRootsFile) }
            tls.certificateVerification = requireClientCertificate ? .noHostnameVerification : .none
            return FIXTLSConfiguration(context: try NIOSSLContext(configuration: tls), isServer: true)
        } catch {
            throw FIXTransportError(message: "TLS server setup (\(certificateChainFile), \(privateKeyFile)): \(error)")
        }
    }

    /// Client side: trust `trustRootsFile` (or the system roots); present a certificate for
    /// mutual TLS; `verifyHostname` checks the server name against its certificate.
    public static func client(trustRootsFile: String? = nil, certificateChainFile: String? = nil, privateKeyFile: String? = nil,
                              verifyHostname: Bool = true) throws -> FIXTLSConfiguration {
        do {
            var tls = TLSConfiguration.makeClientConfiguration()
            if let trustRootsFile { tls.trustRoots = .file(trustRootsFile) }
            if let certificateChainFile, let privateKeyFile {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateChainFile).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: privateKeyFile, format: .pem))
            }
            tls.certificateVerification = verifyHostname ? .fullVerification : .noHostnameVerification
            return FIXTLSConfiguration(context: try NIOSSLContext(configuration: tls), isServer: false)
        } catch {
            throw FIXTransportError(message: "TLS client setup: \(error)")
        }
    }

    func addServerHandler(to channel: Channel) throws {
        precondition(isServer, "a client TLS configuration given to an acceptor")
        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
    }

    func addClientHandler(to channel: Channel, serverHostname: String) throws {
        precondition(!isServer, "a server TLS configuration given to an initiator")
        let name = serverHostname.first?.isNumber == true ? nil : serverHostname
        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: name))
    }
}

/// A transport failure with a readable message.
public struct FIXTransportError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
