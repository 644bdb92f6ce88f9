/// A strict HTTP/1.1 request-head parser (RFC 9110, RFC 9112).
///
/// The parser is stateless: the event loop calls `parse` with everything buffered so far, and it
/// either returns the head, returns nil (not complete yet), or throws. It works over raw bytes in
/// place and allocates nothing on success: the result is a set of offsets into the buffer.
///
/// Errors are decided in byte order: the first byte that makes the request invalid or puts it
/// over a limit decides the error, so a request fed whole, byte by byte or in any split gets
/// the same answer, and an oversized or malformed request is rejected before its CRLFCRLF.
///
/// Strictness, on purpose (RFC 9112 allows a lenient recipient, a front-end proxy may disagree
/// with one and be smuggled past):
/// - Lines end with CRLF only. A bare LF is rejected (RFC 9112 2.2 lets a recipient accept it as a
///   line terminator; we do not), and so is a bare CR anywhere.
/// - Obsolete line folding, whitespace before the colon, and control bytes in values are rejected.
/// - Content-Length is a single run of digits in a single field; lists, even "5, 5", are rejected.
/// - The only transfer coding accepted is a lone `chunked`.
public enum HTTPRequestHeadParser {
    /// Empty lines (CRLF) tolerated before the request line (RFC 9112 2.2).
    public static let maxLeadingEmptyLines = 8

    /// Parses one request head at the start of `bytes`. Returns nil if the head is not complete
    /// yet; throws as soon as the bytes seen so far are invalid or over a limit.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, limits: HTTPLimits
    ) throws(HTTPParseError) -> HTTPRequestHead? {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return nil }
        // Read buffers hold plain bytes; they are read as UInt8 throughout.
        return try parse(base.assumingMemoryBound(to: UInt8.self), bytes.count, limits)
    }

    // MARK: - The head

    // shape: long function (a byte-level scanner over the whole head in one pass; its position and counters are locals that splitting would pass between functions)
    static func parse(_ p: UnsafePointer<UInt8>, _ n: Int, _ limits: HTTPLimits) throws(HTTPParseError)
        -> HTTPRequestHead?
    {
        var k = 0

        // Leading empty lines.
        var emptyLines = 0
        while true {
            guard k < n else { return nil }
            let b = p[k]
            if b == HTTPByte.lf { throw HTTPParseError(.bareLF) }
            if b != HTTPByte.cr { break }
            guard k + 1 < n else { return nil }
            guard p[k + 1] == HTTPByte.lf else { throw HTTPParseError(.bareCR) }
            emptyLines += 1
            if emptyLines > maxLeadingEmptyLines {
                throw HTTPParseError(.tooManyEmptyLines)
            }
            k += 2
        }

        // Request line: method SP request-target SP HTTP-version CRLF.
        // Content bytes may occupy [lineStart, lineEnd); only the CR may sit at lineEnd.
        let lineStart = k
        let lineEnd = endOfLine(lineStart, n, limits.requestLine)

        // Method.
        while k < lineEnd && HTTPByte.isTchar(p[k]) { k &+= 1 }
        if k == lineEnd, try stopped(p, k, n, requestLine: true) { return nil }
        guard p[k] == HTTPByte.sp, k > lineStart else {
            throw requestLineError(p[k], k == lineStart ? .invalidMethod : .invalidCharacterInMethod)
        }
        let method = lineStart..<k
        let methodCode = code(p + lineStart, k - lineStart)
        k &+= 1

        // Request-target.
        let targetStart = k
        k = scanTarget(p, k, lineEnd, stopAtQuestion: true)
        var queryMark = -1
        if k < lineEnd && p[k] == HTTPByte.question {
            queryMark = k
            k = scanTarget(p, k &+ 1, lineEnd, stopAtQuestion: false)
        }
        if k == lineEnd, try stopped(p, k, n, requestLine: true) { return nil }
        guard p[k] == HTTPByte.sp, k > targetStart else {
            if p[k] == HTTPByte.cr { throw HTTPParseError(.missingHTTPVersion) }
            throw requestLineError(
                p[k], k == targetStart ? .emptyRequestTarget : .invalidCharacterInTarget)
        }
        let target = targetStart..<k
        let path = try checkTargetForm(p, target, queryMark: queryMark, methodCode: methodCode)
        let query = queryMark >= 0 ? (queryMark + 1)..<k : nil
        k &+= 1

        // HTTP-version = "HTTP/" DIGIT "." DIGIT, then CRLF.
        let versionStart = k
        while k < versionStart &+ 8 {
            if k == lineEnd, try stopped(p, k, n, requestLine: true) { return nil }
            let b = p[k]
            let ok: Bool
            switch k &- versionStart {
            case 0: ok = b == 0x48  // H
            case 1, 2: ok = b == 0x54  // T
            case 3: ok = b == 0x50  // P
            case 4: ok = b == HTTPByte.slash
            case 6: ok = b == 0x2E  // .
            default: ok = b &- 0x30 < 10
            }
            guard ok else {
                throw b == HTTPByte.lf ? HTTPParseError(.bareLF) : HTTPParseError(.invalidHTTPVersion)
            }
            k &+= 1
        }
        guard p[versionStart + 5] == 0x31, p[versionStart + 7] <= 0x31 else {
            throw HTTPParseError(.versionNotSupported)
        }
        let versionMinor = p[versionStart + 7] &- 0x30
        guard k < n else { return nil }
        guard p[k] == HTTPByte.cr else {
            throw p[k] == HTTPByte.lf ? HTTPParseError(.bareLF) : HTTPParseError(.invalidHTTPVersion)
        }
        guard k + 1 < n else { return nil }
        guard p[k + 1] == HTTPByte.lf else { throw HTTPParseError(.bareCR) }
        k &+= 2

        // Field lines, up to the empty line.
        let fieldsStart = k
        var fields = HTTPFieldSemantics(versionMinor: versionMinor, bodyLimit: limits.body)
        var fieldCount = 0
        while true {
            guard k < n else { return nil }
            let first = p[k]
            if first == HTTPByte.cr {
                guard k + 1 < n else { return nil }
                guard p[k + 1] == HTTPByte.lf else { throw HTTPParseError(.bareCR) }
                k &+= 2
                break
            }
            if HTTPByte.isOWS(first) {
                throw HTTPParseError(k == fieldsStart ? .whitespaceBeforeFirstField : .obsoleteLineFolding)
            }
            fieldCount &+= 1
            if limits.fieldCount > 0 && fieldCount > limits.fieldCount {
                throw HTTPParseError(.tooManyFields)
            }
            let fieldStart = k
            let fieldEnd = endOfLine(fieldStart, n, limits.fieldSize)

            // field-name ":"
            while k < fieldEnd && HTTPByte.isTchar(p[k]) { k &+= 1 }
            if k == fieldEnd, try stopped(p, k, n, requestLine: false) { return nil }
            let nameEnd = k
            guard p[k] == HTTPByte.colon, k > fieldStart else {
                throw fieldNameError(p[k], empty: k == fieldStart)
            }
            k &+= 1

            // OWS field-value OWS CRLF
            let valueScanStart = k
            k = scanFieldValue(p, k, fieldEnd)
            if k == fieldEnd, try stopped(p, k, n, requestLine: false) { return nil }
            guard p[k] == HTTPByte.cr else {
                throw p[k] == HTTPByte.lf ? HTTPParseError(.bareLF) : HTTPParseError(.invalidCharacterInFieldValue)
            }
            guard k + 1 < n else { return nil }
            guard p[k + 1] == HTTPByte.lf else { throw HTTPParseError(.bareCR) }
            var valueStart = valueScanStart
            while valueStart < k && HTTPByte.isOWS(p[valueStart]) { valueStart &+= 1 }
            var valueEnd = k
            while valueEnd > valueStart && HTTPByte.isOWS(p[valueEnd - 1]) { valueEnd &-= 1 }
            try fields.apply(p, name: fieldStart..<nameEnd, value: valueStart..<valueEnd)
            k &+= 2
        }

        if versionMinor == 1 && fields.host == nil {
            throw HTTPParseError(.missingHost)
        }
        return HTTPRequestHead(
            method: method, target: target, path: path, query: query, versionMinor: versionMinor,
            fieldsStart: fieldsStart, length: k, fieldCount: fieldCount, framing: fields.framing,
            keepAlive: fields.keepAlive, expectContinue: fields.expectContinue, host: fields.host,
            methodCode: methodCode)
    }

    // MARK: - Line limits

    /// End of the content bytes a line starting at `start` may have: the limit, or what is buffered.
    @inline(__always)
    static func endOfLine(_ start: Int, _ n: Int, _ limit: Int) -> Int {
        limit > 0 && limit < n - start ? start + limit : n
    }

    /// A scan stopped at its line's end `k`. Returns true if the caller must wait for more bytes;
    /// false if the byte at `k` is a CR (the line ends exactly at the limit) for the caller to handle;
    /// throws 414/431 if the byte at `k` is content past the limit.
    @inline(__always)
    static func stopped(_ p: UnsafePointer<UInt8>, _ k: Int, _ n: Int, requestLine: Bool) throws(HTTPParseError) -> Bool
    {
        if k == n { return true }
        if p[k] == HTTPByte.cr { return false }
        throw requestLine ? HTTPParseError(.requestLineTooLong) : HTTPParseError(.fieldTooLarge)
    }

    // MARK: - Scanners

    /// First offset in [from, end) that is not a request-target byte (or is '?' if asked).
    @inline(__always)
    static func scanTarget(_ p: UnsafePointer<UInt8>, _ from: Int, _ end: Int, stopAtQuestion: Bool) -> Int {
        var k = from
        let raw = UnsafeRawPointer(p)
        while k &+ 8 <= end {
            let w = raw.loadUnaligned(fromByteOffset: k, as: UInt64.self)
            if HTTPByte.anyByteBelow(w, 0x21) || w & HTTPByte.highs != 0 || HTTPByte.anyByteEquals(w, 0x7F)
                || (stopAtQuestion && HTTPByte.anyByteEquals(w, HTTPByte.question))
            {
                break
            }
            k &+= 8
        }
        while k < end {
            let b = p[k]
            if !HTTPByte.isTargetByte(b) || (stopAtQuestion && b == HTTPByte.question) { break }
            k &+= 1
        }
        return k
    }

    /// First offset in [from, end) that is not a field-value byte (CR ends a valid value).
    @inline(__always)
    static func scanFieldValue(_ p: UnsafePointer<UInt8>, _ from: Int, _ end: Int) -> Int {
        var k = from
        let raw = UnsafeRawPointer(p)
        while k &+ 8 <= end {
            let w = raw.loadUnaligned(fromByteOffset: k, as: UInt64.self)
            if HTTPByte.anyByteBelow(w, 0x20) || HTTPByte.anyByteEquals(w, 0x7F) { break }
            k &+= 8
        }
        while k < end && HTTPByte.isFieldValueByte(p[k]) { k &+= 1 }
        return k
    }

    // MARK: - Errors

    static func requestLineError(_ b: UInt8, _ kind: HTTPParseError.Kind) -> HTTPParseError {
        if b == HTTPByte.lf { return HTTPParseError(.bareLF) }
        if b == HTTPByte.cr { return HTTPParseError(.incompleteRequestLine) }
        return HTTPParseError(kind)
    }

    static func fieldNameError(_ b: UInt8, empty: Bool) -> HTTPParseError {
        switch b {
        case HTTPByte.colon: return HTTPParseError(.emptyFieldName)
        case HTTPByte.sp, HTTPByte.htab: return HTTPParseError(.whitespaceBeforeColon)
        case HTTPByte.lf: return HTTPParseError(.bareLF)
        case HTTPByte.cr: return HTTPParseError(.fieldLineWithoutColon)
        default: return HTTPParseError(.invalidCharacterInFieldName)
        }
    }

    // MARK: - Method

    @inline(__always)
    static func code(_ m: UnsafePointer<UInt8>, _ count: Int) -> HTTPMethodCode {
        @inline(__always) func eq(_ s: StaticString) -> Bool {
            let q = s.utf8Start
            for i in 0..<count where m[i] != q[i] { return false }
            return true
        }
        switch count {
        case 3: return eq("GET") ? .get : eq("PUT") ? .put : .other
        case 4: return eq("POST") ? .post : eq("HEAD") ? .head : .other
        case 5: return eq("PATCH") ? .patch : eq("TRACE") ? .trace : .other
        case 6: return eq("DELETE") ? .delete : .other
        case 7: return eq("OPTIONS") ? .options : eq("CONNECT") ? .connect : .other
        default: return .other
        }
    }
}
