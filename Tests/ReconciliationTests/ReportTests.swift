import FIXTagValue
import Reconciliation
import Testing
import TradeBook

@Suite struct ReportTests {
    func result() -> ReconciliationResult {
        Fixture.run(book: [Fixture.book("E1", account: "<b>ACC&1</b>"), Fixture.book("E2", qty: "5")],
                    external: [Fixture.ext("E2", qty: "6"), Fixture.ext("X\"9,", px: "3")])
    }

    @Test func summaryCountsByCodeAndAccount() {
        let text = BreakReports.summary(result())
        #expect(text.contains("breaks: 3"))
        #expect(text.contains(" 1 missing at venue"))
        #expect(text.contains(" 2 missing in book"))
        #expect(text.contains(" 3 quantity"))
    }

    @Test func csvQuotesAndKeepsOneLinePerBreak() {
        let csv = BreakReports.csv(result().breaks)
        let lines = csv.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(csv.contains("X\"\"9,"))
        #expect(csv.contains("\"book quantity 5, reported 6\""))
    }

    @Test func jsonEscapesText() {
        let json = BreakReports.json(result().breaks)
        #expect(json.contains("\"key\":\"X\\\"9,\""))
        #expect(json.contains("\"code\":2"))
        #expect(json.hasPrefix("[") && json.hasSuffix("]\n"))
    }

    @Test func htmlEscapesEveryTextAndHasTheSections() {
        let cases = result().breaks.map { BreakCase(break: $0, seenOn: Fixture.date) }
        let html = BreakReports.html(cases: cases, asOf: Fixture.settle, title: "XVEN <2026-01-05>")
        #expect(!html.contains("<b>ACC"))
        #expect(html.contains("&lt;b&gt;ACC&amp;1&lt;/b&gt;"))
        #expect(html.contains("XVEN &lt;2026-01-05&gt;"))
        for section in ["By break type", "By account", "Biggest differences", "All breaks", "aged 1 day"] {
            #expect(html.contains(section))
        }
        #expect(!html.contains("<script"))
    }
}

@Suite struct ReportLifecycleColumnTests {
    func cases() throws -> [BreakCase] {
        let breaks = Fixture.run(book: [Fixture.book("E1"), Fixture.book("E2", qty: "5")],
                                 external: [Fixture.ext("E2", qty: "6")]).breaks
        // First seen on Monday 2026-01-05; the report is as of Thursday 2026-01-08.
        var assigned = BreakCase(break: breaks[0], seenOn: Fixture.date)
        try assigned.apply(.assign(to: "ops-1"), by: "lead", at: Fixture.time("20260105-10:00:00"),
                           policy: LifecyclePolicy())
        let open = BreakCase(break: breaks[1], seenOn: FIXDate(year: 2026, month: 1, day: 7)!)
        return [assigned, open]
    }

    static let asOf = FIXDate(year: 2026, month: 1, day: 8)!

    @Test func csvOfCasesCarriesStateAssigneeAndAge() throws {
        let csv = BreakReports.csv(cases: try cases(), asOf: Self.asOf)
        let lines = csv.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0].hasSuffix(",detail,state,assignee,age_business_days,first_seen,last_seen"))
        #expect(lines[1].hasSuffix(",assigned,ops-1,3,20260105,20260105"))
        #expect(lines[2].hasSuffix(",open,,1,20260107,20260107"))
    }

    @Test func jsonOfCasesCarriesStateAssigneeAndAge() throws {
        let json = BreakReports.json(cases: try cases(), asOf: Self.asOf)
        #expect(json.contains("\"state\":\"assigned\",\"assignee\":\"ops-1\",\"ageBusinessDays\":3,"
            + "\"firstSeen\":\"20260105\",\"lastSeen\":\"20260105\"}"))
        #expect(json.contains("\"state\":\"open\",\"assignee\":null,\"ageBusinessDays\":1,"))
    }

    @Test func htmlShowsTheSameStateAssigneeAndAge() throws {
        let html = BreakReports.html(cases: try cases(), asOf: Self.asOf, title: "t")
        #expect(html.contains("<th>Age</th><th>State</th><th>Assignee</th>"))
        #expect(html.contains("<td class=\"n\">3</td><td>assigned</td><td>ops-1</td>"))
        #expect(html.contains("<td class=\"n\">1</td><td>open</td><td>–</td>"))
    }

    @Test func assigneeStaysWhileARequestOnAnAssignedBreakAwaitsApproval() {
        let pending = BreakState.pendingApproval(.resolve(reason: "r"), requestedBy: "ops-1", previous: .assigned(to: "ops-1"))
        #expect(BreakReports.assignee(pending) == "ops-1")
        #expect(BreakReports.stateWord(pending) == "pending")
        #expect(BreakReports.assignee(.open) == nil)
    }
}

@Suite struct FIXAccountMappingTests {
    @Test func dropCopyAccountsGoThroughTheAccountMap() {
        let map = ["F1": "CLIENT-1"]
        let mapped = Fixture.ext("E1", account: "F1").mappingAccount(through: map)
        #expect(mapped.account == "CLIENT-1")
        #expect(Fixture.ext("E1", account: "F9").mappingAccount(through: map).account == "F9")
        // Mapped, the drop copy matches the book's client account; unmapped, it would be unknown.
        let result = Fixture.run(book: [Fixture.book("E1", account: "CLIENT-1")], external: [mapped]) {
            $0.knownAccounts = ["CLIENT-1"]
        }
        #expect(result.breaks.isEmpty)
        let unmapped = Fixture.run(book: [Fixture.book("E1", account: "CLIENT-1")],
                                   external: [Fixture.ext("E1", account: "F1")]) { $0.knownAccounts = ["CLIENT-1"] }
        #expect(unmapped.breaks.map(\.code).contains(.unknownAccount))
    }
}
