import FIXTagValue

/// A row of a clients file that was not imported, and why.
public struct CSVProblem: Error, Hashable, Sendable, CustomStringConvertible {
    /// 1-based line where the row starts.
    public var line: Int
    /// The column concerned, when one is.
    public var column: String?
    public var reason: String

    public init(line: Int, column: String?, reason: String) {
        self.line = line
        self.column = column
        self.reason = reason
    }

    public var description: String {
        "line \(line)" + (column.map { ", column \($0)" } ?? "") + ": \(reason)"
    }
}

/// What an import did: rows imported, and the rows refused with their reasons.
public struct ClientImportReport: Hashable, Sendable {
    public var clientsImported: Int
    public var accountsImported: Int
    public var problems: [CSVProblem]
}

/// Reads a clients file (CSV, RFC 4180 quoting, UTF-8, first line a header).
///
/// Columns are found by header name (any order, case-insensitive); `id`, `name` and
/// `kyc_status` are required, the others optional:
///
/// | column | value |
/// | --- | --- |
/// | `id` | client id |
/// | `name` | client name |
/// | `segment` | free label; empty means `unassigned` |
/// | `relationship_manager` | login of the manager |
/// | `risk_rating` | `low`, `medium`, `high` or empty |
/// | `kyc_status` | `verified`, `pending`, `expired`, `rejected` |
/// | `kyc_expiry` | `YYYY-MM-DD` or `YYYYMMDD`, or empty |
/// | `accounts` | `;`-separated; each `ACCOUNT` or `ACCOUNT=FIXACC1\|FIXACC2` |
/// | `documents` | `;`-separated; each `kind:reference` or `kind:reference:YYYY-MM-DD` |
/// | `email`, `phone`, `country` | profile |
///
/// A malformed row is reported with its line and reason and the rest are imported; each row
/// is all or nothing. A client already in the directory is replaced; a client id twice in one
/// file, or an account that another client already holds, is a problem.
///
/// ```swift
/// var directory = ClientDirectory()
/// let report = ClientCSV.import(text, into: &directory)
/// for problem in report.problems { print(problem) }   // "line 7, column kyc_status: unknown status 'ok'"
/// ```
public enum ClientCSV {
    public static let textBytesMax = 64 << 20
    public static let rowsMax = 1_000_000
    public static let fieldBytesMax = 4096
    public static let fieldsMax = 64
    public static let problemsMax = 1000

    static let known = ["id", "name", "segment", "relationship_manager", "risk_rating", "kyc_status", "kyc_expiry",
                        "accounts", "documents", "email", "phone", "country"]

    public static func `import`(_ text: String, into directory: inout ClientDirectory) -> ClientImportReport {
        var report = ClientImportReport(clientsImported: 0, accountsImported: 0, problems: [])
        func problem(_ line: Int, _ column: String?, _ reason: String) {
            if report.problems.count < problemsMax {
                report.problems.append(CSVProblem(line: line, column: column, reason: reason))
            }
        }
        guard text.utf8.count <= textBytesMax else {
            problem(1, nil, "file larger than \(textBytesMax) bytes")
            return report
        }
        var rows = CSVReader(bytes: Array(text.utf8))
        guard let header = rows.next() else {
            problem(1, nil, "empty file: a header line is required")
            return report
        }
        if let error = header.error { problem(header.line, nil, error); return report }
        var column: [String: Int] = [:]
        for (i, raw) in header.fields.enumerated() {
            let name = raw.trimmed.lowercased()
            guard known.contains(name) else { problem(header.line, name, "unknown column"); continue }
            guard column[name] == nil else { problem(header.line, name, "column appears twice"); return report }
            column[name] = i
        }
        for required in ["id", "name", "kyc_status"] where column[required] == nil {
            problem(header.line, required, "required column missing")
            return report
        }
        var seen: Set<String> = []
        var rowCount = 0
        while let row = rows.next() {
            if row.fields.count == 1 && row.fields[0].isEmpty && row.error == nil { continue }
            rowCount += 1
            guard rowCount <= rowsMax else { problem(row.line, nil, "more than \(rowsMax) rows; rest ignored"); break }
            if let error = row.error { problem(row.line, nil, error); if row.fatal { break } else { continue } }
            guard row.fields.count == header.fields.count else {
                problem(row.line, nil, "\(row.fields.count) fields, header has \(header.fields.count)")
                continue
            }
            func field(_ name: String) -> String { column[name].map { row.fields[$0].trimmed } ?? "" }
            switch parseRow(field, line: row.line) {
            case .failure(let p):
                problem(p.line, p.column, p.reason)
            case .success(let (client, accounts)):
                guard !seen.contains(client.id) else {
                    problem(row.line, "id", "client \(client.id) appears earlier in the file")
                    continue
                }
                var conflict: String?
                for account in accounts {
                    for name in [account.id] + account.fixAccounts {
                        if let other = directory.account(named: name), other.clientID != client.id {
                            conflict = "account \(name) belongs to client \(other.clientID)"
                        }
                    }
                }
                if let conflict { problem(row.line, "accounts", conflict); continue }
                var trial = directory
                do throws(CRMError) {
                    try trial.upsert(client)
                    for account in accounts { try trial.upsert(account) }
                } catch {
                    problem(row.line, "accounts", error.description)
                    continue
                }
                directory = trial
                seen.insert(client.id)
                report.clientsImported += 1
                report.accountsImported += accounts.count
            }
        }
        return report
    }

    static func parseRow(_ field: (String) -> String, line: Int) -> Result<(Client, [ClientAccount]), CSVProblem> {
        func fail(_ column: String, _ reason: String) -> Result<(Client, [ClientAccount]), CSVProblem> {
            .failure(CSVProblem(line: line, column: column, reason: reason))
        }
        let id = field("id")
        guard !id.isEmpty else { return fail("id", "empty client id") }
        let name = field("name")
        guard !name.isEmpty else { return fail("name", "empty name") }
        guard let status = KYCStatus(rawValue: field("kyc_status").lowercased()) else {
            return fail("kyc_status", "unknown status '\(field("kyc_status"))' (verified, pending, expired, rejected)")
        }
        var expiry: FIXDate?
        if !field("kyc_expiry").isEmpty {
            guard let d = parseDate(field("kyc_expiry")) else {
                return fail("kyc_expiry", "'\(field("kyc_expiry"))' is not a date (YYYY-MM-DD)")
            }
            expiry = d
        }
        var rating: RiskRating?
        if !field("risk_rating").isEmpty {
            guard let r = RiskRating(rawValue: field("risk_rating").lowercased()) else {
                return fail("risk_rating", "unknown rating '\(field("risk_rating"))' (low, medium, high)")
            }
            rating = r
        }
        var documents: [ClientDocument] = []
        for part in field("documents").split(separator: ";") {
            let bits = part.split(separator: ":", omittingEmptySubsequences: false).map { String($0).trimmed }
            guard bits.count == 2 || bits.count == 3, !bits[0].isEmpty, !bits[1].isEmpty else {
                return fail("documents", "'\(part)' is not kind:reference[:YYYY-MM-DD]")
            }
            var docExpiry: FIXDate?
            if bits.count == 3 && !bits[2].isEmpty {
                guard let d = parseDate(bits[2]) else {
                    return fail("documents", "'\(bits[2])' in '\(part)' is not a date (YYYY-MM-DD)")
                }
                docExpiry = d
            }
            documents.append(ClientDocument(kind: bits[0], reference: bits[1], expiresOn: docExpiry))
        }
        var accounts: [ClientAccount] = []
        var names: Set<String> = []
        for part in field("accounts").split(separator: ";") {
            let bits = part.split(separator: "=", omittingEmptySubsequences: false).map { String($0).trimmed }
            guard bits.count <= 2, !bits[0].isEmpty else {
                return fail("accounts", "'\(part)' is not ACCOUNT or ACCOUNT=FIXACC1|FIXACC2")
            }
            let fix = bits.count == 2 ? bits[1].split(separator: "|").map { String($0).trimmed }.filter { !$0.isEmpty }
                : []
            for n in [bits[0]] + fix {
                guard names.insert(n).inserted else { return fail("accounts", "account name \(n) appears twice") }
            }
            accounts.append(ClientAccount(id: bits[0], clientID: id, fixAccounts: fix))
        }
        guard accounts.count <= ClientDirectory.accountsPerClientMax else {
            return fail("accounts", "more than \(ClientDirectory.accountsPerClientMax) accounts")
        }
        func optional(_ name: String) -> String? { field(name).isEmpty ? nil : field(name) }
        let segment = field("segment").isEmpty ? "unassigned" : field("segment")
        let client = Client(
            id: id, name: name,
            profile: ClientProfile(email: optional("email"), phone: optional("phone"), country: optional("country")),
            segment: segment, relationshipManager: optional("relationship_manager"),
            kyc: KYC(status: status, expiresOn: expiry), documents: documents, riskRating: rating)
        return .success((client, accounts))
    }

    /// `YYYY-MM-DD` or `YYYYMMDD`.
    static func parseDate(_ text: String) -> FIXDate? {
        let bytes = Array(text.utf8)
        if bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") {
            return FIXDate(String(decoding: bytes[0..<4] + bytes[5..<7] + bytes[8..<10], as: UTF8.self))
        }
        return bytes.count == 8 ? FIXDate(text) : nil
    }
}

/// One CSV record: its fields, the line it starts on, and an error when it is malformed.
struct CSVRecord {
    var line: Int
    var fields: [String]
    var error: String?
    /// True when reading cannot go on after this record (an unterminated quote).
    var fatal = false
}

/// Splits CSV bytes into records: `,` between fields, `"` quoting with `""` for a quote, CR LF
/// or LF between records (newlines inside quotes belong to the field).
struct CSVReader {
    let bytes: [UInt8]
    var index = 0
    var line = 1

    init(bytes: [UInt8]) {
        self.bytes = bytes
        // A UTF-8 byte order mark is not part of the first column's name.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
    }

    mutating func next() -> CSVRecord? {
        guard index < bytes.count else { return nil }
        var record = CSVRecord(line: line, fields: [])
        var field: [UInt8] = []
        var quoted = false
        var afterQuote = false
        func finish(_ field: inout [UInt8], _ record: inout CSVRecord) {
            if field.count > ClientCSV.fieldBytesMax, record.error == nil {
                record.error = "field \(record.fields.count + 1) longer than \(ClientCSV.fieldBytesMax) bytes"
            }
            if record.fields.count >= ClientCSV.fieldsMax {
                if record.error == nil { record.error = "more than \(ClientCSV.fieldsMax) fields" }
            } else {
                record.fields.append(String(decoding: field, as: UTF8.self))
            }
            field.removeAll(keepingCapacity: true)
        }
        while index < bytes.count {
            let b = bytes[index]
            index += 1
            if quoted {
                if b == UInt8(ascii: "\"") {
                    if index < bytes.count && bytes[index] == UInt8(ascii: "\"") {
                        field.append(b)
                        index += 1
                    } else {
                        quoted = false
                        afterQuote = true
                    }
                } else {
                    if b == 0x0A { line += 1 }
                    if field.count <= ClientCSV.fieldBytesMax { field.append(b) }
                }
                continue
            }
            switch b {
            case UInt8(ascii: ","):
                finish(&field, &record)
                afterQuote = false
            case 0x0A:
                line += 1
                if field.last == 0x0D && !afterQuote { field.removeLast() }
                finish(&field, &record)
                return record
            case 0x0D where afterQuote:
                break
            case UInt8(ascii: "\"") where field.isEmpty && !afterQuote:
                quoted = true
            default:
                if afterQuote, record.error == nil {
                    record.error = "text after the closing quote of field \(record.fields.count + 1)"
                }
                if field.count <= ClientCSV.fieldBytesMax { field.append(b) }
            }
        }
        if quoted {
            record.error = "unterminated quoted field \(record.fields.count + 1) (file ends inside quotes)"
            record.fatal = true
        }
        finish(&field, &record)
        return record
    }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return String(s)
    }
}
