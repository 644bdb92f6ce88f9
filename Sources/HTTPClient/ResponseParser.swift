/// Parses one HTTP/1.1 response as its bytes arrive: the status line and headers, then a body
/// framed by `Transfer-Encoding: chunked`, `Content-Length`, or the end of the connection.
/// Pure: no I/O. Feed it with ``append(_:)`` until that returns a response; at end of stream
/// call ``finish()``. Interim 1xx responses are skipped.
struct ResponseParser {
    enum Failure: Error, Equatable {
        case malformed(String)
        case tooLarge(limit: Int)
        case incomplete(String)
    }

    private enum Framing {
        case none
        case length(Int)
        case chunked
        case untilClose
    }

    private enum State {
        /// Looking for the blank line that ends the head; `scanFrom` is where to resume.
        case head(scanFrom: Int)
        /// The body starts at `bodyStart`.
        case body(bodyStart: Int, framing: Framing)
        /// A chunked body: `cursor` is at the next chunk-size line; `decoded` is the body so far.
        case chunks(cursor: Int, decoded: [UInt8])
    }

    let maximumSize: Int
    let isHeadRequest: Bool
    private var buffer: [UInt8] = []
    private var state = State.head(scanFrom: 0)
    private var status = 0
    private var reason = ""
    private var headers: [(name: String, value: String)] = []

    init(maximumSize: Int, isHeadRequest: Bool = false) {
        self.maximumSize = maximumSize
        self.isHeadRequest = isHeadRequest
    }

    /// Adds bytes from the connection; returns the response once it is complete.
    mutating func append(_ bytes: some Collection<UInt8>) throws(Failure) -> HTTPClientResponse? {
        buffer.append(contentsOf: bytes)
        guard buffer.count <= maximumSize else { throw .tooLarge(limit: maximumSize) }
        return try advance()
    }

    /// The connection ended: a close-delimited body is complete now; anything else is cut short.
    mutating func finish() throws(Failure) -> HTTPClientResponse {
        if let response = try advance() { return response }
        switch state {
        case .body(let start, .untilClose):
            return response(body: Array(buffer[start...]))
        case .head:
            throw buffer.isEmpty
                ? .incomplete("the server closed the connection without a response")
                : .incomplete("the server closed the connection in the middle of the response head")
        case .body(let start, .length(let length)):
            throw .incomplete("the server closed the connection after \(buffer.count - start) of \(length) body bytes")
        default:
            throw .incomplete("the server closed the connection in the middle of a chunked body")
        }
    }

    private mutating func advance() throws(Failure) -> HTTPClientResponse? {
        while true {
            switch state {
            case .head(let scanFrom):
                guard let end = Self.find(Self.crlfcrlf, in: buffer, from: scanFrom) else {
                    state = .head(scanFrom: max(0, buffer.count - 3))
                    return nil
                }
                try parseHead(buffer[..<end])
                let bodyStart = end + 4
                if (100...199).contains(status) && status != 101 {
                    buffer.removeFirst(bodyStart)  // an interim response: the real one follows
                    headers = []
                    state = .head(scanFrom: 0)
                    continue
                }
                let framing = try framing()
                if case .chunked = framing {
                    state = .chunks(cursor: bodyStart, decoded: [])
                } else {
                    state = .body(bodyStart: bodyStart, framing: framing)
                }
            case .body(_, .none):
                return response(body: [])
            case .body(let start, .length(let length)):
                guard buffer.count - start >= length else { return nil }
                return response(body: Array(buffer[start..<start + length]))
            case .body(_, .untilClose), .body(_, .chunked):
                return nil
            case .chunks(let cursor, let decoded):
                return try advanceChunks(cursor: cursor, decoded: decoded)
            }
        }
    }

    private mutating func advanceChunks(cursor resumeAt: Int, decoded decodedSoFar: [UInt8]) throws(Failure)
        -> HTTPClientResponse?
    {
        var cursor = resumeAt
        var decoded = decodedSoFar
        defer { state = .chunks(cursor: cursor, decoded: decoded) }
        while true {
            guard let lineEnd = Self.find(Self.crlf, in: buffer, from: cursor) else {
                guard buffer.count - cursor <= 1024 else {
                    throw .malformed("a chunk-size line longer than 1024 bytes")
                }
                return nil
            }
            let line = buffer[cursor..<lineEnd]
            let sizeDigits = line.prefix { $0 != UInt8(ascii: ";") }.filter { $0 != UInt8(ascii: " ") && $0 != 9 }
            guard !sizeDigits.isEmpty, sizeDigits.count <= 15,
                let size = Int(String(decoding: sizeDigits, as: UTF8.self), radix: 16)
            else {
                throw .malformed("invalid chunk size \(Self.quote(line))")
            }
            let dataStart = lineEnd + 2
            if size == 0 {
                // Trailer fields (ignored), then the blank line.
                if buffer.count >= dataStart + 2 && buffer[dataStart] == 13 && buffer[dataStart + 1] == 10 {
                    return response(body: decoded)
                }
                guard Self.find(Self.crlfcrlf, in: buffer, from: lineEnd) != nil else { return nil }
                return response(body: decoded)
            }
            guard buffer.count >= dataStart + size + 2 else { return nil }
            guard buffer[dataStart + size] == 13 && buffer[dataStart + size + 1] == 10 else {
                throw .malformed("a chunk of \(size) bytes is not followed by CRLF")
            }
            decoded.append(contentsOf: buffer[dataStart..<dataStart + size])
            cursor = dataStart + size + 2
        }
    }

    private mutating func parseHead(_ head: ArraySlice<UInt8>) throws(Failure) {
        var lines = Self.split(head)
        guard !lines.isEmpty else { throw .malformed("an empty response head") }
        let statusLine = lines.removeFirst()
        // HTTP/1.x SP 3DIGIT [SP reason]
        let bytes = Array(statusLine)
        guard bytes.count >= 12, bytes.starts(with: Array("HTTP/1.".utf8)), bytes[8] == 32,
            bytes[9...11].allSatisfy({ $0 >= 48 && $0 <= 57 }), bytes.count == 12 || bytes[12] == 32
        else {
            throw .malformed("not an HTTP/1.x status line: \(Self.quote(statusLine))")
        }
        status = Int(String(decoding: bytes[9...11], as: UTF8.self))!
        reason = bytes.count > 13 ? String(decoding: bytes[13...], as: UTF8.self) : ""
        headers = []
        for line in lines {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                line[line.startIndex..<colon].allSatisfy(Self.isTokenByte)
            else {
                throw .malformed("an invalid header line \(Self.quote(line))")
            }
            let value = line[(colon + 1)...].drop { $0 == 32 || $0 == 9 }
            let trimmed = value.reversed().drop { $0 == 32 || $0 == 9 }.reversed()
            headers.append(
                (String(decoding: line[..<colon], as: UTF8.self).lowercased(), String(decoding: trimmed, as: UTF8.self))
            )
        }
    }

    private func framing() throws(Failure) -> Framing {
        if isHeadRequest || status == 204 || status == 304 { return .none }
        let codings = headers.filter { $0.name == "transfer-encoding" }.map(\.value).joined(separator: ",")
        if !codings.isEmpty {
            let last = codings.split(separator: ",").last.map { $0.trimmingSpaces().lowercased() }
            guard last == "chunked" else { throw .malformed("unsupported Transfer-Encoding \(codings)") }
            return .chunked
        }
        let lengths = Set(
            headers.filter { $0.name == "content-length" }.flatMap { $0.value.split(separator: ",") }
                .map { $0.trimmingSpaces() })
        guard let text = lengths.first else { return .untilClose }
        guard lengths.count == 1, !text.isEmpty, text.count <= 15, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
            let length = Int(text)
        else {
            throw .malformed("invalid Content-Length \(lengths.sorted().joined(separator: ", "))")
        }
        guard length <= maximumSize else { throw .tooLarge(limit: maximumSize) }
        return .length(length)
    }

    private func response(body: [UInt8]) -> HTTPClientResponse {
        HTTPClientResponse(status: status, reason: reason, headers: headers, body: body)
    }

    // MARK: - Byte helpers

    private static let crlf: [UInt8] = [13, 10]
    private static let crlfcrlf: [UInt8] = [13, 10, 13, 10]

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var index = max(0, start)
        while index + needle.count <= haystack.count {
            if haystack[index] == needle[0] && haystack[index..<index + needle.count].elementsEqual(needle) {
                return index
            }
            index += 1
        }
        return nil
    }

    private static func split(_ head: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = head.startIndex
        var index = head.startIndex
        while index < head.endIndex {
            if head[index] == 13 && index + 1 < head.endIndex && head[index + 1] == 10 {
                lines.append(head[start..<index])
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        lines.append(head[start..<head.endIndex])
        return lines
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    private static func quote(_ bytes: ArraySlice<UInt8>) -> String {
        let text = String(
            decoding: bytes.prefix(80).map { $0 >= 32 && $0 < 127 ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
        return "'\(text)'" + (bytes.count > 80 ? "..." : "")
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String { self[...].trimmingSpaces() }
}
