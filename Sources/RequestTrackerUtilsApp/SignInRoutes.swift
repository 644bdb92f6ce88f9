import Logging
import Prefork
import PreforkCore

/// WORK IN PROGRESS (issue 11, branch `signin`): sign-in and sign-out pages and the guard in
/// front of every route. Not on `main` yet: turning the guard on changes every application
/// integration test, which must first sign in (see the stop note).
struct SignInRoutes: Sendable {
    static let cookieName = "rtu_session"

    let context: AppContext
    let accounts: AccountStore
    let sessions: SessionStore
    let throttle: SignInThrottle
    let directory: DirectoryAuthenticator?

    /// Paths anyone may open: the sign-in page, health checks, static files.
    static func isPublic(_ path: String) -> Bool {
        ["/login", "/healthz", "/readyz", "/hello"].contains(path) || path.hasPrefix("/static/")
    }

    /// What a teacher may open (audits come with issue 13); technology staff may open everything.
    static func teacherMayOpen(_ path: String) -> Bool {
        ["/", "/logout"].contains(path)
    }

    func add(to router: inout Router) {
        router.get("/login") { request in form(request, next: request.queryItems["next"]) }
        router.post("/login") { request in try signIn(request) }
        router.post("/logout") { request in try signOut(request) }
    }

    /// The account a request is made for: a bearer token, else the session cookie.
    func identify(_ request: Request, now: Int) throws -> AccountStore.Account? {
        if let header = request.header("authorization"), header.lowercased().hasPrefix("bearer ") {
            return try accounts.account(forToken: String(header.dropFirst(7)).trimmingSpaces())
        }
        guard let id = Self.cookie(request) else { return nil }
        return try sessions.find(id, now: now)?.account
    }

    /// Wraps `next`: public paths pass; otherwise an identity is needed (pages redirect to the
    /// sign-in page, the API answers 401) with the role the path asks for (else 403).
    func guarded(_ next: @escaping Handler) -> Handler {
        { request in
            if Self.isPublic(request.path) { return try next(request) }
            guard let account = try identify(request, now: Timestamp.now().seconds) else {
                if request.path.hasPrefix("/api/") {
                    var response = AppContext.jsonError(
                        .unauthorized, "sign in first: send Authorization: Bearer TOKEN")
                    response.headers.add("WWW-Authenticate", "Bearer")
                    return response
                }
                return AppContext.redirect("/login?next=\(percentEncoded(request.target))")
            }
            guard account.role == .tech || Self.teacherMayOpen(request.path) else {
                var response = context.errorPage(
                    .forbidden, "Not for your role",
                    "This page is for technology staff; you are signed in as \(account.name) (\(account.role.title)).")
                response.user = account.name
                return response
            }
            var response = try next(request)
            response.user = account.name
            return response
        }
    }

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
                context.logger.error("sign-in of \(name): the directory could not be asked: \(reason)")
                return form(
                    request, next: next,
                    message: "The district's directory did not answer, so nobody can sign in with it just now; "
                        + "try again in a minute.", status: .serviceUnavailable)
            }
        }
        guard let account else {
            try throttle.recordFailure(subjects, now: now)
            context.logger.warning(
                "failed sign-in for \(JSONText.quote(name))", metadata: ["REMOTE_ADDR": "\(request.remoteAddress)"])
            return form(request, next: next, message: "The user name or password is wrong.", status: .unauthorized)
        }
        let id = try sessions.create(for: account, now: now)
        var response = AppContext.redirect(LocalRedirect.target(next))
        let secure = request.scheme == "https" ? "; Secure" : ""
        response.headers.add("Set-Cookie", "\(Self.cookieName)=\(id); Path=/; HttpOnly; SameSite=Lax\(secure)")
        response.user = account.name
        return response
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

    static func cookie(_ request: Request) -> String? {
        guard let header = request.header("cookie") else { return nil }
        for part in header.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, String(pair[0]).trimmingSpaces() == cookieName else { continue }
            return String(pair[1]).trimmingSpaces()
        }
        return nil
    }

    private func percentEncoded(_ target: String) -> String { PercentEncoding.encode(target) }
}
