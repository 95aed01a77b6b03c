/// A field's data type as the dictionary names it (`PRICE`, `UTCTIMESTAMP`, …), with the format
/// check the validator applies to it.
///
/// The checks follow QuickFIX's: integers and decimals are digits with an optional leading `-`
/// (no `+`, no exponent), CHAR is one byte (any length before FIX 4.2, where QuickFIX reads CHAR
/// as a string), BOOLEAN is `Y` or `N`, UTCTIMESTAMP, UTCDATEONLY and UTCTIMEONLY must parse.
/// Strings and the types QuickFIX reads as strings (LOCALMKTDATE, MONTHYEAR, CURRENCY, …) are
/// not checked.
///
/// ```swift
/// dictionary.field(44)?.type.name      // "PRICE"
/// ```
public struct FIXFieldType: Hashable, Sendable, CustomStringConvertible {
    enum Format: UInt8, Sendable {
        case none, char, int, decimal, boolean, utcTimestamp, utcDate, utcTimeOnly
    }

    /// The type name as written in the dictionary.
    public let name: String
    let format: Format
    /// Values are space-separated lists (MULTIPLEVALUESTRING, MULTIPLECHARVALUE, MULTIPLESTRINGVALUE).
    public let isMultipleValue: Bool
    /// A NUMINGROUP field (the count of a repeating group).
    public var isNumInGroup: Bool { name == "NUMINGROUP" }
    /// A raw data field whose length is announced by the field before it (DATA, XMLDATA).
    public var isData: Bool { name == "DATA" || name == "XMLDATA" }

    init(name: String, beginStringBelow42: Bool) {
        self.name = name
        isMultipleValue = name == "MULTIPLEVALUESTRING" || name == "MULTIPLECHARVALUE"
            || name == "MULTIPLESTRINGVALUE"
        format = switch name {
        case "CHAR": beginStringBelow42 ? .none : .char
        case "INT", "LENGTH", "NUMINGROUP", "SEQNUM", "TAGNUM", "DAYOFMONTH": .int
        case "FLOAT", "PRICE", "QTY", "AMT", "PERCENTAGE", "PRICEOFFSET": .decimal
        case "BOOLEAN": .boolean
        case "UTCTIMESTAMP", "TIME": .utcTimestamp
        case "UTCDATE", "UTCDATEONLY", "DATE": .utcDate
        case "UTCTIMEONLY": .utcTimeOnly
        default: .none
        }
    }

    public var description: String { name }
}
