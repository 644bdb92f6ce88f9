/// HTML text: escaping, and the page layout every page shares.
enum HTML {
    /// Escapes text for HTML element content and double-quoted attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// Percent-encodes a query value.
    static func queryEscape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]], as: UTF8.self)
            }
        }
        return out
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
