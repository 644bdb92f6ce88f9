/// `staticfiles.json`, written by `collectstatic`: the content-hashed name of each static
/// file. Pages link to the hashed names, which never change content, so browsers and nginx
/// may cache them for a year.
struct StaticManifest: Sendable, Equatable {
    static let fileName = "staticfiles.json"

    /// Original name → hashed name (`app.css` → `app.3f2a9c1b7d4e.css`).
    let paths: [String: String]
    /// The URLs every page links, looked up once per manifest instead of once per page.
    let faviconURL: String
    let stylesheetURL: String
    let scriptURL: String

    init(paths: [String: String]) {
        self.paths = paths
        func url(_ name: String) -> String { "/static/" + (paths[name] ?? name) }
        faviconURL = url("favicon.svg")
        stylesheetURL = url("app.css")
        scriptURL = url("app.js")
    }

    /// The URL of a static file: hashed when the manifest knows it.
    func url(_ name: String) -> String { "/static/" + (paths[name] ?? name) }

    /// The manifest as JSON, keys sorted so the same files give the same bytes.
    var json: String {
        let entries = paths.keys.sorted().map { "    \(JSONText.quote($0)): \(JSONText.quote(paths[$0]!))" }
        return "{\n  \"version\": 1,\n  \"paths\": {\n" + entries.joined(separator: ",\n") + "\n  }\n}\n"
    }

    /// Reads the manifest written by ``json``; nil if it is not one.
    static func parse(_ text: String) -> StaticManifest? {
        guard let start = text.firstRange(of: "\"paths\""), let open = text[start.upperBound...].firstIndex(of: "{"),
            let close = text[open...].firstIndex(of: "}")
        else { return nil }
        var paths: [String: String] = [:]
        var strings: [String] = []
        var current: String?
        for character in text[text.index(after: open)..<close] {
            if character == "\"" {
                if let value = current {
                    strings.append(value)
                    current = nil
                } else {
                    current = ""
                }
            } else if current != nil {
                current!.append(character)
            }
        }
        guard strings.count % 2 == 0 else { return nil }
        for index in stride(from: 0, to: strings.count, by: 2) { paths[strings[index]] = strings[index + 1] }
        return StaticManifest(paths: paths)
    }
}
