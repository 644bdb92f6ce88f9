import Prefork
import RequestTracker

/// Asset look-up in Request Tracker: `GET /assets?tag=…` or `?serial=…` (a page), and
/// `GET /api/assets/TAG`, `GET /api/assets?serial=…` (JSON). RT being down, slow or refusing
/// is a page that says so (502/504), within RT_TIMEOUT.
struct AssetRoutes: Sendable {
    let context: AppContext
    let bridge: RequestTrackerBridge?

    func add(to router: inout Router) {
        router.get("/assets") { request in page(request) }
        router.get("/api/assets") { request in api(request, tag: nil) }
        router.get("/api/assets/:tag") { request in api(request, tag: request.parameters["tag"]) }
    }

    private enum Query {
        case tag(String)
        case serial(String)

        var text: String {
            switch self {
            case .tag(let tag): return "tag \(tag)"
            case .serial(let serial): return "serial number \(serial)"
            }
        }
    }

    private func find(_ query: Query) -> Result<RTAsset, RTError> {
        guard let bridge else {
            return .failure(
                RTError(
                    .configuration, url: "(RT_URL not set)",
                    "Request Tracker is not configured: set RT_URL and RT_TOKEN"))
        }
        do {
            switch query {
            case .tag(let tag): return .success(try bridge.client.asset(tag: tag))
            case .serial(let serial): return .success(try bridge.client.asset(serial: serial))
            }
        } catch {
            context.logger.warning("asset look-up by \(query.text): \(error)")
            return .failure(error)
        }
    }

    func page(_ request: Request) -> Response {
        let items = request.queryItems
        let tag = (items["tag"] ?? "").trimmingSpaces().uppercased()
        let serial = (items["serial"] ?? "").trimmingSpaces()
        let form: HTML = """
            <form class="card" method="get" action="/assets">
            <label for="tag">Asset tag</label><input id="tag" name="tag" type="text" value="\(tag)">
            <label for="serial">or serial number</label><input id="serial" name="serial" type="text" value="\(serial)">
            <p><button type="submit">Look up</button></p>
            </form>
            """
        let query: Query
        if !tag.isEmpty {
            switch TagInput.parse(tag) {
            case .success(let parsed): query = .tag(parsed)
            case .failure(let problem):
                return context.page("Asset look-up", status: .badRequest, user: request.user) { page in
                    page.append(Layout.message(problem.text, ok: false))
                    page.append(form)
                }
            }
        } else if !serial.isEmpty {
            query = .serial(serial)
        } else {
            return context.page("Asset look-up", user: request.user) { page in page.append(form) }
        }
        switch find(query) {
        case .failure(let error):
            let status = RequestTrackerBridge.status(error)
            let message: String
            switch (status, error.kind) {
            case (.notFound, _): message = "Request Tracker has no asset with \(query.text)."
            case (_, .configuration) where bridge == nil:
                message =
                    "Asset look-up needs Request Tracker, which is not set up here: the operator sets RT_URL and "
                    + "RT_TOKEN (see docs/application.md)."
            default:
                message =
                    "Request Tracker could not answer: \(error). Try again in a moment; if it goes on, tell whoever runs RT."
            }
            return context.page("Asset look-up", status: status, user: request.user) { page in
                page.append("\(Layout.message(message, ok: false))\(form)")
            }
        case .success(let asset):
            return found(asset, form: form, user: request.user)
        }
    }

    private func found(_ asset: RTAsset, form: HTML, user: String?) -> Response {
        let details = RequestTrackerBridge.details(asset)
        let web = bridge!.client.assetWebURL(id: asset.id)
        return context.page("Asset \(asset.name)", user: user) { page in
            page.append("\(form)\n<table>")
            for (name, value) in [
                ("Tag", asset.name), ("Name", details.name), ("Serial number", details.serial),
                ("Owner", asset.owner), ("Status", asset.status),
            ] {
                page.append("<tr><th>\(name)</th><td>\(value)</td></tr>")
            }
            page.append("</table>\n<p><a href=\"\(web)\">Open in Request Tracker</a> ·\n")
            page.append(
                """
                <a href="/labels/asset/\(asset.id)">Label</a> ·
                <a href="/checkin?tag=\(percentEncoded: asset.name)">Check in</a></p>
                """)
        }
    }

    func api(_ request: Request, tag: String?) -> Response {
        let query: Query
        if let tag, !tag.isEmpty {
            switch TagInput.parse(tag) {
            case .success(let parsed): query = .tag(parsed)
            case .failure(let problem): return AppContext.jsonError(.badRequest, problem.text)
            }
        } else if let serial = request.queryItems["serial"], !serial.isEmpty {
            query = .serial(serial)
        } else {
            return AppContext.jsonError(.badRequest, "give a tag (/api/assets/TAG) or ?serial=")
        }
        switch find(query) {
        case .failure(let error):
            return AppContext.jsonError(RequestTrackerBridge.status(error), "\(error)")
        case .success(let asset):
            let details = RequestTrackerBridge.details(asset)
            return JSONAnswer.response(
                Answer(
                    id: asset.id, tag: asset.name, name: details.name, serial: details.serial, owner: asset.owner,
                    status: asset.status, url: bridge!.client.assetWebURL(id: asset.id)))
        }
    }

    /// `GET /api/assets/TAG`'s answer.
    struct Answer: Encodable {
        var id: Int
        var tag: String
        var name: String
        var serial: String
        var owner: String
        var status: String
        var url: String
    }
}
