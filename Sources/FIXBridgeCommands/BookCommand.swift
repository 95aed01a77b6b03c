import ArgumentParser
import BackOfficeStore
import FIXTagValue
import Foundation
import TradeBook

/// `fixbridge book`: the book of orders, fills, positions and cash per client account.
public struct BookCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "book",
        abstract: "Book execution reports into the back office's database and list the book.",
        subcommands: [
            BookLoadCommand.self, BookPositionsCommand.self, BookOrdersCommand.self, BookFillsCommand.self,
            BookCashCommand.self, BookExceptionsCommand.self, BookAccountsCommand.self,
        ]
    )

    public init() {}
}

/// Options of the book's arithmetic (see README "Book").
public struct BookSettingsOptions: ParsableArguments {
    @Option(name: .customLong("currency"), help: "Currency of reports without Currency(15) (default USD).")
    var currency = "USD"

    @Option(name: .customLong("settlement-days"), help: "Settlement cycle in business days when SettlDate(64) is absent (default 1).")
    var settlementDays = 1

    @Option(name: .customLong("account-party-role"), help: "Take the client account from the Parties group entry with this PartyRole(452) (e.g. 24 customer account) instead of Account(1).")
    var accountPartyRole: Int?

    public init() {}

    func configuration(accounts: [String: String]) throws -> BookConfiguration {
        guard (0...SettlementCalendar.cycleDaysMax).contains(settlementDays) else {
            throw ValidationError("--settlement-days \(settlementDays): 0…\(SettlementCalendar.cycleDaysMax)")
        }
        var c = BookConfiguration(accounts: accounts)
        c.defaultCurrency = currency
        c.settlement = SettlementCalendar(cycleDays: settlementDays)
        if let role = accountPartyRole { c.accountSource = .party(role: role) }
        return c
    }
}

/// The outcome of loading captures into the book.
public struct BookLoadSummary: Equatable, Sendable {
    public var messages = 0
    public var reports = 0
    /// Reports already in the book (resent, PossDup or a capture loaded again): not applied again.
    public var duplicates = 0
    public var fillsBooked = 0
    public var corrections = 0
    public var busts = 0
    public var exceptions = 0
    public var badStretches = 0
    public var batches = 0
    public var skippedAlreadyCommitted = 0
    /// Execution reports left out by the loader's `include` filter.
    public var filteredOut = 0
}

/// Loads captures into a book kept in a `BookStore`: one transaction per batch of reports.
///
/// The book is rebuilt from the store first, so a report already booked (by an earlier load,
/// another capture of the same session, or a PossDup resend) is recognised by its (session,
/// ExecID) and not applied again. Each capture's committed offset is stored with each batch;
/// a load interrupted anywhere resumes after the last committed batch.
public struct BookLoader {
    public static let batchReportsDefault = 20_000

    public let store: BookStore
    public private(set) var book: TradeBook
    public var batchReports: Int
    /// Extra statements to commit with each batch, from the batch's events (CRM entries).
    public var onBatch: (([BookEvent]) async throws -> [SQLStatement])?
    /// When false the book is built in memory only and nothing is written (a dry run).
    public var commits = true
    public private(set) var summary = BookLoadSummary()

    public init(store: BookStore, configuration: BookConfiguration, batchReports: Int = BookLoader.batchReportsDefault) async throws {
        self.store = store
        self.book = TradeBook(configuration: configuration, restoring: try await store.snapshot())
        self.batchReports = batchReports
    }

    /// Chooses which captured messages reach the book (replay's `--from/--until/--type/--account`);
    /// nil books every ExecutionReport. A message left out still advances the resume offset.
    public var include: ((CaptureMessage, FIXMessage) -> Bool)?
    /// Asked after each chunk: true ends the load once what was read is committed (SIGTERM),
    /// with `BookLoadStopped`. A later load of the same capture resumes after it.
    public var shouldStop: (() -> Bool)?

    /// Loads one capture; `progress` gets (bytes read, total bytes if known).
    public mutating func load(_ path: String, progress: ((Int64, Int64?) -> Void)? = nil) async throws {
        try await load(BookInput.capture(try CaptureFile(path: path)), progress: progress)
    }

    /// Loads one input (a capture file, a FAST stream turned into FIX messages, a live session's
    /// messages); `progress` gets (bytes read, total bytes if known).
    ///
    /// A rereadable input is loaded as a pipeline of two stages: while one batch is turned into
    /// rows and committed on another thread, the next one is read, parsed and booked. At most one
    /// commit is in flight and commits happen in batch order, each with the input's offset up to
    /// its last report, so an interruption anywhere leaves the store at the end of a committed
    /// batch: a rebuilt book resumes there, losing and duplicating nothing. Live inputs
    /// (`commitsEachChunk`) commit each chunk before the next is read, so a chunk handed over is
    /// durable when its callback returns.
    public mutating func load(_ input: BookInput, progress: ((Int64, Int64?) -> Void)? = nil) async throws {
        let source = input.source
        var resumeAt = input.isRereadable ? try await store.committedOffset(source: source) : 0
        // A file shorter than what was committed of it has been replaced (a session log reset):
        // it is read from the start, and exactly-once by (session, ExecID) keeps that safe.
        if let size = input.size, size < resumeAt { resumeAt = 0 }
        var batch = BookBatch()
        var batchEvents: [BookEvent] = []
        var events: [BookEvent] = []
        events.reserveCapacity(16)
        var lastEnd: Int64 = resumeAt
        var batchReportCount: Int64 = 0
        var pendingCommit = false
        var summary = self.summary
        var book = self.book
        // The local copy is the only one while the load runs, so growing it copies nothing.
        self.book = TradeBook(configuration: book.configuration)
        let include = self.include
        let shouldStop = self.shouldStop
        let onBatch = self.onBatch
        let commits = self.commits
        let store = self.store
        let pipelined = !input.commitsEachChunk
        var inFlight: Task<Void, any Error>?
        defer {
            self.book = book
            self.summary = summary
        }
        // Hands the batch to the store: in the background when pipelined, once the commit
        // before it is done (so commits keep their order and at most two batches are held).
        func commit(_ batch: BookBatch, _ extra: [SQLStatement]) async throws {
            if let previous = inFlight {
                inFlight = nil
                try await previous.value
            }
            if pipelined {
                inFlight = Task { try await store.commit(batch, extra: extra) }
            } else {
                try await store.commit(batch, extra: extra)
            }
            summary.batches += 1
        }
        do {
            try await input.read(resumeAt, { event in
                switch event {
                case .error:
                    summary.badStretches += 1
                case .message(let m):
                    summary.messages += 1
                    let end = m.offset + Int64(m.bytes.count)
                    if end <= resumeAt {
                        summary.skippedAlreadyCommitted += 1
                        return
                    }
                    let view = m.view()
                    lastEnd = end
                    guard let msgType = view.msgType, msgType.equals("8") else { return }
                    if let include, !include(m, view) {
                        summary.filteredOut += 1
                        return
                    }
                    summary.reports += 1
                    events.removeAll(keepingCapacity: true)
                    book.apply(view, source: SourcePosition(source: source, offset: m.offset), into: &events)
                    if events.isEmpty { summary.duplicates += 1 }
                    for e in events {
                        switch e {
                        case .fillBooked: summary.fillsBooked += 1
                        case .fillCorrected: summary.corrections += 1
                        case .fillBusted: summary.busts += 1
                        case .exceptionRaised: summary.exceptions += 1
                        default: break
                        }
                    }
                    batch.add(events, book: book)
                    if onBatch != nil { batchEvents += events }
                    batchReportCount += 1
                    if batch.reports >= batchReports { pendingCommit = true }
                }
            }, { bytes in
                progress?(bytes, input.size)
                // Commit at chunk boundaries once a batch is full, at the end of the input, and
                // after every chunk of a live input (whose chunks are what arrived together).
                let atEnd = input.size.map { bytes >= $0 } ?? false
                let stopping = shouldStop?() ?? false
                let due = pendingCommit
                    || ((atEnd || input.commitsEachChunk || stopping) && (!batch.isEmpty || batchReportCount > 0))
                guard due else {
                    if stopping { throw BookLoadStopped(source: source, offset: lastEnd) }
                    return
                }
                if input.isRereadable { batch.markProgress(source: source, offset: lastEnd, reports: batchReportCount) }
                if commits {
                    let extra = try await onBatch?(batchEvents) ?? []
                    try await commit(batch, extra)
                }
                batch = BookBatch()
                batchEvents.removeAll(keepingCapacity: true)
                batchReportCount = 0
                pendingCommit = false
                if stopping { throw BookLoadStopped(source: source, offset: lastEnd) }
            })
            if commits && (!batch.isEmpty || batchReportCount > 0) {
                if input.isRereadable { batch.markProgress(source: source, offset: lastEnd, reports: batchReportCount) }
                let extra = try await onBatch?(batchEvents) ?? []
                try await commit(batch, extra)
            }
            if let last = inFlight {
                inFlight = nil
                try await last.value
            }
        } catch {
            // A failed read or commit: the commit still in flight finishes (or fails) before the
            // error goes up, so the caller never races a transaction it no longer knows of.
            // A stop on request is only reported once what was read is committed.
            if let last = inFlight {
                if error is BookLoadStopped { try await last.value } else { _ = try? await last.value }
            }
            throw error
        }
    }
}

/// A load ended on request (`BookLoader.shouldStop`) after committing everything read.
public struct BookLoadStopped: Error, CustomStringConvertible {
    public let source: String
    public let offset: Int64
    public var description: String { "\(source): stopped at byte \(offset); everything before it is committed" }
}

/// Where a `BookLoader` reads messages from: a capture file, or any producer of FIX messages
/// (a FAST stream decoded to FIX, a live session) that hands them over in chunks.
public struct BookInput {
    /// The name the input's fills and resume offset are kept under (a capture's path).
    public let source: String
    /// Total bytes when known; the loader commits what is left once this many are read.
    public let size: Int64?
    /// True when the same bytes can be read again, so a committed offset lets a load resume.
    public let isRereadable: Bool
    /// True for live inputs: every chunk commits, so nothing waits for a full batch.
    public let commitsEachChunk: Bool
    /// Reads from a byte offset (a committed one, for rereadable inputs; else 0), calling the
    /// first closure for each event and the second after each chunk with the position reached.
    public let read: (Int64, (CaptureEvent) throws -> Void, (Int64) async throws -> Void) async throws -> Void

    public init(
        source: String, size: Int64?, isRereadable: Bool, commitsEachChunk: Bool = false,
        read: @escaping (Int64, (CaptureEvent) throws -> Void, (Int64) async throws -> Void) async throws -> Void
    ) {
        self.source = source
        self.size = size
        self.isRereadable = isRereadable
        self.commitsEachChunk = commitsEachChunk
        self.read = read
    }

    /// A capture file read in chunks, resuming after what an earlier load committed.
    public static func capture(_ file: CaptureFile) -> BookInput {
        BookInput(source: file.path, size: file.size, isRereadable: file.isRereadable) { start, handle, afterChunk in
            try await file.read(from: start, handle, afterChunk: afterChunk)
        }
    }

    /// A capture file read whole, keeping no resume offset (a load of part of it).
    public static func once(_ file: CaptureFile) -> BookInput {
        BookInput(source: file.path, size: file.size, isRereadable: false) { _, handle, afterChunk in
            try await file.read(handle, afterChunk: afterChunk)
        }
    }

    /// A file another process is still appending to (a live session's message log): read from
    /// the committed offset to its current end, where a message still being written waits for
    /// the next read. Every read commits.
    public static func tail(_ file: CaptureFile) -> BookInput {
        BookInput(source: file.path, size: file.size, isRereadable: true, commitsEachChunk: true) { start, handle, afterChunk in
            try await file.read(from: start, tail: true, handle, afterChunk: afterChunk)
        }
    }
}

/// `fixbridge book load CAPTURE…`
public struct BookLoadCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Book the execution reports of captures (exactly once; one transaction per batch).",
        discussion: """
            Every ExecutionReport(35=8) of the captures is applied to the book rebuilt from the \
            database; a report already booked (same session and ExecID) is not applied again, so \
            loading a capture twice, or captures that overlap, changes nothing. Each batch of \
            reports commits in one transaction with its book events and the capture's offset; an \
            interrupted load resumes after the last committed batch.
            """
    )

    @OptionGroup var store: StoreOptions
    @OptionGroup var settings: BookSettingsOptions
    @OptionGroup var crm: CRMActivityOptions

    @Argument(help: "Capture files (any format `fixbridge show` reads).")
    var captures: [String]

    @Option(name: .customLong("accounts"), help: "CSV of fix_account,client_account to add to the account map first.")
    var accountsFile: String?

    @Option(name: .customLong("batch"), help: "Reports per transaction (default \(BookLoader.batchReportsDefault)).")
    var batch = BookLoader.batchReportsDefault

    @Flag(name: .long, help: "No progress line on standard error.")
    var quiet = false

    @Flag(name: .customLong("dry-run"), help: "Apply the reports to the book in memory and report; write nothing.")
    var dryRun = false

    public init() {}

    public func run() async throws {
        guard (1...1_000_000).contains(batch) else { throw ValidationError("--batch \(batch): 1…1000000") }
        let backend = try await store.open()
        let bookStore = BookStore(backend: backend)
        if let accountsFile { try await bookStore.setAccounts(try readAccountMap(accountsFile)) }
        var loader = try await BookLoader(
            store: bookStore, configuration: try settings.configuration(accounts: try await bookStore.accounts()),
            batchReports: batch)
        loader.commits = !dryRun
        // CRM history and outbox rows for the batch's activity, committed in the batch's transaction.
        let activity = dryRun ? nil : try await crm.activity(backend: backend)
        if let activity {
            loader.onBatch = { events in await activity.statements(for: events) }
        }
        let started = ContinuousClock.now
        let terminal = isatty(2) != 0 && !quiet
        for path in captures {
            do {
                try await loader.load(path) { bytes, total in
                    if terminal, let total, total > 0 {
                        writeStandardError("\r\(path): \(bytes * 100 / total)%")
                    }
                }
            } catch let e as CaptureFile.OpenError {
                throw ValidationError("\(e)")
            }
            if terminal { writeStandardError("\r\u{1B}[K") }
        }
        let dailyEntries = try await activity?.finishLoad() ?? 0
        try await backend.close()
        if dailyEntries > 0 { print("CRM daily summaries: \(dailyEntries)") }
        let s = loader.summary
        let seconds = Double((ContinuousClock.now - started).components.attoseconds) / 1e18
            + Double((ContinuousClock.now - started).components.seconds)
        print("""
            reports \(s.reports) (of \(s.messages) messages), fills booked \(s.fillsBooked), corrections \(s.corrections), \
            busts \(s.busts), duplicates skipped \(s.duplicates), exceptions \(s.exceptions), bad stretches \(s.badStretches)
            """)
        print("\(dryRun ? "dry run, nothing written; " : "")book: \(loader.book.orders.count) orders, \(loader.book.fills.count) fills, \(loader.book.positions.count) positions; \(s.batches) transactions in \(String(format: "%.2f", seconds)) s")
    }
}

/// Reads `fix_account,client_account` lines (a header line and `#` comments are skipped).
func readAccountMap(_ path: String) throws -> [(fixAccount: String, clientAccount: String)] {
    guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("\(path): cannot read") }
    var out: [(fixAccount: String, clientAccount: String)] = []
    for (i, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty || text.hasPrefix("#") { continue }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if i == 0 && parts.first?.lowercased() == "fix_account" { continue }
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw ValidationError("\(path):\(i + 1): expected fix_account,client_account")
        }
        out.append((parts[0], parts[1]))
    }
    return out
}

/// `--account`, `--date`, `--format` of the listings.
public struct BookListingOptions: ParsableArguments {
    @Option(name: .customLong("account"), help: "Only this client account.")
    var account: String?

    @Option(name: .customLong("date"), help: "Only this trade date (YYYY-MM-DD).")
    var date: String?

    @Option(name: .customLong("format"), help: "table, csv or json.")
    var format: ListingFormat = .table

    public init() {}

    func filter() throws -> BookFilter {
        BookFilter(clientAccount: account, tradeDate: try date.map { try parseBusinessDate($0) })
    }
}

/// Shared body of the listing commands: open, query, render, print.
func printListing(_ store: StoreOptions, _ options: BookListingOptions,
                  _ build: (BookStore, BookFilter) async throws -> Listing) async throws {
    let backend = try await store.open()
    let listing = try await build(BookStore(backend: backend), try options.filter())
    try await backend.close()
    print(listing.render(options.format), terminator: "")
}

public struct BookPositionsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "positions", abstract: "Positions per client account and instrument (average-cost method).",
        discussion: "--date is not applied: positions are as of the last booked fill.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var options: BookListingOptions
    public init() {}

    public func run() async throws {
        try await printListing(store, options) { s, f in
            var l = Listing(columns: ["account", "instrument", "currency", "quantity", "average_cost", "cost_basis", "realised_pnl"],
                            numeric: ["quantity", "average_cost", "cost_basis", "realised_pnl"])
            for p in try await s.positions(f) {
                l.add([p.clientAccount, p.instrument, p.currency, "\(p.quantity)", "\(p.averageCost)", "\(p.costBasis)", "\(p.realisedPnL)"])
            }
            return l
        }
    }
}

public struct BookOrdersCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "orders", abstract: "Orders with status, CumQty, LeavesQty and AvgPx (--date: orders with fills that day).")
    @OptionGroup var store: StoreOptions
    @OptionGroup var options: BookListingOptions
    public init() {}

    public func run() async throws {
        try await printListing(store, options) { s, f in
            var l = Listing(columns: ["session", "clordid", "account", "client_account", "instrument", "side", "order_qty", "price",
                                      "status", "cum_qty", "leaves_qty", "avg_px", "currency"],
                            numeric: ["order_qty", "price", "cum_qty", "leaves_qty", "avg_px"])
            for o in try await s.orders(f) {
                l.add([o.session, o.clOrdID, o.account, o.clientAccount, o.instrument, sideName(o.side), "\(o.orderQty)",
                       o.price.map { "\($0)" }, statusName(o.status), "\(o.cumQty)", "\(o.leavesQty)", "\(o.avgPx)", o.currency])
            }
            return l
        }
    }
}

public struct BookFillsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "fills", abstract: "Fills, with corrections and busts.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var options: BookListingOptions
    public init() {}

    public func run() async throws {
        try await printListing(store, options) { s, f in
            var l = Listing(columns: ["session", "exec_id", "account", "instrument", "side", "quantity", "price", "currency",
                                      "commission", "fees", "trade_date", "settlement_date", "state", "source"],
                            numeric: ["quantity", "price", "commission", "fees"])
            for x in try await s.fills(f) {
                let fees = x.fees.reduce(FIXDecimal.zero) { $0 + $1.amount }
                let state: String
                switch x.state {
                case .booked: state = "booked"
                case .corrected(let by): state = "corrected by \(by)"
                case .busted(let by): state = "busted by \(by)"
                }
                l.add([x.session, x.execID, x.clientAccount, x.instrument, sideName(x.side), "\(x.quantity)", "\(x.price)",
                       x.currency, "\(x.commission)", "\(fees)", isoDate(x.tradeDate), isoDate(x.settlementDate), state,
                       "\(x.source)"])
            }
            return l
        }
    }
}

public struct BookCashCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "cash", abstract: "Cash per client account and currency (trades, commissions and fees).",
        discussion: "--date is not applied: balances are as of the last booked fill.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var options: BookListingOptions
    public init() {}

    public func run() async throws {
        try await printListing(store, options) { s, f in
            var l = Listing(columns: ["account", "currency", "amount"], numeric: ["amount"])
            for c in try await s.cash(f) { l.add([c.clientAccount, c.currency, "\(c.amount)"]) }
            return l
        }
    }
}

public struct BookExceptionsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "exceptions", abstract: "Reports the book could not book cleanly, with a numbered code and where they are.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var options: BookListingOptions
    public init() {}

    public func run() async throws {
        try await printListing(store, options) { s, f in
            var l = Listing(columns: ["code", "name", "session", "exec_id", "clordid", "source", "reason"], numeric: ["code"])
            for e in try await s.exceptions(f) {
                let name = "\(e.code)".split(separator: "(").first.map(String.init) ?? ""
                l.add(["\(e.code.number)", name, e.session, e.execID, e.clOrdID, "\(e.source)", e.reason])
            }
            return l
        }
    }
}

/// `fixbridge book accounts [--import FILE]`: the FIX account → client account map.
public struct BookAccountsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "accounts", abstract: "Show the FIX Account → client account map, or add to it from a CSV.")
    @OptionGroup var store: StoreOptions
    @Option(name: .customLong("import"), help: "CSV of fix_account,client_account to add or replace.")
    var importFile: String?
    @Option(name: .customLong("format"), help: "table, csv or json.")
    var format: ListingFormat = .table
    public init() {}

    public func run() async throws {
        let backend = try await store.open()
        let s = BookStore(backend: backend)
        if let importFile { try await s.setAccounts(try readAccountMap(importFile)) }
        var l = Listing(columns: ["fix_account", "client_account"])
        for (k, v) in try await s.accounts().sorted(by: { $0.key < $1.key }) { l.add([k, v]) }
        try await backend.close()
        print(l.render(format), terminator: "")
    }
}

extension BookLoadCommand: AsyncRunnableCommand { public mutating func runAsync() async throws { try await run() } }
extension BookPositionsCommand: AsyncRunnableCommand { public mutating func runAsync() async throws { try await run() } }
extension BookOrdersCommand: AsyncRunnableCommand { public mutating func runAsync() async throws { try await run() } }
extension BookFillsCommand: AsyncRunnableCommand { public mutating func runAsync() async throws { try await run() } }
extension BookCashCommand: AsyncRunnableCommand { public mutating func runAsync() async throws { try await run() } }
extension BookExceptionsCommand: AsyncRunnableCommand { public mutating func runAsync() async throws { try await run() } }
extension BookAccountsCommand: AsyncRunnableCommand { public mutating func runAsync() async throws { try await run() } }

func sideName(_ s: Side) -> String {
    switch s {
    case .buy: return "buy"
    case .sell: return "sell"
    case .buyMinus: return "buy-minus"
    case .sellPlus: return "sell-plus"
    case .sellShort: return "sell-short"
    case .sellShortExempt: return "sell-short-exempt"
    }
}

func statusName(_ s: OrderStatus) -> String {
    switch s {
    case .new: return "new"
    case .partiallyFilled: return "partially-filled"
    case .filled: return "filled"
    case .doneForDay: return "done-for-day"
    case .cancelled: return "cancelled"
    case .pendingCancel: return "pending-cancel"
    case .stopped: return "stopped"
    case .rejected: return "rejected"
    case .suspended: return "suspended"
    case .pendingNew: return "pending-new"
    case .calculated: return "calculated"
    case .expired: return "expired"
    case .acceptedForBidding: return "accepted-for-bidding"
    case .pendingReplace: return "pending-replace"
    }
}

/// `YYYY-MM-DD`.
func isoDate(_ d: FIXDate) -> String {
    let s = d.description
    let b = Array(s)
    return String(b[0..<4]) + "-" + String(b[4..<6]) + "-" + String(b[6..<8])
}
