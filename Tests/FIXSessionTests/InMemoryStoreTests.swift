import FIXSession
import FIXSessionTestSupport
import Testing

/// The in-memory store passes the same conformance checks as every other store.
@Suite struct InMemoryStoreTests {
    @Test(arguments: MessageStoreConformance.Check.allCases)
    func inMemoryStoreConforms(_ check: MessageStoreConformance.Check) throws {
        try MessageStoreConformance.run(check) { InMemoryMessageStore() }
    }

    @Test func creationTimeIsTheOneGiven() {
        let time = MessageStoreConformance.resetTime
        #expect(InMemoryMessageStore(creationTime: time).creationTime == time)
    }
}
