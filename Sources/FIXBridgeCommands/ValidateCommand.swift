import ArgumentParser
import FIXDictionary
import FIXTagValue

/// `fixbridge validate FILE…`: checks every message of captures against FIX dictionaries and
/// lists the invalid ones with the SessionRejectReason(373) a counterparty would send.
public struct ValidateCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Validate the messages of FIX captures against FIX dictionaries.",
        discussion: """
            Each message is checked against the dictionary its BeginString selects (for FIXT.1.1, \
            FIXT11 for the header and session messages, and the application dictionary its \
            ApplVerID(1128) names, else the DefaultApplVerID(1137) of the last Logon in the file, \
            else --default-appl-ver-id). Dictionaries come from the shipped Specs/dictionaries \
            folder (FIXBRIDGE_SPECS overrides where it is). Every invalid message is listed with \
            file, byte offset, line, MsgSeqNum, reason code and text, and tag; the exit status is 1 \
            if there was any. CompID and SendingTime checks need a live session and are not made.
            """
    )

    @Argument(help: "Capture files ('-' for standard input).")
    var files: [String]

    @Option(name: .customLong("dict"), help: "A QuickFIX-format dictionary to use instead of the shipped one of its version.")
    var dictionary: String?

    @Option(name: .customLong("overlay"), help: "A venue overlay file (repeatable).")
    var overlays: [String] = []

    @Option(name: .customLong("default-appl-ver-id"), help: "DefaultApplVerID for FIXT.1.1 messages without ApplVerID (e.g. 9 or FIX.5.0SP2).")
    var defaultApplVerID: String?

    @Flag(name: .long, help: "One JSON object per invalid message.")
    var json = false

    @Flag(name: .customLong("no-order-check"), help: "ValidateFieldsOutOfOrder=N.")
    var noOrderCheck = false

    @Flag(name: .customLong("allow-empty-values"), help: "ValidateFieldsHaveValues=N.")
    var allowEmptyValues = false

    @Flag(name: .customLong("no-user-defined-check"), help: "ValidateUserDefinedFields=N.")
    var noUserDefinedCheck = false

    @Flag(name: .customLong("allow-unknown-fields"), help: "AllowUnknownMsgFields=Y.")
    var allowUnknownFields = false

    public init() {}

    /// Counts of one run.
    public struct Summary: Equatable, Sendable {
        public var messages = 0
        public var invalid = 0
    }

    public func run() throws {
        var out = OutputBuffer()
        let summary = try check(to: &out)
        out.flush()
        warn("\(summary.messages) messages, \(summary.invalid) invalid")
        if summary.invalid > 0 { throw ExitCode(1) }
    }

    var options: FIXValidationOptions {
        var options = FIXValidationOptions()
        options.validateFieldsOutOfOrder = !noOrderCheck
        options.validateFieldsHaveValues = !allowEmptyValues
        options.validateUserDefinedFields = !noUserDefinedCheck
        options.allowUnknownMsgFields = allowUnknownFields
        return options
    }

    /// Validates every file, writing one line (or JSON object) per invalid message to `out`.
    public func check(to out: inout OutputBuffer) throws -> Summary {
        let locator: DictionaryLocator
        do {
            locator = try DictionaryLocator(dictionaryFile: dictionary, overlays: overlays)
        } catch {
            throw ValidationError("\(error)")
        }
        var checker = MessageChecker(locator: locator, options: options, defaultApplVerID: defaultApplVerID)
        var summary = Summary()
        for file in files {
            let capture: CaptureFile
            do {
                capture = try CaptureFile(path: file)
            } catch {
                throw ValidationError("\(error)")
            }
            checker.startCapture()
            try capture.read { event in
                switch event {
                case .error(let error):
                    summary.invalid += 1
                    report(&out, file: file, offset: Int64(error.error.offset), line: error.line, seqNum: nil,
                           msgType: nil, problem: .garbled("\(error.error)"))
                case .message(let message):
                    summary.messages += 1
                    if let failure = checker.check(message) {
                        summary.invalid += 1
                        report(&out, file: file, offset: message.offset, line: message.line, seqNum: failure.seqNum,
                               msgType: failure.msgType, problem: failure.problem)
                    }
                }
            }
        }
        return summary
    }

    typealias Problem = MessageChecker.Problem

    func report(_ out: inout OutputBuffer, file: String, offset: Int64, line: Int, seqNum: Int?, msgType: String?,
                problem: Problem)
    {
        if json {
            var text = "{\"file\":" + JSONText.string(file) + ",\"offset\":\(offset),\"line\":\(line)"
            text += ",\"msgSeqNum\":" + (seqNum.map { "\($0)" } ?? "null")
            text += ",\"msgType\":" + (msgType.map { JSONText.string($0) } ?? "null")
            switch problem {
            case .reject(let reject, let tagName, let messageName):
                text += ",\"messageName\":" + (messageName.map { JSONText.string($0) } ?? "null")
                text += ",\"reason\":\(reject.reason.rawValue),\"text\":" + JSONText.string(reject.reason.text)
                text += ",\"tag\":" + (reject.refTagID.map { "\($0)" } ?? "null")
                text += ",\"tagName\":" + (tagName.map { JSONText.string($0) } ?? "null")
                text += ",\"fieldOffset\":" + (reject.offset.map { "\(offset + Int64($0))" } ?? "null")
            case .garbled(let why):
                text += ",\"reason\":null,\"text\":" + JSONText.string("garbled: " + why) + ",\"tag\":null"
            case .noDictionary(let why):
                text += ",\"reason\":null,\"text\":" + JSONText.string(why) + ",\"tag\":null"
            }
            out.write(text + "}\n")
            return
        }
        out.write(MessageChecker.describe(file: file, offset: offset, line: line, seqNum: seqNum, msgType: msgType,
                                          problem: problem) + "\n")
    }
}

/// Checks messages one at a time against the dictionary each one's version selects (FIXT.1.1:
/// FIXT11 plus the application dictionary of ApplVerID, else the DefaultApplVerID of the last
/// Logon of the capture, else the configured default). Shared by `validate` and `replay`.
struct MessageChecker {
    enum Problem {
        case reject(FIXReject, tagName: String?, messageName: String?)
        case garbled(String)
        case noDictionary(String)
    }

    /// Why a message is invalid, with what identifies it.
    struct Failure {
        let problem: Problem
        let seqNum: Int?
        let msgType: String?
    }

    let locator: DictionaryLocator
    let options: FIXValidationOptions
    let defaultApplVerID: String?
    private var logonDefault: String?
    private var validators: [ObjectIdentifier: FIXValidator] = [:]

    init(locator: DictionaryLocator, options: FIXValidationOptions, defaultApplVerID: String?) {
        self.locator = locator
        self.options = options
        self.defaultApplVerID = defaultApplVerID
    }

    /// One line for an invalid message: file, line, byte offset, MsgSeqNum, MsgType, reason and tag.
    static func describe(file: String, offset: Int64, line: Int, seqNum: Int?, msgType: String?, problem: Problem) -> String {
        var text = "\(file):\(line): byte \(offset)"
        if let seqNum { text += ", MsgSeqNum \(seqNum)" }
        if let msgType { text += ", MsgType \(msgType)" }
        switch problem {
        case .reject(let reject, let tagName, let messageName):
            if let messageName { text += " (\(messageName))" }
            text += ": 373=\(reject.reason.rawValue) \(reject.reason.text)"
            if let tag = reject.refTagID {
                text += ", tag \(tag)"
                if let tagName { text += " (\(tagName))" }
            }
            if let fieldOffset = reject.offset { text += " at byte \(offset + Int64(fieldOffset))" }
        case .garbled(let why):
            text += ": garbled: \(why)"
        case .noDictionary(let why):
            text += ": \(why)"
        }
        return text
    }

    /// A new capture: the DefaultApplVerID learnt from the last one's Logon no longer holds.
    mutating func startCapture() { logonDefault = nil }

    /// Nil when the message is valid.
    mutating func check(_ message: CaptureMessage) -> Failure? {
        let plain = message.view()
        let selection: FIXDictionarySelection
        do {
            selection = try locator.selection(for: plain, defaultApplVerID: defaultApplVerID ?? logonDefault)
        } catch {
            return Failure(problem: .noDictionary("\(error)"), seqNum: plain.first(34)?.int, msgType: plain.msgType?.string)
        }
        let view = message.view(dataFields: selection.application.dataFields)
        if view.msgType?.equals("A") == true, let value = view.first(1137) {
            logonDefault = value.string
        }
        let key = ObjectIdentifier(selection.application)
        let validator: FIXValidator
        if let existing = validators[key], existing.transport === selection.transport {
            validator = existing
        } else {
            validator = FIXValidator(transport: selection.transport, application: selection.application, options: options)
            validators[key] = validator
        }
        guard let reject = validator.validate(view) else { return nil }
        let body = selection.bodyDictionary(msgType: reject.refMsgType)
        let tagName = reject.refTagID.flatMap { body.fieldName($0) ?? selection.transport.fieldName($0) }
        return Failure(problem: .reject(reject, tagName: tagName, messageName: body.messageName(msgType: reject.refMsgType)),
                       seqNum: reject.refSeqNum, msgType: reject.refMsgType)
    }
}
