import FIXTagValue
import TradeBook

/// A FIX message a reader could not use: where it was, the tag at fault and why.
public struct FIXSourceIssue: Error, Hashable, Sendable, CustomStringConvertible {
    fileprivate enum Base: Hashable, Sendable {
        case missingTag, badValue, unknownReference, incompleteSet
    }

    private let base: Base
    public let source: SourcePosition
    /// The tag at fault, when one was.
    public let tag: Int?
    public let reason: String

    fileprivate init(_ base: Base, _ source: SourcePosition, tag: Int?, _ reason: String) {
        self.base = base
        self.source = source
        self.tag = tag
        self.reason = reason
    }

    /// True for a PositionReport set with fewer reports than TotalNumPosReports(727) announced.
    public var isIncompleteSet: Bool { base == .incompleteSet }

    public var description: String {
        tag.map { "\(source): tag \($0): \(reason)" } ?? "\(source): \(reason)"
    }
}

/// The fields the trade readers take from one message, read in a single pass.
private struct TradeFields {
    var execID: String?
    var execRefID: String?
    var orderID: String?
    var account: String?
    var symbol: String?
    var side: Side?
    var sideText: String?
    var lastQty: FIXDecimal?
    var lastPx: FIXDecimal?
    var currency: String?
    var commission: FIXDecimal?
    var tradeDate: FIXDate?
    var settlDate: FIXDate?
    var transactTime: FIXTimestamp?
    var tradeMatchID: String?
    var execType: UInt8?
    var execTransType: UInt8?
    var copy: Bool = false
    var badTag: Int?

    /// Reads the non-group fields; `stopAt` ends the scan at a repeating group's count tag.
    init(_ message: FIXMessage, stopAt: Int? = nil) {
        for field in message {
            if field.tag == stopAt { break }
            read(field)
        }
    }

    init() {}

    mutating func read(_ field: FIXField) {
        let v = field.value
        switch field.tag {
        case 17: execID = v.string
        case 19: execRefID = v.string
        case 37: orderID = v.string
        case 1: account = v.string
        case 55: symbol = v.string
        case 54:
            sideText = v.string
            side = v.char.flatMap { Side(rawValue: $0) }
        case 32: lastQty = v.decimal; if lastQty == nil { badTag = badTag ?? 32 }
        case 31: lastPx = v.decimal; if lastPx == nil { badTag = badTag ?? 31 }
        case 15: currency = v.string
        case 12: commission = v.decimal
        case 75: tradeDate = v.date; if tradeDate == nil { badTag = badTag ?? 75 }
        case 64: settlDate = v.date
        case 60: transactTime = v.timestamp
        case 880: tradeMatchID = v.string
        case 150: execType = v.char
        case 20: execTransType = v.char
        case 797: copy = v.char == UInt8(ascii: "Y")
        default: break
        }
    }
}

/// Turns a venue's drop copy (ExecutionReports with CopyMsgIndicator(797)=Y, or every report of
/// a drop-copy session) into outside trades, applying the venue's corrections and busts.
///
/// ```swift
/// var dropCopy = DropCopyReader(requireCopyFlag: true, defaultCurrency: "USD")
/// dropCopy.add(message, source: SourcePosition(source: "dropcopy.log", offset: 4711))
/// for t in dropCopy.trades { reconciler.add(t) }
/// ```
public struct DropCopyReader: Sendable {
    public let requireCopyFlag: Bool
    public let defaultCurrency: String
    private var all: [ExternalTrade?] = []
    private var byExecID: [String: Int] = [:]
    public private(set) var issues: [FIXSourceIssue] = []
    /// Messages that were not trade reports (or lacked the copy flag): skipped, not errors.
    public private(set) var skipped = 0

    /// Issues kept; later ones are counted in `issuesDropped`.
    public static let issuesMax = 10_000
    public private(set) var issuesDropped = 0

    public init(requireCopyFlag: Bool = true, defaultCurrency: String = "USD") {
        self.requireCopyFlag = requireCopyFlag
        self.defaultCurrency = defaultCurrency
    }

    /// The live trades: busted ones removed, corrected ones with their corrected values.
    public var trades: [ExternalTrade] { all.compactMap { $0 } }

    public mutating func add(_ message: FIXMessage, source: SourcePosition) {
        guard message.msgType?.equals("8") == true else { skipped += 1; return }
        let f = TradeFields(message)
        guard f.copy || !requireCopyFlag else { skipped += 1; return }
        let kind: UInt8
        if let t = f.execTransType, t == UInt8(ascii: "1") || t == UInt8(ascii: "2") {
            kind = t == UInt8(ascii: "1") ? UInt8(ascii: "H") : UInt8(ascii: "G")
        } else if let e = f.execType {
            kind = (e == UInt8(ascii: "1") || e == UInt8(ascii: "2")) ? UInt8(ascii: "F") : e
        } else {
            kind = (f.lastQty.map { $0.mantissa > 0 } ?? false) ? UInt8(ascii: "F") : 0
        }
        switch kind {
        case UInt8(ascii: "F"):
            do {
                let trade = try makeTrade(f, source: source)
                if let execID = trade.execID, byExecID[execID] == nil { byExecID[execID] = all.count }
                all.append(trade)
            } catch {
                record(error)
            }
        case UInt8(ascii: "G"), UInt8(ascii: "H"):
            guard let ref = f.execRefID, let index = byExecID[ref], all[index] != nil else {
                record(FIXSourceIssue(.unknownReference, source, tag: 19,
                                      "ExecRefID \(f.execRefID ?? "(missing)") names no trade of this drop copy"))
                return
            }
            if kind == UInt8(ascii: "H") {
                all[index] = nil
            } else {
                do {
                    var corrected = try makeTrade(f, source: source)
                    // The correction replaces the trade under its original ExecID, which is what
                    // the book holds after applying the same correction.
                    corrected.execID = ref
                    all[index] = corrected
                } catch {
                    record(error)
                }
            }
        default:
            skipped += 1
        }
    }

    private mutating func record(_ issue: FIXSourceIssue) {
        if issues.count < DropCopyReader.issuesMax { issues.append(issue) } else { issuesDropped += 1 }
    }

    private func makeTrade(_ f: TradeFields, source: SourcePosition) throws(FIXSourceIssue) -> ExternalTrade {
        if let bad = f.badTag { throw FIXSourceIssue(.badValue, source, tag: bad, "unreadable value") }
        guard let execID = f.execID else { throw FIXSourceIssue(.missingTag, source, tag: 17, "ExecID missing") }
        guard let account = f.account else { throw FIXSourceIssue(.missingTag, source, tag: 1, "Account missing") }
        guard let symbol = f.symbol else { throw FIXSourceIssue(.missingTag, source, tag: 55, "Symbol missing") }
        guard let side = f.side else {
            throw FIXSourceIssue(.badValue, source, tag: 54, "Side \(f.sideText ?? "(missing)") is not bookable")
        }
        guard let qty = f.lastQty, qty.mantissa > 0 else {
            throw FIXSourceIssue(.missingTag, source, tag: 32, "LastQty missing or not positive")
        }
        guard let px = f.lastPx else { throw FIXSourceIssue(.missingTag, source, tag: 31, "LastPx missing") }
        guard let date = f.tradeDate ?? f.transactTime?.date else {
            throw FIXSourceIssue(.missingTag, source, tag: 75, "TradeDate and TransactTime missing")
        }
        return ExternalTrade(
            origin: .fix(source: source.source, offset: source.offset), account: account, instrument: symbol,
            side: side, quantity: qty, price: px, currency: f.currency ?? defaultCurrency, tradeDate: date,
            settlementDate: f.settlDate, transactTime: f.transactTime,
            fees: f.commission.map { $0.mantissa < 0 ? -$0 : $0 }, execID: execID, tradeID: f.tradeMatchID,
            orderID: f.orderID)
    }
}

/// Turns TradeCaptureReports (35=AE) into outside trades: one per side in NoSides(552), keyed by
/// ExecID(17) and TrdMatchID(880) (or TradeReportID(571) when there is no match id). A
/// TradeReportTransType(487) of 1 cancels and 2 replaces the report TradeReportRefID(572) names.
public struct TradeCaptureReader: Sendable {
    public let defaultCurrency: String
    private var all: [ExternalTrade?] = []
    private var byReportID: [String: [Int]] = [:]
    public private(set) var issues: [FIXSourceIssue] = []
    public private(set) var skipped = 0

    /// Sides read from one report; more is a malformed report.
    public static let sidesMax = 64

    public init(defaultCurrency: String = "USD") { self.defaultCurrency = defaultCurrency }

    public var trades: [ExternalTrade] { all.compactMap { $0 } }

    public mutating func add(_ message: FIXMessage, source: SourcePosition) {
        guard message.msgType?.equals("AE") == true else { skipped += 1; return }
        var common = TradeFields()
        var reportID: String?
        var refID: String?
        var transType: UInt8?
        var sides: [TradeFields] = []
        var inSides = false
        for field in message {
            switch field.tag {
            case 571: reportID = field.value.string
            case 572: refID = field.value.string
            case 487: transType = field.value.char
            case 552: inSides = true
            case 54 where inSides:
                guard sides.count < TradeCaptureReader.sidesMax else {
                    issues.append(FIXSourceIssue(.badValue, source, tag: 552, "more than \(TradeCaptureReader.sidesMax) sides"))
                    return
                }
                var side = TradeFields()
                side.read(field)
                sides.append(side)
            case let tag where inSides && !sides.isEmpty && (tag == 1 || tag == 37 || tag == 12 || tag == 15):
                sides[sides.count - 1].read(field)
            default:
                common.read(field)
            }
        }
        if transType == UInt8(ascii: "1") || transType == UInt8(ascii: "2") {
            guard let refID, let indexes = byReportID[refID] else {
                issues.append(FIXSourceIssue(.unknownReference, source, tag: 572,
                                             "TradeReportRefID \(refID ?? "(missing)") names no report"))
                return
            }
            for i in indexes { all[i] = nil }
            byReportID[refID] = nil
            if transType == UInt8(ascii: "1") { return }
        }
        guard let reportID else {
            issues.append(FIXSourceIssue(.missingTag, source, tag: 571, "TradeReportID missing"))
            return
        }
        guard !sides.isEmpty else {
            issues.append(FIXSourceIssue(.missingTag, source, tag: 552, "NoSides missing"))
            return
        }
        if let bad = common.badTag {
            issues.append(FIXSourceIssue(.badValue, source, tag: bad, "unreadable value"))
            return
        }
        guard let symbol = common.symbol else {
            issues.append(FIXSourceIssue(.missingTag, source, tag: 55, "Symbol missing")); return
        }
        guard let qty = common.lastQty, qty.mantissa > 0 else {
            issues.append(FIXSourceIssue(.missingTag, source, tag: 32, "LastQty missing or not positive")); return
        }
        guard let px = common.lastPx else {
            issues.append(FIXSourceIssue(.missingTag, source, tag: 31, "LastPx missing")); return
        }
        guard let date = common.tradeDate ?? common.transactTime?.date else {
            issues.append(FIXSourceIssue(.missingTag, source, tag: 75, "TradeDate missing")); return
        }
        var indexes: [Int] = []
        for s in sides {
            guard let side = s.side else {
                issues.append(FIXSourceIssue(.badValue, source, tag: 54, "Side \(s.sideText ?? "") is not bookable"))
                continue
            }
            guard let account = s.account else {
                issues.append(FIXSourceIssue(.missingTag, source, tag: 1, "side without Account"))
                continue
            }
            indexes.append(all.count)
            all.append(ExternalTrade(
                origin: .fix(source: source.source, offset: source.offset), account: account, instrument: symbol,
                side: side, quantity: qty, price: px, currency: s.currency ?? common.currency ?? defaultCurrency,
                tradeDate: date, settlementDate: common.settlDate, transactTime: common.transactTime,
                fees: s.commission.map { $0.mantissa < 0 ? -$0 : $0 }, execID: common.execID,
                tradeID: common.tradeMatchID ?? reportID, orderID: s.orderID))
        }
        byReportID[reportID] = indexes
    }
}

/// Turns PositionReports (35=AP) into outside positions and checks that every set of reports
/// (one PosReqID(710)) holds as many reports as TotalNumPosReports(727) announced.
///
/// The quantity is LongQty(704) minus ShortQty(705) of the NoPositions(702) entry with
/// PosType(703) FIN (end-of-day final), else TQ (transaction quantity), else the first entry.
public struct PositionReportReader: Sendable {
    private struct SetCount: Sendable {
        var expected: Int?
        var received = 0
        var first: SourcePosition
    }

    public private(set) var positions: [ExternalPosition] = []
    public private(set) var issues: [FIXSourceIssue] = []
    public private(set) var skipped = 0
    private var sets: [String: SetCount] = [:]
    private var setOrder: [String] = []

    public static let positionEntriesMax = 64

    public init() {}

    public mutating func add(_ message: FIXMessage, source: SourcePosition) {
        guard message.msgType?.equals("AP") == true else { skipped += 1; return }
        var account: String?
        var symbol: String?
        var requestID = ""
        var total: Int?
        var entries: [(type: String, long: FIXDecimal, short: FIXDecimal)] = []
        var inPositions = false
        for field in message {
            switch field.tag {
            case 1: account = field.value.string
            case 55: symbol = field.value.string
            case 710: requestID = field.value.string
            case 727: total = field.value.int
            case 702: inPositions = true
            case 703 where inPositions:
                guard entries.count < PositionReportReader.positionEntriesMax else { continue }
                entries.append((field.value.string, .zero, .zero))
            case 704 where inPositions && !entries.isEmpty:
                guard let q = field.value.decimal else {
                    issues.append(FIXSourceIssue(.badValue, source, tag: 704, "LongQty unreadable")); return
                }
                entries[entries.count - 1].long = q
            case 705 where inPositions && !entries.isEmpty:
                guard let q = field.value.decimal else {
                    issues.append(FIXSourceIssue(.badValue, source, tag: 705, "ShortQty unreadable")); return
                }
                entries[entries.count - 1].short = q
            default: break
            }
        }
        if sets[requestID] == nil {
            sets[requestID] = SetCount(first: source)
            setOrder.append(requestID)
        }
        sets[requestID]!.received += 1
        if let total { sets[requestID]!.expected = total }
        guard let account else { issues.append(FIXSourceIssue(.missingTag, source, tag: 1, "Account missing")); return }
        guard let symbol else { issues.append(FIXSourceIssue(.missingTag, source, tag: 55, "Symbol missing")); return }
        guard !entries.isEmpty else {
            issues.append(FIXSourceIssue(.missingTag, source, tag: 702, "NoPositions missing")); return
        }
        let chosen = entries.first { $0.type == "FIN" } ?? entries.first { $0.type == "TQ" } ?? entries[0]
        guard let quantity = chosen.long.adding(-chosen.short) else {
            issues.append(FIXSourceIssue(.badValue, source, tag: 704, "LongQty - ShortQty overflows")); return
        }
        positions.append(ExternalPosition(origin: .fix(source: source.source, offset: source.offset),
                                          account: account, instrument: symbol, quantity: quantity))
    }

    /// One issue per report set with fewer reports than announced (or with no count at all);
    /// positions of an incomplete set are still returned, but its missing positions will show
    /// as position breaks.
    public var incompleteSets: [FIXSourceIssue] {
        setOrder.compactMap { id in
            let s = sets[id]!
            guard let expected = s.expected else {
                return FIXSourceIssue(.incompleteSet, s.first, tag: 727,
                                      "report set \(id.isEmpty ? "(no PosReqID)" : id) has no TotalNumPosReports")
            }
            guard s.received < expected else { return nil }
            return FIXSourceIssue(.incompleteSet, s.first, tag: 727,
                                  "report set \(id.isEmpty ? "(no PosReqID)" : id): \(s.received) of \(expected) reports")
        }
    }
}
