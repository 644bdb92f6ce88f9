import Testing

@testable import PreforkCore

// MARK: - Corpus tests

@Suite("Request corpus")
struct RequestCorpusTests {
    static let cases: [CorpusCase] = (try? CorpusCase.all()) ?? []

    @Test func corpusIsLoaded() {
        #expect(Self.cases.count >= 40)
        #expect(Self.cases.contains { $0.name.hasPrefix("valid/") })
        #expect(Self.cases.contains { $0.name.hasPrefix("invalid/") })
    }

    @Test(arguments: cases)
    func corpusCase(_ corpusCase: CorpusCase) {
        let whole = parseStream(corpusCase.bytes, limits: corpusCase.limits, split: .whole)
        check(whole, against: corpusCase)
        for split in Split.all.dropFirst() {
            let outcomes = parseStream(corpusCase.bytes, limits: corpusCase.limits, split: split)
            #expect(outcomes == whole, "\(corpusCase.name) fed \(split) differs from fed whole")
        }
    }

    /// Mutated corpus requests (bytes replaced, inserted, deleted) must give the same outcome
    /// however they are split: every error is decided by the first offending byte.
    @Test func mutatedCorpusIsSplitIndependent() {
        var rng = SplitMix64(seed: 2024)
        let interesting: [UInt8] = [
            0x00, 0x09, 0x0A, 0x0D, 0x20, 0x22, 0x2C, 0x3A, 0x3B, 0x3F, 0x7F, 0x80, 0xFF, 0x30, 0x61,
        ]
        let limits = HTTPLimits(requestLine: 40, fieldCount: 6, fieldSize: 40, body: 64)
        for _ in 0..<3_000 {
            guard let base = Self.cases.randomElement(using: &rng), !base.bytes.isEmpty else { continue }
            var bytes = base.bytes
            for _ in 0..<Int(rng.next() % 3 + 1) {
                let i = Int(rng.next() % UInt64(bytes.count))
                let b =
                    rng.next() % 2 == 0
                    ? interesting.randomElement(using: &rng)! : UInt8(truncatingIfNeeded: rng.next())
                switch rng.next() % 3 {
                case 0: bytes[i] = b
                case 1: bytes.insert(b, at: i)
                default: if bytes.count > 1 { bytes.remove(at: i) }
                }
            }
            let useLimits = rng.next() % 2 == 0 ? limits : base.limits
            let whole = parseStream(bytes, limits: useLimits, split: .whole)
            for split in [Split.byteByByte, .random(seed: rng.next())] {
                let outcomes = parseStream(bytes, limits: useLimits, split: split)
                #expect(outcomes == whole, "\(escapeCorpus(bytes)) fed \(split)")
            }
        }
    }

    func check(_ outcomes: [Outcome], against corpusCase: CorpusCase) {
        let name = corpusCase.name
        #expect(outcomes.count == corpusCase.blocks.count, "\(name): \(outcomes)")
        for (outcome, expected) in zip(outcomes, corpusCase.blocks) {
            switch outcome {
            case .request(let start, let head, let body):
                #expect(expected["status"] == nil, "\(name): expected an error, parsed \(outcome)")
                let actual = describe(corpusCase.bytes, start: start, head: head, body: body)
                for (key, value) in expected.sorted(by: { $0.key < $1.key }) {
                    #expect(actual[key] != nil, "\(name): unknown key \(key)")
                    if let actualValue = actual[key] {
                        #expect(actualValue == value, "\(name): \(key)")
                    }
                }
                if expected["body"] == nil {
                    #expect(body.isEmpty, "\(name): unexpected body")
                }
            case .failure(let error):
                #expect(expected["status"] == "\(error.status)", "\(name): \(error)")
                #expect(expected["kind"] == "\(error.kind)", "\(name): \(error)")
            case .incomplete:
                Issue.record("\(name): stream ended inside a request")
            case .decoderStoppedEarly:
                Issue.record("\(name): the chunked decoder stopped before the end of its input")
            }
        }
    }
}

// MARK: - Unit tests

@Suite("Request head parser")
struct RequestHeadParserTests {
    func parse(_ text: String, limits: HTTPLimits = HTTPLimits()) -> Result<HTTPRequestHead?, HTTPParseError> {
        let bytes = Array(text.utf8)
        return parseHead(bytes, 0..<bytes.count, limits)
    }

    func kind(_ text: String, limits: HTTPLimits = HTTPLimits()) -> HTTPParseError.Kind? {
        if case .failure(let error) = parse(text, limits: limits) { return error.kind }
        return nil
    }

    @Test func tcharMatchesRFC9110() {
        let tchar = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        for b in 0...255 {
            #expect(HTTPByte.isTchar(UInt8(b)) == tchar.contains(UInt8(b)), "byte \(b)")
        }
    }

    @Test func byteClasses() {
        for b in 0...255 {
            let byte = UInt8(b)
            #expect(HTTPByte.isTargetByte(byte) == (b > 0x20 && b < 0x7F), "target byte \(b)")
            #expect(HTTPByte.isFieldValueByte(byte) == (b == 0x09 || (b >= 0x20 && b != 0x7F)), "value byte \(b)")
            let hex = Int(String(UnicodeScalar(byte)), radix: 16)
            #expect(HTTPByte.hexValue(byte) == (b < 0x80 ? hex : nil), "hex \(b)")
        }
    }

    @Test func swarHelpersAgreeWithBytewiseChecks() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<20_000 {
            var word = rng.next()
            // Bias towards interesting bytes.
            if rng.next() % 2 == 0 {
                let shift = (rng.next() % 8) * 8
                let special: [UInt64] = [0x00, 0x09, 0x0D, 0x1F, 0x20, 0x21, 0x3F, 0x7E, 0x7F, 0x80, 0xFF]
                word = (word & ~(0xFF << shift)) | (special[Int(rng.next() % UInt64(special.count))] << shift)
            }
            let bytes = (0..<8).map { UInt8(truncatingIfNeeded: word >> ($0 * 8)) }
            for n: UInt8 in [0x20, 0x21] {
                #expect(HTTPByte.anyByteBelow(word, n) == bytes.contains { $0 < n })
            }
            for b: UInt8 in [0x3F, 0x7F, 0x00] {
                #expect(HTTPByte.anyByteEquals(word, b) == bytes.contains(b))
            }
        }
    }

    @Test func methodCodes() {
        let methods: [(String, HTTPMethodCode)] = [
            ("GET", .get), ("HEAD", .head), ("POST", .post), ("PUT", .put), ("DELETE", .delete),
            ("PATCH", .patch), ("OPTIONS", .options), ("TRACE", .trace), ("GETS", .other), ("PUTX", .other),
            ("Get", .other), ("BREW", .other),
        ]
        for (method, code) in methods {
            let head = try? parse("\(method) / HTTP/1.1\r\nHost: a\r\n\r\n").get()
            #expect(head?.methodCode == code, "\(method)")
        }
        let connect = try? parse("CONNECT a:1 HTTP/1.1\r\nHost: a\r\n\r\n").get()
        #expect(connect?.methodCode == .connect)
    }

    @Test func typicalGetOffsets() throws {
        let text = "GET /a?b HTTP/1.1\r\nHost: h\r\nAccept: */*\r\nX: 1\r\n\r\n"
        let head = try #require(try parse(text).get())
        #expect(head.method == 0..<3)
        #expect(head.target == 4..<8)
        #expect(head.path == 4..<6)
        #expect(head.query == 7..<8)
        #expect(head.fieldsStart == 19)
        #expect(head.length == text.utf8.count)
        #expect(head.host == 25..<26)
        #expect(head.fieldCount == 3)
    }

    @Test func incompleteHeadsReturnNil() throws {
        #expect(try parse("").get() == nil)
        #expect(try parse("GET / HTTP/1.1\r\nHost: a\r\n").get() == nil)
        #expect(try parse("GET / HTTP/1.1\r\nHost: a\r\n\r").get() == nil)
        #expect(try parse("\r\n\r\n").get() == nil)
    }

    @Test func oversizeIsRejectedBeforeTheLineEnds() {
        let limits = HTTPLimits(requestLine: 16, fieldCount: 2, fieldSize: 10)
        #expect(kind("GET /0123456789a", limits: limits) == nil)  // 16 bytes: may still end here
        #expect(kind("GET /0123456789ab", limits: limits) == .requestLineTooLong)
        #expect(kind("GET /0123456 HTTP", limits: limits) == .requestLineTooLong)
        #expect(kind("GET / HTTP/1.1\r\nX: 0123456", limits: limits) == nil)
        #expect(kind("GET / HTTP/1.1\r\nX: 01234567", limits: limits) == .fieldTooLarge)
        #expect(kind("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC", limits: limits) == .tooManyFields)
        // An invalid byte before the limit wins over the limit.
        #expect(kind("G(T /0123456789abcdef", limits: limits) == .invalidCharacterInMethod)
    }

    @Test func zeroLimitsAreUnlimited() throws {
        let path = String(repeating: "a", count: 20_000)
        let value = String(repeating: "v", count: 20_000)
        let fields = (0..<300).map { "X-\($0): 1\r\n" }.joined()
        let text = "GET /\(path) HTTP/1.1\r\nHost: h\r\nBig: \(value)\r\n\(fields)\r\n"
        #expect(kind(text) == .requestLineTooLong)
        let head = try #require(try parse(text, limits: HTTPLimits(requestLine: 0, fieldCount: 0, fieldSize: 0)).get())
        #expect(head.fieldCount == 302)
    }

    @Test func defaultLimitsAreGunicorns() {
        let limits = HTTPLimits()
        #expect(limits == HTTPLimits(requestLine: 4094, fieldCount: 100, fieldSize: 8190, body: 0))
        let line = "GET /" + String(repeating: "a", count: 4094 - 14) + " HTTP/1.1"
        #expect(line.utf8.count == 4094)
        #expect(kind(line + "\r\nHost: a\r\n\r\n") == nil)
        #expect(
            kind("GET /a" + String(repeating: "a", count: 4094 - 14) + " HTTP/1.1\r\nHost: a\r\n\r\n")
                == .requestLineTooLong)
    }

    @Test func fieldIteratorAndLookup() throws {
        let text =
            "GET / HTTP/1.1\r\nHost:  h \r\nContent-Type:\ttext/plain\t\r\nX-Empty:\r\nx-dup: 1\r\nX-Dup: 2\r\n\r\nBODY"
        let bytes = Array(text.utf8)
        try bytes.withUnsafeBytes { raw in
            let head = try #require(try HTTPRequestHeadParser.parse(raw, limits: HTTPLimits()))
            func string(_ r: Range<Int>) -> String { String(decoding: raw[r], as: UTF8.self) }
            let fields = head.fields(in: raw).map { (string($0.name), string($0.value)) }
            #expect(fields.map(\.0) == ["Host", "Content-Type", "X-Empty", "x-dup", "X-Dup"])
            #expect(fields.map(\.1) == ["h", "text/plain", "", "1", "2"])
            #expect(head.firstValue(of: "content-type", in: raw).map(string) == "text/plain")
            #expect(head.firstValue(of: "x-dup", in: raw).map(string) == "1")
            #expect(head.firstValue(of: "x-empty", in: raw).map(string) == "")
            #expect(head.firstValue(of: "missing", in: raw) == nil)
            #expect(head.firstValue(of: "host", in: raw) == head.host)
            // A too short buffer is never read past its end.
            #expect(head.fields(in: UnsafeRawBufferPointer(rebasing: raw[0..<20])).map { $0 }.count <= 1)
        }
    }

    @Test func errorDescription() {
        #expect(HTTPParseError(.bareLF).description == "400 bare LF")
        #expect(HTTPParseError(.headTooLarge).description == "431 request head larger than the limits allow")
    }

    /// Each kind answers with its status and logs a phrase of its own.
    @Test func kindsDecideStatusAndPhrase() {
        let notBadRequest: [HTTPParseError.Kind: Int] = [
            .bodyTooLarge: 413, .requestLineTooLong: 414, .tooManyFields: 431, .fieldTooLarge: 431,
            .headTooLarge: 431, .tooManyTrailerFields: 431, .trailerFieldTooLarge: 431,
            .duplicateTransferEncoding: 501, .unsupportedTransferCoding: 501, .versionNotSupported: 505,
        ]
        for kind in HTTPParseError.Kind.allCases {
            #expect(HTTPParseError(kind).status == notBadRequest[kind] ?? 400, "\(kind)")
        }
        let phrases = HTTPParseError.Kind.allCases.map { HTTPParseError($0).reason }
        #expect(Set(phrases).count == phrases.count, "two kinds share a log phrase")
    }
}
