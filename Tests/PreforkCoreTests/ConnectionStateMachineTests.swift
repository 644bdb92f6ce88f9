import Testing

@testable import PreforkCore

@Suite("Connection state machine")
struct ConnectionStateMachineTests {
    @Test func keepAliveConnectionClosesAfterIdleTimeout() {
        var driver = ConnectionTestDriver(keepalive: 5 * second)
        driver.now = 1 * second
        driver.receive("GET /a HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(driver.transcript == ["dispatch GET /a keepAlive", "flush [\"GET /a\"]"])
        #expect(driver.machine.isIdle)
        #expect(driver.machine.deadline == 6 * second)
        #expect(driver.advance(to: 6 * second - 1) == nil)
        // A second request restarts the idle timer.
        driver.now = 5 * second
        driver.receive("GET /b HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(driver.advance(to: 9 * second) == nil)
        #expect(driver.advance(to: 10 * second) == .idle)
        #expect(driver.requests.count == 2)
    }

    @Test func slowlorisHeadIsClosedAtHeaderTimeout() {
        var driver = ConnectionTestDriver(keepalive: 5 * second, headerTimeout: 10 * second)
        let head = Array("GET / HTTP/1.1\r\nHost: h\r\nX-Slow: 1234567890\r\n".utf8)
        // One byte per second: activity never stops, yet the head must be complete in 10 s.
        for (index, byte) in head.enumerated() {
            driver.now = Int64(index) * second
            if driver.advance(to: driver.now) != nil { break }
            driver.receive([byte])
        }
        #expect(driver.transcript == ["timeout headerStall"])
        #expect(driver.now == 11 * second)
        #expect(driver.requests.isEmpty)
    }

    @Test func headerTimeoutRunsFromTheFirstByteOfTheHead() {
        var driver = ConnectionTestDriver(headerTimeout: 10 * second)
        driver.now = 2 * second
        driver.receive("GET / HT")
        #expect(driver.machine.deadline == 12 * second)
        #expect(driver.advance(to: 12 * second) == nil)
        #expect(driver.advance(to: 12 * second + 1) == .headerStall)
    }

    @Test func stalledBodyIsClosed() {
        var driver = ConnectionTestDriver(headerTimeout: 10 * second)
        driver.receive("POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n12345")
        driver.now = 3 * second
        driver.receive("678")  // progress restarts the stall timer
        #expect(driver.advance(to: 13 * second) == nil)
        #expect(driver.advance(to: 13 * second + 1) == .bodyStall)
        #expect(driver.requests.isEmpty)
    }

    @Test func chunkedBodyIsDecodedAcrossReads() {
        var driver = ConnectionTestDriver()
        driver.receive("POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")
        driver.receive("lo\r\n0\r\n\r\n")
        #expect(driver.requests.map(\.body) == [Array("hello".utf8)])
        #expect(driver.transcript == ["dispatch POST /c keepAlive", "flush [\"POST /c\"]"])
    }

    @Test func pipelinedRequestsAreAnsweredInOrderInOneWrite() {
        var driver = ConnectionTestDriver()
        driver.receive(
            "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
                + "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
                + "GET /3 HTTP/1.1\r\nHost: h\r\n\r\nGET /4 HTTP/1.1\r\n")
        #expect(driver.batches == [["GET /1", "POST /2", "GET /3"]])
        #expect(driver.requests[1].body == Array("abc".utf8))
        // The fourth head is incomplete: its header timer runs.
        #expect(driver.machine.deadline == 10 * second)
        driver.receive("Host: h\r\n\r\n")
        #expect(driver.batches.last == ["GET /4"])
    }

    @Test func fileBodyEndsTheBatch() {
        var driver = ConnectionTestDriver()
        driver.receive("GET /file HTTP/1.1\r\nHost: h\r\n\r\nGET /after HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(driver.batches == [["GET /file"], ["GET /after"]])
    }

    @Test func pendingOutputStopsServingUntilDrained() {
        var driver = ConnectionTestDriver()
        driver.socketFull = true
        driver.receive("GET /file HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(driver.transcript.last == "wait writable")
        #expect(driver.requests.count == 1)
        #expect(driver.machine.deadline == nil)
        driver.drainOutput()
        #expect(driver.batches == [["GET /file"], ["GET /2"]])
    }

    @Test func earlyRejectionWithUnreadBodyLingersThenCloses() {
        var driver = ConnectionTestDriver(limits: HTTPLimits(body: 10))
        driver.now = 1 * second
        driver.receive("POST /big HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n0123456789")
        #expect(driver.transcript == ["reject 413", "flush [\"413\"]", "half-close"])
        #expect(driver.machine.deadline == 3 * second)
        // Input is discarded while lingering; nothing else is answered.
        driver.receive("GET /ignored HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(driver.requests.isEmpty)
        #expect(driver.machine.input.isEmpty)
        #expect(driver.advance(to: 3 * second - 1) == nil)
        #expect(driver.advance(to: 3 * second) == .lingerDone)
    }

    @Test func lingeringEndsAtEOF() {
        var driver = ConnectionTestDriver()
        driver.receive("GET /1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\n")
        #expect(driver.transcript == ["dispatch GET /1 close", "flush [\"GET /1\"]", "half-close"])
        driver.receiveEOF()
        #expect(driver.transcript.last == "close")
    }

    @Test func closeResponseWithNothingUnreadClosesAtOnce() {
        var driver = ConnectionTestDriver()
        driver.receive("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        #expect(driver.transcript == ["dispatch GET / close", "flush [\"GET /\"]", "close"])
        #expect(!driver.halfClosed)
    }

    @Test func drainingAnswersConnectionCloseAndClosesIdleConnectionsSoon() {
        var busy = ConnectionTestDriver(keepalive: 5 * second)
        busy.machine.beginDrain()
        busy.receive("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(busy.transcript == ["dispatch GET / close", "flush [\"GET /\"]", "close"])

        var idle = ConnectionTestDriver(keepalive: 5 * second)
        idle.receive("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        idle.machine.beginDrain()
        #expect(idle.advance(to: 1 * second - 1) == nil)
        #expect(idle.advance(to: 1 * second) == .idle)

        var shortKeepalive = ConnectionTestDriver(keepalive: second / 2)
        shortKeepalive.machine.beginDrain()
        #expect(shortKeepalive.machine.deadline == second / 2)
    }

    @Test func expectContinueIsAnsweredBeforeTheBody() {
        var driver = ConnectionTestDriver()
        driver.receive("POST /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        #expect(driver.transcript == ["continue", "flush [\"100\"]"])
        driver.receive("hello")
        #expect(driver.batches.last == ["POST /u"])
        #expect(driver.requests.first?.body == Array("hello".utf8))

        // The body came with the head: the client is not waiting, no 100.
        var eager = ConnectionTestDriver()
        eager.receive("POST /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello")
        #expect(eager.transcript == ["dispatch POST /u keepAlive", "flush [\"POST /u\"]"])
    }

    @Test func http10KeepsAliveOnlyWhenAsked() {
        var asked = ConnectionTestDriver()
        asked.receive("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(asked.transcript == ["dispatch GET /a keepAliveHTTP10", "flush [\"GET /a\"]"])

        var plain = ConnectionTestDriver()
        plain.receive("GET /a HTTP/1.0\r\n\r\n")
        #expect(plain.transcript == ["dispatch GET /a close", "flush [\"GET /a\"]", "close"])
    }

    @Test func keepaliveZeroClosesAfterEveryResponse() {
        var driver = ConnectionTestDriver(keepalive: 0)
        driver.receive("GET /a HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(driver.transcript == ["dispatch GET /a close", "flush [\"GET /a\"]", "close"])
    }

    @Test func malformedHeadIsRejectedThenLingers() {
        var driver = ConnectionTestDriver()
        driver.receive("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n")
        #expect(driver.transcript == ["reject 400", "flush [\"400\"]", "half-close"])
    }

    @Test func headFillingTheBufferLimitIsRejected() {
        // With unlimited line lengths only the buffer limit stops a head.
        let limits = HTTPLimits(requestLine: 0, fieldCount: 4, fieldSize: 0)
        var driver = ConnectionTestDriver(limits: limits)
        let limit = driver.machine.configuration.headBufferLimit
        driver.receive("GET /" + String(repeating: "a", count: limit + 100))
        #expect(driver.rejections.map(\.status) == [431])
    }

    @Test func eofClosesAtOnce() {
        var driver = ConnectionTestDriver()
        driver.receive("GET / HTTP/1.1\r\n")
        driver.receiveEOF()
        #expect(driver.transcript == ["close"])
    }

    @Test func trickledHeadIsParsedOnlyWhenALineEnds() {
        var driver = ConnectionTestDriver()
        driver.receive("GET /")
        let parsedCount = driver.machine.headParsedCount
        driver.receive("aaaa")
        // The new bytes neither end a line nor outgrow it: the head is not parsed again, yet
        // what was seen is remembered for the next try.
        #expect(driver.machine.headParsedCount == parsedCount + 4)
        driver.receive(" HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(driver.requests.count == 1)
        #expect(driver.machine.headParsedCount == 0)
    }
}

@Suite("Accept gate")
struct AcceptGateTests {
    @Test func pausesAtMaxConnectionsAndResumesBelowNinetyPercent() {
        var gate = AcceptGate(maxConnections: 100)
        #expect(gate.mayAccept(open: 99) == (true, .unchanged))
        #expect(gate.mayAccept(open: 100) == (false, .pause))
        #expect(gate.mayAccept(open: 100) == (false, .unchanged))
        #expect(gate.connectionClosed(open: 99) == .unchanged)
        #expect(gate.connectionClosed(open: 91) == .unchanged)
        #expect(gate.connectionClosed(open: 90) == .resume)
        #expect(gate.isOpen)
        #expect(gate.mayAccept(open: 90) == (true, .unchanged))
    }

    @Test func outOfDescriptorsPausesUntilAConnectionCloses() {
        var gate = AcceptGate(maxConnections: 1000)
        #expect(gate.outOfDescriptors() == .pause)
        #expect(gate.mayAccept(open: 10).allowed == false)
        #expect(gate.connectionClosed(open: 9) == .resume)
    }

    @Test func neverResumesWhileDraining() {
        var gate = AcceptGate(maxConnections: 10)
        #expect(gate.mayAccept(open: 10) == (false, .pause))
        #expect(gate.beginDrain() == .unchanged)
        #expect(gate.connectionClosed(open: 0) == .unchanged)
        #expect(gate.mayAccept(open: 0).allowed == false)

        var open = AcceptGate(maxConnections: 10)
        #expect(open.beginDrain() == .pause)
    }
}
