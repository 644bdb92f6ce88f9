import Database
import Prefork

/// The history table of `GET /tags` and the next tag, as the page shows them, kept by each
/// worker for the database version they were read at. A page read checks the version (one
/// cached `PRAGMA` statement) and renders the rows again only when something was committed
/// since; the rest of the page (CSRF field, messages) is written for each request. Tags are
/// issued a few times a day and the page is read far more often, so most reads skip the 100-row
/// query and its escaping: see docs/design.md, "HTML".
///
/// A worker handles one request at a time, so nothing here is locked.
final class TagHistory: @unchecked Sendable {
    struct Rendered {
        /// The version the rows were read at; nil where the backend cannot tell (a read replica).
        var version: DatabaseVersion?
        var next: String
        var rows: HTML
    }

    /// How many rows the page lists.
    static let rowCount = 100

    private var rendered: Rendered?

    /// The rows and next tag for the version `reader` sees, rendered again if it changed.
    func current(_ reader: AssetTagStore.Reader) throws -> Rendered {
        let version = try reader.version()
        if let version, let rendered, rendered.version == version { return rendered }
        let fresh = Rendered(version: version, next: try reader.peekNext(), rows: try Self.rows(reader))
        if version != nil { rendered = fresh }
        return fresh
    }

    /// The table rows, newest first.
    static func rows(_ reader: AssetTagStore.Reader) throws -> HTML {
        var rows = HTMLWriter(capacity: 16 * 1024)
        var first = true
        try reader.forEachRecent(limit: rowCount) { tag in
            if !first { rows.append("\n") }
            first = false
            rows.append(
                """
                <tr><td class="tag">\(tag.tag)</td><td>\(tag.issuedAt)</td><td>\(tag.issuedBy)</td>\
                <td>\(tag.note)</td><td><a href="/labels/\(percentEncoded: tag.tag)">label</a></td></tr>
                """)
        }
        return rows.html
    }
}
