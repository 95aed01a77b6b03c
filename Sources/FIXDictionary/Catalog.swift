import FIXTagValue

/// The dictionaries that describe one message: `transport` for header, trailer and session
/// messages, `application` for application message bodies. Before FIX 5.0 both are the same.
public struct FIXDictionarySelection: Sendable {
    public let transport: FIXDictionary
    public let application: FIXDictionary

    public init(transport: FIXDictionary, application: FIXDictionary) {
        self.transport = transport
        self.application = application
    }

    /// The dictionary describing the body of messages of `msgType`: the transport one for
    /// session messages it defines, the application one otherwise.
    public func bodyDictionary(msgType: String) -> FIXDictionary {
        transport !== application && transport.message(msgType: msgType) != nil ? transport : application
    }
}

/// A set of loaded dictionaries and the rule that picks the ones for a message: BeginString
/// for FIX 4.x; for FIXT.1.1 the FIXT transport dictionary plus the application dictionary named
/// by the message's ApplVerID(1128), else by the session's DefaultApplVerID(1137).
///
/// ```swift
/// let catalog = FIXDictionaryCatalog([fixt11, fix50sp2, fix44])
/// let selection = catalog.select(beginString: "FIXT.1.1", applVerID: "9")
/// selection?.application.identifier          // "FIX.5.0SP2"
/// ```
public struct FIXDictionaryCatalog: Sendable {
    public let dictionaries: [FIXDictionary]

    public init(_ dictionaries: [FIXDictionary]) {
        self.dictionaries = dictionaries
    }

    /// The dictionary with `identifier` (`FIX.4.4`, `FIX.5.0SP2`, `FIXT.1.1`).
    public func dictionary(identifier: String) -> FIXDictionary? {
        dictionaries.first { $0.identifier == identifier }
    }

    /// The application dictionary for an ApplVerID given as its code (`9`), its identifier
    /// (`FIX.5.0SP2`) or its file stem (`FIX50SP2`).
    public func applicationDictionary(applVerID: String) -> FIXDictionary? {
        Self.applicationIdentifier(applVerID: applVerID).flatMap { dictionary(identifier: $0) }
    }

    /// Picks the dictionaries for a message; nil when a needed dictionary is not in the catalog.
    public func select(beginString: String, applVerID: String? = nil, defaultApplVerID: String? = nil)
        -> FIXDictionarySelection?
    {
        guard let session = dictionary(identifier: beginString) else { return nil }
        guard session.isTransport else { return FIXDictionarySelection(transport: session, application: session) }
        guard let version = applVerID ?? defaultApplVerID else {
            return FIXDictionarySelection(transport: session, application: session)
        }
        guard let application = applicationDictionary(applVerID: version) else { return nil }
        return FIXDictionarySelection(transport: session, application: application)
    }

    /// Picks the dictionaries for `message` from its BeginString(8) and ApplVerID(1128).
    public func select(_ message: FIXMessage, defaultApplVerID: String? = nil) -> FIXDictionarySelection? {
        var iterator = message.makeIterator()
        guard let first = iterator.next(), first.tag == 8 else { return nil }
        let beginString = first.value.string
        guard let session = dictionary(identifier: beginString) else { return nil }
        var applVerID: String?
        // ApplVerID is a header field: stop at the first field the header cannot hold.
        while let field = iterator.next() {
            if field.tag == 1128 {
                applVerID = field.value.string
                break
            }
            if field.tag != 9 && field.tag != 35 && !session.isHeaderField(field.tag) { break }
        }
        return select(beginString: beginString, applVerID: applVerID, defaultApplVerID: defaultApplVerID)
    }

    /// `9`, `FIX.5.0SP2` or `FIX50SP2` → `FIX.5.0SP2`.
    public static func applicationIdentifier(applVerID: String) -> String? {
        if let entry = FIXDictionary.applVerIDs.first(where: { $0.code == applVerID || $0.identifier == applVerID }) {
            return entry.identifier
        }
        return FIXDictionary.applVerIDs.first { fileStem(identifier: $0.identifier) == applVerID }?.identifier
    }

    /// The standard file name of a dictionary: `FIX.4.4` → `FIX44.xml`, `FIXT.1.1` → `FIXT11.xml`.
    public static func fileName(identifier: String) -> String {
        fileStem(identifier: identifier) + ".xml"
    }

    static func fileStem(identifier: String) -> String {
        String(identifier.filter { $0 != "." })
    }
}
