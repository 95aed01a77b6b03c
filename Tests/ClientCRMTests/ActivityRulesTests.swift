import ClientCRM
import FIXTagValue
import Testing
import TradeBook

@Suite struct ActivityRulesTests {
    @Test func perFillWritesOneEntryPerFillAndNothingForOrders() {
        var desk = Desk()
        var engine = ActivityEngine(directory: Fixtures.directory(), settings: Fixtures.settings(.perFill))
        var events = desk.new("O1")
        events += desk.fill("O1", qty: "40", px: "10", cum: "40")
        events += desk.fill("O1", qty: "60", px: "10", cum: "100")
        let entries = engine.process(events, observedAt: Fixtures.now)
        #expect(entries.rules == ["fill", "fill"])
        #expect(entries[0].clientID == "C1")
        #expect(entries[0].accountID == "A1")
        #expect(entries[0].channel == .trade)
        #expect(entries[0].links.fills == ["BRKR:CLTA/E2"])
        #expect(entries[0].links.orders == ["BRKR:CLTA/O1"])
        #expect(entries[0].facts["notional"] == "400")
        #expect(entries[0].time == Fixtures.time("20240315-10:00:00.000"))
    }

    @Test func perOrderWritesOnlyWhenTheOrderEnds() {
        var desk = Desk()
        var engine = ActivityEngine(directory: Fixtures.directory(), settings: Fixtures.settings(.perOrder))
        var first = desk.new("O1")
        first += desk.fill("O1", qty: "40", px: "10", cum: "40")
        #expect(engine.process(first, observedAt: Fixtures.now).isEmpty)
        let done = engine.process(desk.fill("O1", qty: "60", px: "10", cum: "100"), observedAt: Fixtures.now)
        #expect(done.rules == ["order-ended"])
        #expect(done[0].facts["status"] == "filled")
        #expect(done[0].facts["cumQty"] == "100")
        #expect(done[0].links.orders == ["BRKR:CLTA/O1"])

        var cancelled = desk.new("O2")
        cancelled += desk.fill("O2", qty: "10", px: "10", cum: "10")
        cancelled += desk.cancel("O2", cum: "10")
        let entries = engine.process(cancelled, observedAt: Fixtures.now)
        #expect(entries.rules == ["order-ended"])
        #expect(entries[0].facts["status"] == "cancelled")
    }

    @Test func dailySummaryIsWrittenPerAccountWhenTheDayCloses() {
        var desk = Desk()
        var engine = ActivityEngine(directory: Fixtures.directory(), settings: Fixtures.settings(.dailySummary))
        var events = desk.fill("O1", qty: "100", px: "10", cum: "100")
        events += desk.fill("O2", account: "FIX-A2", qty: "5", px: "20", cum: "5", side: "2")
        events += desk.fill("O3", account: "FIX-B1", qty: "1", px: "1", cum: "1", orderQty: "1")
        #expect(engine.process(events, observedAt: Fixtures.now).isEmpty)
        let summaries = engine.closeDay(Fixtures.date("20240315"), at: Fixtures.now)
        #expect(summaries.map(\.accountID) == ["A1", "A2", "B1"])
        #expect(summaries.rules == ["daily-summary", "daily-summary", "daily-summary"])
        #expect(summaries[0].facts["bought.USD"] == "1000")
        #expect(summaries[0].facts["ordersEnded"] == "1")
        #expect(summaries[1].facts["sold.USD"] == "100")
        #expect(summaries[1].clientID == "C1")
        #expect(engine.closeDay(Fixtures.date("20240315"), at: Fixtures.now).isEmpty)
    }

    @Test func replayingTheSameCaptureGivesTheSameIdsAndWritesNothingNew() async throws {
        func run() -> ([InteractionEntry], [InteractionEntry]) {
            var desk = Desk()
            var settings = Fixtures.settings([.perFill, .perOrder, .dailySummary])
            settings.largeTradeNotional = 500
            var engine = ActivityEngine(directory: Fixtures.directory(), settings: settings)
            var events = desk.new("O1")
            events += desk.fill("O1", qty: "40", px: "10", cum: "40")
            events += desk.fill("O1", qty: "60", px: "10", cum: "100")
            events += desk.fill("O9", account: "FIX-X", qty: "1", px: "1", cum: "1", orderQty: "1")
            let entries = engine.process(events, observedAt: Fixtures.now)
            return (entries, engine.closeDay(Fixtures.date("20240315"), at: Fixtures.now))
        }
        let (a, aDay) = run()
        let (b, bDay) = run()
        #expect(a.map(\.id) == b.map(\.id))
        #expect(aDay.map(\.id) == bDay.map(\.id))
        #expect(Set(a.map(\.id)).count == a.count)

        var history = InteractionHistory()
        let store = InMemoryOutboxStore()
        let fresh = history.insert(a + aDay)
        #expect(try await store.enqueue(OutboxItem.items(for: fresh, destinations: ["crm"])) == fresh.count)
        let again = history.insert(b + bDay)
        #expect(again.isEmpty)
        #expect(try await store.enqueue(OutboxItem.items(for: b + bDay, destinations: ["crm"])) == 0)
        #expect(history.count == a.count + aDay.count)
    }

    @Test func largeTradeUsesTheSegmentThresholdBeforeTheGlobalOne() {
        var desk = Desk()
        var settings = Fixtures.settings([])
        settings.largeTradeNotional = 1_000_000
        settings.largeTradeNotionalBySegment["retail"] = 5_000
        var engine = ActivityEngine(directory: Fixtures.directory(), settings: settings)
        var events = desk.fill("O1", qty: "100", px: "50", cum: "100")                         // retail 5,000
        events += desk.fill("O2", account: "FIX-B1", qty: "100", px: "50", cum: "100")         // institutional
        events += desk.fill("O3", account: "FIX-B1", qty: "10000", px: "100", cum: "10000", orderQty: "10000")
        let entries = engine.process(events, observedAt: Fixtures.now)
        #expect(entries.rules == ["large-trade", "large-trade"])
        #expect(entries.map(\.clientID) == ["C1", "C2"])
        #expect(entries[0].facts["threshold"] == "5000")
        #expect(entries[1].facts["threshold"] == "1000000")
        #expect(entries[0].severity == .alert)
    }

    @Test func kycAlertsNameTheBreachOncePerClientAndDay() {
        var desk = Desk()
        let directory = Fixtures.directory(kycC1: KYC(status: .verified, expiresOn: Fixtures.date("20240314")))
        var engine = ActivityEngine(directory: directory, settings: Fixtures.settings([]))
        var events = desk.fill("O1", qty: "1", px: "1", cum: "1", orderQty: "2")
        events += desk.fill("O1", qty: "1", px: "1", cum: "2", orderQty: "2")
        events += desk.fill("O2", account: "FIX-X", qty: "1", px: "1", cum: "1", orderQty: "1")
        events += desk.fill("O3", account: "FIX-Z", qty: "1", px: "1", cum: "1", orderQty: "1")
        events += desk.fill("O4", account: "FIX-B1", qty: "1", px: "1", cum: "1", orderQty: "1")
        let entries = engine.process(events, observedAt: Fixtures.now)
        #expect(entries.rules == ["kyc-expired-date", "kyc-expired-status", "kyc-not-verified"])
        #expect(entries.map(\.clientID) == ["C1", "C3", "C4"])
        #expect(entries[0].summary.contains("20240314"))
        #expect(entries[2].facts["kycStatus"] == "pending")
        #expect(entries.allSatisfy { $0.channel == .compliance && $0.severity == .alert })

        // The last verified day is still fine.
        var ok = ActivityEngine(directory: Fixtures.directory(kycC1: KYC(status: .verified,
                                                                         expiresOn: Fixtures.date("20240315"))),
                                settings: Fixtures.settings([]))
        var desk2 = Desk()
        #expect(ok.process(desk2.fill("O1", qty: "1", px: "1", cum: "1", orderQty: "1"), observedAt: Fixtures.now)
            .isEmpty)
    }

    @Test func breakTouchingAClientIsAnAlertAndOthersAreIgnored() {
        var engine = ActivityEngine(directory: Fixtures.directory(), settings: Fixtures.settings([]))
        let breaks = [
            BreakNotice(id: "BRK-1", codeNumber: 3, codeName: "quantity-mismatch", account: "FIX-A2",
                        instrument: "AAPL", summary: "book 100, statement 90", businessDate: Fixtures.date("20240315")),
            BreakNotice(id: "BRK-2", codeNumber: 3, codeName: "quantity-mismatch", account: "NOBODY",
                        instrument: nil, summary: "?", businessDate: Fixtures.date("20240315")),
        ]
        let entries = engine.process([], breaks: breaks, observedAt: Fixtures.now)
        #expect(entries.rules == ["break"])
        #expect(entries[0].clientID == "C1")
        #expect(entries[0].accountID == "A2")
        #expect(entries[0].channel == .break)
        #expect(entries[0].links.breaks == ["BRK-1"])
        #expect(entries[0].details == "book 100, statement 90")
        #expect(entries[0].id == engine.process([], breaks: [breaks[0]], observedAt: Fixtures.now)[0].id)
    }

    /// Five days of one 1,000 fill, then a day of four: the fourth fill passes 3× on both
    /// measures.
    @Test func unusualActivityNeedsHistoryAndAlertsOncePerMeasureAndDay() {
        var desk = Desk()
        var settings = Fixtures.settings([])
        settings.unusualActivity = UnusualActivitySettings(factor: 3, historyDaysMin: 5, trailingDays: 10)
        var engine = ActivityEngine(directory: Fixtures.directory(), settings: settings)
        let days = ["20240311", "20240312", "20240313", "20240314", "20240315"]
        for (i, day) in days.enumerated() {
            // Four fills on day four: with only three days of history before it, no alert.
            let count = i == 3 ? 4 : 1
            for n in 1...count {
                let entries = engine.process(
                    desk.fill("D\(i)", qty: "10", px: "100", cum: "\(n * 10)", orderQty: "\(count * 10)", date: day),
                    observedAt: Fixtures.now)
                #expect(entries.isEmpty)
            }
        }
        // History: 1, 1, 1, 4, 1 fills → average 1.6 fills and 1,600 notional; 3× = 4.8 / 4,800.
        var alerts: [InteractionEntry] = []
        for n in 1...6 {
            alerts += engine.process(
                desk.fill("D9", qty: "10", px: "100", cum: "\(n * 10)", orderQty: "60", date: "20240318"),
                observedAt: Fixtures.now)
            if n == 4 { #expect(alerts.isEmpty) }
        }
        #expect(alerts.rules == ["unusual-notional", "unusual-fill-count"])
        #expect(alerts[0].facts["dayNotional"] == "5000")
        #expect(alerts[0].facts["trailingAverage"] == "1600.00")
        #expect(alerts[1].facts["dayFills"] == "5")
        #expect(alerts[1].facts["historyDays"] == "5")
    }

    @Test func bustWritesAnAmendmentEntry() {
        var desk = Desk()
        var engine = ActivityEngine(directory: Fixtures.directory(), settings: Fixtures.settings(.perFill))
        _ = engine.process(desk.fill("O1", qty: "10", px: "10", cum: "10"), observedAt: Fixtures.now)
        let entries = engine.process(desk.bust("O1", ref: "E1"), observedAt: Fixtures.now)
        #expect(entries.rules == ["fill-busted"])
        #expect(entries[0].facts["amendedBy"] == "E2")
        #expect(entries[0].links.fills == ["BRKR:CLTA/E1", "BRKR:CLTA/E2"])
    }

    @Test func correctionWritesAnAmendmentEntryPerCorrectingReport() {
        var desk = Desk()
        var engine = ActivityEngine(directory: Fixtures.directory(), settings: Fixtures.settings(.perFill))
        _ = engine.process(desk.fill("O1", qty: "10", px: "10", cum: "10"), observedAt: Fixtures.now)
        let first = engine.process(desk.correct("O1", ref: "E1", qty: "8", px: "10"), observedAt: Fixtures.now)
        let second = engine.process(desk.correct("O1", ref: "E1", qty: "9", px: "10"), observedAt: Fixtures.now)
        #expect(first.rules == ["fill-corrected"])
        #expect(first[0].facts["quantity"] == "8")
        #expect(first[0].facts["amendedBy"] == "E2")
        #expect(second.rules == ["fill-corrected"])
        #expect(second[0].id != first[0].id)
    }

    @Test func directoryRefusesAnAccountNameHeldByAnotherAccount() {
        var directory = Fixtures.directory()
        #expect(throws: CRMError.self) {
            try directory.upsert(ClientAccount(id: "B9", clientID: "C2", fixAccounts: ["FIX-A1"]))
        }
        #expect(throws: CRMError.self) { try directory.upsert(ClientAccount(id: "Q1", clientID: "C99")) }
        #expect(directory.client(forAccount: "FIX-A1")?.id == "C1")
    }

    @Test func unknownAccountsWriteNothing() {
        var desk = Desk()
        var settings = Fixtures.settings([.perFill, .perOrder, .dailySummary])
        settings.largeTradeNotional = 1
        var engine = ActivityEngine(directory: Fixtures.directory(), settings: settings)
        let entries = engine.process(desk.fill("O1", account: "UNMAPPED", qty: "10", px: "10", cum: "100"),
                                     observedAt: Fixtures.now)
        #expect(entries.isEmpty)
    }
}

@Suite struct HistoryAndPayloadTests {
    func entry(_ id: String, _ time: String, channel: InteractionChannel = .note, client: String = "C1")
        -> InteractionEntry {
        InteractionEntry(id: id, clientID: client, time: Fixtures.time(time), channel: channel, direction: .outbound,
                         rule: "manual", summary: "s \(id)", author: "rm1")
    }

    @Test func timelineIsOrderedByTimeAndFiltered() {
        var history = InteractionHistory()
        let inserted = history.insert([
            entry("b", "20240315-10:00:00.000", channel: .call),
            entry("a", "20240315-09:00:00.000"),
            entry("c", "20240316-09:00:00.000", channel: .email),
            entry("x", "20240315-09:30:00.000", client: "C2"),
        ])
        #expect(inserted.count == 4)
        #expect(history.insert([entry("a", "20240315-09:00:00.000")]).isEmpty)
        #expect(history.timeline(clientID: "C1").map(\.id) == ["a", "b", "c"])
        #expect(history.timeline(clientID: "C1", from: Fixtures.time("20240315-09:30:00.000"),
                                 before: Fixtures.time("20240316-00:00:00.000")).map(\.id) == ["b"])
        #expect(history.timeline(clientID: "C1", channels: [.email, .note]).map(\.id) == ["a", "c"])
        #expect(history.timeline(clientID: "C1", limit: 2).map(\.id) == ["a", "b"])
        #expect(history.timeline(clientID: "nobody").isEmpty)
    }

    @Test func payloadIsStableEscapedJSON() {
        var e = entry("ix-1", "20240315-10:00:00.123")
        e.summary = "He said \"hi\"\n\\ ok\u{01}"
        e.facts = ["z": "1", "a": "2"]
        e.links = InteractionLinks(orders: ["S/O1"], fills: ["S/E1", "S/E2"])
        let json = String(decoding: InteractionPayload.json(e), as: UTF8.self)
        #expect(json == #"{"schemaVersion":1,"entryId":"ix-1","clientId":"C1","accountId":null,"#
            + #""time":"2024-03-15T10:00:00.123Z","channel":"note","direction":"outbound","severity":"info","#
            + #""rule":"manual","summary":"He said \"hi\"\n\\ ok\u0001","details":"","facts":{"a":"2","z":"1"},"#
            + #""links":{"orders":["S/O1"],"fills":["S/E1","S/E2"],"breaks":[]},"author":"rm1"}"#)
    }

    @Test func iso8601PadsEveryFieldAndKeepsMilliseconds() {
        let cases = [
            ("19700101-00:00:00.000", "1970-01-01T00:00:00.000Z"), ("20240315-10:00:00.123", "2024-03-15T10:00:00.123Z"),
            ("20241231-23:59:59.999", "2024-12-31T23:59:59.999Z"), ("20000229-01:02:03.004", "2000-02-29T01:02:03.004Z"),
            ("19691231-23:59:59.500", "1969-12-31T23:59:59.500Z"),
        ]
        for (fix, iso) in cases {
            let time = Fixtures.time(fix)
            #expect(InteractionPayload.iso8601(time) == iso)
            var bytes = Array("t=".utf8)
            InteractionPayload.appendISO8601(time, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == "t=" + iso)
        }
    }

    @Test func stableIDsSeparateKeys() {
        #expect(StableID.make("r", ["ab", "c"]) != StableID.make("r", ["a", "bc"]))
        #expect(StableID.make("r", ["ab"]) == StableID.make("r", ["ab"]))
        #expect(StableID.make("r", ["ab"]).utf8.count == 19)
        // FNV-1a 64 reference value for "a".
        #expect(StableID.fnv1a64(Array("a".utf8)) == 0xaf63_dc4c_8601_ec8c)
    }
}
