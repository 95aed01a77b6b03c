import Testing
import TradeBook

@Suite struct SnapshotTests {
    @Test func restoredBookEqualsTheOriginalAndStaysExactlyOnce() {
        var h = Harness()
        let messages = DialectTests.lifeCycle(.fix44)
        for m in messages.prefix(7) { h.apply(m) }
        let snapshot = h.book.snapshot
        var restored = Harness()
        restored.book = TradeBook(configuration: h.book.configuration, restoring: snapshot)
        restored.offset = h.offset
        #expect(restored.book.positions == h.book.positions)
        #expect(restored.book.cash == h.book.cash)
        #expect(restored.book.snapshot == snapshot)
        // Every report already applied is still a duplicate, and the rest goes on identically.
        for m in messages.prefix(7) { #expect(restored.apply(m, at: 0).isEmpty) }
        for m in messages.dropFirst(7) { #expect(h.apply(m) == restored.apply(m)) }
        #expect(restored.book.snapshot == h.book.snapshot)
    }
}
