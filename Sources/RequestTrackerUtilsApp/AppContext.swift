import HTTPTypes
import Logging
import Prefork
import PreforkCore

/// What a worker's handlers share, built once per worker after the fork.
struct AppContext: Sendable {
    let workingDirectory: String
    let debug: Bool
    let database: AppDatabase
    let tags: AssetTagStore
    let checkins: CheckinStore
    let staticFiles: ManifestSource
    let csrf: CSRF
    let labels: LabelOptions
    let logger: Logger

    /// The manifest pages link static files with (re-read when collectstatic replaces it).
    var manifest: StaticManifest { staticFiles.current }

    /// A page in the site's layout; `body` writes the part inside `<main>` after the title.
    /// `user` (the signed-in user) shows in the header with the way to sign out.
    func page(
        _ title: String, status: HTTPStatus = .ok, extraCSS: [String] = [], user: String? = nil,
        capacity: Int = 32 * 1024, _ body: (inout HTMLWriter) throws -> Void
    ) rethrows -> Response {
        // 32 KiB: the largest common page (/tags with its 100 rows, 17 KiB) fits without the
        // buffer doubling and copying itself mid-page; a larger one (a list of thousands of
        // students) says how large it will be.
        var page = HTMLWriter(capacity: capacity)
        Layout.begin(&page, title: title, manifest: manifest, extraCSS: extraCSS, user: user)
        try body(&page)
        Layout.end(&page)
        return .html(page, status: status)
    }

    /// A page with a form: `body` gets the hidden CSRF field to put in it; the response sets a
    /// new CSRF cookie when the request had none, and is not cached.
    func formPage(
        _ request: Request, status: HTTPStatus = .ok, title: String, extraCSS: [String] = [],
        _ body: (inout HTMLWriter, _ csrfField: HTML) throws -> Void
    ) rethrows -> Response {
        let (cookie, setCookie) = csrf.issue(request)
        let field = csrf.field(cookie: cookie)
        var response = try page(title, status: status, extraCSS: extraCSS, user: request.user) { page in
            try body(&page, field)
        }
        if let setCookie { response.headers.add("Set-Cookie", setCookie) }
        response.headers.add("Cache-Control", "no-store")
        return response
    }

    /// A page for a failure the user can do something about.
    func errorPage(_ status: HTTPStatus, _ title: String, _ message: String, user: String? = nil) -> Response {
        page(title, status: status, user: user) { page in page.append(Layout.message(message, ok: false)) }
    }

    /// A JSON error: `{"error": "..."}`.
    static func jsonError(_ status: HTTPStatus, _ message: String) -> Response {
        JSONAnswer.response(["error": message], status: status)
    }

    static func redirect(_ location: String) -> Response {
        var response = Response(status: .seeOther)
        response.headers.add("Location", location)
        return response
    }
}

typealias HTTPStatus = HTTPResponse.Status
