/// One field of a dictionary: tag, name, type and, when it has them, its enumerated values.
///
/// ```swift
/// let side = dictionary.field(54)!
/// side.name                                   // "Side"
/// side.values.first                           // FIXEnumValue(value: "1", description: "BUY")
/// ```
public struct FIXFieldDefinition: Sendable {
    public let tag: Int
    public let name: String
    public let type: FIXFieldType
    /// Enumerated values in dictionary order; empty when the field takes any value of its type.
    public let values: [FIXEnumValue]
}

/// One enumerated value of a field and its description (`"1"`, `"BUY"`).
public struct FIXEnumValue: Hashable, Sendable {
    public let value: String
    public let description: String
}

/// A member of a header, trailer, message, component or group, as the dictionary declares it.
///
/// ```swift
/// for member in dictionary.message(msgType: "8")!.members {
///     if case .group(let group) = member { print(group.countTag, group.delimiterTag) }
/// }
/// ```
public indirect enum FIXMemberDefinition: Sendable {
    case field(tag: Int, required: Bool)
    case group(FIXGroupDefinition)
    case component(name: String, required: Bool, members: [FIXMemberDefinition])
}

/// A repeating group: its NumInGroup field, the delimiter field every entry starts with, and
/// its members in order (components kept as declared; nested groups inside).
public struct FIXGroupDefinition: Sendable {
    public let countTag: Int
    public let delimiterTag: Int
    public let required: Bool
    public let members: [FIXMemberDefinition]
}

/// A message type: name, MsgType(35) value, category (`admin`/`app`) and members.
public struct FIXMessageDefinition: Sendable {
    public let name: String
    public let msgType: String
    public let category: String
    public let members: [FIXMemberDefinition]
}
