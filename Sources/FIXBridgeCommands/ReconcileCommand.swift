#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import BackOfficeStore
import FIXTagValue
import Foundation
import ClientCRM
import Reconciliation
import TradeBook

/// `fixbridge reconcile`: end-of-day reconciliation of the book against outside sources.
///
/// The book is read from the database; each outside source (statement layout, drop copy, trade
/// capture) is reconciled against it on its own; each run's breaks are merged with the stored
/// breaks and written in one transaction per source. The terminal gets a summary; `--out` gets
/// the report.
public struct ReconcileCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Reconcile the book for a business date.",
        discussion: """
            Each --statement FILE is read with the --mapping given in the same position (a path, or \
            the name of a shipped mapping in Specs/mappings such as venue-daily-trades); one --mapping \
            serves every statement. Statements of one mapping form one source named after the mapping; \
            all --drop-copy captures form the source "drop-copy", all --trade-capture captures the \
            source "trade-capture". Every source is reconciled against the whole book and its breaks \
            are merged with the stored ones (same ids on a rerun; breaks gone on a rerun are resolved).

            Malformed statement lines are listed on standard error with file and line, counted, and \
            the run goes on. Tolerances take an absolute value (0.01) or a percentage (0.5%).

            The summary goes to standard output. The report (--format csv, json or html) goes to \
            --out, or to standard output when --out is not given (the summary then goes to standard \
            error). Exit status: 0 done; 2 done, but more open breaks than --max-open; 1 an error.
            """
    )

    @Option(name: .customLong("date"), help: "Business date (YYYY-MM-DD or YYYYMMDD).")
    var date: String

    @Option(name: .customLong("statement"), help: ArgumentHelp("A statement file (CSV); repeatable.", valueName: "file"))
    var statements: [String] = []

    @Option(name: .customLong("mapping"), help: ArgumentHelp("The statement's column mapping: a file or a shipped name; repeatable, paired with --statement by position.", valueName: "mapping"))
    var mappings: [String] = []

    @Option(name: .customLong("drop-copy"), help: ArgumentHelp("A drop-copy capture (ExecutionReports); repeatable.", valueName: "capture"))
    var dropCopies: [String] = []

    @Flag(name: .customLong("require-copy-flag"), help: "Take only drop-copy reports with CopyMsgIndicator(797)=Y.")
    var requireCopyFlag = false

    @Option(name: .customLong("trade-capture"), help: ArgumentHelp("A capture of TradeCaptureReports (35=AE); repeatable.", valueName: "capture"))
    var tradeCaptures: [String] = []

    @Option(name: .customLong("tolerance-quantity"), help: ArgumentHelp("Quantity tolerance: absolute (0.5) or relative (0.1%).", valueName: "value"))
    var toleranceQuantity: String?

    @Option(name: .customLong("tolerance-price"), help: ArgumentHelp("Price tolerance: absolute (0.0001) or relative (0.01%).", valueName: "value"))
    var tolerancePrice: String?

    @Option(name: .customLong("tolerance-amount"), help: ArgumentHelp("Fee, notional and cash tolerance: absolute or relative.", valueName: "value"))
    var toleranceAmount: String?

    @Option(name: .customLong("tolerance-seconds"), help: ArgumentHelp("Pair trades without a common key only when their transact times are this close.", valueName: "seconds"))
    var toleranceSeconds: Int64?

    @Option(name: .customLong("currency"), help: "Currency of FIX reports without Currency(15).")
    var currency = "USD"

    @Option(name: .customLong("holiday"), help: ArgumentHelp("A non-business day for ageing (YYYY-MM-DD); repeatable.", valueName: "date"))
    var holidays: [String] = []

    @Option(name: .customLong("format"), help: "Report format: table (summary only), csv, json or html.")
    var format: ReconcileReportFormat = .table

    @Option(name: .customLong("out"), help: ArgumentHelp("Write the report to this file.", valueName: "file"))
    var out: String?

    @Option(name: .customLong("max-open"), help: ArgumentHelp("Exit with status 2 when more breaks than this are unresolved in the database after the run.", valueName: "n"))
    var maxOpen: Int?

    @Option(name: .customLong("actor"), help: ArgumentHelp("Who runs the reconciliation, for the audit trail.", valueName: "name"))
    var actor = "reconcile"

    @OptionGroup var store: StoreOptions

    public init() {}

    /// Statement lines reported one by one on standard error; beyond it only counted.
    static let issuesShownMax = 100
    /// Attempts at persisting a run when breaks change meanwhile.
    static let persistAttemptsMax = 3

    public func validate() throws {
        if !statements.isEmpty && mappings.count != statements.count && mappings.count != 1 {
            throw ValidationError("give one --mapping for all statements or one per --statement (\(statements.count))")
        }
        if statements.isEmpty && !mappings.isEmpty { throw ValidationError("--mapping without --statement") }
        if statements.isEmpty && dropCopies.isEmpty && tradeCaptures.isEmpty {
            throw ValidationError("nothing to reconcile against: give --statement, --drop-copy or --trade-capture")
        }
        if let maxOpen, maxOpen < 0 { throw ValidationError("--max-open must be 0 or more") }
        if actor.isEmpty { throw ValidationError("--actor must not be empty") }
    }

    public func run() async throws {
        let outcome = try await reconcile()
        if let maxOpen, outcome.openBreaks > maxOpen {
            warn("\(outcome.openBreaks) open breaks exceed --max-open \(maxOpen)")
            throw ExitCode(2)
        }
    }

    /// What a reconcile run did, for callers and tests.
    public struct Outcome: Sendable {
        public var runs: [ReconciliationRunRecord] = []
        public var results: [ReconciliationResult] = []
        /// Breaks open (not resolved or closed) in the database after the run.
        public var openBreaks = 0
        /// Malformed statement lines and unreadable FIX messages.
        public var issues = 0
        /// The cases the report lists.
        public var cases: [BreakCase] = []
        /// The summary printed to the terminal.
        public var summary = ""
    }

    /// Runs the reconciliation, persists it, prints the summary and writes the report.
    public func reconcile() async throws -> Outcome {
        let businessDate = try parseBusinessDate(date)
        let calendar = BusinessCalendar(holidays: Set(try holidays.map { try parseBusinessDate($0, option: "--holiday") }))
        var config = ReconciliationConfiguration(businessDate: businessDate, sourceName: "")
        config.quantity = try Self.tolerance(toleranceQuantity, option: "--tolerance-quantity")
        config.price = try Self.tolerance(tolerancePrice, option: "--tolerance-price")
        config.amount = try Self.tolerance(toleranceAmount, option: "--tolerance-amount")
        config.timeWindowSeconds = toleranceSeconds

        // Read the outside sources first: a bad mapping or a missing file fails before the
        // database is touched.
        var sources = try readStatements()
        if !dropCopies.isEmpty { sources.append(try readDropCopy()) }
        if !tradeCaptures.isEmpty { sources.append(try readTradeCapture()) }

        let backend = try await store.open()
        do {
            let outcome = try await reconcile(sources: sources, configuration: config, calendar: calendar, backend: backend)
            try await backend.close()
            return outcome
        } catch {
            try? await backend.close()
            throw error
        }
    }

    private func reconcile(sources: [OutsideSource], configuration: ReconciliationConfiguration,
                           calendar: BusinessCalendar, backend: any SQLBackend) async throws -> Outcome {
        let bookStore = BookStore(backend: backend)
        let accounts = try await bookStore.accounts()
        var bookConfiguration = BookConfiguration(accounts: accounts)
        bookConfiguration.defaultCurrency = currency
        let book = TradeBook(configuration: bookConfiguration, restoring: try await bookStore.snapshot())
        let bookTrades = BookTrade.all(in: book)
        let knownAccounts: Set<String>? = accounts.isEmpty ? nil : Set(accounts.values)
        let breakStore = BreakStore(backend: backend)
        let now = currentTimestamp()
        var outcome = Outcome()
        var touched: [String: BreakCase] = [:]
        var summary = ""
        for source in sources {
            var config = configuration
            config.sourceName = source.name
            config.knownAccounts = knownAccounts
            var reconciler = Reconciler(configuration: config)
            if source.hasTrades {
                reconciler.reserveCapacity(bookTrades: bookTrades.count, externalTrades: source.trades.count)
                for t in bookTrades { reconciler.add(t) }
                // A FIX source names FIX accounts: map them as the book maps its own fills.
                if source.fixAccounts && !accounts.isEmpty {
                    for t in source.trades { reconciler.add(t.mappingAccount(through: accounts)) }
                } else {
                    for t in source.trades { reconciler.add(t) }
                }
            }
            if source.hasPositions {
                for p in book.positions { reconciler.add(bookPosition: p) }
                for p in source.positions { reconciler.add(p) }
            }
            if source.hasCash {
                for c in book.cash { reconciler.add(bookCash: c) }
                for c in source.cash { reconciler.add(c) }
            }
            progress("reconciling \(source.name)")
            let result = reconciler.run()
            var attempt = 1
            while true {
                do {
                    let (record, cases) = try await breakStore.record(run: result, actor: actor, at: now, issues: source.issues)
                    outcome.runs.append(record)
                    for c in cases { touched[c.id] = c }
                    break
                } catch let error as BackOfficeStoreError where error.isConflict && attempt < Self.persistAttemptsMax {
                    // Someone worked a break between the read and the write: merge again.
                    attempt += 1
                }
            }
            outcome.results.append(result)
            // Breaks touching a client become CRM history entries (break alerts); their ids derive
            // from the break ids, so a rerun writes nothing new.
            if let activity = try await CRMActivityOptions.parse([]).activity(backend: backend) {
                let notices = result.breaks.compactMap { b -> BreakNotice? in
                    guard let account = b.account else { return nil }
                    return BreakNotice(id: b.id, codeNumber: b.code.number, codeName: b.code.name, account: account,
                                       instrument: b.instrument, summary: b.detail, businessDate: b.businessDate)
                }
                let plan = await activity.statements(for: [], breaks: notices)
                if !plan.isEmpty { try await backend.write(plan) }
            }
            outcome.issues += source.issues
            let record = outcome.runs[outcome.runs.count - 1]
            summary += BreakReports.summary(result)
            summary += "new \(record.newBreaks), reopened \(record.reopened), resolved as gone \(record.resolved)"
            if !source.files.isEmpty { summary += ", files \(source.files.count)" }
            if source.issues > 0 { summary += ", unreadable lines or messages \(source.issues) (the run went on)" }
            summary += "\n\n"
        }
        let open = try await breakStore.openCases()
        for s in open where touched[s.breakCase.id] == nil { touched[s.breakCase.id] = s.breakCase }
        outcome.openBreaks = open.count
        outcome.cases = touched.values.sorted {
            ($0.latest.code, $0.firstSeen, $0.id) < ($1.latest.code, $1.firstSeen, $1.id)
        }
        var ageing = [0, 0, 0, 0]
        for s in open {
            let age = s.breakCase.age(asOf: configuration.businessDate, calendar: calendar)
            ageing[age <= 0 ? 0 : age == 1 ? 1 : age <= 5 ? 2 : 3] += 1
        }
        summary += "open breaks: \(open.count) (aged 0 days \(ageing[0]), 1 day \(ageing[1]), 2-5 days \(ageing[2]), "
            + "over 5 days \(ageing[3]))\n"
        outcome.summary = summary
        try writeReport(outcome, businessDate: configuration.businessDate, calendar: calendar)
        return outcome
    }

    private func writeReport(_ outcome: Outcome, businessDate: FIXDate, calendar: BusinessCalendar) throws {
        let title = "Reconciliation \(businessDate)"
        let report: String?
        switch format {
        case .table: report = nil
        case .csv: report = BreakReports.csv(cases: outcome.cases, asOf: businessDate, calendar: calendar)
        case .json: report = BreakReports.json(cases: outcome.cases, asOf: businessDate, calendar: calendar)
        case .html: report = BreakReports.html(cases: outcome.cases, asOf: businessDate, title: title, calendar: calendar)
        }
        guard let report else {
            var buffer = OutputBuffer()
            buffer.write(outcome.summary)
            buffer.flush()
            return
        }
        if let out {
            do {
                try Data(report.utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
            } catch {
                throw ValidationError("--out \(out): \(error.localizedDescription)")
            }
            var buffer = OutputBuffer()
            buffer.write(outcome.summary + "report: \(out)\n")
            buffer.flush()
        } else {
            writeStandardError(outcome.summary)
            var buffer = OutputBuffer()
            buffer.write(report)
            buffer.flush()
        }
    }

    // MARK: Sources

    /// One outside source's records, read before the database is opened.
    struct OutsideSource {
        var name: String
        var files: [String] = []
        var hasTrades = false
        var hasPositions = false
        var hasCash = false
        /// The trades carry FIX Account(1) values, which go through the book's account map.
        var fixAccounts = false
        var trades: [ExternalTrade] = []
        var positions: [ExternalPosition] = []
        var cash: [ExternalCash] = []
        var issues = 0
    }

    private func readStatements() throws -> [OutsideSource] {
        var sources: [OutsideSource] = []
        var byName: [String: Int] = [:]
        var mappingCache: [String: StatementMapping] = [:]
        var shown = 0
        for (i, path) in statements.enumerated() {
            let mappingArgument = mappings.count == 1 ? mappings[0] : mappings[i]
            let mapping: StatementMapping
            if let cached = mappingCache[mappingArgument] {
                mapping = cached
            } else {
                mapping = try Self.loadMapping(mappingArgument)
                mappingCache[mappingArgument] = mapping
            }
            let index: Int
            if let existing = byName[mapping.name] {
                index = existing
            } else {
                index = sources.count
                byName[mapping.name] = index
                sources.append(OutsideSource(name: mapping.name))
            }
            switch mapping.kind {
            case .trades: sources[index].hasTrades = true
            case .positions: sources[index].hasPositions = true
            case .cash: sources[index].hasCash = true
            }
            sources[index].files.append(path)
            try Self.readStatement(path: path, mapping: mapping) { record in
                switch record {
                case .trade(let t): sources[index].trades.append(t)
                case .position(let p): sources[index].positions.append(p)
                case .cash(let c): sources[index].cash.append(c)
                case .malformed(let issue):
                    sources[index].issues += 1
                    if shown < Self.issuesShownMax {
                        warn("\(issue)")
                    } else if shown == Self.issuesShownMax {
                        warn("… more unreadable lines are counted, not listed")
                    }
                    shown += 1
                }
            }
        }
        return sources
    }

    private func readDropCopy() throws -> OutsideSource {
        var reader = DropCopyReader(requireCopyFlag: requireCopyFlag, defaultCurrency: currency)
        var source = OutsideSource(name: "drop-copy", files: dropCopies, hasTrades: true, fixAccounts: true)
        for path in dropCopies {
            source.issues += try Self.readCapture(path) { message, position in reader.add(message, source: position) }
        }
        source.trades = reader.trades
        source.issues += reader.issues.count + reader.issuesDropped
        for issue in reader.issues.prefix(Self.issuesShownMax) { warn("\(issue)") }
        return source
    }

    private func readTradeCapture() throws -> OutsideSource {
        var reader = TradeCaptureReader(defaultCurrency: currency)
        var source = OutsideSource(name: "trade-capture", files: tradeCaptures, hasTrades: true, fixAccounts: true)
        for path in tradeCaptures {
            source.issues += try Self.readCapture(path) { message, position in reader.add(message, source: position) }
        }
        source.trades = reader.trades
        source.issues += reader.issues.count
        for issue in reader.issues.prefix(Self.issuesShownMax) { warn("\(issue)") }
        return source
    }

    /// Streams a capture's messages; returns the number of stretches that were not messages.
    static func readCapture(_ path: String, _ handle: (FIXMessage, SourcePosition) -> Void) throws -> Int {
        let capture: CaptureFile
        do {
            capture = try CaptureFile(path: path)
        } catch {
            throw ValidationError("\(error)")
        }
        var bad = 0
        var line = ProgressLine(label: path, total: capture.size)
        try capture.read(progress: { line.update($0) }) { event in
            switch event {
            case .message(let message):
                handle(message.view(), SourcePosition(source: path, offset: message.offset))
            case .error(let error):
                bad += 1
                if bad <= issuesShownMax { warn("\(path): \(error)") }
            }
        }
        line.finish()
        return bad
    }

    /// Reads a statement in chunks, so a file of any size streams through bounded memory.
    static func readStatement(path: String, mapping: StatementMapping, _ emit: (StatementRecord) -> Void) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ValidationError("\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        let size: Int64? = fstat(fd, &info) == 0 ? Int64(info.st_size) : nil
        var line = ProgressLine(label: path, total: size)
        var reader = StatementReader(mapping: mapping, fileName: path)
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: CaptureFile.chunkBytes)
        var total: Int64 = 0
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ValidationError("\(path): read failed: \(String(cString: strerror(errno)))")
            }
            let isFinal = n == 0
            pending.append(contentsOf: chunk[0..<n])
            let used = pending.withUnsafeBytes { reader.read($0, isFinal: isFinal, emit) }
            pending.removeFirst(isFinal ? pending.count : used)
            total += Int64(n)
            line.update(total)
            if isFinal { break }
        }
        line.finish()
    }

    /// A mapping file, or a shipped mapping by name (`venue-daily-trades`).
    static func loadMapping(_ argument: String) throws -> StatementMapping {
        var path = argument
        if !FileManager.default.fileExists(atPath: path), let found = shippedMapping(argument) { path = found }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("--mapping \(argument): no such file, and no shipped mapping of that name")
        }
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        do {
            var mapping = try StatementMapping(parsing: String(decoding: data, as: UTF8.self), fileName: path)
            mapping.name = name
            return mapping
        } catch {
            throw ValidationError("--mapping \(error)")
        }
    }

    /// `Specs/mappings/NAME.ini`, searched like the dictionaries: `FIXBRIDGE_SPECS`, then upwards
    /// from the executable's folder and from the working directory.
    static func shippedMapping(_ name: String) -> String? {
        let file = name.hasSuffix(".ini") ? name : name + ".ini"
        let fm = FileManager.default
        if let specs = environment(DictionaryLocator.specsEnvironmentVariable), !specs.isEmpty {
            let candidate = ((specs as NSString).appendingPathComponent("mappings") as NSString).appendingPathComponent(file)
            if fm.fileExists(atPath: candidate) { return candidate }
        }
        var starts = [fm.currentDirectoryPath]
        if let exe = Bundle.main.executablePath {
            starts.insert(((exe as NSString).resolvingSymlinksInPath as NSString).deletingLastPathComponent, at: 0)
        }
        for start in starts {
            var directory = start
            while true {
                let candidate = (((directory as NSString).appendingPathComponent("Specs") as NSString)
                    .appendingPathComponent("mappings") as NSString).appendingPathComponent(file)
                if fm.fileExists(atPath: candidate) { return candidate }
                let parent = (directory as NSString).deletingLastPathComponent
                if parent == directory || parent.isEmpty { break }
                directory = parent
            }
        }
        return nil
    }

    /// `0.01` absolute, `0.5%` relative.
    static func tolerance(_ text: String?, option: String) throws -> Tolerance {
        guard let text else { return .exact }
        if text.hasSuffix("%") {
            guard let percent = FIXDecimal(String(text.dropLast())), percent.mantissa >= 0,
                  let fraction = FIXDecimal("0.01").flatMap({ percent.multiplied(by: $0) }) else {
                throw ValidationError("\(option) \(text): not a percentage")
            }
            return Tolerance(relative: fraction)
        }
        guard let value = FIXDecimal(text), value.mantissa >= 0 else {
            throw ValidationError("\(option) \(text): not a non-negative number")
        }
        return Tolerance(absolute: value)
    }

    private func progress(_ text: String) {
        if isatty(2) != 0 { writeStandardError(text + "\n") }
    }
}

/// `--format` of `fixbridge reconcile`.
public enum ReconcileReportFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case table, csv, json, html
}

/// The current UTC time, in milliseconds.
func currentTimestamp() -> FIXTimestamp {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return FIXTimestamp(nanosecondsSinceEpoch: Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec) / 1_000_000 * 1_000_000,
                        precision: .milliseconds)
}

// MARK: - breaks

/// `fixbridge breaks`: work the breaks' lifecycle.
public struct BreaksCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "breaks",
        abstract: "List and work reconciliation breaks.",
        discussion: """
            A break is open when found, may be assigned, and ends resolved (the difference is \
            explained) or force-closed. With maker-checker on (`breaks settings --maker-checker on`, \
            stored in the database, or --maker-checker on one resolve or close) resolving or closing \
            becomes a request that someone other than the requester approves or rejects. Every action \
            is recorded with who and when. Two people working one break at once: the second write \
            fails with "changed meanwhile" and changes nothing; run it again.
            """,
        subcommands: [
            BreaksListCommand.self, BreaksShowCommand.self, BreaksAssignCommand.self, BreaksCommentCommand.self,
            BreaksResolveCommand.self, BreaksCloseCommand.self, BreaksApproveCommand.self, BreaksRejectCommand.self,
            BreaksReopenCommand.self, BreaksSettingsCommand.self,
        ]
    )

    public init() {}
}

/// `fixbridge breaks list`.
public struct BreaksListCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "list", abstract: "List breaks.")

    @Option(name: .customLong("date"), help: "Breaks of this business date, or first seen on or before it and last seen on or after it.")
    var date: String?

    @Option(name: .customLong("state"), help: "open, assigned, pending, resolved, closed or unresolved (every state but resolved and closed).")
    var state: BreakStateFilter?

    @Option(name: .customLong("code"), help: "Break code number (1-11).")
    var code: Int?

    @Option(name: .customLong("account"), help: "Client account.")
    var account: String?

    @Option(name: .customLong("source"), help: "Outside source (mapping name, drop-copy, trade-capture).")
    var source: String?

    @Option(name: .customLong("limit"), help: "At most this many rows.")
    var limit: Int?

    @Option(name: .customLong("format"), help: "table, csv or json.")
    var format: ListingFormat = .table

    @OptionGroup var store: StoreOptions

    public init() {}

    public func run() async throws {
        var filter = BreakFilter(state: state, account: account, source: source, limit: limit)
        if let date { filter.date = try parseBusinessDate(date) }
        if let code {
            guard let c = BreakCode(number: code) else { throw ValidationError("--code \(code): not a break code (1-11)") }
            filter.code = c
        }
        // Ages are as of --date, else as of today (UTC).
        let asOf = filter.date ?? currentTimestamp().date
        let rendered = try await withBreakStore(store) { try await Self.listing($0.list(filter), asOf: asOf).render(format) }
        var buffer = OutputBuffer()
        buffer.write(rendered)
        buffer.flush()
    }

    /// Ages count business days from first seen to `asOf` (weekends left out).
    static func listing(_ breaks: [StoredBreak], asOf: FIXDate) -> Listing {
        var listing = Listing(columns: ["id", "code", "type", "source", "date", "first_seen", "last_seen", "state",
                                        "assignee", "age", "account", "instrument", "qty_diff", "amount_diff",
                                        "detail"],
                              numeric: ["code", "age", "qty_diff", "amount_diff"])
        for s in breaks {
            let c = s.breakCase
            let b = c.latest
            listing.add([b.id, String(b.code.number), b.code.name, b.source, b.businessDate.description,
                         c.firstSeen.description, c.lastSeen.description, stateWord(c.state),
                         BreakReports.assignee(c.state), String(c.age(asOf: asOf)), b.account,
                         b.instrument ?? b.currency, b.quantityDifference.description, b.amountDifference.description,
                         b.detail])
        }
        return listing
    }
}

/// `fixbridge breaks show ID`.
public struct BreaksShowCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a break: both sides' records and its audit trail.")

    @Argument(help: "Break id.")
    var id: String

    @OptionGroup var store: StoreOptions

    public init() {}

    public func run() async throws {
        let text = try await withBreakStore(store) { s -> String in
            guard let stored = try await s.load(id: id) else { throw BreakCommandError(description: "no break \(id)") }
            return Self.render(stored, events: try await s.events(id: id))
        }
        var buffer = OutputBuffer()
        buffer.write(text)
        buffer.flush()
    }

    static func render(_ stored: StoredBreak, events: [BreakEvent]) -> String {
        let c = stored.breakCase
        let b = c.latest
        var out = "break \(b.id)  code \(b.code.number) \(b.code.name)  source \(b.source)\n"
        out += "business date \(b.businessDate)  first seen \(c.firstSeen)  last seen \(c.lastSeen)  version \(stored.version)\n"
        out += "state \(stateWord(c.state))\(stateDetail(c.state))\n"
        out += "account \(b.account ?? "-")  instrument \(b.instrument ?? "-")  currency \(b.currency ?? "-")\n"
        out += "quantity difference \(b.quantityDifference)  amount difference \(b.amountDifference)\n"
        out += b.detail + "\n"
        func records(_ title: String, _ rs: [BreakRecord]) {
            var l = Listing(columns: ["origin", "key", "side", "quantity", "price", "fees", "settlement"],
                            numeric: ["quantity", "price", "fees"])
            for r in rs {
                l.add([r.origin.description, r.key, r.side.map { $0.sign > 0 ? "buy" : "sell" }, r.quantity?.description,
                       r.price?.description, r.fees?.description, r.settlementDate?.description])
            }
            out += "\n\(title) (\(rs.count))\n" + (rs.isEmpty ? "" : l.render(.table))
        }
        records("book", b.book)
        records("reported", b.external)
        var trail = Listing(columns: ["at", "actor", "action", "text", "from", "to"])
        for e in events {
            trail.add([e.at, e.actor, e.action, e.text, e.from.map(stateWord), stateWord(e.to) + stateDetail(e.to)])
        }
        out += "\naudit trail (\(events.count))\n" + trail.render(.table)
        return out
    }
}

/// Options every lifecycle action takes.
public struct BreakActionOptions: ParsableArguments {
    @Option(name: .customLong("by"), help: "Who acts (recorded in the audit trail).")
    var by: String

    @OptionGroup var store: StoreOptions

    public init() {}

    /// Applies the action and prints the break's new state.
    func apply(_ action: BreakAction, to id: String, forceMakerChecker: Bool = false) async throws {
        guard !by.isEmpty else { throw ValidationError("--by must not be empty") }
        let line = try await withBreakStore(store) { s -> String in
            guard try await s.load(id: id) != nil else { throw BreakCommandError(description: "no break \(id)") }
            var policy = try await s.lifecyclePolicy()
            if forceMakerChecker { policy.makerChecker = true }
            do {
                let stored = try await s.apply(action, to: id, by: by, at: currentTimestamp(), policy: policy)
                return "\(id): \(stateWord(stored.breakCase.state))\(stateDetail(stored.breakCase.state))\n"
            } catch let error as LifecycleError {
                throw BreakCommandError(description: "\(error)")
            } catch let error as BackOfficeStoreError where error.isConflict {
                throw BreakCommandError(description: "break \(id) changed meanwhile; nothing was written, run the command again")
            }
        }
        var buffer = OutputBuffer()
        buffer.write(line)
        buffer.flush()
    }
}

/// `fixbridge breaks assign ID --to USER --by USER`.
public struct BreaksAssignCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "assign", abstract: "Assign a break to someone.")
    @Argument(help: "Break id.") var id: String
    @Option(name: .customLong("to"), help: "The assignee.") var to: String
    @OptionGroup var options: BreakActionOptions
    public init() {}
    public func run() async throws { try await options.apply(.assign(to: to), to: id) }
}

/// `fixbridge breaks comment ID TEXT --by USER`.
public struct BreaksCommentCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "comment", abstract: "Comment on a break.")
    @Argument(help: "Break id.") var id: String
    @Argument(help: "The comment.") var text: String
    @OptionGroup var options: BreakActionOptions
    public init() {}
    public func run() async throws { try await options.apply(.comment(text), to: id) }
}

/// `fixbridge breaks resolve ID --reason R --by USER`.
public struct BreaksResolveCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "resolve", abstract: "Resolve a break (a request for approval under maker-checker).")
    @Argument(help: "Break id.") var id: String
    @Option(name: .customLong("reason"), help: "Why the break is resolved.") var reason: String
    @Flag(name: .customLong("maker-checker"), help: "Require approval even when the database's setting is off.")
    var makerChecker = false
    @OptionGroup var options: BreakActionOptions
    public init() {}
    public func run() async throws {
        try await options.apply(.resolve(reason: reason), to: id, forceMakerChecker: makerChecker)
    }
}

/// `fixbridge breaks close ID --reason R --by USER`: force close.
public struct BreaksCloseCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "close", abstract: "Force-close a break (a request for approval under maker-checker).")
    @Argument(help: "Break id.") var id: String
    @Option(name: .customLong("reason"), help: "Why the break is closed unexplained.") var reason: String
    @Flag(name: .customLong("maker-checker"), help: "Require approval even when the database's setting is off.")
    var makerChecker = false
    @OptionGroup var options: BreakActionOptions
    public init() {}
    public func run() async throws {
        try await options.apply(.forceClose(reason: reason), to: id, forceMakerChecker: makerChecker)
    }
}

/// `fixbridge breaks approve ID --by USER`.
public struct BreaksApproveCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "approve", abstract: "Approve a pending resolve or close (not by its requester).")
    @Argument(help: "Break id.") var id: String
    @OptionGroup var options: BreakActionOptions
    public init() {}
    public func run() async throws { try await options.apply(.approve, to: id) }
}

/// `fixbridge breaks reject ID --reason R --by USER`.
public struct BreaksRejectCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "reject", abstract: "Reject a pending resolve or close; the break returns to its previous state.")
    @Argument(help: "Break id.") var id: String
    @Option(name: .customLong("reason"), help: "Why the request is rejected.") var reason: String
    @OptionGroup var options: BreakActionOptions
    public init() {}
    public func run() async throws { try await options.apply(.reject(reason: reason), to: id) }
}

/// `fixbridge breaks reopen ID --reason R --by USER`.
public struct BreaksReopenCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "reopen", abstract: "Reopen a resolved or closed break.")
    @Argument(help: "Break id.") var id: String
    @Option(name: .customLong("reason"), help: "Why the break is reopened.") var reason: String
    @OptionGroup var options: BreakActionOptions
    public init() {}
    public func run() async throws { try await options.apply(.reopen(reason: reason), to: id) }
}

/// `fixbridge breaks settings [--maker-checker on|off]`.
public struct BreaksSettingsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "settings", abstract: "Show or change how breaks are handled in this database.")
    @Option(name: .customLong("maker-checker"), help: "on: resolving and closing need a second person's approval; off: they do not.")
    var makerChecker: OnOff?
    @OptionGroup var store: StoreOptions
    public init() {}

    public enum OnOff: String, ExpressibleByArgument, Sendable { case on, off }

    public func run() async throws {
        let text = try await withBreakStore(store) { s -> String in
            if let makerChecker { try await s.setMakerChecker(makerChecker == .on) }
            return "maker-checker \(try await s.lifecyclePolicy().makerChecker ? "on" : "off")\n"
        }
        var buffer = OutputBuffer()
        buffer.write(text)
        buffer.flush()
    }
}

extension BreakStateFilter: ExpressibleByArgument {}

/// A lifecycle action the break's state refused, a break changed meanwhile or an unknown id:
/// reported as `Error: …` with exit status 1 (not a usage error).
struct BreakCommandError: Error, CustomStringConvertible {
    let description: String
}

/// Opens the database, runs `body` with its break store, closes it.
func withBreakStore<T>(_ options: StoreOptions, _ body: (BreakStore) async throws -> T) async throws -> T {
    let backend = try await options.open()
    do {
        let value = try await body(BreakStore(backend: backend))
        try await backend.close()
        return value
    } catch {
        try? await backend.close()
        throw error
    }
}

func stateWord(_ s: BreakState) -> String { BreakReports.stateWord(s) }

func stateDetail(_ s: BreakState) -> String {
    switch s {
    case .open: return ""
    case .assigned(let who): return " to \(who)"
    case .pendingApproval(let request, let by, _):
        switch request {
        case .resolve(let reason): return ": resolve requested by \(by): \(reason)"
        case .forceClose(let reason): return ": close requested by \(by): \(reason)"
        }
    case .resolved(let reason), .forceClosed(let reason): return ": \(reason)"
    }
}

extension ReconcileCommand: AsyncRunnableCommand { public mutating func runAsync() async throws { try await run() } }
extension BreaksListCommand: AsyncRunnableCommand { public mutating func runAsync() async throws { try await run() } }
extension BreaksShowCommand: AsyncRunnableCommand { public mutating func runAsync() async throws { try await run() } }
extension BreaksAssignCommand: AsyncRunnableCommand { public mutating func runAsync() async throws { try await run() } }
extension BreaksCommentCommand: AsyncRunnableCommand { public mutating func runAsync() async throws { try await run() } }
extension BreaksResolveCommand: AsyncRunnableCommand { public mutating func runAsync() async throws { try await run() } }
extension BreaksCloseCommand: AsyncRunnableCommand { public mutating func runAsync() async throws { try await run() } }
extension BreaksApproveCommand: AsyncRunnableCommand { public mutating func runAsync() async throws { try await run() } }
extension BreaksRejectCommand: AsyncRunnableCommand { public mutating func runAsync() async throws { try await run() } }
extension BreaksReopenCommand: AsyncRunnableCommand { public mutating func runAsync() async throws { try await run() } }
extension BreaksSettingsCommand: AsyncRunnableCommand { public mutating func runAsync() async throws { try await run() } }
