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
    let labelWidthMm: Double
    let labelHeightMm: Double
    let logger: Logger

    /// The manifest pages link static files with (re-read when collectstatic replaces it).
    var manifest: StaticManifest { staticFiles.current }

    /// The form a page gets: its body and the `Set-Cookie` for a new CSRF cookie, if needed.
    func formPage(
        _ request: Request, status: HTTPStatus = .ok, title: String, extraCSS: [String] = [],
        _ body: (_ csrfField: String) -> String
    ) -> Response {
        let (cookie, setCookie) = csrf.issue(request)
        var response = Response.html(
            HTML.page(title, body(csrf.field(cookie: cookie)), manifest: manifest, extraCSS: extraCSS), status: status)
        if let setCookie { response.headers.add("Set-Cookie", setCookie) }
        response.headers.add("Cache-Control", "no-store")
        return response
    }

    func page(_ title: String, status: HTTPStatus = .ok, extraCSS: [String] = [], _ body: String) -> Response {
        Response.html(HTML.page(title, body, manifest: manifest, extraCSS: extraCSS), status: status)
    }

    /// A page for a failure the user can do something about.
    func errorPage(_ status: HTTPStatus, _ title: String, _ message: String) -> Response {
        page(title, status: status, HTML.message(message, ok: false))
    }

    /// A JSON error: `{"error": "..."}`.
    static func jsonError(_ status: HTTPStatus, _ message: String) -> Response {
        .json(JSONText.object([("error", JSONText.quote(message))]) + "\n", status: status)
    }

    static func redirect(_ location: String) -> Response {
        var response = Response(status: .seeOther)
        response.headers.add("Location", location)
        return response
    }
}

typealias HTTPStatus = HTTPResponse.Status
