/// The content of one dictionary or overlay file as read, before names are resolved: the loader
/// turns XML into this, and `DictionaryCompiler` turns this into lookup tables. Keeping the two
/// apart leaves the compiler free of Foundation and lets overlays merge before compilation.
struct DictionarySource: Sendable {
    /// One `<field>`, `<group>` or `<component>` reference inside a message, component or group.
    struct Member: Sendable {
        enum Kind: Sendable { case field, group, component }
        var kind: Kind
        var name: String
        var required: Bool
        var members: [Member]
        var line: Int
    }

    struct Value: Sendable {
        var value: String
        var description: String
    }

    struct Field: Sendable {
        var number: Int
        var name: String
        var type: String?
        var values: [Value]
        var line: Int
    }

    struct Message: Sendable {
        var name: String
        var msgType: String
        var category: String
        var members: [Member]
        var line: Int
    }

    struct Component: Sendable {
        var name: String
        var members: [Member]
        var line: Int
    }

    var file: String
    var type: String = "FIX"
    var major: Int = 0
    var minor: Int = 0
    var servicePack: Int = 0
    var header: [Member] = []
    var trailer: [Member] = []
    var messages: [Message] = []
    var components: [Component] = []
    var fields: [Field] = []
    /// For an overlay: the identifier of the dictionary it extends (`FIX.4.4`), if it names one.
    var base: String?

    /// The identifier a compiled dictionary gets: `FIX.4.4`, `FIXT.1.1`, `FIX.5.0SP2`.
    var identifier: String {
        var text = "\(type).\(major).\(minor)"
        if servicePack > 0 { text += "SP\(servicePack)" }
        return text
    }

    /// This dictionary with an overlay's additions: new fields, new enum values (and types) for
    /// existing fields, new header and trailer members, new components, new messages and new
    /// members of existing messages and components.
    func applying(_ overlay: DictionarySource) throws(FIXDictionaryError) -> DictionarySource {
        if let base = overlay.base, base != identifier {
            throw FIXDictionaryError(.versionMismatch(expected: base, found: identifier), file: overlay.file, line: 1)
        }
        var result = self
        var fieldIndexByNumber: [Int: Int] = [:]
        var fieldIndexByName: [String: Int] = [:]
        for (index, field) in result.fields.enumerated() {
            fieldIndexByNumber[field.number] = index
            fieldIndexByName[field.name] = index
        }
        for field in overlay.fields {
            if let index = fieldIndexByNumber[field.number] ?? fieldIndexByName[field.name] {
                if let type = field.type { result.fields[index].type = type }
                let known = Set(result.fields[index].values.map(\.value))
                result.fields[index].values += field.values.filter { !known.contains($0.value) }
            } else {
                fieldIndexByNumber[field.number] = result.fields.count
                fieldIndexByName[field.name] = result.fields.count
                result.fields.append(field)
            }
        }
        result.header += overlay.header
        result.trailer += overlay.trailer
        for component in overlay.components {
            if let index = result.components.firstIndex(where: { $0.name == component.name }) {
                result.components[index].members += component.members
            } else {
                result.components.append(component)
            }
        }
        for message in overlay.messages {
            if let index = result.messages.firstIndex(where: { $0.msgType == message.msgType }) {
                result.messages[index].members += message.members
            } else {
                result.messages.append(message)
            }
        }
        return result
    }
}
