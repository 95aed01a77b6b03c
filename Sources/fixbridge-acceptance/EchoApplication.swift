import FIXDictionary
import FIXSession
import FIXTagValue
import FIXTransport
import NIOConcurrencyHelpers

/// The application the acceptance suite expects: NewOrderSingle, Email and SecurityDefinition
/// come back with a new header and the same body (written in the canonical order: body fields
/// by ascending tag, each repeating group kept whole after its count field); a NewOrderSingle
/// marked PossResend(97)=Y whose ClOrdID was already seen in this logon is dropped.
final class EchoApplication: FIXApplication, @unchecked Sendable {
    let dictionary: FIXDictionary
    /// The dictionary that defines the header (the transport dictionary on FIXT sessions).
    let headerDictionary: FIXDictionary
    /// Group count tag → every tag that may appear inside one of its entries (nested included).
    let groupMembers: [Int: Set<Int>]
    private let lock = NIOLock()
    private var seenClOrdIDs: Set<String> = []  // guarded by lock

    init(dictionary: FIXDictionary, headerDictionary: FIXDictionary? = nil) {
        self.dictionary = dictionary
        self.headerDictionary = headerDictionary ?? dictionary
        var members: [Int: Set<Int>] = [:]
        func collect(_ list: [FIXMemberDefinition]) -> Set<Int> {
            var tags: Set<Int> = []
            for member in list {
                switch member {
                case .field(let tag, _): tags.insert(tag)
                case .component(_, _, let inner): tags.formUnion(collect(inner))
                case .group(let group):
                    let inner = collect(group.members)
                    members[group.countTag] = inner
                    tags.insert(group.countTag)
                    tags.formUnion(inner)
                }
            }
            return tags
        }
        for message in dictionary.messages { _ = collect(message.members) }
        groupMembers = members
    }

    func onLogout(_ session: FIXSessionRuntime) {
        lock.withLock { seenClOrdIDs.removeAll() }
    }

    func fromApp(_ message: [UInt8], session: FIXSessionRuntime) {
        message.withUnsafeBytes { raw in
            let view = FIXMessage(unchecked: raw, dataFields: dictionary.dataFields, lenient: true)
            guard let type = view.msgType?.string else { return }
            if type == "D", let clOrdID = view.first(11)?.string {
                let possResend = view.first(97)?.bool == true
                let duplicate = lock.withLock { () -> Bool in
                    if possResend && seenClOrdIDs.contains(clOrdID) { return true }
                    seenClOrdIDs.insert(clOrdID)
                    return false
                }
                if duplicate { return }
            }
            // Body fields: everything after the header, up to the trailer.
            var items: [(tag: Int, fields: [FIXField])] = []
            var inHeader = true
            var groupTags: Set<Int>? = nil
            for field in view {
                if field.tag == 10 || field.tag == 93 || field.tag == 89 { break }
                if inHeader && (headerDictionary.isHeaderField(field.tag) || field.tag == 8 || field.tag == 9 || field.tag == 35) {
                    continue
                }
                inHeader = false
                if let inside = groupTags, inside.contains(field.tag), !items.isEmpty {
                    items[items.count - 1].fields.append(field)
                    continue
                }
                groupTags = groupMembers[field.tag]
                items.append((field.tag, [field]))
            }
            items.sort { $0.tag < $1.tag }
            // PossResend travels with the message it marks.
            let extraHeader: [(Int, [UInt8])] = view.first(97).map { [(97, Array($0.bytes))] } ?? []
            session.send(msgType: type, extraHeader: extraHeader) { body in
                for item in items {
                    for field in item.fields { body.append(field) }
                }
            }
        }
    }
}
