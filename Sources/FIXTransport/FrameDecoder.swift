import FIXTagValue
import NIOCore

/// What the framing stage passes on: a whole message, or a garbled stretch that was skipped.
enum FramedInbound {
    case message(ByteBuffer)
    case garbled(FIXParseError)
}

/// Splits the TCP byte stream into FIX messages with `FIXFramer` (BodyLength and CheckSum
/// checked); garbled stretches are skipped to the next `8=FIX` and reported, never fatal.
struct FIXFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = FramedInbound

    let framer: FIXFramer

    init(messageBytesMax: Int) {
        framer = FIXFramer(messageBytesMax: messageBytesMax, bodyLengthRecovery: .declaredLength)
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let outcome = buffer.withUnsafeReadableBytes { framer.frame($0) }
        switch outcome {
        case .message(let length):
            let message = buffer.readSlice(length: length)!
            context.fireChannelRead(Self.wrapInboundOut(.message(message)))
            return .continue
        case .needMoreBytes:
            return .needMoreData
        case .invalid(let error, let resume):
            buffer.moveReaderIndex(forwardBy: resume)
            context.fireChannelRead(Self.wrapInboundOut(.garbled(error)))
            return .continue
        }
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}
