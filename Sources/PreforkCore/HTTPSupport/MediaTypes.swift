/// `Content-Type` values for the file extensions a web application's static files use.
public enum MediaTypes {
    /// For anything not in the table: browsers download it rather than guess.
    public static let fallback = "application/octet-stream"

    /// The media type for a file name by its extension (case-insensitive), or `fallback`.
    /// Text types carry `charset=utf-8`.
    public static func forFileName(_ name: String) -> String {
        guard let dot = name.utf8.lastIndex(of: UInt8(ascii: ".")) else { return fallback }
        let ext = String(name[name.utf8.index(after: dot)...]).lowercased()
        return table[ext] ?? fallback
    }

    static let table: [String: String] = [
        "css": "text/css; charset=utf-8",
        "js": "text/javascript; charset=utf-8",
        "mjs": "text/javascript; charset=utf-8",
        "json": "application/json",
        "map": "application/json",
        "html": "text/html; charset=utf-8",
        "txt": "text/plain; charset=utf-8",
        "svg": "image/svg+xml",
        "png": "image/png",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "gif": "image/gif",
        "webp": "image/webp",
        "ico": "image/vnd.microsoft.icon",
        "woff2": "font/woff2",
        "woff": "font/woff",
        "pdf": "application/pdf",
        "wasm": "application/wasm",
    ]
}
