import Prefork

/// The layout every page shares, and the message box. Pages write into an `HTMLWriter`
/// between `begin` and `end`; every value goes in through an `HTML` interpolation, escaped.
enum Layout {
    /// A message box: `.ok` or `.error`.
    static func message(_ text: String, ok: Bool) -> HTML {
        ok
            ? "<p class=\"message ok\" role=\"status\">\(text)</p>"
            : "<p class=\"message error\" role=\"alert\">\(text)</p>"
    }

    /// Everything before the page's own body: head, site header and the title as `<h1>`.
    /// `user`, when someone is signed in, shows at the header's end with the way to sign out.
    static func begin(
        _ page: inout HTMLWriter, title: String, manifest: StaticManifest, extraCSS: [String], user: String? = nil
    ) {
        page.append(
            """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · Request Tracker Utils</title>
            <link rel="icon" href="\(manifest.faviconURL)" type="image/svg+xml">
            <link rel="stylesheet" href="\(manifest.stylesheetURL)">
            """)
        for name in extraCSS { page.append("\n<link rel=\"stylesheet\" href=\"\(manifest.url(name))\">") }
        page.append(
            """

            <script src="\(manifest.scriptURL)" defer></script>
            </head>
            <body>
            <header><strong><a href="/">Request Tracker Utils</a></strong>
            <a href="/tags">Asset tags</a> <a href="/labels">Labels</a> <a href="/checkin">Check in</a>
            <a href="/checkins">Check-ins</a> <a href="/assets">Asset look-up</a> <a href="/intake">Intake</a> <a href="/students">Students</a> <a href="/audits">Audits</a>\(user.map { signedIn($0) } ?? .empty)</header>
            <main>
            <h1>\(title)</h1>

            """)
    }

    static func signedIn(_ user: String) -> HTML {
        "\n<span class=\"user\">\(user) · <a href=\"/logout\">Sign out</a></span>"
    }

    /// Everything after the page's body.
    static func end(_ page: inout HTMLWriter) {
        page.append(
            """

            </main>
            </body>
            </html>

            """)
    }
}
