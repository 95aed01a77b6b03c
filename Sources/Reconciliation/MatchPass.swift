import FIXTagValue
import TradeBook

/// The passes of one run over a `Reconciler`'s rows. Each row's state lives in a byte array, so
/// a pass marks rows matched without touching the rows themselves.
struct MatchPass {
    private enum RowState: UInt8 {
        case open = 0
        case matched = 1
        /// Set aside before matching (a duplicate, an unknown account).
        case removed = 2
    }

    private let r: Reconciler
    private let config: ReconciliationConfiguration
    /// Every row is of the business date.
    private let day: Int32
    private var bookState: [UInt8]
    private var externalState: [UInt8]
    private(set) var breaks: [Break] = []
    private(set) var matchedByKey = 0
    private(set) var matchedByAttributes = 0
    private(set) var matchedByAggregation = 0

    init(reconciler: Reconciler) {
        r = reconciler
        config = reconciler.configuration
        day = Int32(reconciler.configuration.businessDate.daysSinceEpoch)
        bookState = [UInt8](repeating: 0, count: reconciler.book.rows.count)
        externalState = [UInt8](repeating: 0, count: reconciler.external.rows.count)
    }

    mutating func run() {
        setAsideUnknownAccounts()
        matchByStrongKeys()
        matchByAttributes()
        matchByOrder()
        matchByAccountInstrumentSideDay()
        reportUnmatched()
        reconcilePositions()
        reconcileCash()
    }

    // MARK: Pass 0 — records that cannot be matched

    private mutating func setAsideUnknownAccounts() {
        for i in r.book.rows.indices where r.book.rows[i].account < 0 {
            bookState[i] = RowState.removed.rawValue
            let row = r.book.rows[i]
            let exec = label(book: true, i, part: 0)
            emit(.unknownAccount, date: day, keys: [config.sourceName, "book", exec], row: row,
                 book: [i], external: [], quantity: -signedQuantity(row), amount: -signedNotional(row),
                 detail: "book fill \(exec) has no client account")
        }
        guard let known = config.knownAccounts else { return }
        var knownIDs = Set<Int32>()
        for account in known { if let id = r.strings.lookup(account) { knownIDs.insert(id) } }
        for i in r.external.rows.indices where !knownIDs.contains(r.external.rows[i].account) {
            externalState[i] = RowState.removed.rawValue
            let row = r.external.rows[i]
            emit(.unknownAccount, date: day, keys: [config.sourceName, externalKeyText(i)], row: row,
                 book: [], external: [i], quantity: signedQuantity(row), amount: signedNotional(row),
                 detail: "account \(r.strings[row.account]) is not a client account")
        }
    }

    /// The key a row is deduplicated and matched by in pass 1: its ExecID, else its trade id.
    private func strongKey(_ isBook: Bool, _ i: Int) -> UInt64 {
        let set = isBook ? r.book : r.external
        let exec = set.rows[i].execKey
        return exec != 0 ? exec : set.labelKey(i, part: 1)
    }

    private mutating func setAsideDuplicate(_ isBook: Bool, _ i: Int, first head: Int) {
        setState(isBook, i, .removed)
        let row = isBook ? r.book.rows[i] : r.external.rows[i]
        let keyText = isBook ? label(book: true, i, part: 0) : externalKeyText(i)
        emit(.duplicate, date: day,
             keys: [config.sourceName, isBook ? "book" : "external", keyText, origin(isBook, i).description],
             row: row, book: isBook ? [head, i] : [], external: isBook ? [] : [head, i],
             quantity: .zero, amount: .zero,
             detail: "\(keyText) reported again at \(origin(isBook, i)) (first at \(origin(isBook, head)))")
    }

    // MARK: Pass 1 — duplicates, then ExecID, TrdMatchID, venue trade id

    /// Sets aside keys reported twice by one side (the first record stays, later ones are
    /// *duplicate* breaks), then pairs outside records with book fills by ExecID, and last the
    /// outside records without an ExecID match by trade id, in row order.
    ///
    /// Both sides' keys are grouped by their top bits first (`KeyPartitions`), and each group is
    /// deduplicated and joined with a table that fits in cache: at ten million rows a side this
    /// is several times faster than one table over all keys, whose every probe is a cache miss.
    private mutating func matchByStrongKeys() {
        let bits = KeyPartitions.bits(forRows: max(r.book.rows.count, r.external.rows.count))
        let bookParts = KeyPartitions(count: r.book.rows.count, bits: bits) { i in
            bookState[i] == 0 ? strongKey(true, i) : 0
        }
        let extParts = KeyPartitions(count: r.external.rows.count, bits: bits) { i in
            externalState[i] == 0 ? strongKey(false, i) : 0
        }
        var bookTable = SmallKeyTable()
        var extTable = SmallKeyTable()
        /// Outside rows whose ExecID is absent or found nothing, to try by trade id afterwards.
        var byTradeID: [Int32] = []
        for g in 0..<bookParts.partitionCount {
            let bookRange = bookParts.range(g)
            bookTable.reset(for: bookRange.count)
            for k in bookRange {
                let i = bookParts.rows[k]
                if let head = bookTable.firstOrInsert(bookParts.keys[k], row: i) {
                    setAsideDuplicate(true, Int(i), first: Int(head))
                }
            }
            let extRange = extParts.range(g)
            extTable.reset(for: extRange.count)
            for k in extRange {
                let e = Int(extParts.rows[k])
                let key = extParts.keys[k]
                if let head = extTable.firstOrInsert(key, row: Int32(e)) {
                    setAsideDuplicate(false, e, first: Int(head))
                    continue
                }
                // Without an ExecID the key is the trade id: tried after every ExecID has had its turn.
                guard r.external.rows[e].execKey != 0 else { byTradeID.append(Int32(e)); continue }
                if let b = bookTable.get(key), bookState[Int(b)] == 0 {
                    pair(book: Int(b), external: e)
                } else if r.external.labelKey(e, part: 1) != 0 {
                    byTradeID.append(Int32(e))
                }
            }
        }
        guard !byTradeID.isEmpty else { return }
        byTradeID.sort()
        var open = SmallKeyTable()
        open.reset(for: openCount(bookState))
        for i in r.book.rows.indices where bookState[i] == 0 {
            let key = strongKey(true, i)
            if key != 0 { _ = open.firstOrInsert(key, row: Int32(i)) }
        }
        for e in byTradeID where externalState[Int(e)] == 0 {
            let key = r.external.labelKey(Int(e), part: 1)
            if key != 0, let b = open.get(key), bookState[Int(b)] == 0 {
                pair(book: Int(b), external: Int(e))
            }
        }
    }

    private mutating func pair(book b: Int, external e: Int) {
        bookState[b] = RowState.matched.rawValue
        externalState[e] = RowState.matched.rawValue
        matchedByKey += 1
        comparePair(book: b, external: e, checkSide: true)
    }

    // MARK: Pass 2 — account, instrument, side, quantity and price within tolerance

    private mutating func matchByAttributes() {
        let rows = r.book.rows
        var index = HashIndex(slotsFor: openCount(bookState), rows: rows.count)
        for i in rows.indices.reversed() where bookState[i] == 0 {
            index.insert(attributeKey(rows[i]), row: Int32(i))
        }
        let windowNanos = config.timeWindowSeconds.map { $0 * 1_000_000_000 }
        for e in r.external.rows.indices where externalState[e] == 0 {
            let ext = r.external.rows[e]
            let s = index.slot(attributeKey(ext))
            var previous: Int32 = -1
            var b = index.head(slot: s)
            var scanned = 0
            while b >= 0 && scanned < config.candidateScanMax {
                let bi = Int(b)
                let candidate = rows[bi]
                if bookState[bi] != 0 {
                    // Matched by an earlier outside row: unlink so later walks stay short.
                    index.unlink(b, previous: previous, slot: s)
                    b = index.next(b)
                    continue
                }
                scanned += 1
                if sameBucket(candidate, ext)
                    && within(Int128(ext.quantity), Int128(candidate.quantity), config.quantity, Scale.quantity)
                    && within(Int128(ext.price), Int128(candidate.price), config.price, Scale.price)
                    && withinWindow(r.book.time(bi), r.external.time(e), windowNanos) {
                    index.unlink(b, previous: previous, slot: s)
                    bookState[bi] = RowState.matched.rawValue
                    externalState[e] = RowState.matched.rawValue
                    matchedByAttributes += 1
                    comparePair(book: bi, external: e, checkSide: false)
                    break
                }
                previous = b
                b = index.next(b)
            }
        }
    }

    @inline(__always)
    private func attributeKey(_ row: Reconciler.Row) -> UInt64 {
        mixKey(row.account, row.instrument, Int32(row.side), row.currency)
    }

    @inline(__always)
    private func sameBucket(_ a: Reconciler.Row, _ b: Reconciler.Row) -> Bool {
        a.account == b.account && a.instrument == b.instrument && a.side == b.side && a.currency == b.currency
    }

    private func withinWindow(_ a: Int64, _ b: Int64, _ window: Int64?) -> Bool {
        guard let window, a != Scale.absent, b != Scale.absent else { return true }
        let d = a > b ? a - b : b - a
        return d <= window
    }

    // MARK: Pass 3 — aggregates: per order, then per account × instrument × side × day

    private mutating func matchByOrder() {
        let bookSet = r.book, extSet = r.external
        matchGroups(keyOf: { isBook, i in
                        let set = isBook ? bookSet : extSet
                        let order = set.labelKey(i, part: 2)
                        guard order != 0 else { return 0 }
                        let row = set.rows[i]
                        return mixKey(Int32(truncatingIfNeeded: order), Int32(truncatingIfNeeded: order >> 32),
                                      row.account, row.instrument, Int32(row.side))
                    },
                    sameGroup: { a, b in a.key == b.key && a.row.account == b.row.account
                        && a.row.instrument == b.row.instrument && a.row.side == b.row.side },
                    requireQuantity: false,
                    keys: { pass, b, e in
                        [pass.config.sourceName, "order", pass.label(book: false, e, part: 2)] })
    }

    private mutating func matchByAccountInstrumentSideDay() {
        let bookSet = r.book, extSet = r.external
        matchGroups(keyOf: { isBook, i in
                        let row = (isBook ? bookSet : extSet).rows[i]
                        return mixKey(row.account, row.instrument, Int32(row.side), row.currency)
                    },
                    sameGroup: { a, b in a.row.account == b.row.account && a.row.instrument == b.row.instrument
                        && a.row.side == b.row.side && a.row.currency == b.row.currency },
                    requireQuantity: true,
                    keys: { pass, b, e in
                        let row = pass.r.external.rows[e]
                        return [pass.config.sourceName, "group", pass.r.strings[row.account],
                                pass.r.strings[row.instrument], row.side > 0 ? "buy" : "sell",
                                pass.r.strings[row.currency]]
                    })
    }

    /// Groups the open rows of both sides by `keyOf` (0 = not groupable) and matches each outside
    /// group with the book group of the same key: quantities summed, prices quantity-weighted.
    /// With `requireQuantity` a group pair whose quantities differ beyond tolerance is left alone.
    private mutating func matchGroups(keyOf: (Bool, Int) -> UInt64,
                                      sameGroup: ((key: UInt64, row: Reconciler.Row), (key: UInt64, row: Reconciler.Row)) -> Bool,
                                      requireQuantity: Bool,
                                      keys: (MatchPass, Int, Int) -> [String]) {
        let bookRows = r.book.rows
        let extRows = r.external.rows
        var bookIndex = HashIndex(slotsFor: openCount(bookState), rows: bookRows.count)
        for i in bookRows.indices.reversed() where bookState[i] == 0 {
            let k = keyOf(true, i)
            if k != 0 { bookIndex.insert(k, row: Int32(i)) }
        }
        var extIndex = HashIndex(slotsFor: openCount(externalState), rows: extRows.count)
        for i in extRows.indices.reversed() where externalState[i] == 0 {
            let k = keyOf(false, i)
            if k != 0 { extIndex.insert(k, row: Int32(i)) }
        }
        var heads: [Int32] = []
        extIndex.forEachHead { heads.append($0) }
        heads.sort()
        var bookMembers: [Int] = []
        var extMembers: [Int] = []
        for head in heads {
            let firstKey = keyOf(false, Int(head))
            let first = (key: firstKey, row: extRows[Int(head)])
            extMembers.removeAll(keepingCapacity: true)
            bookMembers.removeAll(keepingCapacity: true)
            var e = head
            while e >= 0 {
                if externalState[Int(e)] == 0 && sameGroup((keyOf(false, Int(e)), extRows[Int(e)]), first) {
                    extMembers.append(Int(e))
                }
                e = extIndex.next(e)
            }
            var b = bookIndex.head(slot: bookIndex.slot(firstKey))
            while b >= 0 {
                if bookState[Int(b)] == 0 && sameGroup((keyOf(true, Int(b)), bookRows[Int(b)]), first) {
                    bookMembers.append(Int(b))
                }
                b = bookIndex.next(b)
            }
            guard !extMembers.isEmpty, !bookMembers.isEmpty else { continue }
            // Without an order id linking them, rows that merely share an account, instrument,
            // side and day are only taken for one another when their quantities add up;
            // otherwise they stay unmatched and show as missing on either side.
            if requireQuantity {
                var bq: Int128 = 0, eq: Int128 = 0
                for i in bookMembers { bq += Int128(bookRows[i].quantity) }
                for i in extMembers { eq += Int128(extRows[i].quantity) }
                if !within(eq, bq, config.quantity, Scale.quantity) { continue }
            }
            for i in bookMembers { bookState[i] = RowState.matched.rawValue }
            for i in extMembers { externalState[i] = RowState.matched.rawValue }
            matchedByAggregation += bookMembers.count + extMembers.count
            compareGroup(book: bookMembers, external: extMembers, keys: keys(self, bookMembers[0], extMembers[0]))
        }
    }

    // MARK: Leftovers

    private mutating func reportUnmatched() {
        for i in r.book.rows.indices where bookState[i] == 0 {
            let row = r.book.rows[i]
            let exec = label(book: true, i, part: 0)
            emit(.missingAtVenue, date: day, keys: [config.sourceName, exec.isEmpty ? origin(true, i).description : exec],
                 row: row, book: [i], external: [], quantity: -signedQuantity(row), amount: -signedNotional(row),
                 detail: "book fill \(exec) is not reported by \(config.sourceName)")
        }
        for i in r.external.rows.indices where externalState[i] == 0 {
            let row = r.external.rows[i]
            emit(.missingInBook, date: day, keys: [config.sourceName, externalKeyText(i)], row: row,
                 book: [], external: [i], quantity: signedQuantity(row), amount: signedNotional(row),
                 detail: "\(origin(false, i)) has no matching book fill")
        }
    }

    // MARK: Pass 4 and 5 — positions and cash

    private mutating func reconcilePositions() {
        guard !r.externalPositions.isEmpty else { return }
        // Only accounts the source reports on are compared: a clearing broker's statement says
        // nothing about accounts it does not clear.
        let reported = Set(r.externalPositions.keys.map { $0 >> 32 })
        let keys = Set(r.externalPositions.keys).union(r.bookPositions.keys.filter { reported.contains($0 >> 32) })
        for key in keys.sorted() {
            let bookQ = r.bookPositions[key] ?? 0
            let ext = r.externalPositions[key]
            let extQ = ext?.quantity ?? 0
            guard !within(Int128(extQ), Int128(bookQ), config.quantity, Scale.quantity) else { continue }
            let account = r.strings[Int32(truncatingIfNeeded: key >> 32)]
            let instrument = r.strings[Int32(truncatingIfNeeded: key & 0xffff_ffff)]
            let bookRecord = BreakRecord(origin: .bookBalance, key: "position", side: nil,
                                         quantity: Scale.decimal(Int128(bookQ), Scale.quantity), price: nil,
                                         fees: nil, settlementDate: nil)
            let extRecords = (ext?.origins ?? []).map {
                BreakRecord(origin: $0, key: "position", side: nil, quantity: Scale.decimal(Int128(extQ), Scale.quantity),
                            price: nil, fees: nil, settlementDate: nil)
            }
            let diff = Scale.decimal(Int128(extQ) - Int128(bookQ), Scale.quantity)
            breaks.append(Break(
                id: Break.makeID(date: nil, code: .position, keys: [config.sourceName, account, instrument]),
                code: .position, source: config.sourceName, businessDate: config.businessDate, account: account, instrument: instrument,
                currency: nil, book: [bookRecord], external: extRecords, quantityDifference: diff,
                amountDifference: .zero,
                detail: "position \(Scale.decimal(Int128(bookQ), Scale.quantity)) in the book, "
                    + "\(Scale.decimal(Int128(extQ), Scale.quantity)) reported"))
        }
    }

    private mutating func reconcileCash() {
        guard !r.externalCash.isEmpty else { return }
        let reported = Set(r.externalCash.keys.map { $0 >> 32 })
        let keys = Set(r.externalCash.keys).union(r.bookCash.keys.filter { reported.contains($0 >> 32) })
        for key in keys.sorted() {
            let bookA = r.bookCash[key] ?? 0
            let ext = r.externalCash[key]
            let extA = ext?.amount ?? 0
            guard !within(Int128(extA), Int128(bookA), config.amount, Scale.amount) else { continue }
            let account = r.strings[Int32(truncatingIfNeeded: key >> 32)]
            let currency = r.strings[Int32(truncatingIfNeeded: key & 0xffff_ffff)]
            let bookRecord = BreakRecord(origin: .bookBalance, key: "cash", side: nil,
                                         quantity: Scale.decimal(Int128(bookA), Scale.amount), price: nil, fees: nil,
                                         settlementDate: nil)
            let extRecords = (ext?.origins ?? []).map {
                BreakRecord(origin: $0, key: "cash", side: nil, quantity: Scale.decimal(Int128(extA), Scale.amount),
                            price: nil, fees: nil, settlementDate: nil)
            }
            breaks.append(Break(
                id: Break.makeID(date: nil, code: .cash, keys: [config.sourceName, account, currency]),
                code: .cash, source: config.sourceName, businessDate: config.businessDate, account: account, instrument: nil, currency: currency,
                book: [bookRecord], external: extRecords, quantityDifference: .zero,
                amountDifference: Scale.decimal(Int128(extA) - Int128(bookA), Scale.amount),
                detail: "cash \(Scale.decimal(Int128(bookA), Scale.amount)) \(currency) in the book, "
                    + "\(Scale.decimal(Int128(extA), Scale.amount)) reported"))
        }
    }

    // MARK: Comparing matched records

    private mutating func comparePair(book b: Int, external e: Int, checkSide: Bool) {
        let bookRow = r.book.rows[b]
        let ext = r.external.rows[e]
        // Nearly every pair agrees: decide that on integers before building any text.
        let sideDiffers = checkSide && ext.side != bookRow.side
        let quantityDiffers = ext.quantity != bookRow.quantity
            && !within(Int128(ext.quantity), Int128(bookRow.quantity), config.quantity, Scale.quantity)
        let priceDiffers = ext.price != bookRow.price
            && !within(Int128(ext.price), Int128(bookRow.price), config.price, Scale.price)
        let feesDiffer = ext.fees != bookRow.fees && ext.fees != Scale.absent && bookRow.fees != Scale.absent
            && !within(Int128(ext.fees), Int128(bookRow.fees), config.amount, Scale.amount)
        let settlementDiffers = ext.settleDay != bookRow.settleDay && ext.settleDay != Int32.min
            && bookRow.settleDay != Int32.min
        guard sideDiffers || quantityDiffers || priceDiffers || feesDiffer || settlementDiffers else { return }
        let keys = [config.sourceName, label(book: true, b, part: 0), externalKeyText(e)]
        // Differences in Int128: two in-range decimals can differ by more than a decimal holds.
        let qd = Scale.decimal(Int128(ext.side) * Int128(ext.quantity) - Int128(bookRow.side) * Int128(bookRow.quantity),
                               Scale.quantity)
        let ad = Scale.decimal(Int128(ext.side) * notional(ext) - Int128(bookRow.side) * notional(bookRow),
                               Scale.quantity + Scale.price)
        if sideDiffers {
            emit(.side, date: day, keys: keys, row: ext, book: [b], external: [e], quantity: qd, amount: ad,
                 detail: "book \(sideName(bookRow.side)), \(config.sourceName) \(sideName(ext.side))")
        }
        if quantityDiffers {
            emit(.quantity, date: day, keys: keys, row: ext, book: [b], external: [e], quantity: qd,
                 amount: ad, detail: "book quantity \(qty(bookRow.quantity)), reported \(qty(ext.quantity))")
        }
        if priceDiffers {
            emit(.price, date: day, keys: keys, row: ext, book: [b], external: [e], quantity: .zero,
                 amount: ad, detail: "book price \(px(bookRow.price)), reported \(px(ext.price))")
        }
        if feesDiffer {
            emit(.fees, date: day, keys: keys, row: ext, book: [b], external: [e], quantity: .zero,
                 amount: Scale.decimal(Int128(ext.fees) - Int128(bookRow.fees), Scale.amount),
                 detail: "book fees \(qty(bookRow.fees)), reported \(qty(ext.fees))")
        }
        if settlementDiffers {
            emit(.settlementDate, date: day, keys: keys, row: ext, book: [b], external: [e],
                 quantity: .zero, amount: .zero,
                 detail: "book settles \(day(bookRow.settleDay)), reported \(day(ext.settleDay))")
        }
    }

    private mutating func compareGroup(book: [Int], external: [Int], keys: [String]) {
        var bookQ: Int128 = 0, bookN: Int128 = 0, extQ: Int128 = 0, extN: Int128 = 0
        var overflow = false
        func add(_ sum: inout Int128, _ value: Int128) {
            let (r, o) = sum.addingReportingOverflow(value)
            sum = r
            overflow = overflow || o
        }
        for i in book { add(&bookQ, Int128(r.book.rows[i].quantity)); add(&bookN, notional(r.book.rows[i])) }
        for i in external { add(&extQ, Int128(r.external.rows[i].quantity)); add(&extN, notional(r.external.rows[i])) }
        let first = r.external.rows[external[0]]
        if overflow {
            emit(.quantity, date: day, keys: keys, row: first, book: book, external: external,
                 quantity: .zero, amount: .zero, detail: "aggregate too large to compare")
            return
        }
        let sign = Int128(first.side)
        let qd = Scale.decimal(sign * (extQ - bookQ), Scale.quantity)
        let (nd, ndOverflow) = extN.subtractingReportingOverflow(bookN)
        let ad = ndOverflow ? FIXDecimal.zero : Scale.decimal(sign * nd, Scale.quantity + Scale.price)
        let what = "\(book.count) book fill(s) against \(external.count) reported line(s)"
        if !within(extQ, bookQ, config.quantity, Scale.quantity) {
            emit(.quantity, date: day, keys: keys, row: first, book: book, external: external,
                 quantity: qd, amount: ad,
                 detail: "\(what): book quantity \(Scale.decimal(bookQ, Scale.quantity)), "
                    + "reported \(Scale.decimal(extQ, Scale.quantity))")
            return
        }
        // Quantity-weighted average prices: notional (scale 14) over quantity (scale 6) is scale 8.
        let bookAvg = bookQ == 0 ? 0 : (bookN + bookQ / 2) / bookQ
        let extAvg = extQ == 0 ? 0 : (extN + extQ / 2) / extQ
        if !within(extAvg, bookAvg, config.price, Scale.price) {
            emit(.price, date: day, keys: keys, row: first, book: book, external: external,
                 quantity: .zero, amount: ad,
                 detail: "\(what): book average price \(Scale.decimal(bookAvg, Scale.price)), "
                    + "reported \(Scale.decimal(extAvg, Scale.price))")
        }
    }

    // MARK: Helpers

    private func openCount(_ states: [UInt8]) -> Int {
        var n = 0
        for s in states where s == 0 { n += 1 }
        return n
    }

    /// |a - b| within the tolerance's absolute amount, or within its fraction of the larger
    /// magnitude. Both values are integers at `scale`.
    private func within(_ a: Int128, _ b: Int128, _ tolerance: Tolerance, _ scale: Int) -> Bool {
        let d = a > b ? a - b : b - a
        if d == 0 { return true }
        if tolerance.absolute.mantissa != 0, let abs = Scale.scaled(tolerance.absolute.rounded(scale: scale), scale),
           d <= Int128(abs.magnitude) {
            return true
        }
        if tolerance.relative.mantissa != 0, let rel = Scale.scaled(tolerance.relative.rounded(scale: 12), 12) {
            let m = max(a.magnitude, b.magnitude)
            // d ≤ rel × m with both sides × 10^12, overflow-checked: aggregates can be very large.
            let (lhs, lhsOverflow) = UInt128(d).multipliedReportingOverflow(by: 1_000_000_000_000)
            let (rhs, rhsOverflow) = UInt128(rel.magnitude).multipliedReportingOverflow(by: UInt128(m))
            switch (lhsOverflow, rhsOverflow) {
            case (false, false): return lhs <= rhs
            case (false, true): return true
            case (true, false): return false
            case (true, true): return UInt128(d) <= UInt128(rel.magnitude) * (UInt128(m) / 1_000_000_000_000)
            }
        }
        return false
    }

    @inline(__always)
    private func notional(_ row: Reconciler.Row) -> Int128 { Int128(row.quantity) * Int128(row.price) }

    private func signedQuantity(_ row: Reconciler.Row) -> FIXDecimal {
        Scale.decimal(Int128(row.side) * Int128(row.quantity), Scale.quantity)
    }

    private func signedNotional(_ row: Reconciler.Row) -> FIXDecimal {
        Scale.decimal(Int128(row.side) * notional(row), Scale.quantity + Scale.price)
    }

    private func qty(_ v: Int64) -> FIXDecimal { Scale.decimal(Int128(v), Scale.quantity) }
    private func px(_ v: Int64) -> FIXDecimal { Scale.decimal(Int128(v), Scale.price) }
    private func day(_ d: Int32) -> String { FIXDate(year: 1970, month: 1, day: 1)!.adding(days: Int(d)).description }
    private func sideName(_ s: Int8) -> String { s > 0 ? "buy" : "sell" }

    private func state(_ isBook: Bool, _ i: Int) -> RowState {
        RowState(rawValue: isBook ? bookState[i] : externalState[i]) ?? .open
    }

    private mutating func setState(_ isBook: Bool, _ i: Int, _ s: RowState) {
        if isBook { bookState[i] = s.rawValue } else { externalState[i] = s.rawValue }
    }

    /// Part 0 (ExecID), 1 (trade id) or 2 (order id) of a row's label.
    func label(book isBook: Bool, _ i: Int, part: Int) -> String {
        let side = isBook ? r.book : r.external
        let start = Int(side.rows[i].labelStart)
        let end = i + 1 < side.rows.count ? Int(side.rows[i + 1].labelStart) : side.labels.count
        var p = 0
        var s = start
        var k = start
        while k <= end {
            if k == end || side.labels[k] == 0x1f {
                if p == part { return String(decoding: side.labels[s..<k], as: UTF8.self) }
                p += 1
                s = k + 1
            }
            k += 1
        }
        return ""
    }

    /// The key an outside row is known by: its ExecID, else its trade id, else where it came from.
    private func externalKeyText(_ i: Int) -> String {
        let exec = label(book: false, i, part: 0)
        if !exec.isEmpty { return exec }
        let trade = label(book: false, i, part: 1)
        if !trade.isEmpty { return trade }
        return origin(false, i).description
    }

    private func origin(_ isBook: Bool, _ i: Int) -> RecordOrigin {
        let row = isBook ? r.book.rows[i] : r.external.rows[i]
        switch row.originKind {
        case 0: return .statement(file: r.strings[row.source], line: Int(row.position))
        case 1: return .fix(source: r.strings[row.source], offset: row.position)
        default: return .book(fillID: Int(row.position))
        }
    }

    private func record(_ isBook: Bool, _ i: Int) -> BreakRecord {
        let row = isBook ? r.book.rows[i] : r.external.rows[i]
        return BreakRecord(
            origin: origin(isBook, i), key: isBook ? label(book: true, i, part: 0) : externalKeyText(i),
            side: row.side > 0 ? .buy : .sell, quantity: qty(row.quantity), price: px(row.price),
            fees: row.fees == Scale.absent ? nil : qty(row.fees),
            settlementDate: row.settleDay == Int32.min ? nil
                : FIXDate(year: 1970, month: 1, day: 1)!.adding(days: Int(row.settleDay)))
    }

    private mutating func emit(_ code: BreakCode, date: Int32, keys: [String], row: Reconciler.Row, book: [Int],
                               external: [Int], quantity: FIXDecimal, amount: FIXDecimal, detail: String) {
        let tradeDate = FIXDate(year: 1970, month: 1, day: 1)!.adding(days: Int(date))
        breaks.append(Break(
            id: Break.makeID(date: tradeDate, code: code, keys: keys), code: code, source: config.sourceName, businessDate: tradeDate,
            account: row.account >= 0 ? r.strings[row.account] : nil, instrument: r.strings[row.instrument],
            currency: r.strings[row.currency],
            book: book.prefix(Break.recordsMax).map { record(true, $0) },
            external: external.prefix(Break.recordsMax).map { record(false, $0) },
            quantityDifference: quantity, amountDifference: amount, detail: detail))
    }
}
