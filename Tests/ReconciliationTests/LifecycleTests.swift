import FIXTagValue
import Reconciliation
import Testing
import TradeBook

@Suite struct LifecycleTests {
    static let now = Fixture.time("20260105-18:00:00.000")
    static let later = Fixture.time("20260105-18:30:00.000")

    func openCase() -> BreakCase {
        let r = Fixture.run(book: [Fixture.book("E1")], external: [])
        return BreakCase(break: r.breaks[0], seenOn: Fixture.date)
    }

    @Test func assignThenResolveWithoutMakerChecker() throws {
        var c = openCase()
        try c.apply(.assign(to: "ops-1"), by: "lead", at: Self.now, policy: LifecyclePolicy())
        #expect(c.state == .assigned(to: "ops-1"))
        try c.apply(.comment("venue confirms late report"), by: "ops-1", at: Self.now, policy: LifecyclePolicy())
        try c.apply(.resolve(reason: "late booking"), by: "ops-1", at: Self.later, policy: LifecyclePolicy())
        #expect(c.state == .resolved(reason: "late booking"))
        #expect(c.trail.map(\.actor) == ["lead", "ops-1", "ops-1"])
        #expect(c.trail.last?.at == Self.later)
        #expect(c.comments.map(\.text) == ["venue confirms late report"])
    }

    @Test func makerCheckerNeedsASecondPerson() throws {
        let policy = LifecyclePolicy(makerChecker: true)
        var c = openCase()
        try c.apply(.assign(to: "ops-1"), by: "lead", at: Self.now, policy: policy)
        try c.apply(.forceClose(reason: "immaterial"), by: "ops-1", at: Self.now, policy: policy)
        guard case .pendingApproval(.forceClose("immaterial"), "ops-1", _) = c.state else {
            Issue.record("expected a pending request, got \(c.state)")
            return
        }
        #expect(throws: LifecycleError.self) {
            try c.apply(.approve, by: "ops-1", at: Self.now, policy: policy)
        }
        do {
            try c.apply(.approve, by: "ops-1", at: Self.now, policy: policy)
        } catch {
            #expect(error.isSameActor)
        }
        try c.apply(.approve, by: "checker", at: Self.later, policy: policy)
        #expect(c.state == .forceClosed(reason: "immaterial"))
        #expect(c.trail.count == 3)
    }

    @Test func rejectedRequestReturnsToThePreviousState() throws {
        let policy = LifecyclePolicy(makerChecker: true)
        var c = openCase()
        try c.apply(.assign(to: "ops-1"), by: "lead", at: Self.now, policy: policy)
        try c.apply(.resolve(reason: "booked"), by: "ops-1", at: Self.now, policy: policy)
        try c.apply(.reject(reason: "not booked yet"), by: "checker", at: Self.now, policy: policy)
        #expect(c.state == .assigned(to: "ops-1"))
    }

    @Test func closedBreaksRefuseActionsButReopen() throws {
        var c = openCase()
        try c.apply(.resolve(reason: "fixed"), by: "ops-1", at: Self.now, policy: LifecyclePolicy())
        #expect(throws: LifecycleError.self) {
            try c.apply(.assign(to: "x"), by: "ops-1", at: Self.now, policy: LifecyclePolicy())
        }
        #expect(throws: LifecycleError.self) {
            try c.apply(.approve, by: "ops-2", at: Self.now, policy: LifecyclePolicy())
        }
        try c.apply(.reopen(reason: "came back"), by: "ops-2", at: Self.now, policy: LifecyclePolicy())
        #expect(c.state == .open)
    }
}

@Suite struct RerunAndAgeingTests {
    static let now = Fixture.time("20260105-18:00:00.000")

    func day1() -> ReconciliationResult {
        Fixture.run(book: [Fixture.book("E1"), Fixture.book("E2"), Fixture.book("E3", qty: "5")],
                    external: [Fixture.ext("E3", qty: "6"), Fixture.ext("X9", instrument: "MSFT", px: "3")])
    }

    @Test func rerunOfTheSameInputsGivesTheSameIds() {
        let a = day1(), b = day1()
        #expect(a.breaks.map(\.id) == b.breaks.map(\.id))
        #expect(Set(a.breaks.map(\.id)).count == a.breaks.count)
        #expect(a.breaks.allSatisfy { $0.id.count == 16 })
    }

    @Test func mergingARerunChangesNothing() {
        let first = BreakMerge.merge(run: day1(), stored: [], actor: "system", at: Self.now)
        #expect(first.upserts.count == 4)
        let second = BreakMerge.merge(run: day1(), stored: first.upserts, actor: "system", at: Self.now)
        #expect(second.transitions.isEmpty)
        #expect(Set(second.upserts.map(\.id)) == Set(first.upserts.map(\.id)))
        #expect(second.upserts.allSatisfy { $0.state == .open && $0.firstSeen == Fixture.date })
    }

    @Test func breakGoneOnRerunIsAutoResolved() {
        let first = BreakMerge.merge(run: day1(), stored: [], actor: "system", at: Self.now)
        // The venue's late file now reports E2.
        let rerun = Fixture.run(book: [Fixture.book("E1"), Fixture.book("E2"), Fixture.book("E3", qty: "5")],
                                external: [Fixture.ext("E3", qty: "6"), Fixture.ext("X9", instrument: "MSFT", px: "3"),
                                           Fixture.ext("E2")])
        let merged = BreakMerge.merge(run: rerun, stored: first.upserts, actor: "system", at: Self.now)
        #expect(merged.transitions.count == 1)
        let closed = merged.upserts.first { $0.state.isClosed }!
        #expect(closed.state == .resolved(reason: BreakMerge.goneReason))
        #expect(closed.latest.book.first?.key == "E2")
        #expect(closed.trail.last?.actor == "system")
    }

    @Test func carriedBreaksKeepFirstSeenAndAgeInBusinessDays() {
        // Friday 2 January 2026 to Tuesday 6 January: Monday and Tuesday are business days.
        let friday = FIXDate(year: 2026, month: 1, day: 2)!
        let tuesday = FIXDate(year: 2026, month: 1, day: 6)!
        func positions(on date: FIXDate) -> ReconciliationResult {
            var r = Reconciler(configuration: .init(businessDate: date, sourceName: "CLR"))
            r.add(bookPosition: Position(clientAccount: "ACC1", instrument: "AAPL", currency: "USD", quantity: 100,
                                         costBasis: 0, averageCost: 0, realisedPnL: 0))
            r.add(ExternalPosition(origin: .fix(source: "ap", offset: 0), account: "ACC1", instrument: "AAPL",
                                   quantity: 90))
            return r.run()
        }
        let first = BreakMerge.merge(run: positions(on: friday), stored: [], actor: "system", at: Self.now)
        let second = BreakMerge.merge(run: positions(on: tuesday), stored: first.upserts, actor: "system",
                                      at: Self.now)
        #expect(second.upserts.count == 1)
        let c = second.upserts[0]
        #expect(c.firstSeen == friday)
        #expect(c.lastSeen == tuesday)
        #expect(c.age(asOf: tuesday) == 2)
        let holiday = BusinessCalendar(holidays: [FIXDate(year: 2026, month: 1, day: 5)!])
        #expect(c.age(asOf: tuesday, calendar: holiday) == 1)
    }

    @Test func tradeBreaksOfEarlierDatesAreCarriedNotResolved() {
        let first = BreakMerge.merge(run: day1(), stored: [], actor: "system", at: Self.now)
        let nextDay = Fixture.run(book: [], external: [], date: Fixture.settle)
        let merged = BreakMerge.merge(run: nextDay, stored: first.upserts, actor: "system", at: Self.now)
        #expect(merged.transitions.isEmpty)
        #expect(first.upserts.allSatisfy { $0.age(asOf: Fixture.settle) == 1 })
    }
}
