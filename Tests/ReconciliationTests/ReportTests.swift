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
