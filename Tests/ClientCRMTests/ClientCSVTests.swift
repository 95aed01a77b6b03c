import ClientCRM
import FIXTagValue
import FIXTestSupport
import Foundation
import Testing

@Suite struct ClientCSVTests {
    static let header = "id,name,segment,relationship_manager,risk_rating,kyc_status,kyc_expiry,accounts,documents\n"

    @Test func importsProfilesAccountsKYCAndDocuments() {
        var directory = ClientDirectory()
        let text = Self.header
            + "C1,\"Smith, Jane \"\"JJ\"\"\",retail,rm1,low,verified,2027-06-30,A1=FIX1|FIX2;A2,"
            + "passport:P1:2029-01-31;w8ben:W-9\r\n"
            + "C2,Big Fund,,,,PENDING,,B1,\n"
        let report = ClientCSV.import(text, into: &directory)
        #expect(report.problems.isEmpty)
        #expect(report.clientsImported == 2)
        #expect(report.accountsImported == 3)
        let c1 = directory.clients["C1"]
        #expect(c1?.name == "Smith, Jane \"JJ\"")
        #expect(c1?.kyc == KYC(status: .verified, expiresOn: FIXDate("20270630")))
        #expect(c1?.riskRating == .low)
        #expect(c1?.documents == [ClientDocument(kind: "passport", reference: "P1", expiresOn: FIXDate("20290131")),
                                  ClientDocument(kind: "w8ben", reference: "W-9")])
        #expect(directory.client(forAccount: "FIX2")?.id == "C1")
        #expect(directory.accounts(ofClient: "C1").map(\.id) == ["A1", "A2"])
        #expect(directory.clients["C2"]?.segment == "unassigned")
        #expect(directory.clients["C2"]?.kyc.status == .pending)
    }

    @Test func malformedRowsAreReportedWithLineAndReasonAndTheRestImported() {
        var directory = ClientDirectory()
        let text = Self.header
            + "C1,Good,retail,,,verified,,A1,\n"                    // line 2
            + "C2,Bad status,retail,,,ok,,A2,\n"                   // line 3
            + "C3,Bad date,retail,,,verified,2024-13-01,A3,\n"     // line 4
            + "C4,Too few fields\n"                                // line 5
            + "C1,Duplicate,retail,,,verified,,A9,\n"              // line 6
            + "C5,Steals account,retail,,,verified,,A1,\n"         // line 7
            + "\n"                                                 // line 8, blank
            + ",No id,retail,,,verified,,,\n"                      // line 9
            + "C6,Bad doc,retail,,,verified,,A6,passport\n"        // line 10
            + "C7,\"Multi\nline\",retail,,,verified,,A7,\n"        // lines 11-12
            + "C8,Bad rating,retail,,extreme,verified,,A8,\n"      // line 13
            + "C9,\"x\"y,retail,,,verified,,,\n"                   // line 14
            + "C10,Fine,retail,,,rejected,,,\n"                    // line 15
        let report = ClientCSV.import(text, into: &directory)
        #expect(report.problems.map(\.line) == [3, 4, 5, 6, 7, 9, 10, 13, 14])
        #expect(report.problems.map(\.column) == ["kyc_status", "kyc_expiry", nil, "id", "accounts", "id",
                                                  "documents", "risk_rating", nil])
        #expect(report.problems[0].description == "line 3, column kyc_status: unknown status 'ok' "
            + "(verified, pending, expired, rejected)")
        #expect(report.problems[2].reason == "2 fields, header has 9")
        #expect(report.problems[4].reason == "account A1 belongs to client C1")
        #expect(report.clientsImported == 3)
        #expect(Set(directory.clients.keys) == ["C1", "C7", "C10"])
        #expect(directory.clients["C7"]?.name == "Multi\nline")
    }

    @Test func missingRequiredColumnStopsTheImport() {
        var directory = ClientDirectory()
        let report = ClientCSV.import("id,name\nC1,x\n", into: &directory)
        #expect(report.problems == [CSVProblem(line: 1, column: "kyc_status", reason: "required column missing")])
        #expect(directory.clients.isEmpty)
    }

    @Test func unterminatedQuoteAndEmptyInputNeverCrash() {
        var directory = ClientDirectory()
        let report = ClientCSV.import(Self.header + "C1,Good,retail,,,verified,,A1,\nC2,\"open,retail\n",
                                      into: &directory)
        #expect(report.clientsImported == 1)
        #expect(report.problems.count == 1)
        #expect(report.problems[0].line == 3)
        #expect(report.problems[0].reason.hasPrefix("unterminated quoted field"))
        #expect(ClientCSV.import("", into: &directory).problems.first?.reason == "empty file: a header line is required")
        let garbage = String(decoding: (0..<2000).map { UInt8(truncatingIfNeeded: $0 &* 37) }, as: UTF8.self)
        _ = ClientCSV.import(garbage, into: &directory)
        _ = ClientCSV.import(Self.header + String(repeating: "x", count: 10_000) + ",a,b,c,d,e,f,g,h\n",
                             into: &directory)
    }

    @Test func theShippedExampleImports() throws {
        let text = try #require(Self.example)
        var directory = ClientDirectory()
        let report = ClientCSV.import(text, into: &directory)
        #expect(report.problems.isEmpty, "\(report.problems)")
        #expect(report.clientsImported == 4)
        #expect(directory.client(forAccount: "ACC70051")?.id == "C-1001")
    }

    /// Specs/crm/clients-example.csv of the package.
    static var example: String? {
        try? String(contentsOf: SharedData.project("Specs/crm/clients-example.csv"), encoding: .utf8)
    }
}
