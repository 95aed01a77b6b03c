/// SessionRejectReason(373) values, numbered as in the FIX specification, with QuickFIX's text.
///
/// ```swift
/// if let reject = validator.validate(message) {
///     reject.reason.rawValue      // 5
///     reject.reason.text          // "Value is incorrect (out of range) for this tag"
/// }
/// ```
public struct FIXSessionRejectReason: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int

    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let invalidTagNumber = Self(rawValue: 0)
    public static let requiredTagMissing = Self(rawValue: 1)
    public static let tagNotDefinedForMessageType = Self(rawValue: 2)
    public static let undefinedTag = Self(rawValue: 3)
    public static let tagSpecifiedWithoutValue = Self(rawValue: 4)
    public static let valueIsIncorrect = Self(rawValue: 5)
    public static let incorrectDataFormat = Self(rawValue: 6)
    public static let decryptionProblem = Self(rawValue: 7)
    public static let signatureProblem = Self(rawValue: 8)
    public static let compIDProblem = Self(rawValue: 9)
    public static let sendingTimeAccuracyProblem = Self(rawValue: 10)
    public static let invalidMsgType = Self(rawValue: 11)
    public static let tagAppearsMoreThanOnce = Self(rawValue: 13)
    public static let tagSpecifiedOutOfRequiredOrder = Self(rawValue: 14)
    public static let repeatingGroupFieldsOutOfOrder = Self(rawValue: 15)
    public static let incorrectNumInGroupCount = Self(rawValue: 16)
    public static let nonDataValueIncludesFieldDelimiter = Self(rawValue: 17)
    public static let other = Self(rawValue: 99)

    /// The Text(58) QuickFIX sends with this reason.
    public var text: String {
        switch rawValue {
        case 0: "Invalid tag number"
        case 1: "Required tag missing"
        case 2: "Tag not defined for this message type"
        case 3: "Undefined Tag"
        case 4: "Tag specified without a value"
        case 5: "Value is incorrect (out of range) for this tag"
        case 6: "Incorrect data format for value"
        case 7: "Decryption problem"
        case 8: "Signature problem"
        case 9: "CompID problem"
        case 10: "SendingTime accuracy problem"
        case 11: "Invalid MsgType"
        case 13: "Tag appears more than once"
        case 14: "Tag specified out of required order"
        case 15: "Repeating group fields out of order"
        case 16: "Incorrect NumInGroup count for repeating group"
        case 17: "Non Data value includes field delimiter (SOH character)"
        default: "Other"
        }
    }

    public var description: String { "\(rawValue) (\(text))" }
}

/// Why a message fails validation: what a session Reject(35=3) carries, plus where.
///
/// `refTagID` is RefTagID(371) — nil for reasons QuickFIX sends without it (invalid MsgType,
/// CompID and SendingTime problems); `refMsgType` is RefMsgType(372); `refSeqNum` is the
/// message's MsgSeqNum(34) for RefSeqNum(45), when readable.
///
/// ```swift
/// if let reject = validator.validate(view) {
///     print(reject)   // "373=5 Value is incorrect (out of range) for this tag, 371=21, 372=D at byte 61"
/// }
/// ```
public struct FIXReject: Hashable, Sendable, CustomStringConvertible {
    public let reason: FIXSessionRejectReason
    public let refTagID: Int?
    public let refMsgType: String
    public let refSeqNum: Int?
    /// Byte offset within the message of the field at fault (of the NumInGroup field for a count
    /// problem), or nil when no single field is at fault.
    public let offset: Int?

    public init(reason: FIXSessionRejectReason, refTagID: Int?, refMsgType: String, refSeqNum: Int?, offset: Int?) {
        self.reason = reason
        self.refTagID = refTagID
        self.refMsgType = refMsgType
        self.refSeqNum = refSeqNum
        self.offset = offset
    }

    public var description: String {
        var text = "373=\(reason.rawValue) \(reason.text)"
        if let refTagID { text += ", 371=\(refTagID)" }
        text += ", 372=\(refMsgType)"
        if let offset { text += " at byte \(offset)" }
        return text
    }
}
