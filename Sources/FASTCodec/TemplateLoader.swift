// The only file of FASTCodec that uses Foundation: its XML parser reads template documents.
// Everything after parsing (compiling, decoding, encoding) is standard library only.
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

extension FASTTemplates {
    /// Most bytes of template XML the loader accepts.
    public static let xmlBytesMax = 16 << 20

    /// Loads and validates a template set from FAST 1.1 template XML, as exchanges publish it:
    /// namespaced or plain element names, `<templates>` with any number of `<template>` elements,
    /// static and dynamic `<templateRef>`, `dictionary` and `key` attributes, `typeRef`.
    ///
    /// Errors name the template and field. A dictionary entry shared by fields of different
    /// types is rejected with ``FASTError/Code/d4``.
    ///
    /// ```swift
    /// let templates = try FASTTemplates(xml: String(decoding: data, as: UTF8.self))
    /// ```
    public convenience init(xml: String) throws(FASTError) {
        try self.init(xmlBytes: Array(xml.utf8))
    }

    /// Loads a template set from XML bytes; see ``init(xml:)``.
    public convenience init(xmlBytes: [UInt8]) throws(FASTError) {
        guard xmlBytes.count <= FASTTemplates.xmlBytesMax else {
            throw FASTError(.u2, "template XML is larger than \(FASTTemplates.xmlBytesMax) bytes")
        }
        let root = try parseTemplateXML(xmlBytes)
        var compiler = TemplateCompiler()
        let parts = try compiler.compile(root)
        self.init(instructions: parts.instructions, names: parts.names, constantBytes: parts.constantBytes,
                  templates: parts.templates, slotTypes: parts.slotTypes)
    }
}

/// Removes a leading XML declaration. Published template files carry malformed ones (such as
/// `<?xml version=\" 1.0 \"?>`) that the XML parser rejects although the document is fine;
/// template XML is read as UTF-8 in any case.
private func withoutDeclaration(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
    var start = 0
    if bytes.starts(with: [0xef, 0xbb, 0xbf]) { start = 3 }
    while start < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[start]) { start += 1 }
    guard bytes[start...].starts(with: Array("<?xml".utf8)) else { return bytes[...] }
    var i = start + 5
    while i + 1 < bytes.count {
        if bytes[i] == UInt8(ascii: "?") && bytes[i + 1] == UInt8(ascii: ">") { return bytes[(i + 2)...] }
        i += 1
    }
    return bytes[...]
}

private func parseTemplateXML(_ bytes: [UInt8]) throws(FASTError) -> XMLNode {
    let delegate = TemplateXMLDelegate()
    let parser = XMLParser(data: Data(withoutDeclaration(bytes)))
    parser.shouldProcessNamespaces = false
    parser.shouldResolveExternalEntities = false
    parser.delegate = delegate
    let ok = parser.parse()
    if let failure = delegate.failure { throw failure }
    guard ok, let root = delegate.root else {
        let reason = parser.parserError.map { "\($0)" } ?? "unknown parser error"
        throw FASTError(.s1, "template XML is not well formed (line \(parser.lineNumber)): \(reason)")
    }
    return root
}

private final class TemplateXMLDelegate: NSObject, XMLParserDelegate {
    var stack: [XMLNode] = []
    var root: XMLNode?
    var failure: FASTError?
    var elementCount = 0

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        elementCount += 1
        if elementCount > XMLNode.elementCountMax || stack.count > XMLNode.depthMax {
            failure = FASTError(.u2, "template XML has too many or too deeply nested elements")
            parser.abortParsing()
            return
        }
        var attributes: [String: String] = [:]
        for (key, value) in attributeDict {
            // Attributes such as `scp:reset` are matched by local name, like element names.
            attributes[XMLNode.localName(key)] = value
        }
        stack.append(XMLNode(name: XMLNode.localName(elementName), attributes: attributes, children: [],
                             line: parser.lineNumber))
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?) {
        guard let node = stack.popLast() else { return }
        if stack.isEmpty { root = node } else { stack[stack.count - 1].children.append(node) }
    }
}
