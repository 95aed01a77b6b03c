import FIXTagValue

extension FIXSessionSchedule {
    static let secondsPerDay: Int64 = 86_400
    static let secondsPerWeek: Int64 = 7 * 86_400

    /// The instant (UTC, nanoseconds) the session period containing `time` began, or nil when
    /// `time` is outside every period. Two instants belong to the same session exactly when they
    /// give the same start: that is how a new trading day is recognised and the sequence numbers
    /// reset.
    ///
    /// Daily sessions run from `startSecond` to `endSecond` local time each day (across midnight
    /// when the start is later than the end; around the clock when they are equal). Weekly
    /// sessions run from `startDay` at `startSecond` to `endDay` at `endSecond`.
    ///
    /// ```swift
    /// let schedule = FIXSessionSchedule(startSecond: 8 * 3600, endSecond: 17 * 3600)
    /// schedule.periodStart(containing: now, utcOffsetSeconds: 0)   // today 08:00 UTC, or nil after 17:00
    /// ```
    public func periodStart(containing time: FIXTimestamp, utcOffsetSeconds offset: Int) -> Int64? {
        let localSeconds = floorDivide(time.nanosecondsSinceEpoch, FIXTimestamp.nanosecondsPerSecond) + Int64(offset)
        let start = Int64(startSecond)
        let end = Int64(endSecond)
        let localStart: Int64
        if let startDay, let endDay {
            // Week-relative seconds, weeks starting Monday 00:00 local (1970-01-05 was a Monday).
            let weekOrigin: Int64 = 4 * Self.secondsPerDay
            let sinceOrigin = localSeconds - weekOrigin
            let weekStart = floorDivide(sinceOrigin, Self.secondsPerWeek) * Self.secondsPerWeek + weekOrigin
            let inWeek = localSeconds - weekStart
            let open = Int64(startDay - 1) * Self.secondsPerDay + start
            let close = Int64(endDay - 1) * Self.secondsPerDay + end
            if open < close {
                guard inWeek >= open && inWeek <= close else { return nil }
                localStart = weekStart + open
            } else if open > close {
                if inWeek >= open { localStart = weekStart + open }
                else if inWeek <= close { localStart = weekStart - Self.secondsPerWeek + open }
                else { return nil }
            } else {
                localStart = inWeek >= open ? weekStart + open : weekStart - Self.secondsPerWeek + open
            }
        } else {
            let dayStart = floorDivide(localSeconds, Self.secondsPerDay) * Self.secondsPerDay
            let inDay = localSeconds - dayStart
            if start < end {
                guard inDay >= start && inDay <= end else { return nil }
                localStart = dayStart + start
            } else if start > end {
                if inDay >= start { localStart = dayStart + start }
                else if inDay <= end { localStart = dayStart - Self.secondsPerDay + start }
                else { return nil }
            } else {
                localStart = inDay >= start ? dayStart + start : dayStart - Self.secondsPerDay + start
            }
        }
        return (localStart - Int64(offset)) * FIXTimestamp.nanosecondsPerSecond
    }

    /// The next instant after `time` at which the session opens or closes (for the timer).
    func nextBoundary(after time: FIXTimestamp, utcOffsetSeconds offset: Int) -> FIXTimestamp {
        // Scan forward at one-second resolution only at the candidate instants: each day's (or
        // week's) start and end; the nearest later one wins.
        let now = floorDivide(time.nanosecondsSinceEpoch, FIXTimestamp.nanosecondsPerSecond) + Int64(offset)
        let period = startDay == nil ? Self.secondsPerDay : Self.secondsPerWeek
        let origin: Int64 = startDay == nil ? 0 : 4 * Self.secondsPerDay
        let base = floorDivide(now - origin, period) * period + origin
        let open = Int64((startDay ?? 1) - 1) * Self.secondsPerDay + Int64(startSecond)
        let close = Int64((endDay ?? 1) - 1) * Self.secondsPerDay + Int64(endSecond) + 1
        var best = Int64.max
        for shift in [-period, 0, period] {
            for candidate in [base + shift + open, base + shift + close] where candidate > now && candidate < best {
                best = candidate
            }
        }
        return FIXTimestamp(nanosecondsSinceEpoch: (best - Int64(offset)) * FIXTimestamp.nanosecondsPerSecond)
    }
}

/// Integer division rounding toward negative infinity.
func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}
