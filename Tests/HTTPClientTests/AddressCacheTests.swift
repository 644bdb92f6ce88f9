import Testing

@testable import HTTPClient

@Suite struct AddressCacheTests {
    let one = AddressCache.Address(family: 2, socketType: 1, socketProtocol: 6, bytes: [1, 2, 3])
    let two = AddressCache.Address(family: 2, socketType: 1, socketProtocol: 6, bytes: [4, 5, 6])
    let second: Int64 = 1_000_000_000

    @Test func freshAnswersComeFromTheCache() throws {
        var cache = AddressCache()
        var calls = 0
        let resolve: () throws(HTTPClientError) -> [AddressCache.Address] = {
            calls += 1
            return [one]
        }
        #expect(try cache.addresses(for: "rt:443", now: 0, resolve: resolve) == [one])
        #expect(try cache.addresses(for: "rt:443", now: 59 * second, resolve: resolve) == [one])
        #expect(calls == 1)
        #expect(try cache.addresses(for: "rt:80", now: 59 * second, resolve: resolve) == [one])
        #expect(calls == 2)  // another port is another key
    }

    @Test func expiredAnswersAreResolvedAgain() throws {
        var cache = AddressCache()
        _ = try cache.addresses(for: "rt:443", now: 0) { () throws(HTTPClientError) in [one] }
        #expect(try cache.addresses(for: "rt:443", now: 61 * second) { () throws(HTTPClientError) in [two] } == [two])
    }

    @Test func aFailingResolverFallsBackToARecentAnswer() throws {
        var cache = AddressCache()
        let failing: () throws(HTTPClientError) -> [AddressCache.Address] = { () throws(HTTPClientError) in
            throw HTTPClientError(.dnsFailure, endpoint: "rt:443", phase: .connecting, "DNS lookup failed")
        }
        _ = try cache.addresses(for: "rt:443", now: 0) { () throws(HTTPClientError) in [one] }
        #expect(try cache.addresses(for: "rt:443", now: 300 * second, resolve: failing) == [one])
        #expect(throws: HTTPClientError.self) {
            try cache.addresses(for: "rt:443", now: 601 * second, resolve: failing)
        }
        #expect(throws: HTTPClientError.self) { try cache.addresses(for: "other:443", now: 0, resolve: failing) }
    }
}
