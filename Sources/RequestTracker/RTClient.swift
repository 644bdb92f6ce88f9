import HTTPClient
import OpenSSLSupport

/// A blocking client of Request Tracker's REST 2.0 API, for the calls the app makes: find an
/// asset by tag, serial number or id, change its owner and status on check-in, open a repair
/// ticket linked to it. Every call is one or two HTTP requests, each bounded by
/// ``Configuration/timeout``; every failure is an ``RTError`` whose message names RT_URL.
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
        /// Seconds each HTTP request to RT may take, start to finish.
        public var timeout: Double
        /// PEM CA certificates to trust besides the system's, for an RT behind a private CA.
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
    private let http: BlockingHTTPClient
    /// RT_URL without a trailing slash.
    private let webBase: String
    /// RT_URL followed by the API path, without a trailing slash.
    private let apiBase: String
    private let authorization: String

    public init(_ configuration: Configuration) throws(RTError) {
        self.configuration = configuration
        let url = configuration.url
        webBase = String(url.reversed().drop { $0 == "/" }.reversed())
        let path = configuration.apiPath.hasPrefix("/") ? configuration.apiPath : "/" + configuration.apiPath
        apiBase = webBase + String(path.reversed().drop { $0 == "/" }.reversed())
        do {
            _ = try HTTPURL(apiBase)
            http = try BlockingHTTPClient(timeout: configuration.timeout, caFile: configuration.caFile)
        } catch {
            throw RTError(.configuration, url: url, error.kind == .invalidURL ? error.message : error.description)
        }
        switch configuration.authentication {
        case .token(let token):
            authorization = "token " + token
        case .basic(let user, let password):
            authorization = "Basic " + Base64.encode(Array("\(user):\(password)".utf8))
        }
    }

    // MARK: - Operations

    /// Checks that RT answers and accepts the credentials (`GET /rt`).
    public func check() throws(RTError) -> ServerInfo {
        let info = try call("GET", "/rt").json
        guard let version = info["Version"]?.stringValue else {
            throw badResponse("GET /rt answered without a Version")
        }
        if case .basic(let user, _) = configuration.authentication { return ServerInfo(version: version, user: user) }
        return ServerInfo(version: version, user: nil)
    }

    /// The asset whose Name is `tag`. Throws `.notFound` when there is none and `.ambiguous`
    /// when several share the name.
    public func asset(tag: String) throws(RTError) -> RTAsset {
        try asset(id: findOneAsset(field: "Name", value: tag, what: "tag"))
    }

    /// The asset whose "Serial Number" custom field is `serial`.
    public func asset(serial: String) throws(RTError) -> RTAsset {
        try asset(
            id: findOneAsset(field: "CustomField.{\(RTAsset.serialNumberField)}", value: serial, what: "serial number"))
    }

    /// The asset with RT id `id`.
    public func asset(id: Int) throws(RTError) -> RTAsset {
        let record: JSONValue
        do {
            record = try call("GET", "/asset/\(id)").json
        } catch  where error.kind == .notFound {
            throw RTError(.notFound, url: configuration.url, "no asset has id \(id)", status: 404)
        }
        guard let asset = RTAsset(restRecord: record) else {
            throw badResponse("asset \(id) came without an id or Name")
        }
        return asset
    }

    /// Sets the asset's owner (an RT user name) and/or status, and returns the asset as RT now
    /// has it. RT answers 200 with a list of messages even when it refused a change (an unknown
    /// user, a status the lifecycle does not have), so the asset is read back and compared:
    /// a change that did not happen throws `.rejected` with RT's messages.
    @discardableResult
    public func updateAsset(id: Int, owner: String? = nil, status: String? = nil) throws(RTError) -> RTAsset {
        var changes: [JSONValue.Member] = []
        if let owner { changes.append(.init("Owner", .string(owner))) }
        if let status { changes.append(.init("Status", .string(status))) }
        guard !changes.isEmpty else { return try asset(id: id) }
        let answer: JSONValue
        do {
            answer = try call("PUT", "/asset/\(id)", body: .object(changes)).json
        } catch  where error.kind == .notFound {
            throw RTError(.notFound, url: configuration.url, "no asset has id \(id)", status: 404)
        }
        let messages = (answer.arrayValue ?? []).compactMap(\.stringValue)
        let updated = try asset(id: id)
        let ownerRefused = owner.map { updated.owner.lowercased() != $0.lowercased() } ?? false
        let statusRefused = status.map { updated.status != $0 } ?? false
        if ownerRefused || statusRefused {
            let said = messages.isEmpty ? "no reason given" : messages.joined(separator: "; ")
            throw RTError(.rejected, url: configuration.url, "RT did not update asset \(id): \(said)", status: 200)
        }
        return updated
    }

    /// Opens a ticket in `queue` (a repair ticket for a damaged device) and returns its id.
    /// `refersToAsset` links it to the asset (RefersTo: asset:ID), so the ticket shows on the
    /// asset's page; `requestor` is an email address or user name.
    public func createTicket(
        queue: String, subject: String, text: String, requestor: String? = nil, refersToAsset: Int? = nil
    ) throws(RTError) -> Int {
        var fields: [JSONValue.Member] = [
            .init("Queue", .string(queue)), .init("Subject", .string(subject)), .init("Content", .string(text)),
            .init("ContentType", .string("text/plain")),
        ]
        if let requestor { fields.append(.init("Requestor", .string(requestor))) }
        if let refersToAsset { fields.append(.init("RefersTo", .string("asset:\(refersToAsset)"))) }
        let created = try call("POST", "/ticket", body: .object(fields)).json
        guard let id = created["id"]?.intValue else { throw badResponse("POST /ticket answered without a ticket id") }
        return id
    }

    /// The asset's page in RT's web interface, for links and labels.
    public func assetWebURL(id: Int) -> String {
        "\(webBase)/Asset/Display.html?id=\(id)"
    }

    // MARK: - Requests

    /// Searches assets with a JSON-body query (no AssetSQL quoting to get wrong) and returns
    /// the one id that matches.
    private func findOneAsset(field: String, value: String, what: String) throws(RTError) -> Int {
        let query = JSONValue.array([.object(["field": .string(field), "value": .string(value)])])
        let found = try call("POST", "/assets", body: query).json
        guard let items = found["items"]?.arrayValue else { throw badResponse("POST /assets answered without items") }
        let ids = items.compactMap { $0["id"]?.intValue }
        guard ids.count == items.count else { throw badResponse("POST /assets answered items without ids") }
        switch ids.count {
        case 0:
            throw RTError(.notFound, url: configuration.url, "no asset has the \(what) '\(value)'")
        case 1:
            return ids[0]
        default:
            let total = found["total"]?.intValue ?? ids.count
            let list = ids.prefix(5).map(String.init).joined(separator: ", ")
            throw RTError(
                .ambiguous, url: configuration.url,
                "\(total) assets have the \(what) '\(value)' (ids \(list)\(total > 5 ? ", ..." : "")); it should be unique"
            )
        }
    }

    /// One request to the REST API: JSON in, JSON out, errors mapped to ``RTError``.
    private func call(_ method: String, _ path: String, body: JSONValue? = nil) throws(RTError)
        -> (status: Int, json: JSONValue)
    {
        var headers: [(name: String, value: String)] = [
            ("Authorization", authorization), ("Accept", "application/json"),
        ]
        if body != nil { headers.append(("Content-Type", "application/json; charset=utf-8")) }
        let response: HTTPClientResponse
        do {
            let request = try HTTPClientRequest(
                method: method, url: apiBase + path, headers: headers, body: body.map { Array($0.encoded.utf8) } ?? [])
            response = try http.send(request)
        } catch {
            throw RTError(error, url: configuration.url)
        }
        let json = try? JSONValue(parsing: response.body)
        let said = json?["message"]?.stringValue.map(Self.oneLine)
        switch response.status {
        case 200..<300:
            guard let json else {
                throw badResponse(
                    "\(method) \(apiBase)\(path) answered \(response.status) with a body that is not JSON "
                        + "(are RT_URL and the API path right?)", status: response.status)
            }
            return (response.status, json)
        case 401:
            throw RTError(
                .unauthorized, url: configuration.url, "RT rejected the credentials (\(credentialSettings))",
                status: 401)
        case 403:
            throw RTError(
                .unauthorized, url: configuration.url,
                "permission denied: \(said ?? "403 Forbidden") (check the rights of the user behind \(credentialSettings))",
                status: 403)
        case 404:
            throw RTError(
                .notFound, url: configuration.url, "\(method) \(apiBase)\(path): \(said ?? "404 Not Found")",
                status: 404)
        case 400..<500:
            throw RTError(
                .rejected, url: configuration.url, said ?? "\(method) \(path) answered \(response.status)",
                status: response.status)
        default:
            throw badResponse(
                "\(method) \(path) answered \(response.status) \(said ?? response.reason)", status: response.status)
        }
    }

    private var credentialSettings: String {
        switch configuration.authentication {
        case .token: return "RT_TOKEN"
        case .basic: return "RT_USERNAME/RT_PASSWORD"
        }
    }

    private func badResponse(_ message: String, status: Int? = nil) -> RTError {
        RTError(.badResponse, url: configuration.url, message, status: status)
    }

    private static func oneLine(_ text: String) -> String {
        String(text.split(whereSeparator: \.isNewline).joined(separator: " ").prefix(300))
    }
}
