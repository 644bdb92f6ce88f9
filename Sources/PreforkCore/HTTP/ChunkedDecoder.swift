/// Decodes a chunked request body (RFC 9112 7.1) incrementally: feed it whatever arrived, in any
/// split, and it appends the decoded data to a buffer.
///
/// ```
/// chunked-body = *chunk last-chunk trailer-section CRLF
/// chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
/// last-chunk   = 1*("0") [ chunk-ext ] CRLF
/// ```
///
/// Strict like the head parser: CRLF only (bare CR or LF is 400), at most 16 hex digits of size,
/// chunk extensions are checked (tokens, quoted strings) and ignored, trailer fields are checked
/// with the header field rules and discarded.
public struct ChunkedDecoder: Sendable {
    /// Longest chunk-size line (size and extensions, without CRLF) accepted: 400 beyond.
    public static let maxChunkLine = 4096
    /// Longest trailer field line accepted: 431 beyond.
    public static let maxTrailerLine = 8190
    /// Most trailer fields accepted: 431 beyond.
    public static let maxTrailerFields = 100

    @usableFromInline
    enum State: Sendable {
        case size, sizeBWS, ext, extQuoted, extQuotedEscape, sizeLF
        case data, dataCR, dataLF
        case trailerLineStart, trailerName, trailerValue, trailerLF, finalLF
        case done
    }

    let limit: Int
    var state = State.size
    /// Data bytes decoded so far.
    var decoded = 0
    /// While reading a size: the size so far; while reading data: the bytes left in the chunk.
    var chunkSize = 0
    var sizeDigits = 0
    /// Bytes in the current chunk-size or trailer line.
    var lineLength = 0
    var trailerFields = 0

    public private(set) var isComplete = false

    /// `limit`: most decoded body bytes (413 beyond); 0 means unlimited.
    public init(limit: Int) {
        self.limit = limit
    }

    /// Consumes bytes of the chunked body, appending decoded data to `body`; returns how many input
    /// bytes were consumed: all of them unless the body completed earlier in the input (the rest
    /// belongs to the next pipelined request). Returns 0 once complete.
    public mutating func decode(_ input: UnsafeRawBufferPointer, into body: inout [UInt8]) throws(HTTPParseError) -> Int
    {
        guard !isComplete, let base = input.baseAddress else { return 0 }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let n = input.count
        var k = 0
        while k < n {
            if state == .data {
                let m = min(chunkSize, n - k)
                body.append(contentsOf: UnsafeBufferPointer(start: p + k, count: m))
                decoded += m
                chunkSize -= m
                k += m
                if chunkSize == 0 { state = .dataCR }
                continue
            }
            try step(p[k])
            k += 1
            if state == .done {
                isComplete = true
                return k
            }
        }
        return k
    }

    /// Advances the state machine by one byte outside chunk data.
    @inline(__always)
    // shape: long function (a byte-level scanner: one switch over the states, kept whole so each byte costs one branch)
    mutating func step(_ b: UInt8) throws(HTTPParseError) {
        switch state {
        case .size:
            if let digit = HTTPByte.hexValue(b) {
                sizeDigits += 1
                let (times16, o1) = chunkSize.multipliedReportingOverflow(by: 16)
                let (sum, o2) = times16.addingReportingOverflow(digit)
                guard sizeDigits <= 16, !o1, !o2 else { throw HTTPParseError(.chunkSizeOutOfRange) }
                chunkSize = sum
                if limit > 0 && chunkSize > limit - decoded { throw HTTPParseError(.bodyTooLarge) }
                try countChunkLineByte()
                return
            }
            guard sizeDigits > 0 else { throw invalid(b, .invalidChunkSize) }
            try countChunkLineByte()
            switch b {
            case HTTPByte.semicolon: state = .ext
            case HTTPByte.sp, HTTPByte.htab: state = .sizeBWS
            case HTTPByte.cr: state = .sizeLF
            default: throw invalid(b, .invalidChunkSize)
            }
        case .sizeBWS:
            // BWS is only allowed before a chunk extension.
            try countChunkLineByte()
            if b == HTTPByte.semicolon {
                state = .ext
            } else if !HTTPByte.isOWS(b) {
                throw invalid(b, .whitespaceAfterChunkSize)
            }
        case .ext:
            try countChunkLineByte()
            switch b {
            case HTTPByte.cr: state = .sizeLF
            case HTTPByte.dquote: state = .extQuoted
            case HTTPByte.semicolon, 0x3D, HTTPByte.sp, HTTPByte.htab: break  // ; = BWS
            default: guard HTTPByte.isTchar(b) else { throw invalid(b, .invalidChunkExtension) }
            }
        case .extQuoted:
            try countChunkLineByte()
            if b == HTTPByte.dquote {
                state = .ext
            } else if b == HTTPByte.backslash {
                state = .extQuotedEscape
            } else if !HTTPByte.isFieldValueByte(b) {
                throw invalid(b, .invalidChunkExtension)
            }
        case .extQuotedEscape:
            try countChunkLineByte()
            guard HTTPByte.isFieldValueByte(b) else { throw invalid(b, .invalidChunkExtension) }
            state = .extQuoted
        case .sizeLF:
            guard b == HTTPByte.lf else { throw HTTPParseError(.bareCR) }
            lineLength = 0
            sizeDigits = 0
            state = chunkSize == 0 ? .trailerLineStart : .data
        case .data:
            preconditionFailure("chunk data is copied in bulk")
        case .dataCR:
            guard b == HTTPByte.cr else { throw invalid(b, .missingCRLFAfterChunkData) }
            state = .dataLF
        case .dataLF:
            guard b == HTTPByte.lf else { throw HTTPParseError(.bareCR) }
            state = .size
        case .trailerLineStart:
            switch b {
            case HTTPByte.cr:
                state = .finalLF
            case HTTPByte.sp, HTTPByte.htab:
                throw HTTPParseError(.obsoleteLineFoldingInTrailer)
            default:
                guard HTTPByte.isTchar(b) else { throw invalid(b, .invalidCharacterInTrailerName) }
                trailerFields += 1
                if trailerFields > Self.maxTrailerFields { throw HTTPParseError(.tooManyTrailerFields) }
                lineLength = 1
                state = .trailerName
            }
        case .trailerName:
            try countTrailerLineByte()
            if b == HTTPByte.colon {
                state = .trailerValue
            } else if HTTPByte.isOWS(b) {
                throw HTTPParseError(.whitespaceBeforeColon)
            } else if !HTTPByte.isTchar(b) {
                throw invalid(b, .invalidCharacterInTrailerName)
            }
        case .trailerValue:
            if b == HTTPByte.cr {
                state = .trailerLF
            } else {
                try countTrailerLineByte()
                guard HTTPByte.isFieldValueByte(b) else { throw invalid(b, .invalidCharacterInTrailerValue) }
            }
        case .trailerLF:
            guard b == HTTPByte.lf else { throw HTTPParseError(.bareCR) }
            state = .trailerLineStart
        case .finalLF:
            guard b == HTTPByte.lf else { throw HTTPParseError(.bareCR) }
            state = .done
        case .done:
            break
        }
    }

    @inline(__always)
    mutating func countChunkLineByte() throws(HTTPParseError) {
        lineLength += 1
        if lineLength > Self.maxChunkLine { throw HTTPParseError(.chunkLineTooLong) }
    }

    @inline(__always)
    mutating func countTrailerLineByte() throws(HTTPParseError) {
        lineLength += 1
        if lineLength > Self.maxTrailerLine { throw HTTPParseError(.trailerFieldTooLarge) }
    }

    func invalid(_ b: UInt8, _ kind: HTTPParseError.Kind) -> HTTPParseError {
        b == HTTPByte.lf ? HTTPParseError(.bareLF) : HTTPParseError(kind)
    }
}
