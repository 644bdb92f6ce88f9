import Curl
import FoundationEssentials
import PreforkCore

/// A blocking client of Request Tracker's REST 2.0 API over libcurl (the `Curl` module): find,
/// create and change assets, search them by custom field or by an RT query, open tickets.
/// One libcurl handle per client, so a worker's calls reuse one kept-alive connection (and
/// TLS session). Every call takes an optional ``RTDeadline`` shared by all its HTTP requests
/// (nil: RT_TIMEOUT from the call's start), so an application request can give one deadline to
/// all the RT calls it makes. Every failure is an ``RTError`` whose message names RT_URL.
/// Not thread-safe: one owner at a time, as a worker owns its client.
public struct RTClient: Sendable {
    public enum Authentication: Sendable {
        /// An RT auth token (`Authorization: token ...`), made in RT under Settings > Auth Tokens.
        case token(String)
        /// An RT user name and password (HTTP basic authentication).
        case basic(user: String, password: String)
    }

    public struct Configuration: Sendable {
        /// RT's web address (RT_URL), such as `https://tickets.example.org`.
        public var url: String
        /// The REST 2.0 path below ``url``.
        public var apiPath: String
        public var authentication: Authentication
        /// Seconds a call may take when it is given no deadline (RT_TIMEOUT): name resolution,
        /// connect, TLS and every HTTP request of the call.
        public var timeout: Double
        /// PEM CA certificates to trust for RT (RT_CA_FILE; libcurl's `CURLOPT_CAINFO`).
        public var caFile: String?

        public init(
            url: String, apiPath: String = "/REST/2.0", authentication: Authentication, timeout: Double = 10,
            caFile: String? = nil
        ) {
            self.url = url
            self.apiPath = apiPath
            self.authentication = authentication
            self.timeout = timeout
            self.caFile = caFile
        }
    }

    /// What ``check()`` learns.
    public struct ServerInfo: Sendable, Equatable {
        /// RT's version, such as "5.0.3".
        public var version: String
        /// The user RT accepted, when the client knows it (basic authentication). REST 2.0 has
        /// no "who am I" call, so a token's owner is not known.
        public var user: String?
    }

    public let configuration: Configuration
    private let session: CurlSession
    /// RT_URL without a trailing slash.
    private let webBase: String
    /// RT_URL followed by the API path, without a trailing slash.
    let apiBase: String
    private let authorization: String

    public init(_ configuration: Configuration) throws(RTError) {
        self.configuration = configuration
        let url = configuration.url
        webBase = String(url.reversed().drop { $0 == "/" }.reversed())
        let path = configuration.apiPath.hasPrefix("/") ? configuration.apiPath : "/" + configuration.apiPath
        apiBase = webBase + String(path.reversed().drop { $0 == "/" }.reversed())
        let lowered = url.lowercased()
        guard lowered.hasPrefix("https://") || lowered.hasPrefix("http://"), webBase.count > 8 else {
            throw RTError(.configuration, url: url, "invalid URL: it must start with http:// or https://")
        }
        guard !apiBase.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) else {
            throw RTError(
                .configuration, url: url,
                "invalid URL: the path has spaces or other characters that must be percent-encoded")
        }
        do {
            session = try CurlSession(caFile: configuration.caFile)
        } catch {
            throw RTError(.configuration, url: url, error.message)
        }
        switch configuration.authentication {
        case .token(let token):
            authorization = "token " + token
        case .basic(let user, let password):
            authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        }
    }

    /// Checks that RT answers and accepts the credentials (`GET /rt`).
    public func check(deadline: RTDeadline? = nil) throws(RTError) -> ServerInfo {
        let info: RTSystemRecord = try call("GET", "/rt", deadline: deadline ?? defaultDeadline)
        if case .basic(let user, _) = configuration.authentication {
            return ServerInfo(version: info.version, user: user)
        }
        return ServerInfo(version: info.version, user: nil)
    }

    /// Opens a ticket in `queue` (a repair ticket for a damaged device) and returns its id.
    /// `refersToAsset` links it to the asset (RefersTo: asset:ID), so the ticket shows on the
    /// asset's page; `requestor` is an email address or user name.
    public func createTicket(
        queue: String, subject: String, text: String, requestor: String? = nil, refersToAsset: Int? = nil,
        deadline: RTDeadline? = nil
    ) throws(RTError) -> Int {
        let ticket = RTNewTicket(
            queue: queue, subject: subject, content: text, requestor: requestor,
            refersTo: refersToAsset.map { "asset:\($0)" })
        let created: RTCreated = try call("POST", "/ticket", body: ticket, deadline: deadline ?? defaultDeadline)
        return created.id.value
    }

    /// The ids of the tickets a TicketSQL query selects (at most one page of 100, in id order):
    /// `GET /tickets?query=...`. For finding a ticket the application may already have opened
    /// before opening it again.
    public func ticketIDs(query: String, deadline: RTDeadline? = nil) throws(RTError) -> [Int] {
        let path = "/tickets?query=\(Self.queryValue(query))&orderby=id&order=ASC&per_page=100"
        let found: RTSearchPage = try call("GET", path, deadline: deadline ?? defaultDeadline)
        return found.items.map(\.id.value)
    }

    /// The asset's page in RT's web interface, for links and labels.
    public func assetWebURL(id: Int) -> String {
        "\(webBase)/Asset/Display.html?id=\(id)"
    }

    /// RT_TIMEOUT from now: the deadline of a call given none.
    var defaultDeadline: RTDeadline { RTDeadline(seconds: configuration.timeout) }

    // MARK: - Requests

    /// One request to the REST API: JSON in, JSON out (decoded as `Response`), errors mapped to
    /// ``RTError``.
    func call<Response: Decodable>(
        _ method: String, _ path: String, body: (some Encodable)? = nil as Never?, deadline: RTDeadline
    ) throws(RTError) -> Response {
        let (status, bytes) = try send(method, path, body: body, deadline: deadline)
        do {
            return try JSONDecoder().decode(Response.self, from: Data(bytes))
        } catch {
            throw badResponse(
                "\(method) \(apiBase)\(path) answered \(status) with a body that is not the JSON expected "
                    + "(are RT_URL and the API path right?)", status: status)
        }
    }

    /// Sends one request; answers a 2xx status and the body, or throws what RT said.
    func send(_ method: String, _ path: String, body: (some Encodable)?, deadline: RTDeadline) throws(RTError)
        -> (status: Int, body: [UInt8])
    {
        var headers: [(name: String, value: String)] = [
            ("Authorization", authorization), ("Accept", "application/json"),
        ]
        var bytes: [UInt8] = []
        if let body {
            headers.append(("Content-Type", "application/json; charset=utf-8"))
            do {
                bytes = Array(try JSONEncoder().encode(body))
            } catch {
                throw RTError(.configuration, url: configuration.url, "could not encode the request: \(error)")
            }
        }
        let response: CurlResponse
        do {
            response = try session.perform(
                CurlRequest(
                    method: method, url: apiBase + path, headers: headers, body: bytes, deadline: deadline.instant,
                    budgetSeconds: deadline.seconds))
        } catch {
            throw RTError(error, url: configuration.url)
        }
        if (200..<300).contains(response.status) { return (response.status, response.body) }
        throw failure(method, path, response)
    }

    /// The error for a status other than 2xx, with RT's `message` when it sent one.
    private func failure(_ method: String, _ path: String, _ response: CurlResponse) -> RTError {
        let said = (try? JSONDecoder().decode(RTMessage.self, from: Data(response.body))).map {
            Self.oneLine($0.message)
        }
        let status = response.status
        switch status {
        case 401:
            return RTError(
                .unauthorized, url: configuration.url, "RT rejected the credentials (\(credentialSettings))",
                status: 401)
        case 403:
            return RTError(
                .unauthorized, url: configuration.url,
                "permission denied: \(said ?? "403 Forbidden") (check the rights of the user behind \(credentialSettings))",
                status: 403)
        case 404:
            return RTError(
                .notFound, url: configuration.url, "\(method) \(apiBase)\(path): \(said ?? "404 Not Found")",
                status: 404)
        case 400..<500:
            return RTError(
                .rejected, url: configuration.url, said ?? "\(method) \(path) answered \(status)", status: status)
        default:
            let reason = response.reason.isEmpty ? "" : " \(response.reason)"
            return badResponse("\(method) \(path) answered \(status)\(said.map { " \($0)" } ?? reason)", status: status)
        }
    }

    private var credentialSettings: String {
        switch configuration.authentication {
        case .token: return "RT_TOKEN"
        case .basic: return "RT_USERNAME/RT_PASSWORD"
        }
    }

    func badResponse(_ message: String, status: Int? = nil) -> RTError {
        RTError(.badResponse, url: configuration.url, message, status: status)
    }

    static func oneLine(_ text: String) -> String {
        String(text.split(whereSeparator: \.isNewline).joined(separator: " ").prefix(300))
    }

    /// Percent-encodes one query-string value.
    static func queryValue(_ text: String) -> String { PercentEncoding.encode(text) }
}
