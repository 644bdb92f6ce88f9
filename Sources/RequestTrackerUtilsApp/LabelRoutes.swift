import LabelGraphics
import Prefork
import PreforkCore

/// What a label says about an asset, from the query or from Request Tracker.
struct AssetDetails: Sendable {
    var id: Int?
    var name = ""
    var serial = ""
    var owner = ""
}

/// Finds an asset's details by tag; nil result when RT does not know the tag.
protocol AssetDirectory: Sendable {
    func details(tag: String) throws -> AssetDetails?
    /// The asset's page in RT, or a search for its tag when the id is not known.
    func webURL(tag: String, id: Int?) -> String
}

/// Printable labels: `GET /labels` (the form and recent tags), `GET /labels/TAG` (one label),
/// `GET /labels/TAG.svg` (the SVG alone), `GET /labels?tags=A,B` or `?from=TAG&count=N` (a
/// batch, one label per printed page). Each label is `LABEL_WIDTH_MM` × `LABEL_HEIGHT_MM` with
/// a QR code of the asset's URL in RT and a Code 128 of its tag, drawn on the server.
struct LabelRoutes: Sendable {
    let context: AppContext
    let directory: (any AssetDirectory)?

    static let maximumBatch = 200

    func add(to router: inout Router) {
        router.get("/labels") { request in try index(request) }
        router.get("/labels/:tag") { request in try single(request) }
    }

    /// The label SVG for a tag: details from the query, else from RT when it is configured.
    func label(tag: String, query: [String: String], lookUp: Bool) throws -> (svg: String, note: String?) {
        var details = AssetDetails(
            name: query["name"] ?? "", serial: query["serial"] ?? "", owner: query["owner"] ?? "")
        var note: String?
        if lookUp, let directory, details.name.isEmpty && details.serial.isEmpty && details.owner.isEmpty {
            if let found = try directory.details(tag: tag) {
                details = found
            } else {
                note = "Request Tracker has no asset named \(tag); the label links to a search for it."
            }
        }
        let payload = directory?.webURL(tag: tag, id: details.id) ?? tag
        let content = LabelContent(
            tag: tag, name: details.name, serial: details.serial, owner: details.owner, qrPayload: payload)
        return (LabelSVG.render(content, widthMm: context.labelWidthMm, heightMm: context.labelHeightMm), note)
    }

    func single(_ request: Request) throws -> Response {
        var tag = request.parameters["tag"] ?? ""
        let svgOnly = tag.hasSuffix(".svg")
        if svgOnly { tag.removeLast(4) }
        guard Self.isTag(tag) else { return context.errorPage(.badRequest, "Label", "Not an asset tag: \(tag)") }
        let (svg, note) = try label(tag: tag, query: request.queryItems, lookUp: true)
        if svgOnly { return Response.bytes(Array(svg.utf8), contentType: "image/svg+xml") }
        let size = "\(Self.millimetres(context.labelWidthMm)) × \(Self.millimetres(context.labelHeightMm)) mm"
        return context.page("Label \(tag)", extraCSS: ["labels.css"], user: request.user) { page in
            page.append(
                """
                \(note.map { Layout.message($0, ok: false) } ?? .empty)
                <p class="no-print">\(size). <button type="button" data-print>Print</button>
                <a href="/labels/\(percentEncoded: tag).svg">SVG</a></p>
                \(pageStyle)
                <div class="labels"><div class="print-label">\(raw: svg)</div></div>
                """)
        }
    }

    func index(_ request: Request) throws -> Response {
        let query = request.queryItems
        if let tag = query["tag"], !tag.isEmpty {  // the single-label form
            let details = ["name", "serial", "owner"].compactMap { key in
                query[key].flatMap { $0.isEmpty ? nil : "\(key)=\(PercentEncoding.encode($0))" }
            }
            let suffix = details.isEmpty ? "" : "?" + details.joined(separator: "&")
            return AppContext.redirect("/labels/\(PercentEncoding.encode(tag.uppercased()))\(suffix)")
        }
        var tags: [String] = []
        if let list = query["tags"] {
            tags = list.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" }).map {
                String($0).uppercased()
            }
        } else if let from = query["from"] {
            guard let count = Int(query["count"] ?? "1"), (1...Self.maximumBatch).contains(count),
                let range = Self.series(from: from.uppercased(), count: count)
            else {
                return context.errorPage(
                    .badRequest, "Labels",
                    "from must be a tag ending in digits, and count a number from 1 to \(Self.maximumBatch)")
            }
            tags = range
        }
        if tags.isEmpty { return try form(user: request.user) }
        guard tags.count <= Self.maximumBatch else {
            return context.errorPage(.badRequest, "Labels", "At most \(Self.maximumBatch) labels at a time.")
        }
        if let bad = tags.first(where: { !Self.isTag($0) }) {
            return context.errorPage(.badRequest, "Labels", "Not an asset tag: \(bad)")
        }
        // A batch prints what the query gives: one RT request per label would make a big
        // batch as slow as RT; single labels look their details up.
        return try context.page(
            "\(tags.count) label\(tags.count == 1 ? "" : "s")", extraCSS: ["labels.css"], user: request.user
        ) { page in
            page.append(
                """
                <p class="no-print">\(tags.first!) to \(tags.last!), one label per page when printed.
                <button type="button" data-print>Print</button></p>
                \(pageStyle)
                <div class="labels">
                """)
            for (index, tag) in tags.enumerated() {
                if index > 0 { page.append("\n") }
                let svg = try label(tag: tag, query: [:], lookUp: false).svg
                page.append("<div class=\"print-label\">\(raw: svg)</div>")
            }
            page.append("</div>")
        }
    }

    private func form(user: String?) throws -> Response {
        let recent = try context.tags.recent(limit: 20)
        return context.page("Labels", user: user) { page in
            page.append(
                """
                <form class="card" method="get" action="/labels">
                <p>One label; leave the details empty to take them from Request Tracker.</p>
                <label for="tag">Asset tag</label><input id="tag" name="tag" type="text" required>
                <label for="name">Name</label><input id="name" name="name" type="text">
                <label for="serial">Serial number</label><input id="serial" name="serial" type="text">
                <label for="owner">Owner</label><input id="owner" name="owner" type="text">
                <p><button type="submit">Show label</button></p>
                </form>
                <form class="card" method="get" action="/labels">
                <p>A batch, one label per printed page.</p>
                <label for="from">First tag</label><input id="from" name="from" type="text" placeholder="W12-0001">
                <label for="count">How many</label><input id="count" name="count" type="number" min="1" max="\(Self.maximumBatch)" value="10">
                <p><button type="submit">Show labels</button></p>
                </form>
                <h2>Recently issued tags</h2><ul>
                """)
            for tag in recent {
                page.append("<li><a href=\"/labels/\(percentEncoded: tag.tag)\" class=\"tag\">\(tag.tag)</a></li>")
            }
            page.append("</ul>")
        }
    }

    /// `@page` sized to the label, so each label prints on its own page of the label printer.
    var pageStyle: HTML {
        let width = Self.millimetres(context.labelWidthMm)
        let height = Self.millimetres(context.labelHeightMm)
        return "<style>@page { size: \(width)mm \(height)mm; margin: 0; }</style>"
    }

    static func millimetres(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    static func isTag(_ tag: String) -> Bool {
        !tag.isEmpty && tag.utf8.count <= 40 && tag.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != 0x2F }
    }

    /// `W12-0007`, 3 → W12-0007, W12-0008, W12-0009 (keeping the zero padding).
    static func series(from first: String, count: Int) -> [String]? {
        let digits = first.reversed().prefix(while: \.isNumber).count
        guard digits > 0, let start = Int(first.suffix(digits)) else { return nil }
        let prefix = first.dropLast(digits)
        return (start..<(start + count)).map { number in
            let text = String(number)
            return prefix + String(repeating: "0", count: max(0, digits - text.count)) + text
        }
    }
}
