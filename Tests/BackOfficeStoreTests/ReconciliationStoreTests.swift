import BackOfficeStore
import FIXTagValue
import Reconciliation
import Testing
import TradeBook

/// Small builders for the break store's tests: runs of the real matcher on a few records.
private enum Recon {
    static let monday = FIXDate("20260105")!
    static let friday = FIXDate("20260109")!
    static let nextMonday = FIXDate("20260112")!

    static func time(_ date: FIXDate, _ clock: String = "18:00:00.000") -> FIXTimestamp {
        FIXTimestamp("\(date)-\(clock)")!
    }

    static func d(_ text: String) -> FIXDecimal { FIXDecimal(text)! }

    static func book(_ exec: String, qty: String = "100", px: String = "10", date: FIXDate = monday,
                     fill: Int = 0) -> BookTrade {
        BookTrade(fillID: fill, execID: exec, orderID: "O-1", account: "ACC1", instrument: "AAPL", side: .buy,
                  quantity: d(qty), price: d(px), currency: "USD", tradeDate: date, settlementDate: date.adding(days: 1),
                  fees: d("0.35"))
    }

    static func ext(_ exec: String, qty: String = "100", px: String = "10", date: FIXDate = monday,
                    line: Int = 2) -> ExternalTrade {
        ExternalTrade(origin: .statement(file: "venue.csv", line: line), account: "ACC1", instrument: "AAPL",
                      side: .buy, quantity: d(qty), price: d(px), currency: "USD", tradeDate: date,
                      settlementDate: date.adding(days: 1), fees: d("0.35"), execID: exec)
    }

    /// A trade run: fill X1 matches, X2 has a quantity difference, X3 is missing at the venue,
    /// plus a position difference for AAPL when `position` is given.
    static func run(date: FIXDate = monday, book: [BookTrade], external: [ExternalTrade],
                    bookPosition: String? = nil, reportedPosition: String? = nil) -> ReconciliationResult {
        var config = ReconciliationConfiguration(businessDate: date, sourceName: "XVEN")
        config.knownAccounts = ["ACC1"]
        var r = Reconciler(configuration: config)
        for b in book { r.add(b) }
        for e in external { r.add(e) }
        if let bookPosition, let reportedPosition {
            r.add(bookPosition: Position(clientAccount: "ACC1", instrument: "AAPL", currency: "USD",
                                         quantity: d(bookPosition), costBasis: .zero, averageCost: .zero,
                                         realisedPnL: .zero))
            r.add(ExternalPosition(origin: .statement(file: "pos.txt", line: 1), account: "ACC1", instrument: "AAPL",
                                   quantity: d(reportedPosition)))
        }
        return r.run()
    }

    static var mondayRun: ReconciliationResult {
        run(book: [book("X1", fill: 0), book("X2", fill: 1), book("X3", fill: 2)],
            external: [ext("X1"), ext("X2", qty: "90", line: 3)])
    }

    static func count(_ backend: any SQLBackend, _ table: String) async throws -> Int64 {
        try await backend.query("SELECT COUNT(*) FROM \(table)", []).first?.first?.int ?? -1
    }
}

@Suite struct ReconciliationStoreTests {
    @Test(arguments: BackendKind.allCases)
    func persistsBreaksAndRerunKeepsIdsWithoutDuplicates(_ kind: BackendKind) async throws {
        guard let test = try await TestBackends.open(kind) else { return }
        defer { Task { try? await test.backend.close() } }
        let store = BreakStore(backend: test.backend)
        let run = Recon.mondayRun
        #expect(run.breaks.map(\.code).sorted() == [.missingAtVenue, .quantity])

        let first = try await store.record(run: run, actor: "eod", at: Recon.time(Recon.monday), issues: 1)
        #expect(first.record.newBreaks == 2)
        #expect(first.record.issues == 1)
        let stored = try await store.list(BreakFilter())
        #expect(Set(stored.map(\.breakCase.id)) == Set(run.breaks.map(\.id)))
        // Every value of the break survives the round trip, both sides' records included.
        for s in stored {
            let original = try #require(run.breaks.first { $0.id == s.breakCase.id })
            #expect(s.breakCase.latest == original)
            #expect(s.breakCase.firstSeen == Recon.monday)
            #expect(s.breakCase.state == .open)
            #expect(s.version == 1)
        }
        let quantity = try #require(stored.first { $0.breakCase.latest.code == .quantity })
        #expect(quantity.breakCase.latest.book.count == 1)
        #expect(quantity.breakCase.latest.external.first?.origin == .statement(file: "venue.csv", line: 3))

        // The same inputs again: same ids, no new rows, no new audit entries, one more run row.
        let again = try await store.record(run: Recon.mondayRun, actor: "eod", at: Recon.time(Recon.monday, "19:00:00.000"),
                                           issues: 1)
        #expect(again.record.newBreaks == 0)
        #expect(again.record.resolved == 0)
        #expect(try await Recon.count(test.backend, "breaks") == 2)
        #expect(try await Recon.count(test.backend, "break_events") == 2)
        #expect(try await Recon.count(test.backend, "reconciliation_runs") == 2)
        let rerun = try await store.list(BreakFilter())
        #expect(Set(rerun.map(\.breakCase.id)) == Set(run.breaks.map(\.id)))
        #expect(rerun.allSatisfy { $0.version == 2 && $0.breakCase.state == .open })
        let runs = try await store.runs(date: Recon.monday)
        #expect(runs.map(\.breaks) == [2, 2])
        #expect(runs.first?.statistics.bookTrades == 3)

        // A rerun after the venue corrected its file resolves the quantity break as gone.
        let fixed = Recon.run(book: [Recon.book("X1", fill: 0), Recon.book("X2", fill: 1), Recon.book("X3", fill: 2)],
                              external: [Recon.ext("X1"), Recon.ext("X2", line: 3)])
        let third = try await store.record(run: fixed, actor: "eod", at: Recon.time(Recon.monday, "20:00:00.000"), issues: 0)
        #expect(third.record.resolved == 1)
        let gone = try #require(try await store.load(id: quantity.breakCase.id))
        #expect(gone.breakCase.state == .resolved(reason: BreakMerge.goneReason))
        #expect(try await store.list(BreakFilter(state: .unresolved)).count == 1)
    }

    @Test(arguments: BackendKind.allCases)
    func lifecycleTransitionsAreStoredWithTheirAuditTrail(_ kind: BackendKind) async throws {
        guard let test = try await TestBackends.open(kind) else { return }
        defer { Task { try? await test.backend.close() } }
        let store = BreakStore(backend: test.backend)
        try await store.record(run: Recon.mondayRun, actor: "eod", at: Recon.time(Recon.monday), issues: 0)
        let id = try #require(try await store.list(BreakFilter(code: .missingAtVenue)).first?.breakCase.id)

        try await store.apply(.assign(to: "ops-1"), to: id, by: "lead", at: Recon.time(Recon.monday, "18:01:00.000"))
        try await store.apply(.comment("venue says late booking"), to: id, by: "ops-1",
                              at: Recon.time(Recon.monday, "18:02:00.000"))
        #expect(try await store.list(BreakFilter(state: .assigned)).map(\.breakCase.id) == [id])
        #expect(try await store.list(BreakFilter(account: "ACC1")).count == 2)
        try await store.apply(.resolve(reason: "booked late by the venue"), to: id, by: "ops-1",
                              at: Recon.time(Recon.monday, "18:03:00.000"))

        let loaded = try #require(try await store.load(id: id))
        #expect(loaded.breakCase.state == .resolved(reason: "booked late by the venue"))
        #expect(loaded.version == 4)
        #expect(loaded.breakCase.trail.map(\.actor) == ["lead", "ops-1", "ops-1"])
        #expect(loaded.breakCase.trail.first?.from == .open)
        #expect(loaded.breakCase.trail.first?.to == .assigned(to: "ops-1"))
        #expect(loaded.breakCase.comments.map(\.text) == ["venue says late booking"])
        let events = try await store.events(id: id)
        #expect(events.map(\.action) == ["detected", "assign", "comment", "resolve"])
        #expect(events.map(\.text) == [loaded.breakCase.latest.detail, "ops-1", "venue says late booking",
                                       "booked late by the venue"])
        #expect(events[3].at == "20260105-18:03:00.000")

        // A transition the state does not allow throws and writes nothing.
        await #expect(throws: LifecycleError.self) {
            try await store.apply(.assign(to: "ops-2"), to: id, by: "lead", at: Recon.time(Recon.monday, "18:04:00.000"))
        }
        #expect(try await store.events(id: id).count == 4)
        #expect(try await store.load(id: id)?.version == 4)
        #expect(try await store.list(BreakFilter(state: .resolved)).map(\.breakCase.id) == [id])
    }

    @Test(arguments: BackendKind.allCases)
    func makerCheckerNeedsASecondPerson(_ kind: BackendKind) async throws {
        guard let test = try await TestBackends.open(kind) else { return }
        defer { Task { try? await test.backend.close() } }
        let store = BreakStore(backend: test.backend)
        #expect(try await store.lifecyclePolicy().makerChecker == false)
        try await store.setMakerChecker(true)
        #expect(try await store.lifecyclePolicy().makerChecker == true)
        try await store.record(run: Recon.mondayRun, actor: "eod", at: Recon.time(Recon.monday), issues: 0)
        let ids = try await store.list(BreakFilter()).map(\.breakCase.id)
        let t = Recon.time(Recon.monday, "18:05:00.000")

        try await store.apply(.assign(to: "ops-1"), to: ids[0], by: "lead", at: t)
        let pending = try await store.apply(.forceClose(reason: "immaterial"), to: ids[0], by: "ops-1", at: t)
        #expect(pending.breakCase.state == .pendingApproval(.forceClose(reason: "immaterial"), requestedBy: "ops-1",
                                                            previous: .assigned(to: "ops-1")))
        #expect(try await store.list(BreakFilter(state: .pending)).map(\.breakCase.id) == [ids[0]])
        do {
            try await store.apply(.approve, to: ids[0], by: "ops-1", at: t)
            Issue.record("the requester approved their own request")
        } catch let error as LifecycleError {
            #expect(error.isSameActor)
        }
        try await store.apply(.approve, to: ids[0], by: "lead", at: t)
        #expect(try await store.load(id: ids[0])?.breakCase.state == .forceClosed(reason: "immaterial"))

        // Rejected: back to the state before the request.
        try await store.apply(.resolve(reason: "explained"), to: ids[1], by: "ops-2", at: t)
        try await store.apply(.reject(reason: "no evidence"), to: ids[1], by: "lead", at: t)
        #expect(try await store.load(id: ids[1])?.breakCase.state == .open)
        #expect(try await store.events(id: ids[1]).map(\.action) == ["detected", "resolve", "reject"])

        // A policy passed in overrides the database's setting.
        try await store.setMakerChecker(false)
        let direct = try await store.apply(.resolve(reason: "explained"), to: ids[1], by: "ops-2", at: t)
        #expect(direct.breakCase.state == .resolved(reason: "explained"))
    }

    @Test(arguments: BackendKind.allCases)
    func staleVersionConflictsAndWritesNothing(_ kind: BackendKind) async throws {
        guard let test = try await TestBackends.open(kind) else { return }
        defer { Task { try? await test.backend.close() } }
        let store = BreakStore(backend: test.backend)
        try await store.record(run: Recon.mondayRun, actor: "eod", at: Recon.time(Recon.monday), issues: 0)
        let read = try #require(try await store.list(BreakFilter(code: .quantity)).first)
        let t = Recon.time(Recon.monday, "18:10:00.000")

        // Someone else assigns it after we read it.
        try await store.apply(.assign(to: "ops-2"), to: read.breakCase.id, by: "lead-2", at: t)
        do {
            try await store.apply(.assign(to: "ops-1"), to: read.breakCase.id, by: "lead-1", at: t,
                                  expectedVersion: read.version)
            Issue.record("a write with a stale version succeeded")
        } catch let error as BackOfficeStoreError {
            #expect(error.isConflict)
        }
        let now = try #require(try await store.load(id: read.breakCase.id))
        #expect(now.breakCase.state == .assigned(to: "ops-2"))
        #expect(now.version == read.version + 1)
        #expect(try await store.events(id: read.breakCase.id).map(\.actor) == ["eod", "lead-2"])

        // A run merged against cases read before an operator's change conflicts as a whole.
        let run = Recon.mondayRun
        let stale = try await store.casesForMerge(run)
        try await store.apply(.comment("looking"), to: read.breakCase.id, by: "ops-2", at: t)
        let merged = BreakMerge.merge(run: run, stored: stale.map(\.breakCase), actor: "eod", at: t)
        do {
            _ = try await store.persist(merged, run: run, stored: stale, actor: "eod", at: t, issues: 0)
            Issue.record("a merge over a changed break was written")
        } catch let error as BackOfficeStoreError {
            #expect(error.isConflict)
        }
        #expect(try await Recon.count(test.backend, "reconciliation_runs") == 1)
    }

    @Test(arguments: BackendKind.allCases)
    func breaksAgeAcrossBusinessDates(_ kind: BackendKind) async throws {
        guard let test = try await TestBackends.open(kind) else { return }
        defer { Task { try? await test.backend.close() } }
        let store = BreakStore(backend: test.backend)
        // Friday: a trade missing at the venue and a position difference.
        let friday = Recon.run(date: Recon.friday, book: [Recon.book("F1", date: Recon.friday)], external: [],
                               bookPosition: "100", reportedPosition: "90")
        #expect(friday.breaks.map(\.code).sorted() == [.missingAtVenue, .position])
        try await store.record(run: friday, actor: "eod", at: Recon.time(Recon.friday), issues: 0)

        // Monday: the same position difference (same id, no date in it); Friday's trade is not
        // reconciled again and is carried.
        let monday = Recon.run(date: Recon.nextMonday, book: [Recon.book("F1", date: Recon.friday)], external: [],
                               bookPosition: "100", reportedPosition: "90")
        #expect(monday.breaks.map(\.code) == [.position])
        let outcome = try await store.record(run: monday, actor: "eod", at: Recon.time(Recon.nextMonday), issues: 0)
        #expect(outcome.record.newBreaks == 0)
        #expect(outcome.record.resolved == 0)

        let open = try await store.openCases()
        #expect(open.count == 2)
        let position = try #require(open.first { $0.breakCase.latest.code == .position })
        #expect(position.breakCase.firstSeen == Recon.friday)
        #expect(position.breakCase.lastSeen == Recon.nextMonday)
        #expect(position.breakCase.age(asOf: Recon.nextMonday) == 1)  // the weekend does not count
        let trade = try #require(open.first { $0.breakCase.latest.code == .missingAtVenue })
        #expect(trade.breakCase.lastSeen == Recon.friday)
        #expect(trade.breakCase.age(asOf: FIXDate("20260114")!) == 3)
        #expect(try await store.list(BreakFilter(date: Recon.friday)).count == 2)
        #expect(try await store.list(BreakFilter(date: Recon.nextMonday)).map(\.breakCase.id) == [position.breakCase.id])

        // Tuesday the position agrees: the break is resolved as gone; a closed break found again
        // later is reopened with its first-seen date kept.
        let tuesday = FIXDate("20260113")!
        let agreed = Recon.run(date: tuesday, book: [], external: [], bookPosition: "100", reportedPosition: "100")
        #expect(try await store.record(run: agreed, actor: "eod", at: Recon.time(tuesday), issues: 0).record.resolved == 1)
        let wednesday = FIXDate("20260114")!
        let back = Recon.run(date: wednesday, book: [], external: [], bookPosition: "100", reportedPosition: "90")
        #expect(try await store.record(run: back, actor: "eod", at: Recon.time(wednesday), issues: 0).record.reopened == 1)
        let reopened = try #require(try await store.load(id: position.breakCase.id))
        #expect(reopened.breakCase.state == .open)
        #expect(reopened.breakCase.firstSeen == Recon.friday)
        #expect(reopened.breakCase.age(asOf: wednesday) == 3)
        #expect(try await store.events(id: position.breakCase.id).map(\.action) == ["detected", "resolve", "reopen"])
    }
}
