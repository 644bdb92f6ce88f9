extension HTTPRequestHeadParser {
    /// Checks the form of a complete request-target (RFC 9112 3.2) and returns its path range.
    ///
    /// - origin-form `/path?query`: any method but CONNECT;
    /// - absolute-form `http://authority/path?query` (or `https://`, scheme case-insensitive):
    ///   any method but CONNECT; the path is what follows the authority;
    /// - authority-form `host:port`: CONNECT only, and CONNECT only takes this form;
    /// - asterisk-form `*`: OPTIONS only.
    @inline(__always)
    static func checkTargetForm(
        _ p: UnsafePointer<UInt8>, _ target: Range<Int>, queryMark: Int, methodCode: HTTPMethodCode
    ) throws(HTTPParseError) -> Range<Int> {
        let start = target.lowerBound
        let end = target.upperBound
        let pathEnd = queryMark >= 0 ? queryMark : end
        if methodCode == .connect {
            try checkAuthorityForm(p, target)
            return target
        }
        switch p[start] {
        case HTTPByte.slash:
            return start..<pathEnd
        case 0x2A:  // *
            guard end - start == 1, methodCode == .options else {
                throw HTTPParseError(.asteriskFormNotOptions)
            }
            return target
        default:
            var k: Int
            if end - start > 7 && HTTPByte.equalsLowercased(p + start, 7, "http://") {
                k = start + 7
            } else if end - start > 8 && HTTPByte.equalsLowercased(p + start, 8, "https://") {
                k = start + 8
            } else {
                throw HTTPParseError(.invalidRequestTarget)
            }
            let authorityStart = k
            while k < pathEnd && p[k] != HTTPByte.slash { k &+= 1 }
            guard k > authorityStart else { throw HTTPParseError(.absoluteFormWithoutAuthority) }
            return k..<pathEnd
        }
    }

    /// authority-form = uri-host ":" port, with a non-empty host and a non-empty numeric port;
    /// no userinfo, path, query or fragment.
    static func checkAuthorityForm(_ p: UnsafePointer<UInt8>, _ target: Range<Int>) throws(HTTPParseError) {
        var colon = -1
        for i in target {
            switch p[i] {
            case HTTPByte.slash, HTTPByte.question, 0x40, 0x23:  // / ? @ #
                throw HTTPParseError(.invalidConnectTarget)
            case HTTPByte.colon:
                colon = i
            default:
                break
            }
        }
        guard colon > target.lowerBound, colon + 1 < target.upperBound else {
            throw HTTPParseError(.invalidConnectTarget)
        }
        for i in (colon + 1)..<target.upperBound where p[i] &- 0x30 >= 10 {
            throw HTTPParseError(.invalidConnectTarget)
        }
    }
}
