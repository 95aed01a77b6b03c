import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

// The only file of this target that uses Foundation: it reads QuickFIX-format XML into a
// `DictionarySource`. Everything after that is standard library only.

extension FIXDictionary {
    /// Loads a dictionary in QuickFIX's XML format, optionally with venue overlays applied on top.
    ///
    /// ```swift
    /// let fix44 = try FIXDictionary(contentsOfFile: "Specs/dictionaries/FIX44.xml",
    ///                               overlays: ["Specs/overlays/acme-equities.xml"])
    /// fix44.fieldName(54)                       // "Side"
    /// ```
    public convenience init(contentsOfFile path: String, overlays: [String] = []) throws(FIXDictionaryError) {
        var source = try XMLDictionaryReader.read(file: path, root: .dictionary)
        for overlayPath in overlays {
            let overlay = try XMLDictionaryReader.read(file: overlayPath, root: .overlay)
            source = try source.applying(overlay)
        }
        try self.init(source: source)
    }

    /// Loads a dictionary from XML bytes; `name` is used in error messages.
    public convenience init(xml: [UInt8], name: String, overlays: [(xml: [UInt8], name: String)] = [])
        throws(FIXDictionaryError)
    {
        var source = try XMLDictionaryReader.parse(data: Data(xml), file: name, root: .dictionary)
        for overlay in overlays {
            let parsed = try XMLDictionaryReader.parse(data: Data(overlay.xml), file: overlay.name, root: .overlay)
            source = try source.applying(parsed)
        }
        try self.init(source: source)
    }
}

enum XMLDictionaryReader {
    enum Root { case dictionary, overlay }

    /// Dictionary files larger than this are refused (the biggest standard one is about 1.5 MB).
    static let fileBytesMax = 64 << 20

    static func read(file: String, root: Root) throws(FIXDictionaryError) -> DictionarySource {
        let data: Data
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            if let size = attributes[.size] as? Int, size > fileBytesMax {
                throw FIXDictionaryError(.tooLarge("file of \(size) bytes"), file: file, line: 0)
            }
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch let error as FIXDictionaryError {
            throw error
        } catch {
            throw FIXDictionaryError(.unreadable(error.localizedDescription), file: file, line: 0)
        }
        return try parse(data: data, file: file, root: root)
    }

    static func parse(data: Data, file: String, root: Root) throws(FIXDictionaryError) -> DictionarySource {
        let parser = XMLParser(data: data)
        let builder = SourceBuilder(file: file, root: root)
        parser.delegate = builder
        parser.shouldProcessNamespaces = false
        let ok = parser.parse()
        if let error = builder.error { throw error }
        if !ok {
            let why = parser.parserError.map { "\($0.localizedDescription)" } ?? "parse failed"
            throw FIXDictionaryError(.malformedXML(why), file: file, line: max(parser.lineNumber, 1))
        }
        guard builder.sawRoot else {
            throw FIXDictionaryError(.malformedXML("no root element"), file: file, line: 1)
        }
        return builder.source
    }
}

/// Collects elements into a `DictionarySource`; the first problem stops the parser.
private final class SourceBuilder: NSObject, XMLParserDelegate {
    private enum Section { case none, header, trailer, messages, components, fields }

    let file: String
    let root: XMLDictionaryReader.Root
    var source: DictionarySource
    var error: FIXDictionaryError?
    var sawRoot = false

    private var section = Section.none
    /// Open member elements (message, component, group): their members are collected here.
    private var stack: [(kind: String, attributes: [String: String], line: Int, members: [DictionarySource.Member])] = []
    private var openField: DictionarySource.Field?
    private var depth = 0

    init(file: String, root: XMLDictionaryReader.Root) {
        self.file = file
        self.root = root
        self.source = DictionarySource(file: file)
    }

    private func fail(_ kind: FIXDictionaryError.Kind, _ parser: XMLParser, line: Int? = nil) {
        if error == nil { error = FIXDictionaryError(kind, file: file, line: line ?? parser.lineNumber) }
        parser.abortParsing()
    }

    private func require(_ attributes: [String: String], _ name: String, element: String,
                         _ parser: XMLParser) -> String?
    {
        if let value = attributes[name], !value.isEmpty { return value }
        fail(.missingAttribute(element: element, attribute: name), parser)
        return nil
    }

    private func number(_ attributes: [String: String], _ name: String, element: String,
                        _ parser: XMLParser, default value: Int? = nil) -> Int?
    {
        guard let text = attributes[name] else {
            if let value { return value }
            fail(.missingAttribute(element: element, attribute: name), parser)
            return nil
        }
        guard let number = Int(text.trimmingCharacters(in: .whitespaces)), number >= 0 else {
            fail(.invalidAttribute(element: element, attribute: name, value: text), parser)
            return nil
        }
        return number
    }

    private func isRequired(_ attributes: [String: String]) -> Bool {
        attributes["required"] == "Y" || attributes["required"] == "y"
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String] = [:])
    {
        guard error == nil else { return }
        depth += 1
        let line = parser.lineNumber
        if depth == 1 {
            sawRoot = true
            switch (root, name) {
            case (.dictionary, "fix"):
                source.type = attributes["type"] ?? "FIX"
                guard let major = number(attributes, "major", element: name, parser),
                      let minor = number(attributes, "minor", element: name, parser),
                      let servicePack = number(attributes, "servicepack", element: name, parser, default: 0)
                else { return }
                source.major = major
                source.minor = minor
                source.servicePack = servicePack
            case (.overlay, "overlay"):
                source.base = attributes["base"]
            default:
                fail(.unexpectedElement(name), parser)
            }
            return
        }
        if depth == 2 {
            switch name {
            case "header": section = .header
            case "trailer": section = .trailer
            case "messages": section = .messages
            case "components": section = .components
            case "fields": section = .fields
            default: fail(.unexpectedElement(name), parser)
            }
            stack = [(kind: name, attributes: attributes, line: line, members: [])]
            return
        }
        switch section {
        case .fields:
            if depth == 3 && name == "field" {
                guard let tag = number(attributes, "number", element: name, parser),
                      let fieldName = require(attributes, "name", element: name, parser) else { return }
                if root == .dictionary && attributes["type"] == nil {
                    fail(.missingAttribute(element: name, attribute: "type"), parser)
                    return
                }
                openField = DictionarySource.Field(number: tag, name: fieldName, type: attributes["type"],
                                                   values: [], line: line)
            } else if depth == 4 && name == "value" {
                guard let value = require(attributes, "enum", element: name, parser) else { return }
                openField?.values.append(DictionarySource.Value(value: value,
                                                                description: attributes["description"] ?? value))
            } else {
                fail(.unexpectedElement(name), parser)
            }
        case .messages, .components, .header, .trailer:
            let container = (section == .messages && depth == 3) ? "message"
                : (section == .components && depth == 3) ? "component" : nil
            if let container {
                guard name == container else { fail(.unexpectedElement(name), parser); return }
                guard require(attributes, "name", element: name, parser) != nil else { return }
                if name == "message" && require(attributes, "msgtype", element: name, parser) == nil { return }
                stack.append((kind: name, attributes: attributes, line: line, members: []))
                return
            }
            guard name == "field" || name == "group" || name == "component" else {
                fail(.unexpectedElement(name), parser)
                return
            }
            guard require(attributes, "name", element: name, parser) != nil else { return }
            stack.append((kind: name, attributes: attributes, line: line, members: []))
        case .none:
            fail(.unexpectedElement(name), parser)
        }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        guard error == nil else { return }
        defer { depth -= 1 }
        if depth == 1 { return }
        if depth == 2 {
            let members = stack.last?.members ?? []
            switch section {
            case .header: source.header += members
            case .trailer: source.trailer += members
            default: break
            }
            section = .none
            stack = []
            return
        }
        if section == .fields {
            if depth == 3, let field = openField {
                source.fields.append(field)
                openField = nil
            }
            return
        }
        guard let top = stack.popLast() else { return }
        let attributes = top.attributes
        switch top.kind {
        case "message":
            source.messages.append(DictionarySource.Message(
                name: attributes["name"] ?? "", msgType: attributes["msgtype"] ?? "",
                category: attributes["msgcat"] ?? "app", members: top.members, line: top.line))
        case "component" where depth == 3:
            source.components.append(DictionarySource.Component(
                name: attributes["name"] ?? "", members: top.members, line: top.line))
        default:
            let kind: DictionarySource.Member.Kind = switch top.kind {
            case "group": .group
            case "component": .component
            default: .field
            }
            let member = DictionarySource.Member(kind: kind, name: attributes["name"] ?? "",
                                                 required: isRequired(attributes), members: top.members,
                                                 line: top.line)
            if stack.isEmpty { return }
            stack[stack.count - 1].members.append(member)
        }
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
        if error == nil {
            error = FIXDictionaryError(.malformedXML("\(parseError.localizedDescription)"), file: file,
                                       line: max(parser.lineNumber, 1))
        }
    }
}
