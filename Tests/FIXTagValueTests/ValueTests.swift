import FIXTestSupport
import Testing

@testable import FIXTagValue

/// Writes one field with `write`, frames the message, and hands the field's value to `read`.
func roundTrip<R>(_ write: (inout FIXWriter) -> Void, _ read: (FIXValue) -> R) -> R {
    var writer = FIXWriter()
    writer.begin(beginString: "FIX.4.4", msgType: "8")
    write(&writer)
    let bytes = writer.finish()
    return bytes.withUnsafeBytes { buffer in
        guard case .message(let length) = FIXFramer().frame(buffer), length == buffer.count else {
            fatalError("writer produced an unframeable message: \(TestMessages.show(bytes))")
        }
        let view = FIXMessage(unchecked: buffer)
        return read(view.first(100)!)
    }
}

@Suite struct ValueTests {
    @Test(arguments: [0, 1, -1, 42, Int.max, Int.min + 1, 1_000_000_007])
    func intRoundTrips(value: Int) {
        #expect(roundTrip({ $0.append(100, value) }, { $0.int }) == value)
    }

    @Test func intRejectsJunkAndOverflow() {
        for text in ["1a", "-", "", "99999999999999999999", "+1", "1.0"] {
            let bytes = Array(text.utf8)
            #expect(bytes.withUnsafeBytes { FIXValue(base: $0.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!, count: $0.count).int } == nil, "\(text)")
        }
    }

    @Test(arguments: ["0", "191.1", "191.10", "-0.0001", "123456789012345678", "0.000000000000000001", "100", ".5", "7."])
    func decimalRoundTripsExactly(text: String) {
        let parsed = FIXDecimal(text)!
        #expect(roundTrip({ $0.append(100, parsed) }, { $0.string }) == (text == ".5" ? "0.5" : text == "7." ? "7" : text))
        #expect(roundTrip({ $0.append(100, parsed) }, { $0.decimal }) == parsed)
    }

    @Test func decimalTextMatchesTheDigitsAsHeld() {
        let cases: [(Int64, Int8, String)] = [
            (0, 0, "0"), (0, -2, "0.00"), (5, -3, "0.005"), (-5, -3, "-0.005"), (19110, -2, "191.10"),
            (-19110, -2, "-191.10"), (12, 3, "12000"), (-7, 1, "-70"), (100, -2, "1.00"),
            (Int64.max, 0, "9223372036854775807"), (Int64.min, 0, "-9223372036854775808"),
            (Int64.min, -19, "-0.9223372036854775808"), (1, -18, "0.000000000000000001"),
        ]
        for (mantissa, exponent, text) in cases {
            let d = FIXDecimal(mantissa: mantissa, exponent: exponent)
            #expect(d.description == text)
            var out = Array("x=".utf8)
            d.appendText(to: &out)
            #expect(String(decoding: out, as: UTF8.self) == "x=" + text)
        }
    }

    @Test func decimalRejectsWhatFIXDoesNotAllow() {
        for text in ["", "-", ".", "1.2.3", "1e5", "1,5", "+3", "1234567890123456789"] {
            #expect(FIXDecimal(text) == nil, "\(text)")
        }
    }

    @Test func decimalArithmeticIsExact() {
        let px = FIXDecimal("191.1")!
        #expect(px == FIXDecimal("191.100")!)
        #expect(px.hashValue == FIXDecimal("191.100")!.hashValue)
        #expect(FIXDecimal("0.1")! + FIXDecimal("0.2")! == FIXDecimal("0.3")!)
        #expect((px * FIXDecimal(1800)).description == "343980.0")
        #expect(FIXDecimal("10")!.divided(by: FIXDecimal(3), scale: 4)!.description == "3.3333")
        #expect(FIXDecimal("-2.5")!.rounded(scale: 0).description == "-3")
        #expect(FIXDecimal("2.345")!.rounded(scale: 2).description == "2.35")
        #expect(FIXDecimal("1.5")!.rounded(scale: 3).description == "1.500")
        #expect(FIXDecimal("-0.5")! < FIXDecimal("0.25")!)
        #expect(FIXDecimal(1).divided(by: .zero, scale: 2) == nil)
    }

    @Test(arguments: FIXTimePrecision.allCases)
    func timestampRoundTripsInEachPrecision(precision: FIXTimePrecision) {
        let text = ["20240315-08:00:00", "20240315-08:00:00.046", "20240315-08:00:00.046123",
                    "20240315-08:00:00.046123789"][FIXTimePrecision.allCases.firstIndex(of: precision)!]
        let t = FIXTimestamp(text)!
        #expect(t.precision == precision)
        #expect(t.description == text)
        let back = roundTrip({ $0.append(100, t) }, { $0.timestamp })
        #expect(back == t && back?.precision == precision)
    }

    @Test func timestampKnowsTheCalendar() {
        #expect(FIXTimestamp("19700101-00:00:00")!.nanosecondsSinceEpoch == 0)
        #expect(FIXTimestamp("20000229-23:59:59.999")!.nanosecondsSinceEpoch == 951_868_799_999_000_000)
        #expect(FIXTimestamp("20240315-08:00:00.046")!.date == FIXDate("20240315"))
        #expect(FIXTimestamp("19691231-23:59:59.5")  == nil)  // 1 fractional digit is not FIX
        #expect(FIXTimestamp("19691231-23:59:59.500")!.description == "19691231-23:59:59.500")
        #expect(FIXTimestamp("20230229-00:00:00") == nil)
        #expect(FIXTimestamp("20240315-24:00:00") == nil)
        #expect(FIXTimestamp("20240315 08:00:00") == nil)
        #expect(FIXTimestamp("20161231-23:59:60")!.description == "20170101-00:00:00")
        #expect(FIXTimestamp("20240315-08:00:00.046123789123")!.precision == .nanoseconds)
        #expect(FIXTimestamp("20240315-08:00:00.046").map { $0.with(precision: .microseconds).description }
            == "20240315-08:00:00.046000")
    }

    @Test func dateOnlyRoundTrips() {
        let d = FIXDate(year: 2024, month: 2, day: 29)!
        #expect(roundTrip({ $0.append(100, d) }, { $0.date }) == d)
        #expect(FIXDate("20240230") == nil && FIXDate("2024031") == nil && FIXDate("2024031x") == nil)
        #expect(d.adding(days: 1).description == "20240301")
        #expect(FIXDate("20240315")!.weekday == 5)  // a Friday
    }

    @Test func timeOnlyRoundTrips() {
        let t = FIXTimeOnly(ascii: UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(t == nil)
        let value = roundTrip({ $0.append(100, FIXTimestamp("20240315-13:45:01.250")!.timeOnlyForTest) }, { $0.timeOnly })
        #expect(value?.description == "13:45:01.250")
    }

    @Test(arguments: ["202403", "20240315", "202403w2"])
    func monthYearRoundTrips(text: String) {
        let parsed = Array(text.utf8).withUnsafeBytes { FIXMonthYear(ascii: $0) }!
        #expect(parsed.description == text)
        #expect(roundTrip({ $0.append(100, parsed) }, { $0.monthYear }) == parsed)
    }

    @Test func monthYearRejectsBadForms() {
        for text in ["202413", "202403w6", "20240231", "2024"] {
            #expect(Array(text.utf8).withUnsafeBytes { FIXMonthYear(ascii: $0) } == nil, "\(text)")
        }
    }

    @Test func charBoolAndStringRoundTrip() {
        #expect(roundTrip({ $0.append(100, char: UInt8(ascii: "2")) }, { $0.char }) == UInt8(ascii: "2"))
        #expect(roundTrip({ $0.append(100, true) }, { $0.bool }) == true)
        #expect(roundTrip({ $0.append(100, false) }, { $0.bool }) == false)
        #expect(roundTrip({ $0.append(100, "Zürich desk") }, { $0.string }) == "Zürich desk")
        #expect(roundTrip({ $0.append(100, "ab") }, { $0.char }) == nil)
        #expect(roundTrip({ $0.append(100, "x") }, { $0.bool }) == nil)
    }

    @Test func dataFieldRoundTripsWithSOHInside() {
        let payload: [UInt8] = [0x3C, 0x01, 0x00, 0xFF, 0x3D, 0x01]
        var writer = FIXWriter()
        writer.begin(beginString: "FIX.4.4", msgType: "B")
        writer.appendData(lengthTag: 95, dataTag: 96, payload)
        writer.append(58, "after")
        let bytes = writer.finish()
        let (list, error) = fields(bytes)
        #expect(error == nil)
        bytes.withUnsafeBytes { buffer in
            #expect(Array(FIXMessage(unchecked: buffer).first(96)!.bytes) == payload)
        }
        #expect(list.last?.0 == 10 && list.first { $0.0 == 58 }?.1 == "after")
    }
}

extension FIXTimestamp {
    var timeOnlyForTest: FIXTimeOnly {
        FIXTimeOnly(nanosecondsSinceMidnight: nanosecondsSinceEpoch % FIXTimestamp.nanosecondsPerDay, precision: precision)
    }
}

@Suite struct TimestampRangeTests {
    @Test func rejectsDatesOutsideTheNanosecondRange() {
        #expect(FIXTimestamp("99991231-23:59:59") == nil)
        #expect(FIXTimestamp("16000101-00:00:00") == nil)
        #expect(FIXTimestamp("22620411-00:00:00") != nil)
    }
}

@Suite struct DecimalEdgeTests {
    @Test func comparesValuesWhoseExponentsAreFarApart() {
        let tiny = FIXDecimal(mantissa: 123, exponent: -60)
        let big = FIXDecimal(mantissa: 5, exponent: 10)
        #expect(tiny < big && !(big < tiny) && tiny != big)
        #expect(FIXDecimal(mantissa: -5, exponent: 10) < tiny)
        #expect(FIXDecimal(mantissa: 0, exponent: -60) == FIXDecimal.zero)
    }

    @Test func reportsOverflowInsteadOfTrappingForOutsideValues() {
        let huge = FIXDecimal("999999999999999999")!
        #expect(huge.multiplied(by: huge) == nil)
        #expect(huge.adding(huge) == FIXDecimal(mantissa: 1_999_999_999_999_999_998, exponent: 0))
        #expect(FIXDecimal("0.0000000000000000001") == nil)  // 19 fractional digits
        #expect(FIXDecimal("1.5")!.rounded(scale: -40).mantissa == 0)
    }
}
