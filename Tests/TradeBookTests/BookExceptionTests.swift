import Testing
import TradeBook

@Suite struct BookExceptionTests {
    @Test func codesHaveStableDistinctNumbers() {
        let codes: [(BookException.Code, Int)] = [
            (.accountUnknown, 1), (.orderUnknown, 2), (.execRefUnknown, 3), (.overfill, 4), (.reportMalformed, 5),
            (.commissionTypeUnsupported, 6), (.feeBasisUnsupported, 7), (.cumQtyMismatch, 8), (.execRefBusted, 9),
            (.currencyMismatch, 10),
        ]
        for (code, number) in codes {
            #expect(code.number == number)
            #expect(BookException.Code(number: number) == code)
            #expect(code.description.hasSuffix("(\(number))"))
        }
        #expect(BookException.Code(number: 0) == nil)
        #expect(BookException.Code(number: 11) == nil)
    }
}
