import FIXTagValue

/// Validation switches, named and meaning as QuickFIX's session settings.
///
/// ```swift
/// var options = FIXValidationOptions()
/// options.validateUserDefinedFields = false     // ValidateUserDefinedFields=N
/// options.maxLatencySeconds = 30                // MaxLatency=30
/// ```
public struct FIXValidationOptions: Hashable, Sendable {
    /// Tags at or above this are user-defined (FIX's UserMin).
    public static let userDefinedTagMin = 5000

    /// ValidateFieldsOutOfOrder: reject header fields after body fields, body fields after
    /// trailer fields (373=14) and group members out of dictionary order (373=15).
    public var validateFieldsOutOfOrder = true
    /// ValidateFieldsHaveValues: reject empty values (373=4). When off, an empty value is accepted
    /// as it is, without format or enum checks.
    public var validateFieldsHaveValues = true
    /// ValidateUserDefinedFields: apply the tag checks (373=0/2/3) to tags 5000 and up.
    public var validateUserDefinedFields = true
    /// AllowUnknownMsgFields: do not apply the tag checks (373=0/2/3) to tags below 5000.
    public var allowUnknownMsgFields = false
    /// CheckLatency: reject a SendingTime(52) further than `maxLatencySeconds` from "now" (373=10).
    /// Needs `FIXSessionContext.now`.
    public var checkLatency = true
    /// MaxLatency, in seconds.
    public var maxLatencySeconds = 120
    /// Report a well-formed positive tag that the dictionary does not define as 373=3 (Undefined
    /// tag) instead of QuickFIX's 373=0 (Invalid tag number). Off by default for compatibility.
    public var reportUndefinedTags = false

    public init() {}
}

/// What the session knows about a message beyond its bytes; the validator reads no clock.
///
/// ```swift
/// let context = FIXSessionContext(senderCompID: "TW44", targetCompID: "ISLD", now: clock.now)
/// ```
public struct FIXSessionContext: Sendable {
    /// The SenderCompID(49) inbound messages must carry (the counterparty's ID); nil: not checked.
    public var senderCompID: [UInt8]?
    /// The TargetCompID(56) inbound messages must carry (our ID); nil: not checked.
    public var targetCompID: [UInt8]?
    /// UTC now, for the SendingTime accuracy check; nil: not checked.
    public var now: FIXTimestamp?

    public init(senderCompID: String? = nil, targetCompID: String? = nil, now: FIXTimestamp? = nil) {
        self.senderCompID = senderCompID.map { Array($0.utf8) }
        self.targetCompID = targetCompID.map { Array($0.utf8) }
        self.now = now
    }
}

/// Validates messages against a dictionary (or a FIXT transport dictionary plus an application
/// dictionary) and returns the session Reject a counterparty expects, or nil when valid.
///
/// Checks and their precedence follow QuickFIX, so that a session built on this answers the
/// acceptance suite as QuickFIX does: group structure (15), header/body/trailer order (14),
/// MsgType (11), required fields (1: header, trailer, body, then group entries), then per field
/// in QuickFIX's visiting order (header, trailer, body; by tag): repeated (13), empty (4),
/// format (6), enum (5), unknown (0 or 3), not in message type (2), group count (16); then
/// SendingTime accuracy (10) and CompIDs (9).
///
/// A validator holds scratch storage and is reused across messages: validating allocates
/// nothing. Use one per thread (it is not `Sendable`); the dictionaries are shared.
///
/// ```swift
/// let validator = FIXValidator(dictionary: fix44)
/// let context = FIXSessionContext(senderCompID: "TW44", targetCompID: "ISLD", now: now)
/// bytes.withUnsafeBytes { raw in
///     if let reject = validator.validate(FIXMessage(unchecked: raw), context: context) {
///         print(reject.reason.rawValue, reject.refTagID ?? -1)
///     }
/// }
/// ```
public final class FIXValidator {
    /// The dictionary for header, trailer and session messages.
    public let transport: FIXDictionary
    /// The dictionary for application message bodies (the same as `transport` before FIX 5.0).
    public let application: FIXDictionary
    /// The switches, fixed for the validator's life (make another validator for other switches).
    public let options: FIXValidationOptions
    private let checkOrder: Bool
    private let checkHaveValues: Bool
    private let checkUserDefined: Bool
    private let checkUnknown: Bool
    private let reportUndefined: Bool

    private struct Frame {
        var scope: Int32
        var inTransport: Bool
        var countTag: Int
        var countOffset: Int
        var declared: Int
        var entries: Int
        var lastPosition: Int32
        var stamp: UInt32
        var section: UInt64
        var topCountKey: UInt64
    }

    // Pointers to copies of the dictionaries' `RawTables`: passing the struct itself to the
    // per-field functions copied its two hundred bytes on every call.
    private let transportTables: UnsafeMutablePointer<RawTables>
    private let applicationTables: UnsafeMutablePointer<RawTables>
    private let transportSeen: UnsafeMutablePointer<UInt32>
    private let applicationSeen: UnsafeMutablePointer<UInt32>
    private let transportFieldCount: Int
    private let applicationFieldCount: Int
    private let depthSlots = FIXDictionary.groupDepthMax + 1
    private let frames: UnsafeMutablePointer<Frame>
    private let standardSections: UnsafeMutablePointer<UInt8>
    /// A copy of the message's `FIXDataFields` as a bitset over length tags, refreshed only when
    /// a message comes with a different table (so the hot loop makes no cross-module call).
    private var cachedDataFields: FIXDataFields?
    private var lengthTagBits: UnsafeMutablePointer<UInt64>
    private var lengthTagLimit = 0
    /// Mutable per-message state, behind a pointer: stored `var`s of a class would cost a
    /// dynamic exclusivity check on every access in the hot loop.
    private struct State {
        var stampCounter: UInt32 = 0
        // The best (lowest-keyed) problem found so far in the current message.
        var bestKey = UInt64.max
        var bestReason = 0
        var bestTag = 0
        var bestHasTag = false
        var bestOffset = -1
    }

    private let state: UnsafeMutablePointer<State>

    /// A validator for FIX 4.x (one dictionary for everything).
    public convenience init(dictionary: FIXDictionary, options: FIXValidationOptions = FIXValidationOptions()) {
        self.init(transport: dictionary, application: dictionary, options: options)
    }

    /// A validator for FIXT.1.1: `transport` (FIXT11) for header, trailer and session messages,
    /// `application` (chosen by ApplVerID/DefaultApplVerID) for application messages.
    public init(transport: FIXDictionary, application: FIXDictionary,
                options: FIXValidationOptions = FIXValidationOptions())
    {
        self.transport = transport
        self.application = application
        self.options = options
        checkOrder = options.validateFieldsOutOfOrder
        checkHaveValues = options.validateFieldsHaveValues
        checkUserDefined = options.validateUserDefinedFields
        checkUnknown = !options.allowUnknownMsgFields
        reportUndefined = options.reportUndefinedTags
        transportTables = .allocate(capacity: 1)
        transportTables.initialize(to: transport.storage.raw)
        applicationTables = .allocate(capacity: 1)
        applicationTables.initialize(to: application.storage.raw)
        transportFieldCount = max(transport.fields.count, 1)
        applicationFieldCount = max(application.fields.count, 1)
        let transportSize = transportFieldCount * depthSlots
        let applicationSize = applicationFieldCount * depthSlots
        transportSeen = .allocate(capacity: transportSize)
        transportSeen.initialize(repeating: 0, count: transportSize)
        applicationSeen = .allocate(capacity: applicationSize)
        applicationSeen.initialize(repeating: 0, count: applicationSize)
        frames = .allocate(capacity: depthSlots)
        lengthTagBits = .allocate(capacity: 1)
        lengthTagBits.initialize(to: 0)
        state = .allocate(capacity: 1)
        state.initialize(to: State())
        standardSections = .allocate(capacity: Self.standardSectionTagMax + 1)
        standardSections.initialize(from: Self.standardSections, count: Self.standardSectionTagMax + 1)
    }

    private func cacheLengthTags(_ dataFields: FIXDataFields) {
        let limit = (dataFields.pairs.map(\.lengthTag).max() ?? 0) + 1
        let words = (limit + 63) / 64
        lengthTagBits.deallocate()
        lengthTagBits = .allocate(capacity: max(words, 1))
        lengthTagBits.initialize(repeating: 0, count: max(words, 1))
        for pair in dataFields.pairs where pair.lengthTag >= 0 {
            lengthTagBits[pair.lengthTag >> 6] |= 1 << UInt64(pair.lengthTag & 63)
        }
        lengthTagLimit = limit
        cachedDataFields = dataFields
    }

    deinit {
        transportSeen.deallocate()
        applicationSeen.deallocate()
        frames.deallocate()
        lengthTagBits.deallocate()
        state.deallocate()
        standardSections.deallocate()
        transportTables.deallocate()
        applicationTables.deallocate()
    }

    static let standardSectionTagMax = 1129
    /// 1 for the header tags and 2 for the trailer tags QuickFIX knows whatever the dictionary.
    static let standardSections: [UInt8] = {
        var sections = [UInt8](repeating: 0, count: standardSectionTagMax + 1)
        for tag in [8, 9, 35, 49, 56, 115, 128, 90, 91, 34, 50, 142, 57, 143, 116, 144, 129, 145, 43, 97, 52, 122,
                    212, 213, 347, 369, 370, 627, 628, 629, 630, 1128, 1129] {
            sections[tag] = 1
        }
        for tag in [93, 89, 10] { sections[tag] = 2 }
        return sections
    }()

    // Ordering keys: phase, then section, then QuickFIX's visiting position.
    private static let phaseGroupStructure: UInt64 = 0
    private static let phaseOrder: UInt64 = 1
    private static let phaseMsgType: UInt64 = 2
    private static let phaseRequired: UInt64 = 3
    private static let phaseFields: UInt64 = 4
    private static let phaseLatency: UInt64 = 5
    private static let phaseCompID: UInt64 = 6
    private static let sectionHeader: UInt64 = 0
    private static let sectionTrailer: UInt64 = 1
    private static let sectionBody: UInt64 = 2
    private static let sectionGroups: UInt64 = 3

    @inline(__always)
    private static func key(_ phase: UInt64, _ section: UInt64, _ position: UInt64, _ sub: UInt64) -> UInt64 {
        phase << 60 | section << 56 | (position & 0xFFFF_FFFF) << 16 | (sub & 0xFFFF)
    }

    /// QuickFIX visits header fields as 8, 9, 35, then by tag; trailer fields by tag with
    /// CheckSum last; body fields by tag.
    @inline(__always)
    private static func position(_ section: UInt64, _ tag: Int) -> UInt64 {
        switch section {
        case sectionHeader:
            switch tag {
            case 8: return 0
            case 9: return 1
            case 35: return 2
            default: return UInt64(truncatingIfNeeded: tag) &+ 3
            }
        case sectionTrailer:
            return tag == 10 ? 0xFFFF_FFFF : UInt64(truncatingIfNeeded: tag)
        default:
            return UInt64(truncatingIfNeeded: Int64(tag) &+ 0x8000_0000)
        }
    }

    @inline(__always)
    private func record(_ key: UInt64, _ reason: Int, tag: Int?, offset: Int) {
        if key < state.pointee.bestKey {
            state.pointee.bestKey = key
            state.pointee.bestReason = reason
            state.pointee.bestTag = tag ?? 0
            state.pointee.bestHasTag = tag != nil
            state.pointee.bestOffset = offset
        }
    }

    @inline(__always)
    private func nextStamp() -> UInt32 {
        state.pointee.stampCounter &+= 1
        if state.pointee.stampCounter == 0 {
            transportSeen.update(repeating: 0, count: transportFieldCount * depthSlots)
            applicationSeen.update(repeating: 0, count: applicationFieldCount * depthSlots)
            state.pointee.stampCounter = 1
        }
        return state.pointee.stampCounter
    }

    /// Validates one framed message; nil when it is valid.
    ///
    /// The message must have been framed (BeginString, BodyLength, MsgType first; CheckSum last
    /// and correct): the validator checks content, not framing.
    public func validate(_ message: FIXMessage, context: FIXSessionContext? = nil) -> FIXReject? {
        let bytes = message.bytes
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            return FIXReject(reason: .other, refTagID: nil, refMsgType: "", refSeqNum: nil, offset: 0)
        }
        state.pointee.bestKey = .max
        let count = bytes.count
        if message.dataFields !== cachedDataFields { cacheLengthTags(message.dataFields) }
        let lengthTagBits = self.lengthTagBits
        let lengthTagLimit = self.lengthTagLimit

        // MsgType decides the body's scope; the framer guarantees it is the third field.
        var msgTypeStart = 0
        var msgTypeLength = 0
        if let msgType = message.msgType {
            msgTypeStart = msgType.bytes.baseAddress.map { $0 - UnsafeRawPointer(base) } ?? 0
            msgTypeLength = msgType.count
        }
        let msgTypePointer = base + msgTypeStart
        var bodyInTransport = true
        var bodyScope: Int32 = -1
        let t = transportTables
        if transport !== application {
            bodyScope = t.pointee.messageScope(msgTypePointer, msgTypeLength)
            if bodyScope < 0 {
                bodyScope = applicationTables.pointee.messageScope(msgTypePointer, msgTypeLength)
                bodyInTransport = false
            }
        } else {
            bodyScope = t.pointee.messageScope(msgTypePointer, msgTypeLength)
        }
        if bodyScope < 0 {
            record(Self.key(Self.phaseMsgType, 0, 0, 0), FIXSessionRejectReason.invalidMsgType.rawValue,
                   tag: nil, offset: msgTypeStart)
        }
        let bodyTables = bodyInTransport ? t : applicationTables
        let bodySeen = bodyInTransport ? transportSeen : applicationSeen
        let headerFirst = !bodyInTransport

        let endsWithNonDigit = base.load(fromByteOffset: count - 1, as: UInt8.self) &- 48 > 9
        let headerStamp = nextStamp()
        let trailerStamp = nextStamp()
        let bodyStamp = nextStamp()
        var depth = 0
        var region = 0  // 0 header, 1 body, 2 trailer
        var pendingDataLength = -1
        var position = 0
        var seqNumStart = -1, seqNumLength = 0
        var senderStart = -1, senderLength = 0
        var targetStart = -1, targetLength = 0
        var sendingTimeStart = -1, sendingTimeLength = 0

        scan: while position < count {
            // Tag. When the buffer ends with a non-digit (a framed message ends with SOH) the digit
            // loop needs no bounds check; otherwise, and for a leading '-', the careful path.
            let fieldStart = position
            var tag = 0
            var i = position
            let first = base.load(fromByteOffset: i, as: UInt8.self) &- 48
            if first <= 9 && endsWithNonDigit {
                tag = Int(first)
                i += 1
                while true {
                    let d = base.load(fromByteOffset: i, as: UInt8.self) &- 48
                    if d > 9 { break }
                    tag = tag &* 10 &+ Int(d)
                    i += 1
                }
                if i - fieldStart > FIXLimits.tagDigitsMax || base.load(fromByteOffset: i, as: UInt8.self) != 61 {
                    record(Self.key(Self.phaseGroupStructure, 0, UInt64(fieldStart), 0),
                           FIXSessionRejectReason.invalidTagNumber.rawValue, tag: nil, offset: fieldStart)
                    break scan
                }
            } else {
                var negative = false
                var digits = 0
                if base.load(fromByteOffset: i, as: UInt8.self) == UInt8(ascii: "-") {
                    negative = true
                    i += 1
                }
                while i < count {
                    let d = base.load(fromByteOffset: i, as: UInt8.self) &- 48
                    if d > 9 || digits >= FIXLimits.tagDigitsMax { break }
                    tag = tag &* 10 &+ Int(d)
                    digits += 1
                    i += 1
                }
                guard digits > 0, i < count, base.load(fromByteOffset: i, as: UInt8.self) == UInt8(ascii: "=") else {
                    record(Self.key(Self.phaseGroupStructure, 0, UInt64(fieldStart), 0),
                           FIXSessionRejectReason.invalidTagNumber.rawValue, tag: nil, offset: fieldStart)
                    break scan
                }
                if negative { tag = -tag }
            }
            // Value.
            let valueStart = i + 1
            var valueEnd: Int
            if pendingDataLength >= 0 {
                valueEnd = valueStart + pendingDataLength
                pendingDataLength = -1
                if valueEnd >= count || base.load(fromByteOffset: valueEnd, as: UInt8.self) != 1 {
                    record(Self.key(Self.phaseGroupStructure, 0, UInt64(fieldStart), 0),
                           FIXSessionRejectReason.incorrectDataFormat.rawValue, tag: tag, offset: fieldStart)
                    break scan
                }
            } else {
                valueEnd = Self.findSOH(base, from: valueStart, count: count)
                if valueEnd >= count { break scan }
            }
            position = valueEnd + 1
            let valueLength = valueEnd - valueStart
            if UInt(bitPattern: tag) < UInt(lengthTagLimit)
                && lengthTagBits[tag >> 6] & (1 << UInt64(tag & 63)) != 0 {
                if let length = Self.parseInt(base + valueStart, valueLength), length >= 0, length < count {
                    pendingDataLength = length
                }
            }

            // Close groups this field does not belong to.
            while depth > 0 {
                let frame = frames + (depth - 1)
                let tables = frame.pointee.inTransport ? t : applicationTables
                if let slot = tables.pointee.member(frame.pointee.scope, tag: tag) {
                    groupMember(frame: depth - 1, slot: slot, tables: tables, tag: tag, base: base,
                                valueStart: valueStart, valueLength: valueLength, fieldStart: fieldStart,
                                depth: &depth)
                    continue scan
                }
                closeFrame(depth - 1)
                depth -= 1
            }

            // Top level. Body tables hold no header or trailer tags, so for FIX 4.x one probe
            // settles most fields; on FIXT the application dictionary is a different one, and the
            // transport header is asked first.
            if !headerFirst, bodyScope >= 0, let slot = bodyTables.pointee.member(bodyScope, tag: tag) {
                if region == 2 && checkOrder {
                    record(Self.key(Self.phaseOrder, 0, UInt64(fieldStart), 0),
                           FIXSessionRejectReason.tagSpecifiedOutOfRequiredOrder.rawValue, tag: tag, offset: fieldStart)
                }
                region = 1
                topMember(section: Self.sectionBody, tables: bodyTables, seen: bodySeen, stamp: bodyStamp, slot: slot,
                          tag: tag, base: base, valueStart: valueStart, valueLength: valueLength,
                          fieldStart: fieldStart, depth: &depth, inTransport: bodyInTransport)
                continue scan
            }
            var section: UInt64 = 3
            var slot = t.pointee.member(t.pointee.headerScope, tag: tag)
            if slot != nil {
                section = Self.sectionHeader
            } else if let trailer = t.pointee.member(t.pointee.trailerScope, tag: tag) {
                slot = trailer
                section = Self.sectionTrailer
            } else if headerFirst, bodyScope >= 0, let body = bodyTables.pointee.member(bodyScope, tag: tag) {
                slot = body
                section = Self.sectionBody
            } else if tag > 0 && tag <= Self.standardSectionTagMax && standardSections[tag] != 0 {
                // QuickFIX files the standard header and trailer tags of every version under header
                // and trailer even when this version's dictionary lacks them (FIX.4.0 and tag 144),
                // which decides the order problems are reported in.
                section = standardSections[tag] == 1 ? Self.sectionHeader : Self.sectionTrailer
            } else {
                section = Self.sectionBody
            }
            switch section {
            case Self.sectionHeader:
                if region != 0 && checkOrder {
                    record(Self.key(Self.phaseOrder, 0, UInt64(fieldStart), 0),
                           FIXSessionRejectReason.tagSpecifiedOutOfRequiredOrder.rawValue, tag: tag, offset: fieldStart)
                }
                switch tag {
                case 34: seqNumStart = valueStart; seqNumLength = valueLength
                case 49: senderStart = valueStart; senderLength = valueLength
                case 56: targetStart = valueStart; targetLength = valueLength
                case 52: sendingTimeStart = valueStart; sendingTimeLength = valueLength
                default: break
                }
            case Self.sectionTrailer:
                region = 2
            default:
                if region == 2 && checkOrder {
                    record(Self.key(Self.phaseOrder, 0, UInt64(fieldStart), 0),
                           FIXSessionRejectReason.tagSpecifiedOutOfRequiredOrder.rawValue, tag: tag, offset: fieldStart)
                }
                region = 1
            }
            let inTransport = section != Self.sectionBody || bodyInTransport
            let tables = section == Self.sectionBody ? bodyTables : t
            let seen = inTransport ? transportSeen : applicationSeen
            let stamp = section == Self.sectionHeader ? headerStamp
                : section == Self.sectionTrailer ? trailerStamp : bodyStamp
            if let slot {
                topMember(section: section, tables: tables, seen: seen, stamp: stamp, slot: slot, tag: tag, base: base,
                          valueStart: valueStart, valueLength: valueLength, fieldStart: fieldStart, depth: &depth,
                          inTransport: inTransport)
            } else {
                nonMember(section: section, tables: tables, seen: seen, stamp: stamp,
                          scopeKnown: section == Self.sectionBody && bodyScope >= 0, tag: tag, base: base,
                          valueStart: valueStart, valueLength: valueLength, fieldStart: fieldStart)
            }
        }
        while depth > 0 {
            closeFrame(depth - 1)
            depth -= 1
        }

        // Required fields: header, trailer, body (group entries were checked as they closed).
        if state.pointee.bestKey > Self.key(Self.phaseRequired, 0, 0, 0) {
            checkRequired(tables: t, scope: t.pointee.headerScope, seen: transportSeen,
                          stamp: headerStamp, section: Self.sectionHeader)
            checkRequired(tables: t, scope: t.pointee.trailerScope, seen: transportSeen,
                          stamp: trailerStamp, section: Self.sectionTrailer)
            if bodyScope >= 0 {
                checkRequired(tables: bodyTables, scope: bodyScope,
                              seen: bodyInTransport ? transportSeen : applicationSeen, stamp: bodyStamp,
                              section: Self.sectionBody)
            }
        }

        // Session context: SendingTime accuracy, then CompIDs (QuickFIX's order).
        if let context, state.pointee.bestKey > Self.key(Self.phaseLatency, 0, 0, 0) {
            if options.checkLatency, let now = context.now, sendingTimeStart >= 0,
               let sent = FIXTimestamp(ascii: UnsafeRawBufferPointer(start: base + sendingTimeStart,
                                                                    count: sendingTimeLength))
            {
                let distance = abs(now.nanosecondsSinceEpoch - sent.nanosecondsSinceEpoch)
                if distance > Int64(options.maxLatencySeconds) * FIXTimestamp.nanosecondsPerSecond {
                    record(Self.key(Self.phaseLatency, 0, 0, 0),
                           FIXSessionRejectReason.sendingTimeAccuracyProblem.rawValue, tag: nil,
                           offset: sendingTimeStart)
                }
            }
            if let expected = context.senderCompID, senderStart >= 0,
               !Self.equal(base + senderStart, senderLength, expected) {
                record(Self.key(Self.phaseCompID, 0, 0, 0), FIXSessionRejectReason.compIDProblem.rawValue,
                       tag: nil, offset: senderStart)
            }
            if let expected = context.targetCompID, targetStart >= 0,
               !Self.equal(base + targetStart, targetLength, expected) {
                record(Self.key(Self.phaseCompID, 0, 0, 1), FIXSessionRejectReason.compIDProblem.rawValue,
                       tag: nil, offset: targetStart)
            }
        }

        guard state.pointee.bestKey != .max else { return nil }
        let refMsgType = String(decoding: UnsafeRawBufferPointer(start: msgTypePointer, count: msgTypeLength),
                                as: UTF8.self)
        let refSeqNum = seqNumStart >= 0 ? Self.parseInt(base + seqNumStart, seqNumLength) : nil
        let best = state.pointee
        return FIXReject(reason: FIXSessionRejectReason(rawValue: best.bestReason),
                         refTagID: best.bestHasTag ? best.bestTag : nil, refMsgType: refMsgType, refSeqNum: refSeqNum,
                         offset: best.bestOffset >= 0 ? best.bestOffset : nil)
    }

    /// Checks of a header, trailer or body member (QuickFIX's `iterate` order), and the start of
    /// a repeating group when the field is a NumInGroup.
    @inline(__always)
    private func topMember(section: UInt64, tables: UnsafeMutablePointer<RawTables>, seen: UnsafeMutablePointer<UInt32>,
                           stamp: UInt32, slot: UnsafePointer<ScopeSlot>, tag: Int, base: UnsafeRawPointer,
                           valueStart: Int, valueLength: Int, fieldStart: Int, depth: inout Int, inTransport: Bool)
    {
        let field = Int(slot.pointee.field)
        if seen[field] == stamp {
            record(Self.key(Self.phaseFields, section, Self.position(section, tag), 1),
                   FIXSessionRejectReason.tagAppearsMoreThanOnce.rawValue, tag: tag, offset: fieldStart)
            return
        }
        seen[field] = stamp
        let reason = valueProblem(format: slot.pointee.format, flags: slot.pointee.flags, tables: tables,
                                  field: slot.pointee.field, tag: tag, value: base + valueStart, length: valueLength)
        if reason >= 0 {
            record(Self.key(Self.phaseFields, section, Self.position(section, tag), 0), reason, tag: tag,
                   offset: fieldStart)
        }
        let child = slot.pointee.child
        if child >= 0 {
            pushFrame(scope: child, inTransport: inTransport, tag: tag, base: base, valueStart: valueStart,
                      valueLength: valueLength, fieldStart: fieldStart, section: section,
                      topCountKey: Self.position(section, tag), depth: &depth)
        }
    }

    /// A field that is not a member where it stands: unknown (0 or 3), or not defined for this
    /// message type (2); its value is still checked when the dictionary knows the field.
    private func nonMember(section: UInt64, tables: UnsafeMutablePointer<RawTables>, seen: UnsafeMutablePointer<UInt32>,
                           stamp: UInt32, scopeKnown: Bool, tag: Int, base: UnsafeRawPointer, valueStart: Int,
                           valueLength: Int, fieldStart: Int)
    {
        let index = tables.pointee.fieldIndex(tag)
        var reason = -1
        if index >= 0 {
            if seen[Int(index)] == stamp {
                record(Self.key(Self.phaseFields, section, Self.position(section, tag), 1),
                       FIXSessionRejectReason.tagAppearsMoreThanOnce.rawValue, tag: tag, offset: fieldStart)
                return
            }
            seen[Int(index)] = stamp
            let check = tables.pointee.checks[Int(index)]
            var flags: UInt8 = 0
            if check.hasValues { flags |= ScopeSlot.hasValues }
            if check.isMultipleValue { flags |= ScopeSlot.multipleValue }
            if check.singleByteValues { flags |= ScopeSlot.singleByteValues }
            reason = valueProblem(format: check.format, flags: flags, tables: tables, field: index, tag: tag,
                                  value: base + valueStart, length: valueLength)
        } else if valueLength == 0 && checkHaveValues {
            reason = FIXSessionRejectReason.tagSpecifiedWithoutValue.rawValue
        }
        if reason < 0 && (tag < FIXValidationOptions.userDefinedTagMin ? checkUnknown : checkUserDefined) {
            if index < 0 {
                reason = reportUndefined && tag > 0
                    ? FIXSessionRejectReason.undefinedTag.rawValue : FIXSessionRejectReason.invalidTagNumber.rawValue
            } else if scopeKnown {
                reason = FIXSessionRejectReason.tagNotDefinedForMessageType.rawValue
            }
        }
        if reason >= 0 {
            record(Self.key(Self.phaseFields, section, Self.position(section, tag), 0), reason, tag: tag,
                   offset: fieldStart)
        }
    }

    @inline(__always)
    private func pushFrame(scope: Int32, inTransport: Bool, tag: Int, base: UnsafeRawPointer, valueStart: Int,
                           valueLength: Int, fieldStart: Int, section: UInt64, topCountKey: UInt64,
                           depth: inout Int)
    {
        guard depth < FIXDictionary.groupDepthMax else { return }
        let declared = Self.parseInt(base + valueStart, valueLength) ?? Int.min
        frames[depth] = Frame(scope: scope, inTransport: inTransport, countTag: tag, countOffset: fieldStart,
                              declared: declared, entries: 0, lastPosition: -1, stamp: 0, section: section,
                              topCountKey: topCountKey)
        depth += 1
    }

    /// A field that belongs to the innermost open group.
    @inline(__always)
    private func groupMember(frame slot: Int, slot member: UnsafePointer<ScopeSlot>,
                             tables: UnsafeMutablePointer<RawTables>, tag: Int, base: UnsafeRawPointer,
                             valueStart: Int, valueLength: Int, fieldStart: Int, depth: inout Int)
    {
        let frame = frames + slot
        let index = member.pointee.field
        let position = Int32(member.pointee.position)
        let inTransport = frame.pointee.inTransport
        let seen = (inTransport ? transportSeen : applicationSeen)
            + (slot + 1) * (inTransport ? transportFieldCount : applicationFieldCount)
        let outOfOrder = FIXSessionRejectReason.repeatingGroupFieldsOutOfOrder.rawValue
        if index == tables.pointee.scopeDelimiters[Int(frame.pointee.scope)] {
            if frame.pointee.entries > 0 { checkEntry(frame.pointee, tables: tables, seen: seen) }
            frame.pointee.entries += 1
            frame.pointee.stamp = nextStamp()
            frame.pointee.lastPosition = position
        } else if frame.pointee.entries == 0 {
            // The first field after the count must be the delimiter.
            record(Self.key(Self.phaseGroupStructure, 0, UInt64(fieldStart), 0), outOfOrder, tag: tag,
                   offset: fieldStart)
            frame.pointee.entries = 1
            frame.pointee.stamp = nextStamp()
            frame.pointee.lastPosition = position
        } else if seen[Int(index)] == frame.pointee.stamp {
            record(Self.key(Self.phaseGroupStructure, 0, UInt64(fieldStart), 0), outOfOrder, tag: tag,
                   offset: fieldStart)
        } else if position < frame.pointee.lastPosition {
            if checkOrder {
                record(Self.key(Self.phaseGroupStructure, 0, UInt64(fieldStart), 0), outOfOrder, tag: tag,
                       offset: fieldStart)
            }
        } else {
            frame.pointee.lastPosition = position
        }
        seen[Int(index)] = frame.pointee.stamp
        let reason = valueProblem(format: member.pointee.format, flags: member.pointee.flags, tables: tables,
                                  field: index, tag: tag, value: base + valueStart, length: valueLength)
        if reason >= 0 {
            record(Self.key(Self.phaseFields, frame.pointee.section, frame.pointee.topCountKey, 2), reason, tag: tag,
                   offset: fieldStart)
        }
        let child = member.pointee.child
        if child >= 0 {
            pushFrame(scope: child, inTransport: inTransport, tag: tag, base: base,
                      valueStart: valueStart, valueLength: valueLength, fieldStart: fieldStart,
                      section: frame.pointee.section, topCountKey: frame.pointee.topCountKey, depth: &depth)
        }
    }

    private func closeFrame(_ slot: Int) {
        let frame = frames[slot]
        let tables = frame.inTransport ? transportTables : applicationTables
        if frame.entries > 0 {
            let seen = (frame.inTransport ? transportSeen : applicationSeen)
                + (slot + 1) * (frame.inTransport ? transportFieldCount : applicationFieldCount)
            checkEntry(frame, tables: tables, seen: seen)
        }
        if frame.declared != Int.min && frame.declared != frame.entries {
            record(Self.key(Self.phaseFields, frame.section, frame.topCountKey, slot == 0 ? 1 : 2),
                   FIXSessionRejectReason.incorrectNumInGroupCount.rawValue, tag: frame.countTag,
                   offset: frame.countOffset)
        }
    }

    /// Required members of the group entry that just ended.
    @inline(__always)
    private func checkEntry(_ frame: Frame, tables: UnsafeMutablePointer<RawTables>, seen: UnsafeMutablePointer<UInt32>) {
        let start = Int(tables.pointee.requiredStart[Int(frame.scope)])
        let end = start + Int(tables.pointee.requiredCount[Int(frame.scope)])
        for i in start..<end where seen[Int(tables.pointee.requiredFields[i])] != frame.stamp {
            record(Self.key(Self.phaseRequired, Self.sectionGroups, UInt64(frame.countOffset), 0),
                   FIXSessionRejectReason.requiredTagMissing.rawValue, tag: tables.pointee.requiredTags[i],
                   offset: frame.countOffset)
            return
        }
    }

    private func checkRequired(tables: UnsafeMutablePointer<RawTables>, scope: Int32, seen: UnsafeMutablePointer<UInt32>,
                               stamp: UInt32, section: UInt64)
    {
        let start = Int(tables.pointee.requiredStart[Int(scope)])
        let end = start + Int(tables.pointee.requiredCount[Int(scope)])
        for i in start..<end where seen[Int(tables.pointee.requiredFields[i])] != stamp {
            let tag = tables.pointee.requiredTags[i]
            record(Self.key(Self.phaseRequired, section, Self.position(section, tag), 0),
                   FIXSessionRejectReason.requiredTagMissing.rawValue, tag: tag, offset: -1)
            return
        }
    }

    /// Empty value (4), data format (6) and enumerated value (5) checks: the reason, or -1.
    @inline(__always)
    private func valueProblem(format: FIXFieldType.Format, flags: UInt8, tables: UnsafeMutablePointer<RawTables>,
                              field: Int32, tag: Int, value: UnsafeRawPointer, length: Int) -> Int
    {
        if length == 0 {
            return checkHaveValues ? FIXSessionRejectReason.tagSpecifiedWithoutValue.rawValue : -1
        }
        if format != .none && !Self.hasFormat(format, value, length) {
            return FIXSessionRejectReason.incorrectDataFormat.rawValue
        }
        // MsgType's validity is the message-type check (373=11), not an enum check.
        guard flags & ScopeSlot.hasValues != 0 && tag != 35 else { return -1 }
        if flags & ScopeSlot.multipleValue == 0 {
            if flags & ScopeSlot.singleByteValues != 0 {
                return length == 1 && tables.pointee.byteSets[Int(field)].contains(value.load(as: UInt8.self))
                    ? -1 : FIXSessionRejectReason.valueIsIncorrect.rawValue
            }
            return tables.pointee.isEnumValue(field, value, length) ? -1 : FIXSessionRejectReason.valueIsIncorrect.rawValue
        }
        var start = 0
        var i = 0
        while i <= length {
            if i == length || value.load(fromByteOffset: i, as: UInt8.self) == UInt8(ascii: " ") {
                if !tables.pointee.isEnumValue(field, value + start, i - start) {
                    return FIXSessionRejectReason.valueIsIncorrect.rawValue
                }
                start = i + 1
            }
            i += 1
        }
        return -1
    }

    // MARK: Byte-level helpers

    @inline(__always)
    static func findSOH(_ p: UnsafeRawPointer, from: Int, count: Int) -> Int {
        var i = from
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while i + 8 <= count {
            let w = p.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ ones
            let found = (w &- ones) & ~w & highs
            if found != 0 { return i + found.trailingZeroBitCount >> 3 }
            i += 8
        }
        while i < count && p.load(fromByteOffset: i, as: UInt8.self) != 1 { i += 1 }
        return i
    }

    @inline(__always)
    static func parseInt(_ p: UnsafeRawPointer, _ count: Int) -> Int? {
        guard count > 0 && count <= 18 else { return nil }
        var i = 0
        let negative = p.load(as: UInt8.self) == UInt8(ascii: "-")
        if negative { i = 1 }
        guard i < count else { return nil }
        var result = 0
        while i < count {
            let d = p.load(fromByteOffset: i, as: UInt8.self) &- 48
            guard d <= 9 else { return nil }
            result = result * 10 + Int(d)
            i += 1
        }
        return negative ? -result : result
    }

    @inline(__always)
    static func equal(_ p: UnsafeRawPointer, _ count: Int, _ expected: [UInt8]) -> Bool {
        guard count == expected.count else { return false }
        return expected.withUnsafeBytes { memoryEqual(p, $0.baseAddress!, count) }
    }

    @inline(__always)
    static func hasFormat(_ format: FIXFieldType.Format, _ p: UnsafeRawPointer, _ count: Int) -> Bool {
        switch format {
        case .none:
            return true
        case .char:
            return count == 1
        case .boolean:
            guard count == 1 else { return false }
            let c = p.load(as: UInt8.self)
            return c == UInt8(ascii: "Y") || c == UInt8(ascii: "N")
        case .int:
            var i = p.load(as: UInt8.self) == UInt8(ascii: "-") ? 1 : 0
            guard i < count else { return false }
            while i < count {
                guard p.load(fromByteOffset: i, as: UInt8.self) &- 48 <= 9 else { return false }
                i += 1
            }
            return true
        case .decimal:
            var i = p.load(as: UInt8.self) == UInt8(ascii: "-") ? 1 : 0
            var digits = 0
            var dot = false
            while i < count {
                let c = p.load(fromByteOffset: i, as: UInt8.self)
                if c &- 48 <= 9 {
                    digits += 1
                } else if c == UInt8(ascii: ".") && !dot {
                    dot = true
                } else {
                    return false
                }
                i += 1
            }
            return digits > 0
        case .utcTimestamp:
            return count >= 17 && isDate(p) && p.load(fromByteOffset: 8, as: UInt8.self) == UInt8(ascii: "-")
                && isTime(p + 9, count - 9, secondsRequired: true)
        case .utcDate:
            return count == 8 && isDate(p)
        case .utcTimeOnly:
            return isTime(p, count, secondsRequired: false)
        }
    }

    @inline(__always)
    static func digits(_ p: UnsafeRawPointer, _ offset: Int, _ count: Int) -> Int {
        var value = 0
        for i in offset..<offset + count {
            let d = p.load(fromByteOffset: i, as: UInt8.self) &- 48
            if d > 9 { return -1 }
            value = value * 10 + Int(d)
        }
        return value
    }

    /// `YYYYMMDD` with a real month and day (the same rule as `FIXDate`, without building one).
    @inline(__always)
    static func isDate(_ p: UnsafeRawPointer) -> Bool {
        let year = digits(p, 0, 4)
        let month = digits(p, 4, 2)
        let day = digits(p, 6, 2)
        guard year >= 0, month >= 1, month <= 12, day >= 1 else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = month == 2 ? (leap ? 29 : 28) : (month == 4 || month == 6 || month == 9 || month == 11 ? 30 : 31)
        return day <= days
    }

    /// `HH:MM[:SS[.s…]]` with 3, 6 or 9 fraction digits (seconds required in timestamps).
    @inline(__always)
    static func isTime(_ p: UnsafeRawPointer, _ count: Int, secondsRequired: Bool) -> Bool {
        guard count >= 5, p.load(fromByteOffset: 2, as: UInt8.self) == UInt8(ascii: ":") else { return false }
        let hour = digits(p, 0, 2)
        let minute = digits(p, 3, 2)
        guard hour >= 0, hour <= 23, minute >= 0, minute <= 59 else { return false }
        if count == 5 { return !secondsRequired }
        guard count >= 8, p.load(fromByteOffset: 5, as: UInt8.self) == UInt8(ascii: ":") else { return false }
        let second = digits(p, 6, 2)
        guard second >= 0, second <= 60 else { return false }
        if count == 8 { return true }
        let fraction = count - 9
        guard p.load(fromByteOffset: 8, as: UInt8.self) == UInt8(ascii: "."),
              fraction == 3 || fraction == 6 || fraction == 9 else { return false }
        return digits(p, 9, fraction) >= 0
    }
}
