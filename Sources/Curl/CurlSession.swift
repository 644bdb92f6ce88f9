import CCurl

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// libcurl's process-wide set-up, done once, when the first session is made (never in the
/// master: RT is only called from workers and one-shot commands).
private let globalInitialization: CURLcode = ccurl_global_init()

/// One libcurl easy handle, reused for every request so that its connection cache keeps
/// connections alive and its TLS session cache resumes sessions: blocking requests for a
/// synchronous worker. Not thread-safe: one owner at a time (a worker owns its client).
///
/// What is fixed here, for every request:
/// - one deadline per request covers name resolution, connect, TLS and the whole transfer
///   (`CURLOPT_TIMEOUT_MS` and `CURLOPT_CONNECTTIMEOUT_MS` from the time left);
///   `CURLOPT_NOSIGNAL`, so no `SIGALRM` and no signal handlers (Debian's libcurl resolves
///   names on a thread of its own, started per look-up);
/// - certificates are always verified (peer and host name); a CA file, when given, is
///   `CURLOPT_CAINFO`;
/// - only http and https; redirects are not followed;
/// - proxies come from the environment, as libcurl reads them: `http_proxy` (lower case
///   only) for http URLs, `https_proxy`/`HTTPS_PROXY` for https, `all_proxy`, and
///   `no_proxy`/`NO_PROXY` for hosts to reach directly.
public final class CurlSession: @unchecked Sendable {
    private let handle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// The largest body accepted; a larger one fails with `.responseTooLarge`.
    public let maximumResponseBytes: Int

    /// Makes the handle. `caFile` is a PEM file of CA certificates (checked to be readable
    /// here, so a wrong path is a configuration error, not a failure of every request).
    public init(caFile: String? = nil, maximumResponseBytes: Int = 16 << 20) throws(CurlError) {
        guard globalInitialization == CURLE_OK else {
            throw CurlError(.other, "libcurl could not initialize (curl_global_init)")
        }
        if let caFile, access(caFile, R_OK) != 0 {
            throw CurlError(.tls, "CA file \(caFile): \(String(cString: strerror(errno)))")
        }
        guard let handle = curl_easy_init() else { throw CurlError(.other, "libcurl: curl_easy_init failed") }
        self.handle = handle
        self.maximumResponseBytes = maximumResponseBytes
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        var code = ccurl_set_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        for (option, value) in [
            (CURLOPT_NOSIGNAL, 1), (CURLOPT_SSL_VERIFYPEER, 1), (CURLOPT_SSL_VERIFYHOST, 2),
            (CURLOPT_FOLLOWLOCATION, 0),
        ] where code == CURLE_OK {
            code = ccurl_set_long(handle, option, value)
        }
        if code == CURLE_OK { code = ccurl_set_string(handle, CURLOPT_PROTOCOLS_STR, "http,https") }
        if code == CURLE_OK { code = ccurl_set_string(handle, CURLOPT_USERAGENT, "request-tracker-utils") }
        if code == CURLE_OK, let caFile { code = ccurl_set_string(handle, CURLOPT_CAINFO, caFile) }
        if code == CURLE_OK { code = ccurl_set_callback(handle, CURLOPT_WRITEFUNCTION, collectBody) }
        if code == CURLE_OK { code = ccurl_set_callback(handle, CURLOPT_HEADERFUNCTION, collectHeader) }
        guard code == CURLE_OK else {
            let reason = String(cString: curl_easy_strerror(code))
            curl_easy_cleanup(handle)
            errorBuffer.deallocate()
            throw CurlError(.other, "libcurl refused an option: \(reason)")
        }
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Sends `request` and waits for the whole response, or until the request's deadline.
    public func perform(_ request: CurlRequest) throws(CurlError) -> CurlResponse {
        let milliseconds = Self.milliseconds(until: request.deadline)
        guard milliseconds > 0 else { throw timedOut(request, phase: "before connecting") }
        for header in request.headers {
            guard Self.isPlain(header.name) && Self.isPlain(header.value) && !header.name.isEmpty else {
                throw CurlError(.invalidRequest, "header \(header.name) holds a line break or NUL")
            }
        }
        guard !request.url.utf8.contains(0), !request.method.utf8.contains(0) else {
            throw CurlError(.invalidRequest, "the URL or method holds a NUL byte")
        }
        // "Expect:" turns off libcurl's `Expect: 100-continue` (a wait of up to a second).
        var list: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "Expect:")
        for header in request.headers { list = curl_slist_append(list, "\(header.name): \(header.value)") }
        defer { curl_slist_free_all(list) }
        let collector = ResponseCollector(limit: maximumResponseBytes)
        errorBuffer[0] = 0
        var code = ccurl_set_string(handle, CURLOPT_URL, request.url)
        if code == CURLE_OK { code = ccurl_set_list(handle, CURLOPT_HTTPHEADER, list) }
        if code == CURLE_OK { code = setMethod(request) }
        if code == CURLE_OK { code = ccurl_set_long(handle, CURLOPT_TIMEOUT_MS, milliseconds) }
        if code == CURLE_OK { code = ccurl_set_long(handle, CURLOPT_CONNECTTIMEOUT_MS, milliseconds) }
        if code == CURLE_OK {
            let context = Unmanaged.passUnretained(collector).toOpaque()
            code = ccurl_set_pointer(handle, CURLOPT_WRITEDATA, context)
            if code == CURLE_OK { code = ccurl_set_pointer(handle, CURLOPT_HEADERDATA, context) }
        }
        if code == CURLE_OK { code = withExtendedLifetime(collector) { curl_easy_perform(handle) } }
        _ = ccurl_set_list(handle, CURLOPT_HTTPHEADER, nil)
        guard code == CURLE_OK else { throw error(code, request, collector) }
        var status = 0
        _ = ccurl_get_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return CurlResponse(status: status, reason: collector.reason, headers: collector.headers, body: collector.body)
    }

    /// GET and HEAD without a body; any other method, or a body, is sent as a POST body with
    /// the method named (`CURLOPT_CUSTOMREQUEST`). Every option a previous request set is reset.
    private func setMethod(_ request: CurlRequest) -> CURLcode {
        let method = request.method.uppercased()
        if request.body.isEmpty && (method == "GET" || method == "HEAD") {
            var code = ccurl_set_long(handle, CURLOPT_HTTPGET, 1)
            if code == CURLE_OK { code = ccurl_set_long(handle, CURLOPT_NOBODY, method == "HEAD" ? 1 : 0) }
            if code == CURLE_OK { code = ccurl_set_string(handle, CURLOPT_CUSTOMREQUEST, nil) }
            return code
        }
        var code = ccurl_set_long(handle, CURLOPT_NOBODY, 0)
        if code == CURLE_OK { code = ccurl_set_long(handle, CURLOPT_POST, 1) }
        if code == CURLE_OK {
            code = ccurl_set_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
        }
        if code == CURLE_OK {
            // COPYPOSTFIELDS: libcurl keeps its own copy, so the array's storage need not outlive this call.
            code = request.body.withUnsafeBufferPointer { bytes in
                ccurl_set_pointer(
                    handle, CURLOPT_COPYPOSTFIELDS,
                    UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafePointer(bitPattern: 1)!))
            }
        }
        if code == CURLE_OK { code = ccurl_set_string(handle, CURLOPT_CUSTOMREQUEST, method == "POST" ? nil : method) }
        return code
    }

    // MARK: - Errors

    private func error(_ code: CURLcode, _ request: CurlRequest, _ collector: ResponseCollector) -> CurlError {
        let said = errorBuffer[0] != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST:
            return CurlError(.cannotResolve, "DNS lookup failed: \(said)")
        case CURLE_COULDNT_RESOLVE_PROXY:
            return CurlError(.cannotResolve, "DNS lookup of the proxy failed: \(said)")
        case CURLE_COULDNT_CONNECT:
            var osError = 0
            _ = ccurl_get_long(handle, CURLINFO_OS_ERRNO, &osError)
            if osError == Int(ECONNREFUSED) { return CurlError(.connectionRefused, "connection refused") }
            return CurlError(.other, "could not connect: \(said)")
        case CURLE_OPERATION_TIMEDOUT:
            return timedOut(request, phase: phase(of: request))
        case CURLE_PEER_FAILED_VERIFICATION:
            return CurlError(.tls, "TLS: the server's certificate is not trusted: \(said)")
        case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_ISSUER_ERROR,
            CURLE_SSL_CRL_BADFILE, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS,
            CURLE_SSL_SHUTDOWN_FAILED:
            return CurlError(.tls, "TLS error: \(said)")
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return CurlError(.invalidRequest, "invalid URL: \(said)")
        case CURLE_WRITE_ERROR where collector.tooLarge:
            return CurlError(.responseTooLarge, "the response is larger than \(maximumResponseBytes) bytes")
        case CURLE_GOT_NOTHING:
            return CurlError(.other, "the server closed the connection without answering")
        case CURLE_PARTIAL_FILE:
            return CurlError(.other, "the connection closed before the response was complete")
        case CURLE_WEIRD_SERVER_REPLY:
            return CurlError(.other, "malformed response: \(said)")
        default:
            return CurlError(.other, said)
        }
    }

    private func timedOut(_ request: CurlRequest, phase: String) -> CurlError {
        CurlError(.timedOut, "timed out after \(CurlError.seconds(request.budgetSeconds)) \(phase)")
    }

    /// Where a request that timed out was, from libcurl's timers (0 for a step not reached).
    /// libcurl 7.88 stamps the connect time only once TLS is up too, so a TCP connection is
    /// known by its local port.
    private func phase(of request: CurlRequest) -> String {
        var handshaken: curl_off_t = 0
        var sending: curl_off_t = 0
        var localPort = 0
        _ = ccurl_get_offset(handle, CURLINFO_APPCONNECT_TIME_T, &handshaken)
        _ = ccurl_get_offset(handle, CURLINFO_PRETRANSFER_TIME_T, &sending)
        _ = ccurl_get_long(handle, CURLINFO_LOCAL_PORT, &localPort)
        if sending > 0 { return "while waiting for the response" }
        if localPort > 0 && handshaken == 0 && request.url.lowercased().hasPrefix("https:") {
            return "during the TLS handshake"
        }
        return "while connecting"
    }

    // MARK: - Helpers

    private static func milliseconds(until deadline: ContinuousClock.Instant) -> Int {
        let left = ContinuousClock.now.duration(to: deadline).components
        guard left.seconds >= 0 else { return 0 }
        let milliseconds = left.seconds * 1000 + left.attoseconds / 1_000_000_000_000_000
        return Int(min(milliseconds, Int64(Int32.max)))
    }

    private static func isPlain(_ text: String) -> Bool {
        !text.utf8.contains { $0 == 10 || $0 == 13 || $0 == 0 }
    }
}

/// Where libcurl's callbacks put the response (passed as their context pointer).
final class ResponseCollector {
    let limit: Int
    var body: [UInt8] = []
    var reason = ""
    var headers: [(name: String, value: String)] = []
    var tooLarge = false

    init(limit: Int) { self.limit = limit }

    /// A status line starts a response (a `100 Continue`, or the final one): the headers
    /// seen so far belonged to an interim response.
    func header(line: String) {
        if line.hasPrefix("HTTP/") {
            headers = []
            let parts = line.split(separator: " ", maxSplits: 2)
            reason = parts.count > 2 ? String(parts[2]) : ""
        } else if let colon = line.firstIndex(of: ":") {
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            headers.append((name, String(value)))
        }
    }
}

private let collectBody: ccurl_data_callback = { data, size, count, context in
    guard let context else { return 0 }
    let collector = Unmanaged<ResponseCollector>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    guard collector.body.count + length <= collector.limit else {
        collector.tooLarge = true
        return 0
    }
    if let data, length > 0 {
        collector.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
    }
    return length
}

private let collectHeader: ccurl_data_callback = { data, size, count, context in
    guard let context else { return 0 }
    let collector = Unmanaged<ResponseCollector>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    if let data, length > 0 {
        var text = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
        while let last = text.last, last.isNewline { text.removeLast() }
        collector.header(line: text)
    }
    return length
}
