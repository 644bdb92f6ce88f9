import Testing

@testable import PreforkCore

/// The parser corpus fed through the connection state machine, in every split the parser tests
/// use: each request must be dispatched with the head and body the parser alone finds, or
/// refused with the same status, and nothing after a request that ends the connection.
@Suite("Request corpus through the connection state machine")
struct ConnectionCorpusTests {
    /// What the connection does with one request of the stream.
    enum Served: Equatable, CustomStringConvertible {
        case request(HTTPRequestHead, body: [UInt8])
        case rejected(status: Int)

        var description: String {
            switch self {
            case .request(let head, let body): "request \(head), body \(escapeCorpus(body))"
            case .rejected(let status): "rejected \(status)"
            }
        }
    }

    /// The parser's outcomes, as the connection should serve them: up to the first error, or
    /// the first request after which the connection closes.
    static func expected(_ outcomes: [Outcome]) -> [Served] {
        var served: [Served] = []
        for outcome in outcomes {
            switch outcome {
            case .request(_, let head, let body):
                served.append(.request(head, body: body))
                if !head.keepAlive { return served }
            case .failure(let error):
                served.append(.rejected(status: error.status))
                return served
            case .incomplete, .decoderStoppedEarly:
                return served
            }
        }
        return served
    }

    /// Feeds `bytes` through a state machine in the reads `split` makes.
    static func serve(_ bytes: [UInt8], limits: HTTPLimits, split: Split) -> [Served] {
        var driver = ConnectionTestDriver(limits: limits)
        var reader = Split.Reader(split)
        var position = 0
        while position < bytes.count && !driver.closed && !driver.halfClosed {
            let count = reader.next(bytes, from: position)
            driver.receive(Array(bytes[position..<position + count]))
            position += count
        }
        var served = driver.requests.map { Served.request($0.parsed, body: $0.body) }
        served += driver.rejections.map { .rejected(status: $0.status) }
        return served
    }

    @Test(arguments: RequestCorpusTests.cases)
    func corpusCase(_ corpusCase: CorpusCase) {
        let parsed = parseStream(corpusCase.bytes, limits: corpusCase.limits, split: .whole)
        let expected = Self.expected(parsed)
        #expect(!expected.isEmpty, "\(corpusCase.name): nothing to serve")
        for split in Split.all {
            let served = Self.serve(corpusCase.bytes, limits: corpusCase.limits, split: split)
            #expect(served == expected, "\(corpusCase.name) fed \(split)")
        }
    }
}
