import FIXTagValue

extension FIXDictionary {
    /// The entries of the repeating group counted by `countTag` in `message`'s body (or header),
    /// read in place: nothing is copied. Nested groups are reached from each entry.
    ///
    /// ```swift
    /// for side in fix44.groupEntries(552, in: view) {            // NoSides of a TradeCaptureReport
    ///     let sideValue = side.first(54)?.char
    ///     for party in side.groupEntries(453) {                   // NoPartyIDs inside the side
    ///         print(party.first(448)?.string ?? "", party.first(452)?.int ?? 0)
    ///     }
    /// }
    /// ```
    public func groupEntries(_ countTag: Int, in message: FIXMessage) -> FIXGroupEntries {
        let body = message.msgType.map { messageScope($0.bytes.baseAddress, $0.count) } ?? -1
        var iterator = message.makeIterator()
        while let field = iterator.next() {
            let index = fieldIndex(field.tag)
            var scope: Int32 = -1
            if index >= 0, topSections[Int(index)] == 1 { scope = headerScope } else if body >= 0 { scope = body }
            guard scope >= 0, index >= 0, let member = members.lookup(scope: scope, field: index) else { continue }
            if field.tag == countTag {
                guard member.child >= 0 else { break }
                return FIXGroupEntries(message: message, dictionary: self, scope: member.child, iterator: iterator,
                                       declared: field.value.int ?? 0)
            }
            if member.child >= 0 { GroupWalk.skipGroup(&iterator, dictionary: self, scope: member.child) }
        }
        return FIXGroupEntries(message: message, dictionary: self, scope: -1, iterator: iterator, declared: 0)
    }
}

enum GroupWalk {
    /// Consumes the fields that belong to a group (all its entries, nested groups included) and
    /// stops before the first field that does not.
    static func skipGroup(_ iterator: inout FIXFieldIterator, dictionary: FIXDictionary, scope: Int32) {
        while true {
            var probe = iterator
            guard let field = probe.next() else { return }
            let index = dictionary.fieldIndex(field.tag)
            guard index >= 0, let member = dictionary.members.lookup(scope: scope, field: index) else { return }
            iterator = probe
            if member.child >= 0 { skipGroup(&iterator, dictionary: dictionary, scope: member.child) }
        }
    }
}

/// The entries of one repeating group, in message order. See `FIXDictionary.groupEntries(_:in:)`.
public struct FIXGroupEntries: Sequence, IteratorProtocol, @unchecked Sendable {
    let message: FIXMessage
    let dictionary: FIXDictionary
    let scope: Int32
    var iterator: FIXFieldIterator
    /// The NumInGroup value the message declares (0 when the group is absent).
    public let declared: Int

    init(message: FIXMessage, dictionary: FIXDictionary, scope: Int32, iterator: FIXFieldIterator, declared: Int) {
        self.message = message
        self.dictionary = dictionary
        self.scope = scope
        self.iterator = iterator
        self.declared = declared
    }

    public mutating func next() -> FIXGroupEntry? {
        guard scope >= 0 else { return nil }
        let delimiter = dictionary.scopes[Int(scope)].delimiter
        var probe = iterator
        guard let first = probe.next() else { return nil }
        let firstIndex = dictionary.fieldIndex(first.tag)
        guard firstIndex >= 0, let firstMember = dictionary.members.lookup(scope: scope, field: firstIndex) else {
            return nil
        }
        iterator = probe
        if firstMember.child >= 0 { GroupWalk.skipGroup(&iterator, dictionary: dictionary, scope: firstMember.child) }
        while true {
            var probe = iterator
            guard let field = probe.next() else { break }
            let index = dictionary.fieldIndex(field.tag)
            guard index >= 0, index != delimiter,
                  let member = dictionary.members.lookup(scope: scope, field: index) else { break }
            iterator = probe
            if member.child >= 0 { GroupWalk.skipGroup(&iterator, dictionary: dictionary, scope: member.child) }
        }
        let start = first.offset
        let end = iterator.offset
        return FIXGroupEntry(message: message, dictionary: dictionary, scope: scope, start: start, end: end)
    }
}

/// One entry of a repeating group: a borrowed range of the message.
///
/// `fields` visits every field of the entry, nested group fields included; `first(_:)` and
/// `groupEntries(_:)` look only at the entry's own level.
public struct FIXGroupEntry: @unchecked Sendable {
    let message: FIXMessage
    let dictionary: FIXDictionary
    let scope: Int32
    /// Byte offset of the entry's first field (its delimiter) within the message.
    public let offset: Int
    let end: Int

    init(message: FIXMessage, dictionary: FIXDictionary, scope: Int32, start: Int, end: Int) {
        self.message = message
        self.dictionary = dictionary
        self.scope = scope
        self.offset = start
        self.end = end
    }

    /// The entry's bytes as a message-like view: its fields' offsets are relative to `offset`.
    public var fields: FIXMessage {
        FIXMessage(unchecked: UnsafeRawBufferPointer(rebasing: message.bytes[offset..<end]),
                   dataFields: message.dataFields)
    }

    /// The value of `tag` at this entry's level (not inside its nested groups), or nil.
    public func first(_ tag: Int) -> FIXValue? {
        var iterator = fields.makeIterator()
        while let field = iterator.next() {
            if field.tag == tag { return field.value }
            let index = dictionary.fieldIndex(field.tag)
            if index >= 0, let member = dictionary.members.lookup(scope: scope, field: index), member.child >= 0 {
                GroupWalk.skipGroup(&iterator, dictionary: dictionary, scope: member.child)
            }
        }
        return nil
    }

    /// The entries of a group nested in this entry.
    public func groupEntries(_ countTag: Int) -> FIXGroupEntries {
        let view = fields
        var iterator = view.makeIterator()
        while let field = iterator.next() {
            let index = dictionary.fieldIndex(field.tag)
            guard index >= 0, let member = dictionary.members.lookup(scope: scope, field: index) else { continue }
            if field.tag == countTag, member.child >= 0 {
                return FIXGroupEntries(message: view, dictionary: dictionary, scope: member.child, iterator: iterator,
                                       declared: field.value.int ?? 0)
            }
            if member.child >= 0 { GroupWalk.skipGroup(&iterator, dictionary: dictionary, scope: member.child) }
        }
        return FIXGroupEntries(message: view, dictionary: dictionary, scope: -1, iterator: iterator, declared: 0)
    }
}
