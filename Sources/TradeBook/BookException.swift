/// Something in an execution report that needs an operator: the book never drops a report
/// silently, it books what it can and raises one of these with a stable numbered code.
///
/// ```swift
/// for case .exceptionRaised(let e) in events where e.code == .accountUnknown {
///     print(e.code.number, e.reason, e.source)   // 1 "account ACC1 is not a client account" capture.fix@4711
/// }
/// ```
public struct BookException: Hashable, Sendable {
    public var code: Code
    /// A sentence for the operator.
    public var reason: String
    public var source: SourcePosition
    /// The report's session, ExecID and ClOrdID when it had them.
    public var session: String?
    public var execID: String?
    public var clOrdID: String?

    public init(code: Code, reason: String, source: SourcePosition, session: String?, execID: String?,
                clOrdID: String?) {
        self.code = code
        self.reason = reason
        self.source = source
        self.session = session
        self.execID = execID
        self.clOrdID = clOrdID
    }

    /// A stable exception code. Numbers are never reused; a retired code keeps its number.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Int {
            case accountUnknown = 1
            case orderUnknown = 2
            case execRefUnknown = 3
            case overfill = 4
            case reportMalformed = 5
            case commissionTypeUnsupported = 6
            case feeBasisUnsupported = 7
            case cumQtyMismatch = 8
            case execRefBusted = 9
            case currencyMismatch = 10
        }

        private let base: Base

        private init(_ base: Base) { self.base = base }

        /// The code from its number, or nil for a number the book does not know (for a store
        /// reading rows written by a newer version).
        public init?(number: Int) {
            guard let base = Base(rawValue: number) else { return nil }
            self.base = base
        }

        /// The stable number, for storage and reports.
        public var number: Int { base.rawValue }

        /// 1 — a fill for an account that maps to no client account: the fill is booked against
        /// its order but moves no position and no cash.
        public static let accountUnknown = Code(.accountUnknown)
        /// 2 — a report (other than New, PendingNew or Rejected) for an order the book has not
        /// seen: the order is created from the report and the report is applied.
        public static let orderUnknown = Code(.orderUnknown)
        /// 3 — a correction or bust whose ExecRefID(19) names no booked fill: not applied.
        public static let execRefUnknown = Code(.execRefUnknown)
        /// 4 — CumQty exceeds OrderQty after a fill: the fill is booked all the same.
        public static let overfill = Code(.overfill)
        /// 5 — a required tag is missing or unreadable: the report is not applied.
        public static let reportMalformed = Code(.reportMalformed)
        /// 6 — CommType(13) the book cannot convert: the commission is taken as absolute.
        public static let commissionTypeUnsupported = Code(.commissionTypeUnsupported)
        /// 7 — MiscFeeBasis(891) the book cannot convert: the fee is taken as absolute.
        public static let feeBasisUnsupported = Code(.feeBasisUnsupported)
        /// 8 — the report's CumQty(14) differs from the sum of the order's booked fills (a fill
        /// was missed or is still to come): the book keeps its own sum.
        public static let cumQtyMismatch = Code(.cumQtyMismatch)
        /// 9 — a correction or bust of a fill already busted: not applied.
        public static let execRefBusted = Code(.execRefBusted)
        /// 10 — a fill whose currency differs from the position's: booked, P&L mixes currencies.
        public static let currencyMismatch = Code(.currencyMismatch)

        public var description: String {
            switch base {
            case .accountUnknown: return "accountUnknown(1)"
            case .orderUnknown: return "orderUnknown(2)"
            case .execRefUnknown: return "execRefUnknown(3)"
            case .overfill: return "overfill(4)"
            case .reportMalformed: return "reportMalformed(5)"
            case .commissionTypeUnsupported: return "commissionTypeUnsupported(6)"
            case .feeBasisUnsupported: return "feeBasisUnsupported(7)"
            case .cumQtyMismatch: return "cumQtyMismatch(8)"
            case .execRefBusted: return "execRefBusted(9)"
            case .currencyMismatch: return "currencyMismatch(10)"
            }
        }
    }
}
