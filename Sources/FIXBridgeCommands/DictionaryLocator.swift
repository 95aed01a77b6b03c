import FIXDictionary
import FIXTagValue
import Foundation

/// Finds and loads the dictionaries the CLI uses, and picks the ones for each message.
///
/// Without a `--dict` file, dictionaries come from the project's `Specs/dictionaries/` folder,
/// found in this order: the `FIXBRIDGE_SPECS` environment variable (the `Specs` folder or its
/// `dictionaries` subfolder); a `Specs/dictionaries` folder in the executable's directory or any
/// parent of it (a build inside the checkout, or an install with `share`-style layout beside the
/// binary); the same search from the current directory. Each file is loaded once, when a message
/// first needs it.
///
/// ```swift
/// let locator = try DictionaryLocator()
/// view.withMessage { message in
///     if let selection = try locator.selection(for: message) {
///         print(selection.application.messageName(msgType: "8") ?? "")
///     }
/// }
/// ```
public final class DictionaryLocator {
    public static let specsEnvironmentVariable = "FIXBRIDGE_SPECS"

    /// The folder holding FIX40.xml … FIXT11.xml, or nil when none was found.
    public let dictionariesDirectory: String?
    /// A dictionary file that replaces the standard one for its version (`--dict`).
    public let dictionaryFile: String?
    /// Overlays applied to `dictionaryFile`, or without one to each application dictionary used.
    public let overlays: [String]

    private var loaded: [String: FIXDictionary] = [:]
    private var custom: FIXDictionary?

    public struct LocatorError: Error, CustomStringConvertible {
        public let description: String
    }

    /// - Parameters:
    ///   - dictionaryFile: a QuickFIX-format dictionary to use instead of the shipped one of its version.
    ///   - overlays: venue overlay files.
    ///   - dictionariesDirectory: where the standard dictionaries are; nil searches as described above.
    public init(dictionaryFile: String? = nil, overlays: [String] = [], dictionariesDirectory: String? = nil) throws {
        self.dictionaryFile = dictionaryFile
        self.overlays = overlays
        self.dictionariesDirectory = dictionariesDirectory ?? Self.findDictionariesDirectory()
        if let dictionaryFile {
            do {
                custom = try FIXDictionary(contentsOfFile: dictionaryFile, overlays: overlays)
            } catch {
                throw LocatorError(description: "\(error)")
            }
        }
    }

    /// The standard dictionaries folder, searched as described in the type's discussion.
    public static func findDictionariesDirectory(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        executablePath: String? = Bundle.main.executablePath,
        currentDirectory: String = FileManager.default.currentDirectoryPath
    ) -> String? {
        let fileManager = FileManager.default
        func hasDictionaries(_ path: String) -> Bool {
            fileManager.fileExists(atPath: (path as NSString).appendingPathComponent("FIX44.xml"))
        }
        if let specs = environment[specsEnvironmentVariable], !specs.isEmpty {
            let nested = (specs as NSString).appendingPathComponent("dictionaries")
            if hasDictionaries(nested) { return nested }
            if hasDictionaries(specs) { return specs }
        }
        var starts: [String] = []
        if let executablePath {
            let resolved = (executablePath as NSString).resolvingSymlinksInPath
            starts.append((resolved as NSString).deletingLastPathComponent)
        }
        starts.append(currentDirectory)
        for start in starts {
            var directory = start
            while true {
                let candidate = ((directory as NSString).appendingPathComponent("Specs") as NSString)
                    .appendingPathComponent("dictionaries")
                if hasDictionaries(candidate) { return candidate }
                let parent = (directory as NSString).deletingLastPathComponent
                if parent == directory || parent.isEmpty { break }
                directory = parent
            }
        }
        return nil
    }

    /// The dictionary with `identifier` (`FIX.4.4`, `FIX.5.0SP2`, `FIXT.1.1`): the `--dict` one
    /// when it has that identifier, else the standard file (with overlays for application ones).
    public func dictionary(identifier: String) throws -> FIXDictionary {
        if let custom, custom.identifier == identifier { return custom }
        if let dictionary = loaded[identifier] { return dictionary }
        guard let directory = dictionariesDirectory else {
            throw LocatorError(description: "no dictionaries folder found: set \(Self.specsEnvironmentVariable) "
                + "to the Specs folder or pass --dict")
        }
        let path = (directory as NSString).appendingPathComponent(FIXDictionaryCatalog.fileName(identifier: identifier))
        guard FileManager.default.fileExists(atPath: path) else {
            throw LocatorError(description: "no dictionary for \(identifier) (\(path))")
        }
        let isTransport = identifier.hasPrefix("FIXT.")
        do {
            let dictionary = try FIXDictionary(contentsOfFile: path,
                                               overlays: isTransport || custom != nil ? [] : overlays)
            loaded[identifier] = dictionary
            return dictionary
        } catch {
            throw LocatorError(description: "\(error)")
        }
    }

    /// The dictionaries for a message, from its BeginString(8) and ApplVerID(1128), falling back
    /// to `defaultApplVerID` (code `9` or name `FIX.5.0SP2`) on FIXT sessions.
    public func selection(for message: FIXMessage, defaultApplVerID: String? = nil) throws -> FIXDictionarySelection {
        var iterator = message.makeIterator()
        guard let first = iterator.next(), first.tag == 8 else {
            throw LocatorError(description: "message does not start with BeginString(8)")
        }
        let beginString = first.value.string
        var applVerID: String?
        var fieldsRead = 0
        while let field = iterator.next(), fieldsRead < Self.headerFieldsScannedMax {
            if field.tag == 1128 {
                applVerID = field.value.string
                break
            }
            fieldsRead += 1
        }
        if beginString == "FIXT.1.1", applVerID == nil, defaultApplVerID == nil, custom?.isTransport ?? true,
           let msgType = message.msgType?.string {
            // Session messages need only the transport dictionary.
            let transport = try dictionary(identifier: "FIXT.1.1")
            if transport.message(msgType: msgType) != nil {
                return FIXDictionarySelection(transport: transport, application: transport)
            }
        }
        return try selection(beginString: beginString, applVerID: applVerID, defaultApplVerID: defaultApplVerID)
    }

    /// ApplVerID(1128) is looked for among this many fields after BeginString.
    public static let headerFieldsScannedMax = 32

    /// The dictionaries for a BeginString and (on FIXT) an ApplVerID or DefaultApplVerID.
    public func selection(beginString: String, applVerID: String?, defaultApplVerID: String?) throws
        -> FIXDictionarySelection
    {
        if let custom, custom.beginString == beginString, !custom.isTransport, custom.applVerID != nil,
           beginString != "FIXT.1.1" {
            return FIXDictionarySelection(transport: custom, application: custom)
        }
        if beginString != "FIXT.1.1" {
            let session = try dictionary(identifier: beginString)
            return FIXDictionarySelection(transport: session, application: session)
        }
        let transport = try dictionary(identifier: "FIXT.1.1")
        let version = applVerID ?? defaultApplVerID
        if version == nil, let custom, !custom.isTransport {
            return FIXDictionarySelection(transport: transport, application: custom)
        }
        guard let version, let identifier = FIXDictionaryCatalog.applicationIdentifier(applVerID: version) else {
            throw LocatorError(description: "FIXT.1.1 message without a known ApplVerID(1128) or DefaultApplVerID "
                + "(got \(applVerID ?? defaultApplVerID ?? "none"))")
        }
        return FIXDictionarySelection(transport: transport, application: try dictionary(identifier: identifier))
    }
}
