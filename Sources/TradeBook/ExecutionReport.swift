import FIXTagValue

/// What an execution report asks the book to do, from ExecType(150) and, in FIX 4.0–4.2,
/// ExecTransType(20).
enum ReportAction: Hashable, Sendable {
    /// A new execution: ExecType 1 or 2 (FIX 4.1–4.2), F (FIX 4.3+), or in FIX 4.0 (no
    /// ExecType) a report with LastShares > 0.
    case trade
    /// ExecType G or ExecTransType 2: replaces quantity and price of the fill ExecRefID names.
    case correct
    /// ExecType H or ExecTransType 1: cancels the fill ExecRefID names.
    case bust
    /// ExecType 5: the order now has the report's ClOrdID, OrderQty and Price.
    case replace
    /// ExecType D: OrderQty and Price restated, ClOrdID unchanged.
    case restate
    /// ExecType I or ExecTransType 3: a status answer, which changes nothing.
    case statusOnly
    /// Any other ExecType: the order moves to this status.
    case transition(OrderStatus)

    /// Classifies a report; nil when ExecType (or, without it, OrdStatus) is not one the book
    /// knows.
    static func classify(execType: UInt8?, execTransType: UInt8?, ordStatus: UInt8?,
                         lastQty: FIXDecimal?) -> ReportAction? {
        switch execTransType {
        case UInt8(ascii: "1"): return .bust
        case UInt8(ascii: "2"): return .correct
        case UInt8(ascii: "3"): return .statusOnly
        default: break
        }
        guard let execType else {
            // FIX 4.0 has no ExecType: a report with shares executed is a fill, any other
            // carries its meaning in OrdStatus.
            if let lastQty, lastQty > .zero { return .trade }
            guard let ordStatus else { return nil }
            return classify(execType: ordStatus == UInt8(ascii: "1") || ordStatus == UInt8(ascii: "2")
                            ? UInt8(ascii: "0") : ordStatus, execTransType: nil, ordStatus: nil, lastQty: nil)
        }
        switch execType {
        case UInt8(ascii: "1"), UInt8(ascii: "2"), UInt8(ascii: "F"): return .trade
        case UInt8(ascii: "G"): return .correct
        case UInt8(ascii: "H"): return .bust
        case UInt8(ascii: "5"): return .replace
        case UInt8(ascii: "D"): return .restate
        case UInt8(ascii: "I"): return .statusOnly
        case UInt8(ascii: "L"): return .transition(.new)  // Triggered: the order is working again
        default:
            guard let status = OrderStatus(rawValue: execType) else { return nil }
            return .transition(status)
        }
    }
}

/// The fields of one execution report that the book reads, borrowed from the message: one
/// pass over the fields collects them, nothing is copied until the book decides to keep it.
struct ReportFields {
    var sender: FIXValue?
    var target: FIXValue?
    var sendingTime: FIXValue?
    var account: FIXValue?
    var partyAccount: FIXValue?
    var clOrdID: FIXValue?
    var origClOrdID: FIXValue?
    var orderID: FIXValue?
    var execID: FIXValue?
    var execRefID: FIXValue?
    var execTransType: FIXValue?
    var execType: FIXValue?
    var ordStatus: FIXValue?
    var side: FIXValue?
    var symbol: FIXValue?
    var securityID: FIXValue?
    var securityIDSource: FIXValue?
    var currency: FIXValue?
    var orderQty: FIXValue?
    var price: FIXValue?
    var lastQty: FIXValue?
    var lastPx: FIXValue?
    var cumQty: FIXValue?
    var commission: FIXValue?
    var commType: FIXValue?
    var commCurrency: FIXValue?
    var tradeDate: FIXValue?
    var settlDate: FIXValue?
    var transactTime: FIXValue?
    /// NoMiscFees(136): the fees are read in a second pass, only for fills.
    var miscFeeCount: FIXValue?
    /// Byte offset of NoMiscFees(136) in the message: the second pass starts there.
    var miscFeesOffset = 0
    var hasMiscFees: Bool { miscFeeCount != nil }
    /// The message's fields could not all be read.
    var syntaxError = false

    init(_ message: FIXMessage, partyRole: Int?) {
        var iterator = message.makeIterator()
        var lastPartyID: FIXValue?
        // A tag may repeat inside a group; the first occurrence is the body field.
        while let field = iterator.next() {
            let v = field.value
            switch field.tag {
            case 1: if account == nil { account = v }
            case 11: if clOrdID == nil { clOrdID = v }
            case 12: if commission == nil { commission = v }
            case 13: if commType == nil { commType = v }
            case 14: if cumQty == nil { cumQty = v }
            case 15: if currency == nil { currency = v }
            case 17: if execID == nil { execID = v }
            case 19: if execRefID == nil { execRefID = v }
            case 20: if execTransType == nil { execTransType = v }
            case 22: if securityIDSource == nil { securityIDSource = v }
            case 31: if lastPx == nil { lastPx = v }
            case 32: if lastQty == nil { lastQty = v }
            case 37: if orderID == nil { orderID = v }
            case 38: if orderQty == nil { orderQty = v }
            case 39: if ordStatus == nil { ordStatus = v }
            case 41: if origClOrdID == nil { origClOrdID = v }
            case 44: if price == nil { price = v }
            case 48: if securityID == nil { securityID = v }
            case 49: if sender == nil { sender = v }
            case 52: if sendingTime == nil { sendingTime = v }
            case 54: if side == nil { side = v }
            case 55: if symbol == nil { symbol = v }
            case 56: if target == nil { target = v }
            case 60: if transactTime == nil { transactTime = v }
            case 64: if settlDate == nil { settlDate = v }
            case 75: if tradeDate == nil { tradeDate = v }
            case 136:
                if miscFeeCount == nil {
                    miscFeeCount = v
                    miscFeesOffset = field.offset
                }
            case 150: if execType == nil { execType = v }
            case 448: lastPartyID = v
            case 452:
                if let partyRole, partyAccount == nil, v.int == partyRole { partyAccount = lastPartyID }
            case 479: if commCurrency == nil { commCurrency = v }
            default: break
            }
        }
        syntaxError = iterator.error != nil
    }
}

/// One MiscFees entry as sent, before conversion to an absolute amount.
struct RawFee {
    var amount: FIXDecimal?
    var currency: String?
    var type: String?
    var basis: Int?
}

/// Reads the MiscFees group (136: 137 amount, 138 currency, 139 type, 891 basis). An entry
/// starts at MiscFeeAmt(137), the group's first field. At most `TradeBook.miscFeesMax` entries are read.
func readMiscFees(_ message: FIXMessage, from offset: Int = 0) -> [RawFee] {
    var fees: [RawFee] = []
    var inGroup = false
    // The group cannot start before NoMiscFees(136): reading from there skips the header and
    // the parties, most of the message.
    let rest = FIXMessage(unchecked: UnsafeRawBufferPointer(rebasing: message.bytes[offset...]),
                          dataFields: message.dataFields)
    for field in rest {
        switch field.tag {
        case 136: inGroup = true
        case 137 where inGroup:
            if fees.count == TradeBook.miscFeesMax { return fees }
            fees.append(RawFee(amount: field.value.decimal))
        case 138 where inGroup && !fees.isEmpty: fees[fees.count - 1].currency = field.value.string
        case 139 where inGroup && !fees.isEmpty: fees[fees.count - 1].type = field.value.string
        case 891 where inGroup && !fees.isEmpty: fees[fees.count - 1].basis = field.value.int
        default: break
        }
    }
    return fees
}
