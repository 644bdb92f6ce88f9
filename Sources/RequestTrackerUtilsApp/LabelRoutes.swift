import LabelGraphics
import Prefork
import PreforkCore
import RequestTracker

/// Printable labels, drawn on the server as SVG:
///
/// - `GET /labels`: the forms and the recently issued tags.
/// - `GET /labels/TAG`, `GET /labels/TAG.svg`: one label by tag; its details from the query
///   (`name`, `serial`, `owner`), else from the asset in RT when RT is configured.
/// - `GET /labels/asset/ID`, `GET /labels/asset/ID.svg`: one label by RT asset id.
/// - `GET /labels?tags=A,B,…`: a batch by tags, each with its details from RT when RT is
///   configured; `GET /labels?from=TAG&count=N`: a batch of bare tags, for pre-printing.
///
/// Every one takes `size=large|small` (``LabelOptions/size(requested:assetType:)`` decides
/// when it is absent) and prints one label per page of the label's size. RT refusing or down
/// is a 502 page, RT silent past RT_TIMEOUT a 504, each saying why.
struct LabelRoutes: Sendable {
    let context: AppContext
    let directory: (any AssetDirectory)?

    static let maximumBatch = 200

    /// One label to draw.
    struct Label {
        var tag: String
        var details: AssetDetails
        var size: LabelSize
    }

    /// A page that cannot be made, as the response that says why.
    struct Refusal: Error {
        let response: Response
    }

    func add(to router: inout Router) {
        router.get("/labels") { request in try index(request) }
        router.get("/labels/:tag") { request in try single(request, byAsset: false) }
        router.get("/labels/asset/:id") { request in try single(request, byAsset: true) }
    }

    // MARK: One label

    func single(_ request: Request, byAsset: Bool) throws -> Response {
        var key = request.parameters[byAsset ? "id" : "tag"] ?? ""
        let svgOnly = key.hasSuffix(".svg")
        if svgOnly { key.removeLast(4) }
        let label: Label
        let note: String?
        do {
            let requested = try requestedSize(request)
            if byAsset {
                (label, note) = (try asset(id: key, requested: requested, user: request.user), nil)
            } else {
                (label, note) = try tagged(key, query: request.queryItems, requested: requested, user: request.user)
            }
        } catch {
            return error.response
        }
        let svg = render(label)
        if svgOnly { return Response.bytes(Array(svg.utf8), contentType: "image/svg+xml") }
        let path = byAsset ? "/labels/asset/\(key)" : "/labels/\(Self.encoded(label.tag))"
        let detailsQuery = byAsset ? [] : Self.detailsQuery(request.queryItems)
        return context.page("Label \(label.tag)", extraCSS: ["labels.css"], user: request.user) { page in
            page.append(
                """
                \(note.map { Layout.message($0, ok: false) } ?? .empty)
                <p class="no-print">\(context.labels.caption(label.size)). <button type="button" data-print>Print</button>
                <a href="\(path).svg\(Self.queryString(detailsQuery + [("size", label.size.rawValue)]))">SVG</a>
                \(sizeSwitch(current: label.size, path: path, query: detailsQuery))</p>
                \(pageStyle([label.size]))
                <div class="labels">\(labelElement(svg, label.size))</div>
                """)
        }
    }

    /// The label of the asset with RT id `id`.
    private func asset(id text: String, requested: LabelSize?, user: String?) throws(Refusal) -> Label {
        guard let id = Int(text), id > 0 else {
            throw Refusal(response: context.errorPage(.badRequest, "Label", "Not an RT asset id: \(text)", user: user))
        }
        guard let directory else {
            throw Refusal(
                response: context.errorPage(
                    .serviceUnavailable, "Label",
                    "Labels by RT asset id need Request Tracker, which is not set up here: the operator sets RT_URL "
                        + "and RT_TOKEN (see docs/application.md).", user: user))
        }
        let found: AssetDetails?
        do {
            found = try directory.details(id: id, deadline: nil)
        } catch {
            throw rtFailure(error, user: user)
        }
        guard let details = found else {
            throw Refusal(
                response: context.errorPage(.notFound, "Label", "Request Tracker has no asset #\(id).", user: user))
        }
        guard Self.isTag(details.tag) else {
            throw Refusal(
                response: context.errorPage(
                    .unprocessableContent, "Label",
                    "Request Tracker's asset #\(id) has no Name usable as a tag (\(details.tag)).", user: user))
        }
        return Label(
            tag: details.tag, details: details,
            size: context.labels.size(requested: requested, assetType: details.type))
    }

    /// The label of `tag`: details from the query, else from RT when it is configured (with a
    /// note when RT has no such asset).
    private func tagged(
        _ typed: String, query: [String: String], requested: LabelSize?, user: String?
    ) throws(Refusal) -> (Label, String?) {
        // A scanned old label (`TAG*D`) is its tag; a misread is refused with the reason.
        let tag: String
        switch TagInput.parse(typed) {
        case .success(let parsed): tag = parsed
        case .failure(let problem):
            throw Refusal(response: context.errorPage(.badRequest, "Label", problem.text, user: user))
        }
        let typed = AssetDetails(name: query["name"] ?? "", serial: query["serial"] ?? "", owner: query["owner"] ?? "")
        guard typed.name.isEmpty && typed.serial.isEmpty && typed.owner.isEmpty, directory != nil else {
            return (
                Label(tag: tag, details: typed, size: context.labels.size(requested: requested, assetType: "")), nil
            )
        }
        let (label, missing) = try lookUp(tag, requested: requested, user: user)
        return (label, missing ? "Request Tracker has no asset named \(tag); the label links to a search for it." : nil)
    }

    /// A label with the details RT has for `tag`, and whether RT lacks the asset.
    func lookUp(_ tag: String, requested: LabelSize?, user: String?, deadline: RTDeadline? = nil) throws(Refusal) -> (
        Label, Bool
    ) {
        guard let directory else {
            return (
                Label(
                    tag: tag, details: AssetDetails(), size: context.labels.size(requested: requested, assetType: "")),
                false
            )
        }
        let found: AssetDetails?
        do {
            found = try directory.details(tag: tag, deadline: deadline)
        } catch {
            throw rtFailure(error, user: user)
        }
        let details = found ?? AssetDetails()
        return (
            Label(tag: tag, details: details, size: context.labels.size(requested: requested, assetType: details.type)),
            found == nil
        )
    }

    /// The page for RT failing: 502 when it refused or could not be reached, 504 when it did not
    /// answer within RT_TIMEOUT; the cause in one sentence, as on the look-up page.
    func rtFailure(_ error: RTError, user: String?) -> Refusal {
        context.logger.warning("label: Request Tracker could not answer: \(error)")
        return Refusal(
            response: context.errorPage(
                RequestTrackerBridge.status(error), "Label",
                "Request Tracker could not answer: \(error). Try again in a moment; if it goes on, tell whoever runs RT.",
                user: user))
    }

    /// `size=` from the query: nil when absent or empty.
    func requestedSize(_ request: Request) throws(Refusal) -> LabelSize? {
        guard let text = request.queryItems["size"], !text.isEmpty else { return nil }
        guard let size = LabelSize(rawValue: text.lowercased()) else {
            throw Refusal(
                response: context.errorPage(
                    .badRequest, "Label", "size must be large or small, not \(text)", user: request.user))
        }
        return size
    }

    // MARK: Drawing

    /// The label's SVG at its size.
    func render(_ label: Label) -> String {
        let payload = directory?.webURL(tag: label.tag, id: label.details.id) ?? label.tag
        let content = context.labels.content(
            tag: label.tag, details: label.details, size: label.size, qrPayload: payload)
        let dimensions = context.labels.dimensions(label.size)
        return LabelSVG.render(content, widthMm: dimensions.widthMm, heightMm: dimensions.heightMm)
    }

    /// One label as the page holds it: its `data-size` names its `@page` (see labels.css).
    func labelElement(_ svg: String, _ size: LabelSize) -> HTML {
        "<div class=\"print-label\" data-size=\"\(size.rawValue)\">\(raw: svg)</div>"
    }

    /// `@page` rules sized to the labels, so each label prints on its own page of the label
    /// printer: the unnamed page (what the first page gets) at the first label's size, and one
    /// named page per size, which each label asks for by its `data-size`.
    func pageStyle(_ sizes: [LabelSize]) -> HTML {
        let first = context.labels.dimensions(sizes.first ?? context.labels.defaultSize)
        var style = "@page { size: \(Self.mm(first.widthMm)) \(Self.mm(first.heightMm)); margin: 0; }"
        for size in LabelSize.allCases {
            let dimensions = context.labels.dimensions(size)
            style +=
                " @page \(size.rawValue) { size: \(Self.mm(dimensions.widthMm)) \(Self.mm(dimensions.heightMm)); margin: 0; }"
        }
        return "<style>\(raw: style)</style>"
    }

    /// "Size: Large Small", the current one in bold, the others links to the same labels at
    /// that size (a batch of mixed sizes has no current one).
    func sizeSwitch(current: LabelSize?, path: String, query: [(String, String)]) -> HTML {
        var writer = HTMLWriter(capacity: 256)
        writer.append("<span class=\"size-switch\">Size:")
        for size in LabelSize.allCases {
            let name = size == .large ? "Large" : "Small"
            if size == current {
                writer.append(" <strong aria-current=\"true\">\(name)</strong>")
            } else {
                let href = path + Self.queryString(query + [("size", size.rawValue)])
                writer.append(" <a href=\"\(href)\" data-size=\"\(size.rawValue)\">\(name)</a>")
            }
        }
        writer.append("</span>")
        return writer.html
    }

    // MARK: Helpers

    static func mm(_ value: Double) -> String { LabelOptions.millimetres(value) + "mm" }

    /// The typed details of a label URL (name, serial, owner), in that order, the empty ones left out.
    static func detailsQuery(_ query: [String: String]) -> [(String, String)] {
        ["name", "serial", "owner"].compactMap { key in query[key].flatMap { $0.isEmpty ? nil : (key, $0) } }
    }

    /// "?a=1&b=2" (values percent-encoded), or "" for no items.
    static func queryString(_ items: [(String, String)]) -> String {
        items.isEmpty ? "" : "?" + items.map { "\($0.0)=\(encoded($0.1))" }.joined(separator: "&")
    }

    /// `text` as one URL component: RFC 3986's unreserved characters kept, the rest `%XX`.
    static func encoded(_ text: String) -> String { PercentEncoding.encode(text) }

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
