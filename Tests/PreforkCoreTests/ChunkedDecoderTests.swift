import Testing

@testable import PreforkCore

@Suite("Chunked decoder")
struct ChunkedDecoderTests {
    enum Expected {
        /// Decoded body and how many input bytes belong to the chunked body.
        case body(String, consumed: Int)
        case error(HTTPParseError.Kind)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var input: [UInt8]
        var limit: Int
        var expected: Expected
        var testDescription: String { name }
        init(_ name: String, _ input: String, limit: Int = 0, _ expected: Expected) {
            self.name = name
            self.input = Array(input.utf8)
            self.limit = limit
            self.expected = expected
        }
    }

    static let cases: [Case] = [
        Case("single chunk", "5\r\nhello\r\n0\r\n\r\n", .body("hello", consumed: 15)),
        Case("empty body", "0\r\n\r\n", .body("", consumed: 5)),
        Case("zeros as last chunk", "000\r\n\r\n", .body("", consumed: 7)),
        Case(
            "hex sizes", "a\r\n0123456789\r\nF\r\nabcdefghijklmno\r\n0\r\n\r\n",
            .body("0123456789abcdefghijklmno", consumed: 40)),
        Case("leading zeros", "0005\r\nhello\r\n0\r\n\r\n", .body("hello", consumed: 18)),
        Case("extensions", "3;a=b;c;d=\"x\\\"y; z\"\r\nabc\r\n0;last=1\r\n\r\n", .body("abc", consumed: 38)),
        Case("BWS before extension", "3 \t;a\r\nabc\r\n0\r\n\r\n", .body("abc", consumed: 17)),
        Case("trailers", "1\r\nx\r\n0\r\nX-Sum: 12\r\nX-Empty:\r\nX-Ows: \t v \t\r\n\r\n", .body("x", consumed: 46)),
        Case("data containing CRLF", "4\r\n\r\n\r\n\r\n0\r\n\r\n", .body("\r\n\r\n", consumed: 14)),
        Case("pipelined bytes after the end", "2\r\nok\r\n0\r\n\r\nGET / HTTP/1.1\r\n", .body("ok", consumed: 12)),
        Case(
            "limit reached exactly", "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", limit: 10,
            .body("helloworld", consumed: 25)),
        Case("16 hex digits", "0000000000000003\r\nabc\r\n0\r\n\r\n", .body("abc", consumed: 28)),

        Case("empty size", "\r\nhello\r\n", .error(.invalidChunkSize)),
        Case("non-hex size", "g\r\n", .error(.invalidChunkSize)),
        Case("plus sign", "+5\r\nhello\r\n0\r\n\r\n", .error(.invalidChunkSize)),
        Case("minus sign", "-5\r\n", .error(.invalidChunkSize)),
        Case("0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", .error(.invalidChunkSize)),
        Case("17 hex digits", "00000000000000003\r\nabc\r\n", .error(.chunkSizeOutOfRange)),
        Case("size overflow", "8000000000000000\r\n", .error(.chunkSizeOutOfRange)),
        Case("whitespace after size", "5 \r\nhello\r\n0\r\n\r\n", .error(.whitespaceAfterChunkSize)),
        Case("whitespace before size", " 5\r\nhello\r\n0\r\n\r\n", .error(.invalidChunkSize)),
        Case("bare LF after size", "5\nhello\r\n0\r\n\r\n", .error(.bareLF)),
        Case("bare CR after size", "5\rhello\r\n0\r\n\r\n", .error(.bareCR)),
        Case("data longer than size", "5\r\nhello!\r\n0\r\n\r\n", .error(.missingCRLFAfterChunkData)),
        Case("data shorter than size", "5\r\nhell\r\n0\r\n\r\n", .error(.bareLF)),
        Case("bare LF after data", "5\r\nhello\n0\r\n\r\n", .error(.bareLF)),
        Case("control byte in extension", "5;a\u{1}\r\nhello\r\n0\r\n\r\n", .error(.invalidChunkExtension)),
        Case("invalid extension byte", "5;a(b)\r\nhello\r\n0\r\n\r\n", .error(.invalidChunkExtension)),
        Case(
            "control byte in quoted extension", "5;a=\"\u{7F}\"\r\nhello\r\n0\r\n\r\n", .error(.invalidChunkExtension)),
        Case("over the limit", "5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n", limit: 10, .error(.bodyTooLarge)),
        Case("over the limit in one chunk", "b\r\n", limit: 10, .error(.bodyTooLarge)),
        Case("trailer folding", "0\r\nX: a\r\n b\r\n\r\n", .error(.obsoleteLineFoldingInTrailer)),
        Case("trailer whitespace before colon", "0\r\nX : a\r\n\r\n", .error(.whitespaceBeforeColon)),
        Case("trailer without colon", "0\r\nX\r\n\r\n", .error(.invalidCharacterInTrailerName)),
        Case("trailer control byte", "0\r\nX: a\u{0}\r\n\r\n", .error(.invalidCharacterInTrailerValue)),
        Case("trailer bare LF", "0\r\nX: a\n\r\n", .error(.bareLF)),
        Case("final bare LF", "0\r\n\n", .error(.bareLF)),
        Case("final bare CR", "0\r\n\rX", .error(.bareCR)),
        Case(
            "long chunk line", "1;" + String(repeating: "a", count: ChunkedDecoder.maxChunkLine) + "\r\n",
            .error(.chunkLineTooLong)),
        Case(
            "long trailer line", "0\r\nX: " + String(repeating: "a", count: ChunkedDecoder.maxTrailerLine) + "\r\n",
            .error(.trailerFieldTooLarge)),
        Case(
            "too many trailers", "0\r\n" + String(repeating: "X: 1\r\n", count: ChunkedDecoder.maxTrailerFields + 1),
            .error(.tooManyTrailerFields)),
    ]

    enum Result: Equatable {
        case body([UInt8], consumed: Int)
        case error(HTTPParseError.Kind)
        case incomplete([UInt8])
        /// Returned before the end of its input without completing the body.
        case stoppedEarly
        /// Took bytes after the body was complete.
        case consumedAfterComplete
    }

    /// Feeds `input` as `split` says, stopping at the end of the body.
    static func run(_ input: [UInt8], limit: Int, split: Split) -> Result {
        var decoder = ChunkedDecoder(limit: limit)
        var reader = Split.Reader(split)
        var body: [UInt8] = []
        var position = 0
        while !decoder.isComplete {
            let more = reader.next(input, from: position)
            if more == 0 { return .incomplete(body) }
            switch decode(&decoder, input, position..<(position + more), into: &body) {
            case .success(let consumed):
                if consumed != more && !decoder.isComplete { return .stoppedEarly }
                position += consumed
            case .failure(let error):
                return .error(error.kind)
            }
        }
        // Once complete it takes nothing more.
        if position < input.count,
            case .success(let consumed) = decode(&decoder, input, position..<input.count, into: &body)
        {
            if consumed != 0 { return .consumedAfterComplete }
        }
        return .body(body, consumed: position)
    }

    @Test(arguments: cases)
    func decodes(_ testCase: Case) {
        let expected: Result
        switch testCase.expected {
        case .body(let text, let consumed): expected = .body(Array(text.utf8), consumed: consumed)
        case .error(let kind): expected = .error(kind)
        }
        for split in Split.all {
            let result = Self.run(testCase.input, limit: testCase.limit, split: split)
            #expect(result == expected, "\(testCase.name) fed \(split)")
        }
    }

    @Test func incompleteBodyWaitsForMore() throws {
        var decoder = ChunkedDecoder(limit: 0)
        var body: [UInt8] = []
        let part1 = Array("5\r\nhel".utf8)
        #expect(decode(&decoder, part1, 0..<part1.count, into: &body) == .success(part1.count))
        #expect(!decoder.isComplete)
        #expect(body == Array("hel".utf8))
        let part2 = Array("lo\r\n0\r\n\r\nNEXT".utf8)
        #expect(decode(&decoder, part2, 0..<part2.count, into: &body) == .success(part2.count - 4))
        #expect(decoder.isComplete)
        #expect(body == Array("hello".utf8))
    }

    @Test func emptyInputConsumesNothing() throws {
        var decoder = ChunkedDecoder(limit: 0)
        var body: [UInt8] = []
        let consumed = try decoder.decode(UnsafeRawBufferPointer(start: nil, count: 0), into: &body)
        #expect(consumed == 0)
        #expect(!decoder.isComplete)
    }

    @Test func largeBodyInRandomSplits() {
        var rng = SplitMix64(seed: 7)
        var input: [UInt8] = []
        var expected: [UInt8] = []
        for _ in 0..<50 {
            let size = Int(rng.next() % 3000)
            guard size > 0 else { continue }
            let data = (0..<size).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            input += Array((String(size, radix: 16, uppercase: rng.next() % 2 == 0) + "\r\n").utf8) + data + [13, 10]
            expected += data
        }
        input += Array("0\r\n\r\n".utf8)
        for split in [Split.whole, .random(seed: 1), .random(seed: 2)] {
            #expect(Self.run(input, limit: 0, split: split) == .body(expected, consumed: input.count), "\(split)")
        }
        #expect(Self.run(input, limit: expected.count - 1, split: .whole) == .error(.bodyTooLarge))
    }
}
