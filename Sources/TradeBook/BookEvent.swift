/// What applying a report changed, in the order a store should write it.
///
/// Each event carries the full new value of what changed (an upsert), so a store needs no
/// read-before-write: it writes the events of a batch in one transaction, in sequence. For
/// one report the book emits, in this order: `executionRecorded`, then the fill event, then
/// `orderUpserted`, then `positionChanged` and `cashChanged` (one per currency touched), then
/// `exceptionRaised`. A duplicate report emits nothing.
///
/// ```swift
/// var events: [BookEvent] = []
/// book.apply(view, source: SourcePosition(source: "drop.fix", offset: 0), into: &events)
/// for event in events {
///     switch event {
///     case .fillBooked(let fill): insertFill(fill)
///     case .positionChanged(let p): upsertPosition(p)
///     default: break
///     }
/// }
/// ```
public enum BookEvent: Hashable, Sendable {
    /// A report was applied; the store keeps the key so that a rebuilt book still knows it.
    case executionRecorded(ExecutionRecord)
    case orderUpserted(Order)
    case fillBooked(Fill)
    /// The fill as it now stands after a correction (same `id`).
    case fillCorrected(Fill)
    /// The fill after a bust: quantity zero, state `.busted`.
    case fillBusted(Fill)
    case positionChanged(Position)
    case cashChanged(CashBalance)
    case exceptionRaised(BookException)
}
