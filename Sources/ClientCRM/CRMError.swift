/// An error of the CRM: bad input from an operator or a peer, named with what and where.
///
/// ```swift
/// do { try directory.upsert(account) } catch { print(error) }   // "unknown client C-9 (account A-1)"
/// ```
public struct CRMError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Base: Hashable, Sendable {
        case invalid(String)
        case limit(String)
        case conflict(String)
        case unknownClient(String, context: String)
        case unknownItem(String)
        case transition(item: String, from: String, event: String)
    }

    private let base: Base

    private init(_ base: Base) { self.base = base }

    static func invalid(_ what: String) -> CRMError { CRMError(.invalid(what)) }
    static func limit(_ what: String) -> CRMError { CRMError(.limit(what)) }
    static func conflict(_ what: String) -> CRMError { CRMError(.conflict(what)) }
    static func unknownClient(_ id: String, context: String) -> CRMError { CRMError(.unknownClient(id, context: context)) }
    static func unknownItem(_ key: String) -> CRMError { CRMError(.unknownItem(key)) }
    static func transition(item: String, from: String, event: String) -> CRMError {
        CRMError(.transition(item: item, from: from, event: event))
    }

    /// True when the error names an outbox item that does not exist.
    public var isUnknownItem: Bool { if case .unknownItem = base { return true } else { return false } }
    /// True when the error is an outbox transition the item's state does not allow.
    public var isInvalidTransition: Bool { if case .transition = base { return true } else { return false } }

    public var description: String {
        switch base {
        case .invalid(let what): return "invalid: \(what)"
        case .limit(let what): return "limit exceeded: \(what)"
        case .conflict(let what): return "conflict: \(what)"
        case .unknownClient(let id, let context): return "unknown client \(id) (\(context))"
        case .unknownItem(let key): return "unknown outbox item \(key)"
        case .transition(let item, let from, let event): return "outbox item \(item) cannot \(event) when \(from)"
        }
    }
}
