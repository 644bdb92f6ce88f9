import FoundationEssentials

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
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(File(version: 1, paths: paths))) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Reads the manifest written by ``json``; nil if it is not one.
    static func parse(_ bytes: [UInt8]) -> StaticManifest? {
        guard let file = try? JSONDecoder().decode(File.self, from: Data(bytes)), file.version == 1 else { return nil }
        return StaticManifest(paths: file.paths)
    }

    /// The file's form.
    private struct File: Codable {
        var version: Int
        var paths: [String: String]
    }
}
