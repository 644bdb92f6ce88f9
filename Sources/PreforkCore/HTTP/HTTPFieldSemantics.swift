/// What the parser learns from the header fields it interprets while scanning: framing
/// (Content-Length, Transfer-Encoding), Host, Connection and Expect. Every check runs as soon as
/// its field line is complete, so the first offending line decides the error.
struct HTTPFieldSemantics {
    let versionMinor: UInt8
    let bodyLimit: Int
    var contentLength = -1
    var chunked = false
    var host: Range<Int>?
    var close = false
    var keepAliveToken = false
    var expectContinue = false

    @inline(__always)
    init(versionMinor: UInt8, bodyLimit: Int) {
        self.versionMinor = versionMinor
        self.bodyLimit = bodyLimit
    }

    var framing: HTTPBodyFraming {
        chunked ? .chunked : contentLength >= 0 ? .contentLength(contentLength) : .none
    }

    /// HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive" (RFC 9112 9.3).
    var keepAlive: Bool {
        !close && (versionMinor == 1 || keepAliveToken)
    }

    @inline(__always)
    mutating func apply(_ p: UnsafePointer<UInt8>, name: Range<Int>, value: Range<Int>) throws(HTTPParseError) {
        let np = p + name.lowerBound
        switch name.count {
        case 4 where HTTPByte.equalsLowercased(np, 4, "host"):
            guard host == nil else { throw HTTPParseError(.duplicateHost) }
            // uri-host [":" port] is visible ASCII: whitespace or obs-text inside means a bad or
            // smuggled value (RFC 9110 7.2: 400 for an invalid Host).
            for i in value where !HTTPByte.isTargetByte(p[i]) {
                throw HTTPParseError(.invalidHost)
            }
            host = value
        case 6 where HTTPByte.equalsLowercased(np, 6, "expect"):
            // RFC 9110 10.1.1: a server MUST ignore 100-continue in an HTTP/1.0 request.
            if versionMinor == 1 && HTTPByte.equalsLowercased(p + value.lowerBound, value.count, "100-continue") {
                expectContinue = true
            }
        case 10 where HTTPByte.equalsLowercased(np, 10, "connection"):
            applyConnection(p, value)
        case 14 where HTTPByte.equalsLowercased(np, 14, "content-length"):
            try applyContentLength(p, value)
        case 17 where HTTPByte.equalsLowercased(np, 17, "transfer-encoding"):
            try applyTransferEncoding(p, value)
        default:
            break
        }
    }

    @inline(__always)
    mutating func applyContentLength(_ p: UnsafePointer<UInt8>, _ value: Range<Int>) throws(HTTPParseError) {
        guard contentLength < 0 else { throw HTTPParseError(.duplicateContentLength) }
        guard !chunked else { throw HTTPParseError(.contentLengthAndTransferEncoding) }
        guard !value.isEmpty else { throw HTTPParseError(.emptyContentLength) }
        var length = 0
        for i in value {
            let digit = p[i] &- 0x30
            guard digit < 10 else { throw HTTPParseError(.invalidContentLength) }
            let (times10, o1) = length.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(digit))
            guard !o1 && !o2 else { throw HTTPParseError(.contentLengthOutOfRange) }
            length = sum
        }
        if bodyLimit > 0 && length > bodyLimit { throw HTTPParseError(.bodyTooLarge) }
        contentLength = length
    }

    @inline(__always)
    mutating func applyTransferEncoding(_ p: UnsafePointer<UInt8>, _ value: Range<Int>) throws(HTTPParseError) {
        // RFC 9112 6.1: a server MAY reject TE in HTTP/1.0; an old proxy may have passed it through
        // without understanding it, so the framing cannot be trusted.
        guard versionMinor == 1 else { throw HTTPParseError(.transferEncodingInHTTP10) }
        guard contentLength < 0 else { throw HTTPParseError(.contentLengthAndTransferEncoding) }
        guard !chunked else { throw HTTPParseError(.duplicateTransferEncoding) }
        guard !value.isEmpty else { throw HTTPParseError(.emptyTransferEncoding) }
        guard HTTPByte.equalsLowercased(p + value.lowerBound, value.count, "chunked") else {
            throw HTTPParseError(.unsupportedTransferCoding)
        }
        chunked = true
    }

    /// Connection = #connection-option: comma-separated tokens, OWS around, empty elements allowed.
    @inline(__always)
    mutating func applyConnection(_ p: UnsafePointer<UInt8>, _ value: Range<Int>) {
        var k = value.lowerBound
        let end = value.upperBound
        while k < end {
            while k < end && (HTTPByte.isOWS(p[k]) || p[k] == HTTPByte.comma) { k &+= 1 }
            let start = k
            while k < end && p[k] != HTTPByte.comma { k &+= 1 }
            var stop = k
            while stop > start && HTTPByte.isOWS(p[stop - 1]) { stop &-= 1 }
            let count = stop - start
            if count == 5 && HTTPByte.equalsLowercased(p + start, 5, "close") {
                close = true
            } else if count == 10 && HTTPByte.equalsLowercased(p + start, 10, "keep-alive") {
                keepAliveToken = true
            }
        }
    }
}
