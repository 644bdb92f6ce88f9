import Testing

@testable import Prefork

@Suite struct CookieTests {
    private func request(_ cookieLines: [String]) throws -> Request {
        let fields = cookieLines.map { "\($0)\r\n" }.joined()
        return try makeRequest("GET / HTTP/1.1\r\nHost: t\r\n\(fields)\r\n")
    }

    @Test func findsTheNamedCookieAmongOthers() throws {
        let one = try request(["Cookie: a=1; rtu_session=abc; csrftoken=\"def\" ;b=2"])
        #expect(one.cookie("rtu_session") == "abc")
        #expect(one.cookie("csrftoken") == "def")
        #expect(one.cookie("a") == "1" && one.cookie("b") == "2")
        #expect(one.cookie("rtu") == nil && one.cookie("session") == nil && one.cookie("c") == nil)
    }

    @Test func theFirstOfSeveralAndAcrossFields() throws {
        let two = try request(["Cookie: x=1", "cookie:  y=2 ; x=3"])
        #expect(two.cookie("x") == "1")
        #expect(two.cookie("y") == "2")
        #expect(try request([]).cookie("x") == nil)
    }

    @Test func emptyAndMalformedPairs() throws {
        let odd = try request(["Cookie: ;;x=; novalue; =v; y=a=b"])
        #expect(odd.cookie("x") == "")
        #expect(odd.cookie("novalue") == nil)
        #expect(odd.cookie("y") == "a=b")
        #expect(odd.cookie("") == nil)
    }
}
