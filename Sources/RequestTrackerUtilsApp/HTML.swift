/// HTML text: escaping, and the page layout every page shares.
enum HTML {
    /// Escapes text for HTML element content and double-quoted attribute values.
    /// Works on UTF-8 bytes and returns the text itself when nothing needs escaping (most
    /// tags, names and dates): pages that list many rows call it a lot.
    static func escape(_ text: String) -> String {
        let special: (UInt8) -> Bool = { $0 == 38 || $0 == 60 || $0 == 62 || $0 == 34 || $0 == 39 }
        guard text.utf8.contains(where: special) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 16)
        for byte in text.utf8 {
            switch byte {
            case 38: out += "&amp;".utf8
            case 60: out += "&lt;".utf8
            case 62: out += "&gt;".utf8
            case 34: out += "&quot;".utf8
            case 39: out += "&#39;".utf8
            default: out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A message box: `.ok` or `.error`.
    static func message(_ text: String, ok: Bool) -> String {
        "<p class=\"message \(ok ? "ok" : "error")\" role=\"\(ok ? "status" : "alert")\">\(escape(text))</p>"
    }

    /// A whole page in the site's layout. `body` is HTML; the title is escaped here.
    static func page(_ title: String, _ body: String, manifest: StaticManifest, extraCSS: [String] = []) -> String {
        let styles = (["app.css"] + extraCSS).map { "<link rel=\"stylesheet\" href=\"\(manifest.url($0))\">" }
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) · Request Tracker Utils</title>
            <link rel="icon" href="\(manifest.url("favicon.svg"))" type="image/svg+xml">
            \(styles.joined(separator: "\n"))
            <script src="\(manifest.url("app.js"))" defer></script>
            </head>
            <body>
            <header><strong><a href="/">Request Tracker Utils</a></strong>
            <a href="/tags">Asset tags</a> <a href="/labels">Labels</a> <a href="/checkin">Check in</a>
            <a href="/checkins">Check-ins</a> <a href="/assets">Asset look-up</a></header>
            <main>
            <h1>\(escape(title))</h1>
            \(body)
            </main>
            </body>
            </html>

            """
    }
}
