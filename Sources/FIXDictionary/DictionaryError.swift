/// A dictionary or overlay file that cannot be used, with the file and line at fault.
///
/// ```swift
/// do {
///     let dictionary = try FIXDictionary(contentsOfFile: "Specs/dictionaries/FIX44.xml")
/// } catch {
///     print(error)   // "venue.xml:12: field 'AcmeRoute' is not defined in <fields>"
/// }
/// ```
public struct FIXDictionaryError: Error, Hashable, Sendable, CustomStringConvertible {
    enum Kind: Hashable, Sendable {
        case unreadable(String)
        case malformedXML(String)
        case missingAttribute(element: String, attribute: String)
        case invalidAttribute(element: String, attribute: String, value: String)
        case unexpectedElement(String)
        case undefinedField(String)
        case undefinedComponent(String)
        case duplicateField(Int)
        case duplicateMessage(String)
        case componentCycle(String)
        case tooLarge(String)
        case emptyGroup(String)
        case versionMismatch(expected: String, found: String)
    }

    let kind: Kind
    /// The file (as given to the loader) that holds the problem.
    public let file: String
    /// The 1-based line of the problem, or 0 when it concerns the whole file.
    public let line: Int

    init(_ kind: Kind, file: String, line: Int) {
        self.kind = kind
        self.file = file
        self.line = line
    }

    /// What is wrong, without the location.
    public var reason: String {
        switch kind {
        case .unreadable(let why): "cannot read file: \(why)"
        case .malformedXML(let why): "malformed XML: \(why)"
        case .missingAttribute(let element, let attribute): "<\(element)> has no '\(attribute)' attribute"
        case .invalidAttribute(let element, let attribute, let value):
            "<\(element)> attribute '\(attribute)' has an invalid value '\(value)'"
        case .unexpectedElement(let name): "unexpected element <\(name)>"
        case .undefinedField(let name): "field '\(name)' is not defined in <fields>"
        case .undefinedComponent(let name): "component '\(name)' is not defined in <components>"
        case .duplicateField(let tag): "field number \(tag) is defined twice"
        case .duplicateMessage(let msgType): "message type '\(msgType)' is defined twice"
        case .componentCycle(let name): "component '\(name)' includes itself"
        case .tooLarge(let what): "too large: \(what)"
        case .emptyGroup(let name): "group '\(name)' has no fields"
        case .versionMismatch(let expected, let found): "overlay is for \(expected), dictionary is \(found)"
        }
    }

    public var description: String {
        line > 0 ? "\(file):\(line): \(reason)" : "\(file): \(reason)"
    }
}
