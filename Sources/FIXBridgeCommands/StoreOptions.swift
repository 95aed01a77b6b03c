import Foundation
import ArgumentParser
import BackOfficeStore
import FIXTagValue

/// `--db`, shared by every command that reads or writes the back office's database.
public struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: "sqlite:PATH or postgres://user[:password]@host[:port]/database (default: sqlite:fixbridge.sqlite; env FIXBRIDGE_DB).")
    public var db: String?

    public init() {}

    /// The location: `--db`, else `FIXBRIDGE_DB`, else `fixbridge.sqlite` in the working directory.
    public func location() throws -> StoreLocation {
        let text = db ?? environment("FIXBRIDGE_DB")
        guard let text, !text.isEmpty else { return .defaultLocation }
        do {
            return try StoreLocation(text)
        } catch {
            throw ValidationError("--db: \(error)")
        }
    }

    /// Opens the database and migrates its schema.
    public func open() async throws -> any SQLBackend {
        let location = try location()
        do {
            return try await location.open()
        } catch {
            throw ValidationError("\(location): \(error)")
        }
    }
}

/// `--format table|csv|json` for listings.
public enum ListingFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case table, csv, json
}

/// A listing: column names and rows of text, rendered as an aligned table, CSV (RFC 4180) or
/// JSON (one array of objects; `numeric` columns unquoted).
public struct Listing: Sendable {
    public var columns: [String]
    public var numeric: Set<String>
    public var rows: [[String?]] = []

    public init(columns: [String], numeric: Set<String> = []) {
        self.columns = columns
        self.numeric = numeric
    }

    public mutating func add(_ row: [String?]) {
        precondition(row.count == columns.count, "a listing row has one value per column")
        rows.append(row)
    }

    public func render(_ format: ListingFormat) -> String {
        switch format {
        case .table:
            var widths = columns.map(\.count)
            for row in rows {
                for (i, v) in row.enumerated() { widths[i] = max(widths[i], (v ?? "").count) }
            }
            func line(_ values: [String?]) -> String {
                var out = ""
                for (i, v) in values.enumerated() {
                    let text = v ?? ""
                    let pad = String(repeating: " ", count: widths[i] - text.count)
                    if i > 0 { out += "  " }
                    out += numeric.contains(columns[i]) ? pad + text : text + (i == values.count - 1 ? "" : pad)
                }
                return out
            }
            var out = line(columns) + "\n"
            out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
            for row in rows { out += line(row) + "\n" }
            return out
        case .csv:
            func field(_ v: String?) -> String {
                guard let v else { return "" }
                if v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
                    return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
                }
                return v
            }
            var out = columns.map(field).joined(separator: ",") + "\n"
            for row in rows { out += row.map(field).joined(separator: ",") + "\n" }
            return out
        case .json:
            var out = "["
            for (r, row) in rows.enumerated() {
                out += r == 0 ? "\n  {" : ",\n  {"
                for (i, v) in row.enumerated() {
                    if i > 0 { out += ", " }
                    out += JSONText.string(columns[i]) + ": "
                    if let v {
                        out += numeric.contains(columns[i]) && FIXDecimal(v) != nil ? v : JSONText.string(v)
                    } else {
                        out += "null"
                    }
                }
                out += "}"
            }
            out += rows.isEmpty ? "]\n" : "\n]\n"
            return out
        }
    }
}

/// A business date from `YYYYMMDD` or `YYYY-MM-DD`.
func parseBusinessDate(_ text: String, option: String = "--date") throws -> FIXDate {
    let digits = text.replacingOccurrences(of: "-", with: "")
    guard let date = FIXDate(digits) else { throw ValidationError("\(option) \(text): not a date (YYYY-MM-DD or YYYYMMDD)") }
    return date
}

func environment(_ name: String) -> String? {
    guard let p = getenv(name) else { return nil }
    return String(cString: p)
}
