import FIXTagValue

/// A FIX data dictionary: fields, enumerated values, header, trailer, messages, components and
/// repeating groups, compiled into O(1) lookup tables for names and for validation.
///
/// Load one in QuickFIX's XML format (the project ships the standard ones in
/// `Specs/dictionaries/`), optionally with venue overlays, then ask it for names or hand it to a
/// `FIXValidator`. A dictionary is immutable and can be shared between threads.
///
/// ```swift
/// let fix44 = try FIXDictionary(contentsOfFile: "Specs/dictionaries/FIX44.xml")
/// fix44.fieldName(54)                          // "Side"
/// fix44.valueDescription(tag: 54, value: "1")  // "BUY"
/// fix44.messageName(msgType: "8")              // "ExecutionReport"
/// ```
public final class FIXDictionary: Sendable {
    /// Field numbers above this are refused: the tag table is a flat array indexed by tag.
    public static let fieldTagMax = 999_999
    /// Components may include components this deep; deeper is taken to be a cycle.
    public static let componentDepthMax = 64
    /// Repeating groups may nest this deep in a dictionary (and so in a validated message).
    public static let groupDepthMax = 16

    /// `FIX.4.4`, `FIX.5.0SP2`, `FIXT.1.1`: the dictionary's own version name.
    public let identifier: String
    /// The BeginString(8) of messages this dictionary describes (`FIXT.1.1` for FIX 5.0 and later).
    public let beginString: String
    /// The ApplVerID(1128) value for an application dictionary (`"9"` for FIX 5.0 SP2), nil for FIXT.
    public let applVerID: String?
    /// True for a transport dictionary (FIXT.1.1): it holds the header, trailer and session messages.
    public let isTransport: Bool
    /// Header and trailer members, in dictionary order.
    public let header: [FIXMemberDefinition]
    public let trailer: [FIXMemberDefinition]
    /// Messages in dictionary order.
    public let messages: [FIXMessageDefinition]
    /// Components by name, members resolved (a component used in several messages is one value).
    public let components: [String: [FIXMemberDefinition]]
    /// Fields sorted by tag.
    public let fields: [FIXFieldDefinition]
    /// The data-field pairs of this dictionary (LENGTH field followed by its DATA field) added to
    /// the standard ones: pass it to `FIXMessage(unchecked:dataFields:)` for venue data fields.
    public let dataFields: FIXDataFields

    // Compiled tables, see Tables.swift.
    let fieldIndexByTag: [Int32]
    let fieldChecks: [FieldCheck]
    let enumTable: ByteKeyTable
    let msgTypeTable: ByteKeyTable
    let messageScopes: [Int32]
    let scopes: [Scope]
    let members: MemberTable
    let headerScope: Int32
    let trailerScope: Int32
    let fieldIndexByName: [String: Int32]
    /// Per field index: 1 for a direct header member, 2 for a trailer member, 0 otherwise.
    let topSections: [UInt8]
    /// The same tables as raw memory, for the validator's hot loop.
    let storage: TableStorage

    struct FieldCheck: Sendable {
        var format: FIXFieldType.Format
        var hasValues: Bool
        var isMultipleValue: Bool
        /// When every enumerated value is one ASCII byte (most CHAR fields): the allowed bytes as a
        /// 128-bit set, so the check is a bit test instead of a hash lookup.
        var singleByteValues: Bool
        var lowBytes: UInt64
        var highBytes: UInt64
    }

    struct Scope: Sendable {
        var name: String
        /// The NumInGroup tag for a group scope, 0 for header, trailer and message bodies.
        var countTag: Int
        /// Field index of the delimiter (first member) of a group, -1 otherwise.
        var delimiter: Int32
        /// Required field indices, sorted by tag (QuickFIX reports the lowest missing tag).
        var required: [Int32]
        var requiredTags: [Int]
        /// Member field indices in order (group counts included, group members not).
        var order: [Int32]
    }

    init(source: DictionarySource) throws(FIXDictionaryError) {
        var compiler = DictionaryCompiler(source: source)
        try compiler.compile()
        identifier = source.identifier
        isTransport = source.type == "FIXT"
        beginString = source.major >= 5 && !isTransport ? "FIXT.1.1" : "\(source.type).\(source.major).\(source.minor)"
        applVerID = isTransport ? nil : Self.applVerID(forIdentifier: identifier)
        header = compiler.headerMembers
        trailer = compiler.trailerMembers
        messages = compiler.messageDefinitions
        components = compiler.resolvedComponents
        fields = compiler.fieldDefinitions
        fieldIndexByTag = compiler.fieldIndexByTag
        fieldChecks = compiler.fieldChecks
        enumTable = compiler.enumTable
        msgTypeTable = compiler.msgTypeTable
        messageScopes = compiler.messageScopes
        scopes = compiler.scopes
        members = compiler.members
        headerScope = compiler.headerScope
        trailerScope = compiler.trailerScope
        fieldIndexByName = compiler.fieldIndexByName
        var sections = [UInt8](repeating: 0, count: compiler.fieldDefinitions.count)
        for index in compiler.scopes[Int(compiler.headerScope)].order { sections[Int(index)] = 1 }
        for index in compiler.scopes[Int(compiler.trailerScope)].order { sections[Int(index)] = 2 }
        topSections = sections
        storage = TableStorage(fieldIndexByTag: compiler.fieldIndexByTag,
                               fieldTags: compiler.fieldDefinitions.map(\.tag), checks: compiler.fieldChecks,
                               topSections: sections, members: compiler.members, enums: compiler.enumTable,
                               msgTypes: compiler.msgTypeTable, messageScopes: compiler.messageScopes,
                               scopes: compiler.scopes, headerScope: compiler.headerScope,
                               trailerScope: compiler.trailerScope)
        var pairs = FIXDataFields.standard.pairs
        for pair in compiler.dataPairs where !pairs.contains(where: { $0.lengthTag == pair.lengthTag }) {
            pairs.append(pair)
        }
        dataFields = FIXDataFields(pairs: pairs)
    }

    /// ApplVerID(1128) codes of the application versions.
    static let applVerIDs: [(identifier: String, code: String)] = [
        ("FIX.2.7", "0"), ("FIX.3.0", "1"), ("FIX.4.0", "2"), ("FIX.4.1", "3"), ("FIX.4.2", "4"),
        ("FIX.4.3", "5"), ("FIX.4.4", "6"), ("FIX.5.0", "7"), ("FIX.5.0SP1", "8"), ("FIX.5.0SP2", "9"),
    ]

    static func applVerID(forIdentifier identifier: String) -> String? {
        applVerIDs.first { $0.identifier == identifier }?.code
    }

    // MARK: Lookups

    @inline(__always)
    func fieldIndex(_ tag: Int) -> Int32 {
        guard tag >= 0 && tag < fieldIndexByTag.count else { return -1 }
        return fieldIndexByTag.withUnsafeBufferPointer { $0[tag] }
    }

    /// The definition of `tag`, or nil when the dictionary does not define it.
    public func field(_ tag: Int) -> FIXFieldDefinition? {
        let index = fieldIndex(tag)
        return index < 0 ? nil : fields[Int(index)]
    }

    /// The field name of `tag` (`54` → `"Side"`), or nil.
    public func fieldName(_ tag: Int) -> String? { field(tag)?.name }

    /// The tag of the field called `name` (`"Side"` → 54), or nil.
    public func tag(forFieldNamed name: String) -> Int? {
        fieldIndexByName[name].map { fields[Int($0)].tag }
    }

    /// The description of an enumerated value (`54`, `"1"` → `"BUY"`), or nil when the field has
    /// no such value. For MsgType(35) the message name is returned.
    public func valueDescription(tag: Int, value: String) -> String? {
        var value = value
        return value.withUTF8 { valueDescription(tag: tag, bytes: UnsafeRawBufferPointer($0)) }
    }

    /// As `valueDescription(tag:value:)`, reading the value in place.
    public func valueDescription(tag: Int, value: FIXValue) -> String? {
        valueDescription(tag: tag, bytes: value.bytes)
    }

    func valueDescription(tag: Int, bytes: UnsafeRawBufferPointer) -> String? {
        if tag == 35, let index = msgTypeTable.lookup(owner: 0, bytes.baseAddress, bytes.count) {
            return messages[Int(index)].name
        }
        let index = fieldIndex(tag)
        guard index >= 0, let value = enumTable.lookup(owner: index, bytes.baseAddress, bytes.count) else {
            return nil
        }
        return fields[Int(index)].values[Int(value)].description
    }

    /// The message definition for a MsgType(35) value, or nil.
    public func message(msgType: String) -> FIXMessageDefinition? {
        var text = msgType
        let index = text.withUTF8 { msgTypeTable.lookup(owner: 0, $0.baseAddress, $0.count) }
        return index.map { messages[Int($0)] }
    }

    /// The message name for a MsgType(35) value (`"8"` → `"ExecutionReport"`), or nil.
    public func messageName(msgType: String) -> String? { message(msgType: msgType)?.name }

    /// True when `tag` is a header field (group members of header groups included).
    public func isHeaderField(_ tag: Int) -> Bool { isMember(tag, of: headerScope) }

    /// True when `tag` is a trailer field.
    public func isTrailerField(_ tag: Int) -> Bool { isMember(tag, of: trailerScope) }

    func isMember(_ tag: Int, of scope: Int32) -> Bool {
        let index = fieldIndex(tag)
        guard index >= 0 else { return false }
        if members.lookup(scope: scope, field: index) != nil { return true }
        for member in scopes[Int(scope)].order {
            if let child = members.lookup(scope: scope, field: member)?.child, child >= 0,
               isMember(tag, of: child) {
                return true
            }
        }
        return false
    }

    @inline(__always)
    func messageScope(_ p: UnsafeRawPointer?, _ count: Int) -> Int32 {
        guard let index = msgTypeTable.lookup(owner: 0, p, count) else { return -1 }
        return messageScopes.withUnsafeBufferPointer { $0[Int(index)] }
    }
}

/// Turns a `DictionarySource` into the tables; every name is resolved here, with the line of the
/// element that names it when it cannot be.
struct DictionaryCompiler {
    let source: DictionarySource
    var fieldDefinitions: [FIXFieldDefinition] = []
    var fieldIndexByTag: [Int32] = []
    var fieldIndexByName: [String: Int32] = [:]
    var fieldChecks: [FIXDictionary.FieldCheck] = []
    var enumTable = ByteKeyTable(capacity: 64)
    var msgTypeTable = ByteKeyTable(capacity: 64)
    var messageDefinitions: [FIXMessageDefinition] = []
    var messageScopes: [Int32] = []
    var scopes: [FIXDictionary.Scope] = []
    var members = MemberTable()
    var headerScope: Int32 = -1
    var trailerScope: Int32 = -1
    var headerMembers: [FIXMemberDefinition] = []
    var trailerMembers: [FIXMemberDefinition] = []
    var dataPairs: [(lengthTag: Int, dataTag: Int)] = []
    private var components: [String: DictionarySource.Component] = [:]
    /// Each component is resolved once; every use shares the same member array.
    private(set) var resolvedComponents: [String: [FIXMemberDefinition]] = [:]
    /// A group inside a component is the same wherever the component is used: one scope for all
    /// (FIX 5.0 SP2 would otherwise compile hundreds of thousands of member entries).
    private var sharedGroupScopes: [String: Int32] = [:]

    init(source: DictionarySource) {
        self.source = source
    }

    private func error(_ kind: FIXDictionaryError.Kind, line: Int) -> FIXDictionaryError {
        FIXDictionaryError(kind, file: source.file, line: line)
    }

    mutating func compile() throws(FIXDictionaryError) {
        try compileFields()
        for component in source.components {
            components[component.name] = component
        }
        // Every component is resolved, used or not, so that a broken one is reported.
        for component in source.components where resolvedComponents[component.name] == nil {
            resolvedComponents[component.name] = try resolve(component.members, path: [component.name])
        }
        headerMembers = try resolve(source.header, path: [])
        trailerMembers = try resolve(source.trailer, path: [])
        headerScope = addScope(name: "header", countTag: 0, headerMembers)
        trailerScope = addScope(name: "trailer", countTag: 0, trailerMembers)
        for message in source.messages {
            let resolved = try resolve(message.members, path: [])
            let index = Int32(messageDefinitions.count)
            guard msgTypeTable.insert(owner: 0, key: Array(message.msgType.utf8), payload: index) else {
                throw error(.duplicateMessage(message.msgType), line: message.line)
            }
            messageDefinitions.append(FIXMessageDefinition(name: message.name, msgType: message.msgType,
                                                           category: message.category, members: resolved))
            messageScopes.append(addScope(name: message.name, countTag: 0, resolved))
        }
    }

    private mutating func compileFields() throws(FIXDictionaryError) {
        let below42 = source.type == "FIX" && source.major == 4 && source.minor < 2
        var sorted = source.fields
        sorted.sort { $0.number < $1.number }
        var maxTag = 0
        for field in sorted {
            guard field.number >= 1 && field.number <= FIXDictionary.fieldTagMax else {
                throw error(.invalidAttribute(element: "field", attribute: "number", value: "\(field.number)"),
                            line: field.line)
            }
            maxTag = max(maxTag, field.number)
        }
        fieldIndexByTag = Array(repeating: -1, count: maxTag + 1)
        for field in sorted {
            guard fieldIndexByTag[field.number] < 0 else {
                throw error(.duplicateField(field.number), line: field.line)
            }
            let index = Int32(fieldDefinitions.count)
            fieldIndexByTag[field.number] = index
            fieldIndexByName[field.name] = index
            guard let typeName = field.type else {
                throw error(.missingAttribute(element: "field", attribute: "type"), line: field.line)
            }
            let type = FIXFieldType(name: typeName, beginStringBelow42: below42)
            var values: [FIXEnumValue] = []
            for value in field.values {
                if enumTable.insert(owner: index, key: Array(value.value.utf8), payload: Int32(values.count)) {
                    values.append(FIXEnumValue(value: value.value, description: value.description))
                }
            }
            fieldDefinitions.append(FIXFieldDefinition(tag: field.number, name: field.name, type: type, values: values))
            var low: UInt64 = 0
            var high: UInt64 = 0
            var singleByte = !values.isEmpty
            for value in values {
                let bytes = Array(value.value.utf8)
                guard bytes.count == 1, bytes[0] < 128 else {
                    singleByte = false
                    break
                }
                if bytes[0] < 64 { low |= 1 << UInt64(bytes[0]) } else { high |= 1 << UInt64(bytes[0] - 64) }
            }
            fieldChecks.append(FIXDictionary.FieldCheck(format: type.format, hasValues: !values.isEmpty,
                                                        isMultipleValue: type.isMultipleValue,
                                                        singleByteValues: singleByte, lowBytes: low, highBytes: high))
        }
    }

    private func tag(named name: String, line: Int) throws(FIXDictionaryError) -> Int {
        guard let index = fieldIndexByName[name] else { throw error(.undefinedField(name), line: line) }
        return fieldDefinitions[Int(index)].tag
    }

    /// Resolves names to tags and expands component references, refusing cycles.
    private mutating func resolve(_ sourceMembers: [DictionarySource.Member], path: [String])
        throws(FIXDictionaryError) -> [FIXMemberDefinition]
    {
        var result: [FIXMemberDefinition] = []
        for member in sourceMembers {
            switch member.kind {
            case .field:
                result.append(.field(tag: try tag(named: member.name, line: member.line), required: member.required))
            case .group:
                let countTag = try tag(named: member.name, line: member.line)
                let inner = try resolve(member.members, path: path)
                guard let delimiter = Self.firstTag(inner) else {
                    throw error(.emptyGroup(member.name), line: member.line)
                }
                result.append(.group(FIXGroupDefinition(countTag: countTag, delimiterTag: delimiter,
                                                        required: member.required, members: inner)))
            case .component:
                guard let component = components[member.name] else {
                    throw error(.undefinedComponent(member.name), line: member.line)
                }
                guard !path.contains(member.name), path.count < FIXDictionary.componentDepthMax else {
                    throw error(.componentCycle(member.name), line: member.line)
                }
                let inner: [FIXMemberDefinition]
                if let resolved = resolvedComponents[member.name] {
                    inner = resolved
                } else {
                    inner = try resolve(component.members, path: path + [member.name])
                    resolvedComponents[member.name] = inner
                }
                result.append(.component(name: member.name, required: member.required, members: inner))
            }
        }
        return result
    }

    private static func firstTag(_ members: [FIXMemberDefinition]) -> Int? {
        for member in members {
            switch member {
            case .field(let tag, _): return tag
            case .group(let group): return group.countTag
            case .component(_, _, let inner): if let tag = firstTag(inner) { return tag }
            }
        }
        return nil
    }

    /// Flattens members (components inline) into a new scope; groups get scopes of their own.
    private mutating func addScope(name: String, countTag: Int, _ definition: [FIXMemberDefinition],
                                   key: String? = nil) -> Int32
    {
        if let key, let shared = sharedGroupScopes[key] { return shared }
        let scope = Int32(scopes.count)
        if let key { sharedGroupScopes[key] = scope }
        scopes.append(FIXDictionary.Scope(name: name, countTag: countTag, delimiter: -1, required: [],
                                          requiredTags: [], order: []))
        var order: [Int32] = []
        var required: [Int32] = []
        var previousType: FIXFieldType?
        var previousTag = 0
        func add(_ tag: Int, child: Int32, isRequired: Bool, into compiler: inout DictionaryCompiler) {
            let index = compiler.fieldIndexByTag[tag]
            let member = ScopeMember(position: Int32(order.count), child: child)
            guard compiler.members.insert(scope: scope, field: index, member) else { return }
            order.append(index)
            if isRequired { required.append(index) }
            let type = compiler.fieldDefinitions[Int(index)].type
            if type.isData, previousType?.name == "LENGTH" {
                compiler.dataPairs.append((previousTag, tag))
            }
            previousType = type
            previousTag = tag
        }
        // `context` names where a group is declared (component, or shared group, it sits in):
        // groups with a context share their scope; groups declared in a message body do not.
        func walk(_ members: [FIXMemberDefinition], requiredContext: Bool, context: String?,
                  into compiler: inout DictionaryCompiler)
        {
            for member in members {
                switch member {
                case .field(let tag, let isRequired):
                    add(tag, child: -1, isRequired: isRequired && requiredContext, into: &compiler)
                case .group(let group):
                    let groupName = compiler.fieldDefinitions[Int(compiler.fieldIndexByTag[group.countTag])].name
                    let child = compiler.addScope(name: groupName, countTag: group.countTag, group.members,
                                                  key: context.map { "\($0)/\(group.countTag)" })
                    add(group.countTag, child: child, isRequired: group.required && requiredContext, into: &compiler)
                case .component(let name, let isRequired, let inner):
                    walk(inner, requiredContext: requiredContext && isRequired, context: name, into: &compiler)
                }
            }
        }
        walk(definition, requiredContext: true, context: key, into: &self)
        required.sort { fieldDefinitions[Int($0)].tag < fieldDefinitions[Int($1)].tag }
        scopes[Int(scope)].order = order
        scopes[Int(scope)].required = required
        scopes[Int(scope)].requiredTags = required.map { fieldDefinitions[Int($0)].tag }
        scopes[Int(scope)].delimiter = order.first ?? -1
        return scope
    }
}
