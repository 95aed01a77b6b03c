/// Days since 1970-01-01 for a proleptic Gregorian date (civil calendar arithmetic in integers).
@usableFromInline
func civilDaysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let shiftedMonth = month > 2 ? month - 3 : month + 9
    let dayOfYear = (153 * shiftedMonth + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
}

/// The civil date of a day count since 1970-01-01.
@usableFromInline
func civilDate(daysSinceEpoch days: Int) -> (year: Int, month: Int, day: Int) {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let mp = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
}

@usableFromInline
func daysInMonth(year: Int, month: Int) -> Int {
    switch month {
    case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
}

/// Reads `count` ASCII digits at `offset` as a number, or nil.
@usableFromInline
func readDigits(_ bytes: UnsafeRawBufferPointer, _ offset: Int, _ count: Int) -> Int? {
    guard offset >= 0, offset + count <= bytes.count else { return nil }
    var value = 0
    for i in offset..<(offset + count) {
        let d = bytes[i] &- ASCII.zero
        guard d <= 9 else { return nil }
        value = value * 10 + Int(d)
    }
    return value
}

/// Appends `value` as exactly `width` zero-padded digits.
@usableFromInline
func appendDigits(_ value: Int, width: Int, to out: inout [UInt8]) {
    var divisor = 1
    for _ in 1..<max(width, 1) { divisor *= 10 }
    var v = value
    while divisor > 0 {
        out.append(ASCII.zero &+ UInt8(truncatingIfNeeded: v / divisor))
        v %= divisor
        divisor /= 10
    }
}

/// A calendar date: UTCDateOnly or LocalMktDate (`YYYYMMDD`).
public struct FIXDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// A valid date, or nil.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              (1...daysInMonth(year: year, month: month)).contains(day) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    public init?(ascii bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 8, let y = readDigits(bytes, 0, 4), let m = readDigits(bytes, 4, 2),
              let d = readDigits(bytes, 6, 2) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    public init?(_ text: String) {
        var text = text
        guard let date = text.withUTF8({ FIXDate(ascii: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = date
    }

    /// Days since 1970-01-01.
    public var daysSinceEpoch: Int { civilDaysSinceEpoch(year: year, month: month, day: day) }

    /// The date `days` later (or earlier when negative).
    public func adding(days: Int) -> FIXDate {
        let c = civilDate(daysSinceEpoch: daysSinceEpoch + days)
        return FIXDate(year: c.year, month: c.month, day: c.day)!
    }

    /// Day of week, 1 = Monday … 7 = Sunday (ISO 8601).
    public var weekday: Int { ((daysSinceEpoch % 7 + 7) % 7 + 3) % 7 + 1 }

    public static func < (a: FIXDate, b: FIXDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    /// `YYYYMMDD`.
    public var description: String {
        var out: [UInt8] = []
        out.reserveCapacity(8)
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `YYYYMMDD`.
    public func write(to out: inout [UInt8]) {
        appendDigits(year, width: 4, to: &out)
        appendDigits(month, width: 2, to: &out)
        appendDigits(day, width: 2, to: &out)
    }
}

/// How many fractional second digits a time carries.
public enum FIXTimePrecision: Int, Hashable, Sendable, CaseIterable {
    case seconds = 0
    case milliseconds = 3
    case microseconds = 6
    case nanoseconds = 9
}

/// A UTCTimestamp, held as nanoseconds since 1970-01-01T00:00:00Z with the precision it was
/// written in. Equality and ordering compare the instant only.
///
/// ```swift
/// let t = FIXTimestamp("20240315-08:00:00.046")!
/// t.precision                        // .milliseconds
/// t.description                      // "20240315-08:00:00.046"
/// t.with(precision: .microseconds)   // "20240315-08:00:00.046000"
/// ```
public struct FIXTimestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let nanosecondsPerSecond: Int64 = 1_000_000_000
    public static let nanosecondsPerDay: Int64 = 86_400 * 1_000_000_000

    public let nanosecondsSinceEpoch: Int64
    public let precision: FIXTimePrecision

    public init(nanosecondsSinceEpoch: Int64, precision: FIXTimePrecision = .milliseconds) {
        self.nanosecondsSinceEpoch = nanosecondsSinceEpoch
        self.precision = precision
    }

    /// `YYYYMMDD-HH:MM:SS` with 0, 3, 6 or 9 fractional digits (FIX 5.0 also allows 12, whose
    /// picoseconds are dropped). A leap second (:60) is accepted and counted as the next second.
    public init?(ascii bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 17, bytes[8] == ASCII.minus,
              let date = FIXDate(ascii: UnsafeRawBufferPointer(rebasing: bytes[0..<8])),
              let time = FIXTimeOnly(ascii: UnsafeRawBufferPointer(rebasing: bytes[9...])),
              time.hasSeconds
        else { return nil }
        // Int64 nanoseconds span 1677-09-21 to 2262-04-11; a date outside is not a timestamp
        // this type can hold.
        let (dayStart, overflow) = Int64(date.daysSinceEpoch).multipliedReportingOverflow(by: FIXTimestamp.nanosecondsPerDay)
        guard !overflow, dayStart <= Int64.max - time.nanosecondsSinceMidnight else { return nil }
        nanosecondsSinceEpoch = dayStart + time.nanosecondsSinceMidnight
        precision = time.precision
    }

    public init?(_ text: String) {
        var text = text
        guard let t = text.withUTF8({ FIXTimestamp(ascii: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = t
    }

    /// The same instant written with another precision (truncating).
    public func with(precision: FIXTimePrecision) -> FIXTimestamp {
        FIXTimestamp(nanosecondsSinceEpoch: nanosecondsSinceEpoch, precision: precision)
    }

    /// The UTC calendar date of this instant.
    public var date: FIXDate {
        let days = Int(nanosecondsSinceEpoch.dividingFloor(by: FIXTimestamp.nanosecondsPerDay))
        let c = civilDate(daysSinceEpoch: days)
        return FIXDate(year: c.year, month: c.month, day: c.day)!
    }

    public static func == (a: FIXTimestamp, b: FIXTimestamp) -> Bool {
        a.nanosecondsSinceEpoch == b.nanosecondsSinceEpoch
    }

    public static func < (a: FIXTimestamp, b: FIXTimestamp) -> Bool {
        a.nanosecondsSinceEpoch < b.nanosecondsSinceEpoch
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(nanosecondsSinceEpoch) }

    public var description: String {
        var out: [UInt8] = []
        out.reserveCapacity(27)
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `YYYYMMDD-HH:MM:SS[.fff…]` in this timestamp's precision.
    public func write(to out: inout [UInt8]) {
        date.write(to: &out)
        out.append(ASCII.minus)
        let ns = nanosecondsSinceEpoch - nanosecondsSinceEpoch.dividingFloor(by: FIXTimestamp.nanosecondsPerDay)
            * FIXTimestamp.nanosecondsPerDay
        FIXTimeOnly(nanosecondsSinceMidnight: ns, precision: precision).write(to: &out)
    }
}

extension Int64 {
    @usableFromInline
    func dividingFloor(by divisor: Int64) -> Int64 {
        let q = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? q - 1 : q
    }
}

/// A UTCTimeOnly: `HH:MM:SS[.fff…]` (seconds optional in the TimeOnly forms some venues send).
public struct FIXTimeOnly: Hashable, Sendable, CustomStringConvertible {
    public let nanosecondsSinceMidnight: Int64
    public let precision: FIXTimePrecision
    let hasSeconds: Bool

    public init(nanosecondsSinceMidnight: Int64, precision: FIXTimePrecision) {
        self.nanosecondsSinceMidnight = nanosecondsSinceMidnight
        self.precision = precision
        self.hasSeconds = true
    }

    public init?(ascii bytes: UnsafeRawBufferPointer) {
        let n = bytes.count
        guard n >= 5, bytes[2] == ASCII.colon, let h = readDigits(bytes, 0, 2), let m = readDigits(bytes, 3, 2),
              h <= 23, m <= 59 else { return nil }
        var ns = Int64(h * 3600 + m * 60) * FIXTimestamp.nanosecondsPerSecond
        var precision = FIXTimePrecision.seconds
        var hasSeconds = false
        if n > 5 {
            guard n >= 8, bytes[5] == ASCII.colon, let s = readDigits(bytes, 6, 2), s <= 60 else { return nil }
            ns += Int64(s) * FIXTimestamp.nanosecondsPerSecond
            hasSeconds = true
            if n > 8 {
                let digits = n - 9
                guard bytes[8] == ASCII.dot, [3, 6, 9, 12].contains(digits) else { return nil }
                guard let fraction = readDigits(bytes, 9, min(digits, 9)) else { return nil }
                if digits == 12 { guard readDigits(bytes, 18, 3) != nil else { return nil } }
                var scaled = Int64(fraction)
                for _ in min(digits, 9)..<9 { scaled *= 10 }
                ns += scaled
                precision = FIXTimePrecision(rawValue: min(digits, 9))!
            }
        }
        self.nanosecondsSinceMidnight = ns
        self.precision = precision
        self.hasSeconds = hasSeconds
    }

    public var description: String {
        var out: [UInt8] = []
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `HH:MM:SS[.fff…]`.
    public func write(to out: inout [UInt8]) {
        let totalSeconds = Int(nanosecondsSinceMidnight / FIXTimestamp.nanosecondsPerSecond)
        appendDigits(totalSeconds / 3600, width: 2, to: &out)
        out.append(ASCII.colon)
        appendDigits(totalSeconds / 60 % 60, width: 2, to: &out)
        out.append(ASCII.colon)
        appendDigits(totalSeconds % 60, width: 2, to: &out)
        if precision != .seconds {
            out.append(ASCII.dot)
            var fraction = Int(nanosecondsSinceMidnight % FIXTimestamp.nanosecondsPerSecond)
            for _ in precision.rawValue..<9 { fraction /= 10 }
            appendDigits(fraction, width: precision.rawValue, to: &out)
        }
    }
}

/// A MonthYear: `YYYYMM`, `YYYYMMDD` (a day) or `YYYYMMwN` (week 1–5).
public struct FIXMonthYear: Hashable, Sendable, CustomStringConvertible {
    public enum Detail: Hashable, Sendable {
        case none
        case day(Int)
        case week(Int)
    }

    public let year: Int
    public let month: Int
    public let detail: Detail

    public init?(ascii bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 6 || bytes.count == 8, let y = readDigits(bytes, 0, 4), let m = readDigits(bytes, 4, 2),
              (1...12).contains(m) else { return nil }
        year = y
        month = m
        if bytes.count == 6 {
            detail = .none
        } else if bytes[6] == 0x77, let w = readDigits(bytes, 7, 1), (1...5).contains(w) {  // 'w'
            detail = .week(w)
        } else if let d = readDigits(bytes, 6, 2), (1...daysInMonth(year: y, month: m)).contains(d) {
            detail = .day(d)
        } else {
            return nil
        }
    }

    public var description: String {
        var out: [UInt8] = []
        appendDigits(year, width: 4, to: &out)
        appendDigits(month, width: 2, to: &out)
        switch detail {
        case .none: break
        case .day(let d): appendDigits(d, width: 2, to: &out)
        case .week(let w): out.append(0x77); appendDigits(w, width: 1, to: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
