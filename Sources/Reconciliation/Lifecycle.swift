import FIXTagValue

/// Where a break stands in its handling. Every case carries what that state needs.
public enum BreakState: Hashable, Sendable {
    case open
    case assigned(to: String)
    /// A resolve or force-close waiting for a second person's approval (maker-checker).
    case pendingApproval(BreakRequest, requestedBy: String, previous: PreviousState)
    case resolved(reason: String)
    case forceClosed(reason: String)

    /// The state a pending request returns to when it is rejected.
    public enum PreviousState: Hashable, Sendable {
        case open
        case assigned(to: String)
    }

    /// True for resolved and force-closed breaks.
    public var isClosed: Bool {
        switch self {
        case .resolved, .forceClosed: return true
        default: return false
        }
    }
}

/// A closing request that may need approval.
public enum BreakRequest: Hashable, Sendable {
    case resolve(reason: String)
    case forceClose(reason: String)
}

/// What an operator (or the system) does to a break.
public enum BreakAction: Hashable, Sendable {
    case assign(to: String)
    case comment(String)
    case resolve(reason: String)
    case forceClose(reason: String)
    case approve
    case reject(reason: String)
    case reopen(reason: String)
}

/// One entry of a break's audit trail: who did what, when, and the states before and after.
public struct BreakTransition: Hashable, Sendable {
    public var actor: String
    public var at: FIXTimestamp
    public var action: BreakAction
    public var from: BreakState
    public var to: BreakState

    public init(actor: String, at: FIXTimestamp, action: BreakAction, from: BreakState, to: BreakState) {
        self.actor = actor
        self.at = at
        self.action = action
        self.from = from
        self.to = to
    }
}

/// How breaks are handled at this firm.
public struct LifecyclePolicy: Hashable, Sendable {
    /// When true, resolving or force-closing needs approval by someone other than the requester.
    public var makerChecker: Bool
    /// Audit entries kept per break; a break edited more often than this keeps the latest.
    public static let trailMax = 1000

    public init(makerChecker: Bool = false) { self.makerChecker = makerChecker }
}

/// A transition the lifecycle refuses: the break, the action and why.
public struct LifecycleError: Error, Hashable, Sendable, CustomStringConvertible {
    fileprivate enum Base: Hashable, Sendable {
        case closed, notPending, sameActor, pending, notClosed, emptyText
    }

    private let base: Base
    public let breakID: String
    public let reason: String

    fileprivate init(_ base: Base, _ breakID: String, _ reason: String) {
        self.base = base
        self.breakID = breakID
        self.reason = reason
    }

    /// True when maker-checker refused an approval by the requester.
    public var isSameActor: Bool { base == .sameActor }

    public var description: String { "break \(breakID): \(reason)" }
}

/// A break as the store keeps it: the latest detected break, when it was first and last seen,
/// its state, and the audit trail.
///
/// ```swift
/// var c = BreakCase(break: b, seenOn: date, at: now)
/// try c.apply(.assign(to: "ops-1"), by: "ops-lead", at: now, policy: policy)
/// try c.apply(.resolve(reason: "late booking"), by: "ops-1", at: now, policy: policy)
/// try c.apply(.approve, by: "ops-lead", at: now, policy: policy)   // maker-checker
/// ```
public struct BreakCase: Hashable, Sendable {
    public var id: String { latest.id }
    public var latest: Break
    public var firstSeen: FIXDate
    public var lastSeen: FIXDate
    public private(set) var state: BreakState
    public private(set) var comments: [BreakComment]
    public private(set) var trail: [BreakTransition]

    public init(break detected: Break, seenOn date: FIXDate) {
        latest = detected
        firstSeen = date
        lastSeen = date
        state = .open
        comments = []
        trail = []
    }

    /// Restores a stored case.
    public init(latest: Break, firstSeen: FIXDate, lastSeen: FIXDate, state: BreakState, comments: [BreakComment],
                trail: [BreakTransition]) {
        self.latest = latest
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.state = state
        self.comments = comments
        self.trail = trail
    }

    /// Age in business days from first seen to `asOf`.
    public func age(asOf: FIXDate, calendar: BusinessCalendar = BusinessCalendar()) -> Int {
        calendar.businessDays(from: firstSeen, to: asOf)
    }

    /// Applies an action, recording it in the trail, or throws when the state does not allow it.
    @discardableResult
    public mutating func apply(_ action: BreakAction, by actor: String, at time: FIXTimestamp,
                               policy: LifecyclePolicy) throws(LifecycleError) -> BreakTransition {
        let from = state
        let to: BreakState
        switch (state, action) {
        case (_, .comment(let text)):
            guard !text.isEmpty else { throw LifecycleError(.emptyText, id, "empty comment") }
            comments.append(BreakComment(actor: actor, at: time, text: text))
            to = state
        case (.resolved, .reopen(let reason)), (.forceClosed, .reopen(let reason)):
            guard !reason.isEmpty else { throw LifecycleError(.emptyText, id, "reopening needs a reason") }
            to = .open
        case (_, .reopen):
            throw LifecycleError(.notClosed, id, "only a closed break can be reopened")
        case (.resolved, _), (.forceClosed, _):
            throw LifecycleError(.closed, id, "break is closed")
        case (.pendingApproval(let request, let requester, let previous), .approve):
            guard requester != actor else {
                throw LifecycleError(.sameActor, id, "\(actor) requested this and cannot also approve it")
            }
            switch request {
            case .resolve(let reason): to = .resolved(reason: reason)
            case .forceClose(let reason): to = .forceClosed(reason: reason)
            }
            _ = previous
        case (.pendingApproval(_, _, let previous), .reject(let reason)):
            guard !reason.isEmpty else { throw LifecycleError(.emptyText, id, "rejecting needs a reason") }
            switch previous {
            case .open: to = .open
            case .assigned(let who): to = .assigned(to: who)
            }
        case (.pendingApproval, _):
            throw LifecycleError(.pending, id, "a request awaits approval")
        case (_, .approve), (_, .reject):
            throw LifecycleError(.notPending, id, "nothing awaits approval")
        case (_, .assign(let who)):
            guard !who.isEmpty else { throw LifecycleError(.emptyText, id, "assignee is empty") }
            to = .assigned(to: who)
        case (_, .resolve(let reason)), (_, .forceClose(let reason)):
            guard !reason.isEmpty else { throw LifecycleError(.emptyText, id, "closing needs a reason") }
            let request: BreakRequest
            if case .resolve = action { request = .resolve(reason: reason) } else { request = .forceClose(reason: reason) }
            if policy.makerChecker {
                let previous: BreakState.PreviousState
                if case .assigned(let who) = state { previous = .assigned(to: who) } else { previous = .open }
                to = .pendingApproval(request, requestedBy: actor, previous: previous)
            } else {
                switch request {
                case .resolve(let r): to = .resolved(reason: r)
                case .forceClose(let r): to = .forceClosed(reason: r)
                }
            }
        }
        state = to
        let transition = BreakTransition(actor: actor, at: time, action: action, from: from, to: to)
        trail.append(transition)
        if trail.count > LifecyclePolicy.trailMax { trail.removeFirst(trail.count - LifecyclePolicy.trailMax) }
        return transition
    }

    /// Closes a break the system found gone, bypassing maker-checker (no person decided it).
    mutating func autoResolve(reason: String, by actor: String, at time: FIXTimestamp) -> BreakTransition {
        let from = state
        state = .resolved(reason: reason)
        let transition = BreakTransition(actor: actor, at: time, action: .resolve(reason: reason), from: from, to: state)
        trail.append(transition)
        return transition
    }
}

/// An operator's note on a break.
public struct BreakComment: Hashable, Sendable {
    public var actor: String
    public var at: FIXTimestamp
    public var text: String

    public init(actor: String, at: FIXTimestamp, text: String) {
        self.actor = actor
        self.at = at
        self.text = text
    }
}

/// What the store must write after a run: the cases to upsert (by id) and the transitions the
/// merge made on its own.
public struct BreakMergeResult: Hashable, Sendable {
    public var upserts: [BreakCase]
    public var transitions: [(id: String, transition: BreakTransition)]

    public static func == (a: BreakMergeResult, b: BreakMergeResult) -> Bool {
        a.upserts == b.upserts && a.transitions.map(\.id) == b.transitions.map(\.id)
            && a.transitions.map(\.transition) == b.transitions.map(\.transition)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(upserts)
        for t in transitions { hasher.combine(t.id); hasher.combine(t.transition) }
    }
}

/// Merges a run's breaks with the breaks the store holds.
public enum BreakMerge {
    /// The reason recorded when a rerun no longer finds a break.
    public static let goneReason = "no longer present on rerun"

    /// - A break of the run with a stored id updates that case (first-seen date, state and trail
    ///   kept; the latest values and last-seen date replaced); a closed case found again is
    ///   reopened by `actor`.
    /// - A new break becomes an open case first seen on the run's business date.
    /// - A stored open case of the same source that the run no longer finds is resolved with
    ///   `goneReason` when it was last seen on this business date (a rerun) or is a position or
    ///   cash break (those are re-evaluated in full each day). Older trade breaks of earlier
    ///   dates are carried: the run did not look at those dates.
    public static func merge(run: ReconciliationResult, stored: [BreakCase], actor: String,
                             at time: FIXTimestamp) -> BreakMergeResult {
        let date = run.configuration.businessDate
        var byID: [String: BreakCase] = [:]
        for c in stored { byID[c.id] = c }
        var seen = Set<String>()
        var upserts: [BreakCase] = []
        var transitions: [(id: String, transition: BreakTransition)] = []
        for b in run.breaks where seen.insert(b.id).inserted {
            if var existing = byID[b.id] {
                existing.latest = b
                existing.lastSeen = max(existing.lastSeen, date)
                if existing.state.isClosed {
                    if let t = try? existing.apply(.reopen(reason: "present again on \(date)"), by: actor, at: time,
                                                   policy: LifecyclePolicy()) {
                        transitions.append((b.id, t))
                    }
                }
                upserts.append(existing)
            } else {
                upserts.append(BreakCase(break: b, seenOn: date))
            }
        }
        for c in stored where !seen.contains(c.id) && !c.state.isClosed {
            guard c.latest.id.isEmpty == false else { continue }
            let sameSource = c.latest.source == run.configuration.sourceName
            let stateful = c.latest.code == .position || c.latest.code == .cash
            guard sameSource, c.lastSeen == date || (stateful && c.lastSeen <= date) else { continue }
            var closed = c
            let t = closed.autoResolve(reason: goneReason, by: actor, at: time)
            transitions.append((c.id, t))
            upserts.append(closed)
        }
        return BreakMergeResult(upserts: upserts, transitions: transitions)
    }
}
