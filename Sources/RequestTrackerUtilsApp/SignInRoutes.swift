import Logging
import Prefork
import PreforkCore

/// Sign-in and sign-out pages and the guard in front of every route: who the request is
/// for (an API token, else the session cookie), and whether their role may open the path.
struct SignInRoutes: Sendable {
    static let cookieName = "rtu_session"

    let context: AppContext
    let accounts: AccountStore
    let sessions: SessionStore
    let throttle: SignInThrottle
    let directory: DirectoryAuthenticator?
    /// The server's own test routes (`enable_test_routes`) are public: they test the server,
    /// not the application, and exist only in test runs.
    var testRoutes = false

    /// Paths anyone may open: the sign-in page, health checks, static files.
    static func isPublic(_ path: String, testRoutes: Bool = false) -> Bool {
        if ["/login", "/healthz", "/readyz", "/hello"].contains(path) || path.hasPrefix("/static/") { return true }
        return testRoutes && TestRoutes.paths.contains(path)
    }

    /// Paths for programs (the JSON API, RT's webhooks): without sign-in they answer 401, not a
    /// redirect to a form.
    static func isAPI(_ path: String) -> Bool { path.hasPrefix("/api/") || path.hasPrefix("/webhook/") }

    /// What a teacher may open: their audits (the audit pages hide other advisories' students
    /// and refuse the session controls) and how a job goes; technology staff may open everything.
    static func teacherMayOpen(_ path: String) -> Bool {
        ["/", "/logout", "/audits"].contains(path)
            || (path.hasPrefix("/audits/") && !path.hasSuffix("/export.csv") && !path.hasSuffix("/changes"))
            || path.hasPrefix("/api/jobs/")
    }

    func add(to router: inout Router) {
        router.get("/login") { request in
            // A new installation says how its first account is made (there is no default one).
            let none = directory == nil && (try? accounts.count()) == 0
            return form(request, next: request.queryItems["next"], message: none ? Self.noAccountYet : nil)
        }
        router.post("/login") { request in try signIn(request) }
        router.get("/logout") { request in signOutPage(request) }
        router.post("/logout") { request in try signOut(request) }
    }

    enum Identity {
        case none
        case account(AccountStore.Account)
        /// An `Authorization` header that names no valid token.
        case badToken
    }

    /// The account a request is made for: a bearer token, else the session cookie.
    func identify(_ request: Request, now: Int) throws -> Identity {
        if let header = request.header("authorization") {
            guard header.lowercased().hasPrefix("bearer "),
                let account = try accounts.account(forToken: String(header.dropFirst(7)).trimmingSpaces())
            else { return .badToken }
            return .account(account)
        }
        guard let id = Self.cookie(request), let session = try sessions.find(id, now: now) else { return .none }
        return .account(session.account)
    }

    /// Puts the guard in front of `router`: public paths and paths no route matches (the
    /// router's 404) pass; otherwise an identity is needed (pages redirect to the sign-in page,
    /// the API and bad tokens answer 401) with the role the path asks for (else 403). The
    /// handler sees the user as `request.user`; the access log as `response.user`.
    func guarded(_ router: Router) -> Handler {
        { request in
            if Self.isPublic(request.path, testRoutes: testRoutes) || !router.matchesPath(request) {
                return try router.handle(request)
            }
            let account: AccountStore.Account
            switch try identify(request, now: Timestamp.now().seconds) {
            case .account(let found): account = found
            case .badToken:
                var response = AppContext.jsonError(
                    .unauthorized, "the Authorization header holds no valid token (see `user token create`)")
                response.headers.add("WWW-Authenticate", "Bearer error=\"invalid_token\"")
                return response
            case .none:
                if Self.isAPI(request.path) {
                    var response = AppContext.jsonError(
                        .unauthorized, "sign in first: send Authorization: Bearer TOKEN")
                    response.headers.add("WWW-Authenticate", "Bearer")
                    return response
                }
                return AppContext.redirect("/login?next=\(PercentEncoding.encode(request.target))")
            }
            var response: Response
            if account.role == .teacher && request.path == "/" {
                response = teacherHome(account)
            } else if account.role == .tech || Self.teacherMayOpen(request.path) {
                var request = request
                request.user = account.name
                response = try router.handle(request)
            } else if Self.isAPI(request.path) {
                response = AppContext.jsonError(
                    .forbidden, "this is for technology staff; \(account.name) is a \(account.role.title)")
            } else {
                response = context.errorPage(
                    .forbidden, "Not for your role",
                    "This page is for technology staff; you are signed in as \(account.name) (\(account.role.title)).",
                    user: account.name)
            }
            response.user = account.name
            return response
        }
    }

    /// A teacher's home page: what is theirs (nothing yet beyond signing out).
    func teacherHome(_ account: AccountStore.Account) -> Response {
        context.page("Request Tracker Utils", user: account.name) { page in
            page.append(
                """
                <p>You are signed in as \(account.name), a teacher. <a href="/audits">Device audits</a> of your \
                advisory are where you mark the devices your students have; the other pages (asset tags, \
                labels, check-in) are for technology staff.</p>
                """)
        }
    }

    static let noAccountYet =
        "No account exists yet. The operator makes the first one on the server: `request-tracker-utils user add "
        + "NAME --role tech` (under systemd: `sudo request-tracker-utils-manage user add NAME --role tech`)."

    func form(_ request: Request, next: String?, message: String? = nil, status: HTTPStatus = .ok) -> Response {
        context.formPage(request, status: status, title: "Sign in") { page, csrfField in
            page.append(
                """
                \(message.map { Layout.message($0, ok: false) } ?? .empty)
                <form class="card" method="post" action="/login">
                \(csrfField)
                <input type="hidden" name="next" value="\(LocalRedirect.target(next))">
                <label for="name">User name</label><input id="name" name="name" type="text" required autofocus autocomplete="username">
                <label for="password">Password</label><input id="password" name="password" type="password" required autocomplete="current-password">
                <p><button type="submit">Sign in</button></p>
                </form>
                """)
        }
    }

    func signIn(_ request: Request) throws -> Response {
        let fields = FormDecoding.decode(request.bodyText)
        let next = fields["next"]
        guard context.csrf.verify(request, form: fields) else {
            return form(request, next: next, message: CSRFMessage.text, status: .forbidden)
        }
        let name = (fields["name"] ?? "").trimmingSpaces().lowercased()
        let password = fields["password"] ?? ""
        let now = Timestamp.now().seconds
        let subjects = ["user:\(name)", "address:\(request.remoteAddress)"]
        if let wait = try throttle.wait(subjects, now: now) {
            AppMetrics.signIn("throttled")
            return form(
                request, next: next,
                message: "Too many failed sign-ins for this name or from this computer: try again in "
                    + "\((wait + 59) / 60) minute(s).", status: .tooManyRequests)
        }
        var account = try accounts.verifyLocal(name, password)
        if account == nil, let directory, AccountStore.normalized(name) != nil {
            switch directory.authenticate(name, password) {
            case .signedIn(let role, _): account = try accounts.recordDirectoryUser(name, role: role)
            case .refused: break
            case .unavailable(let reason):
                AppMetrics.signIn("directory_unavailable")
                context.logger.error(
                    "sign-in of \(name.debugDescription): the directory could not be asked: \(reason)",
                    metadata: ["SIGN_IN_USER": "\(name)", "REMOTE_ADDR": "\(request.remoteAddress)"])
                return form(
                    request, next: next,
                    message: "The district's directory did not answer, so nobody can sign in with it just now; "
                        + "try again in a minute.", status: .serviceUnavailable)
            }
        }
        guard let account else {
            AppMetrics.signIn("refused")
            try throttle.recordFailure(subjects, now: now)
            context.logger.warning(
                "failed sign-in for \(name.debugDescription) from \(request.remoteAddress)",
                metadata: ["SIGN_IN_USER": "\(name)", "REMOTE_ADDR": "\(request.remoteAddress)"])
            return form(request, next: next, message: "The user name or password is wrong.", status: .unauthorized)
        }
        AppMetrics.signIn("signed_in")
        // A new id at every sign-in; the session the browser had (if any) ends.
        if let old = Self.cookie(request) { try sessions.end(old) }
        let id = try sessions.create(for: account, now: now)
        var response = AppContext.redirect(LocalRedirect.target(next))
        response.headers.add("Set-Cookie", Self.setCookie(id, request))
        response.user = account.name
        return response
    }

    /// `GET /logout`: a page with the sign-out button (signing out is a POST, so a link on
    /// another site cannot do it).
    func signOutPage(_ request: Request) -> Response {
        context.formPage(request, title: "Sign out") { page, csrfField in
            page.append(
                """
                <form class="card" method="post" action="/logout">\(csrfField)
                <p>Signed in as \(request.user ?? "nobody").</p>
                <p><button type="submit">Sign out</button></p></form>
                """)
        }
    }

    func signOut(_ request: Request) throws -> Response {
        let fields = FormDecoding.decode(request.bodyText)
        guard context.csrf.verify(request, form: fields) else {
            return context.errorPage(.forbidden, "Sign out", CSRFMessage.text)
        }
        if let id = Self.cookie(request) { try sessions.end(id) }
        var response = AppContext.redirect("/login")
        response.headers.add("Set-Cookie", "\(Self.cookieName)=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
        return response
    }

    /// The session cookie: never readable by scripts, not sent on cross-site posts, and only
    /// over HTTPS when the request came that way.
    static func setCookie(_ id: String, _ request: Request) -> String {
        let secure = request.scheme == "https" ? "; Secure" : ""
        return "\(cookieName)=\(id); Path=/; HttpOnly; SameSite=Lax\(secure)"
    }

    /// The session cookie's value, if the request carries a well-formed one (64 hex digits).
    static func cookie(_ request: Request) -> String? {
        guard let value = request.cookie(cookieName), HexText.isLowercaseHex(value, count: 64) else { return nil }
        return value
    }
}
