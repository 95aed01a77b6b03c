import FIXTagValue
import TradeBook

/// Text renderings of breaks: a summary, CSV, JSON and a self-contained HTML page. Pure string
/// builders; the caller writes them where it likes.
///
/// ```swift
/// print(BreakReports.summary(result))
/// let page = BreakReports.html(cases: cases, asOf: date, title: "XLON 2026-01-05")
/// ```
public enum BreakReports {
    /// Rows the HTML page lists in full; beyond it the page says how many it left out (the CSV
    /// has them all).
    public static let htmlRowsMax = 5_000
    /// Rows in the "biggest differences" table.
    public static let biggestMax = 20

    // MARK: Summary

    public static func summary(_ result: ReconciliationResult) -> String {
        let s = result.statistics
        var out = "Reconciliation \(result.configuration.sourceName) \(result.configuration.businessDate)\n"
        out += "book trades \(s.bookTrades), reported trades \(s.externalTrades), other dates \(s.otherDate)\n"
        out += "matched: by key \(s.matchedByKey), by attributes \(s.matchedByAttributes), "
            + "by aggregation \(s.matchedByAggregation) rows\n"
        out += "breaks: \(result.breaks.count)\n"
        for (code, count) in countsByCode(result.breaks) {
            out += "  \(pad(String(code.number), 2)) \(pad(code.name, 16, right: true)) \(count)\n"
        }
        out += "by account:\n"
        for (account, count) in countsByAccount(result.breaks) {
            out += "  \(pad(account, 16, right: true)) \(count)\n"
        }
        return out
    }

    static func countsByCode(_ breaks: [Break]) -> [(BreakCode, Int)] {
        var counts: [BreakCode: Int] = [:]
        for b in breaks { counts[b.code, default: 0] += 1 }
        return counts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    static func countsByAccount(_ breaks: [Break]) -> [(String, Int)] {
        var counts: [String: Int] = [:]
        for b in breaks { counts[b.account ?? "(none)", default: 0] += 1 }
        return counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    private static func pad(_ s: String, _ n: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, n - s.count))
        return right ? s + fill : fill + s
    }

    // MARK: CSV

    static let csvColumns = "id,code,code_name,source,business_date,account,instrument,currency,quantity_difference,"
        + "amount_difference,book_records,external_records,detail"
    static let csvCaseColumns = ",state,assignee,age_business_days,first_seen,last_seen"

    /// One line per break, RFC 4180 quoting, with the records of each side joined by spaces.
    public static func csv(_ breaks: [Break]) -> String {
        var out = csvColumns + "\n"
        for b in breaks { out += csvFields(b).map(csvField).joined(separator: ",") + "\n" }
        return out
    }

    /// One line per stored break, as `csv(_:)` plus its lifecycle: state (`open`, `assigned`,
    /// `pending`, `resolved`, `closed`), assignee (empty when nobody holds it), age in business
    /// days from first seen to `asOf`, and the first- and last-seen dates.
    public static func csv(cases: [BreakCase], asOf: FIXDate, calendar: BusinessCalendar = BusinessCalendar()) -> String {
        var out = csvColumns + csvCaseColumns + "\n"
        for c in cases {
            let fields = csvFields(c.latest) + [
                stateWord(c.state), assignee(c.state) ?? "", String(c.age(asOf: asOf, calendar: calendar)),
                c.firstSeen.description, c.lastSeen.description,
            ]
            out += fields.map(csvField).joined(separator: ",") + "\n"
        }
        return out
    }

    private static func csvFields(_ b: Break) -> [String] {
        [
            b.id, String(b.code.number), b.code.name, b.source, b.businessDate.description, b.account ?? "",
            b.instrument ?? "", b.currency ?? "", b.quantityDifference.description,
            b.amountDifference.description, b.book.map(recordText).joined(separator: " "),
            b.external.map(recordText).joined(separator: " "), b.detail,
        ]
    }

    /// The lifecycle state in one word: `open`, `assigned`, `pending`, `resolved` or `closed`.
    public static func stateWord(_ s: BreakState) -> String {
        switch s {
        case .open: return "open"
        case .assigned: return "assigned"
        case .pendingApproval: return "pending"
        case .resolved: return "resolved"
        case .forceClosed: return "closed"
        }
    }

    /// Who holds the break: its assignee, also while a request on an assigned break awaits
    /// approval; nil otherwise.
    public static func assignee(_ s: BreakState) -> String? {
        switch s {
        case .assigned(let who), .pendingApproval(_, _, .assigned(let who)): return who
        default: return nil
        }
    }

    static func recordText(_ r: BreakRecord) -> String {
        var parts = [r.origin.description]
        if !r.key.isEmpty { parts.append(r.key) }
        if let s = r.side { parts.append(s.sign > 0 ? "buy" : "sell") }
        if let q = r.quantity { parts.append(q.description) }
        if let p = r.price { parts.append("@" + p.description) }
        return parts.joined(separator: "/")
    }

    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else {
            // Leading =, +, - or @ would be read as a formula by a spreadsheet.
            if let f = s.first, "=+@".contains(f) { return "'" + s }
            return s
        }
        return "\"" + s.replacingAll("\"", with: "\"\"") + "\""
    }

    // MARK: JSON

    /// A JSON array of breaks, keys in a fixed order, decimals as strings (exact).
    public static func json(_ breaks: [Break]) -> String {
        var out = "[\n"
        for (n, b) in breaks.enumerated() {
            out += "  {" + jsonFields(b) + "}"
            out += n + 1 < breaks.count ? ",\n" : "\n"
        }
        return out + "]\n"
    }

    /// A JSON array of stored breaks, as `json(_:)` plus `state`, `assignee` (null when nobody
    /// holds it), `ageBusinessDays` (first seen to `asOf`), `firstSeen` and `lastSeen`.
    public static func json(cases: [BreakCase], asOf: FIXDate, calendar: BusinessCalendar = BusinessCalendar()) -> String {
        var out = "[\n"
        for (n, c) in cases.enumerated() {
            out += "  {" + jsonFields(c.latest)
            out += ",\"state\":\(q(stateWord(c.state))),\"assignee\":\(assignee(c.state).map(q) ?? "null"),"
            out += "\"ageBusinessDays\":\(c.age(asOf: asOf, calendar: calendar)),"
            out += "\"firstSeen\":\(q(c.firstSeen.description)),\"lastSeen\":\(q(c.lastSeen.description))}"
            out += n + 1 < cases.count ? ",\n" : "\n"
        }
        return out + "]\n"
    }

    private static func jsonFields(_ b: Break) -> String {
        var out = "\"id\":\(q(b.id)),\"code\":\(b.code.number),\"codeName\":\(q(b.code.name)),"
        out += "\"source\":\(q(b.source)),\"businessDate\":\(q(b.businessDate.description)),"
        out += "\"account\":\(b.account.map(q) ?? "null"),\"instrument\":\(b.instrument.map(q) ?? "null"),"
        out += "\"currency\":\(b.currency.map(q) ?? "null"),"
        out += "\"quantityDifference\":\(q(b.quantityDifference.description)),"
        out += "\"amountDifference\":\(q(b.amountDifference.description)),"
        out += "\"book\":[\(b.book.map(recordJSON).joined(separator: ","))],"
        out += "\"external\":[\(b.external.map(recordJSON).joined(separator: ","))],"
        out += "\"detail\":\(q(b.detail))"
        return out
    }

    private static func recordJSON(_ r: BreakRecord) -> String {
        var fields = ["\"origin\":\(q(r.origin.description))", "\"key\":\(q(r.key))"]
        if let s = r.side { fields.append("\"side\":\(q(s.sign > 0 ? "buy" : "sell"))") }
        if let v = r.quantity { fields.append("\"quantity\":\(q(v.description))") }
        if let v = r.price { fields.append("\"price\":\(q(v.description))") }
        if let v = r.fees { fields.append("\"fees\":\(q(v.description))") }
        if let v = r.settlementDate { fields.append("\"settlementDate\":\(q(v.description))") }
        return "{" + fields.joined(separator: ",") + "}"
    }

    static func q(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u == "\u{2028}" || u == "\u{2029}" {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    // MARK: HTML

    /// Ageing buckets, in business days.
    public static let ageBuckets = ["0 days", "1 day", "2–5 days", "over 5 days"]

    static func bucket(_ age: Int) -> Int { age <= 0 ? 0 : age == 1 ? 1 : age <= 5 ? 2 : 3 }

    /// A page a back-office reader can open anywhere: counts by type and by account, ageing,
    /// the biggest differences and the full list. Inline CSS, no script, all text escaped.
    public static func html(cases: [BreakCase], asOf: FIXDate, title: String,
                            calendar: BusinessCalendar = BusinessCalendar()) -> String {
        let breaks = cases.map(\.latest)
        let open = cases.filter { !$0.state.isClosed }
        var out = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(e(title))</title>
        <style>
        body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:24px;color:#1d2330;background:#fff}
        h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #d7dbe3;padding-bottom:4px}
        .sub{color:#5b6475;margin-bottom:16px}
        .cards{display:flex;gap:12px;flex-wrap:wrap}.card{border:1px solid #d7dbe3;border-radius:6px;padding:10px 14px;min-width:120px}
        .card b{display:block;font-size:22px}.card span{color:#5b6475;font-size:12px}
        table{border-collapse:collapse;font-size:13px;margin-top:4px}th,td{padding:4px 10px;border-bottom:1px solid #eceef3;text-align:left;vertical-align:top}
        th{background:#f4f6fa;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
        .code{display:inline-block;border-radius:3px;padding:0 6px;background:#eef1f7;font-size:12px;white-space:nowrap}
        td.small{overflow-wrap:anywhere;min-width:170px;max-width:300px}
        .neg{color:#b42318}.pos{color:#067647}.small{color:#5b6475;font-size:12px}
        .grid{display:flex;gap:32px;flex-wrap:wrap}
        </style></head><body>
        <h1>\(e(title))</h1>
        <div class="sub">As of \(e(iso(asOf))) · \(breaks.count) breaks, \(open.count) open</div>

        """
        // Cards: counts by ageing bucket of open breaks.
        var ageing = [0, 0, 0, 0]
        for c in open { ageing[bucket(c.age(asOf: asOf, calendar: calendar))] += 1 }
        out += "<div class=\"cards\">"
        for (i, name) in ageBuckets.enumerated() {
            out += "<div class=\"card\"><b>\(ageing[i])</b><span>open, aged \(e(name))</span></div>"
        }
        out += "</div>\n<div class=\"grid\"><div><h2>By break type</h2><table><tr><th>Code</th><th>Type</th><th>Count</th></tr>"
        for (code, count) in countsByCode(breaks) {
            out += "<tr><td class=\"n\">\(code.number)</td><td>\(e(code.name))</td><td class=\"n\">\(count)</td></tr>"
        }
        out += "</table></div><div><h2>By account</h2><table><tr><th>Account</th><th>Count</th></tr>"
        for (account, count) in countsByAccount(breaks).prefix(50) {
            out += "<tr><td>\(e(account))</td><td class=\"n\">\(count)</td></tr>"
        }
        out += "</table></div></div>\n"
        let biggest = cases.sorted {
            let a = $0.latest.amountDifference.magnitude, b = $1.latest.amountDifference.magnitude
            return a != b ? a > b : $0.id < $1.id
        }.prefix(biggestMax)
        out += "<h2>Biggest differences</h2>" + table(Array(biggest), asOf: asOf, calendar: calendar)
        out += "<h2>All breaks</h2>" + table(Array(cases.prefix(htmlRowsMax)), asOf: asOf, calendar: calendar)
        if cases.count > htmlRowsMax {
            out += "<p class=\"small\">\(cases.count - htmlRowsMax) more breaks not listed; see the CSV.</p>"
        }
        return out + "</body></html>\n"
    }

    private static func table(_ cases: [BreakCase], asOf: FIXDate, calendar: BusinessCalendar) -> String {
        var out = "<table><tr><th>Id</th><th>Type</th><th>Account</th><th>Instrument</th><th>Qty diff</th>"
            + "<th>Amount diff</th><th>Age</th><th>State</th><th>Assignee</th><th>Book</th><th>Reported</th><th>Detail</th></tr>"
        for c in cases {
            let b = c.latest
            out += "<tr><td><code>\(e(b.id))</code></td><td><span class=\"code\">\(b.code.number) \(e(b.code.name))</span></td>"
            out += "<td>\(e(b.account ?? "–"))</td><td>\(e(b.instrument ?? b.currency ?? "–"))</td>"
            out += "<td class=\"n \(cls(b.quantityDifference))\">\(e(b.quantityDifference.description))</td>"
            out += "<td class=\"n \(cls(b.amountDifference))\">\(e(b.amountDifference.rounded(scale: 2).description))</td>"
            out += "<td class=\"n\">\(c.age(asOf: asOf, calendar: calendar))</td><td>\(e(stateText(c.state)))</td>"
            out += "<td>\(e(assignee(c.state) ?? "–"))</td>"
            out += "<td class=\"small\">\(b.book.prefix(5).map { e(recordText($0)) }.joined(separator: "<br>"))</td>"
            out += "<td class=\"small\">\(b.external.prefix(5).map { e(recordText($0)) }.joined(separator: "<br>"))</td>"
            out += "<td>\(e(b.detail))</td></tr>"
        }
        return out + "</table>\n"
    }

    /// 2026-01-05 rather than FIX's 20260105, for people.
    static func iso(_ d: FIXDate) -> String {
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(d.year)-\(two(d.month))-\(two(d.day))"
    }

    private static func cls(_ d: FIXDecimal) -> String { d.mantissa < 0 ? "neg" : d.mantissa > 0 ? "pos" : "" }

    /// The state word with the request or reason behind it; the assignee has its own column.
    static func stateText(_ s: BreakState) -> String {
        switch s {
        case .open: return "open"
        case .assigned: return "assigned"
        case .pendingApproval(let r, let by, _):
            switch r {
            case .resolve: return "resolve requested by \(by)"
            case .forceClose: return "close requested by \(by)"
            }
        case .resolved(let reason): return "resolved: \(reason)"
        case .forceClosed(let reason): return "force-closed: \(reason)"
        }
    }

    /// HTML text escaping.
    static func e(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }
}

extension FIXDecimal {
    var magnitude: FIXDecimal { mantissa < 0 ? -self : self }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for ch in self { if ch == target { out += replacement } else { out.append(ch) } }
        return out
    }
}
