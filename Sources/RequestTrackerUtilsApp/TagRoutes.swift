import Prefork
import PreforkCore

/// Asset tags: `GET /tags` (history and the form), `POST /tags` (issue from the form),
/// `GET /api/tags` and `POST /api/tags` (JSON).
struct TagRoutes: Sendable {
    let context: AppContext
    /// The page's history table, kept per worker while the database is unchanged.
    let history = TagHistory()

    func add(to router: inout Router) {
        router.get("/tags") { request in try page(request) }
        router.post("/tags") { request in try issueFromForm(request) }
        router.post("/tags/next") { request in try setNextFromForm(request) }
        router.get("/api/tags") { request in try list(request) }
        router.post("/api/tags") { request in try issueFromAPI(request) }
    }

    func page(_ request: Request, message: String? = nil, status: HTTPStatus = .ok) throws -> Response {
        let query = request.queryItems
        return try context.formPage(request, status: status, title: "Asset tags") { page, csrfField in
            if let message { page.append(Layout.message(message, ok: false)) }
            if let tagged = query["tagged"], let asset = query["asset"] {
                page.append(
                    Layout.message(
                        query["again"] == nil
                            ? "RT asset #\(asset) is now \(tagged)."
                            : "RT asset #\(asset) already had \(tagged); RT has that name.",
                        ok: true))
                page.append("<p><a href=\"/labels/\(percentEncoded: tagged)\">Print its label</a></p>")
            }
            if let next = query["next-set"] {
                page.append(Layout.message("The next tag is now \(next) (it was \(query["was"] ?? "?")).", ok: true))
            }
            if let first = query["issued"], let count = Int(query["count"] ?? "1") {
                let last = query["last"] ?? first
                page.append(
                    Layout.message(
                        count == 1 ? "Issued \(first)." : "Issued \(count) tags: \(first) to \(last).", ok: true))
                page.append(
                    "<p><a href=\"/labels?from=\(percentEncoded: first)&amp;count=\(count)\">Print labels for them</a></p>"
                )
            }
            let history = try context.tags.read { reader in try self.history.current(reader) }
            page.append(
                """

                <form class="card" method="post" action="/tags">
                \(csrfField)
                <p>The next tag is <span class="tag">\(history.next)</span>.</p>
                <label for="count">How many</label><input id="count" name="count" type="number" min="1" max="\(AssetTagStore.maximumBatch)" value="1">
                <label for="note">Note (optional)</label><input id="note" name="note" type="text" maxlength="200">
                <p><button type="submit">Issue tags</button></p>
                </form>
                <h2>Recently issued</h2>
                <table><thead><tr><th>Tag</th><th>Issued (UTC)</th><th>By</th><th>Note</th><th></th></tr></thead>
                <tbody>
                """)
            page.append(history.rows)
            page.append(
                """
                </tbody></table>
                <details class="card"><summary>Tag an asset already in Request Tracker</summary>
                <form method="post" action="/tags/asset">
                \(csrfField)
                <p>The asset gets the next tag (or the one it was given before) as its Name in RT.</p>
                <label for="by">Find it by</label><select id="by" name="by"><option value="id">RT asset id</option><option value="serial">serial number</option><option value="tag">its current name</option></select>
                <label for="asset">Value</label><input id="asset" name="asset" type="text" required>
                <p><button type="submit">Tag it</button></p>
                </form></details>
                <details class="card"><summary>Set the next tag</summary>
                <form method="post" action="/tags/next">
                \(csrfField)
                <p>For a district whose tags already run: the next tag issued. Below the last issued one only with the box ticked, when you know those numbers are free.</p>
                <label for="next">Next tag</label><input id="next" name="next" type="text" required placeholder="\(history.next)">
                <label><input name="force" type="checkbox" value="1"> even if it is not above the last issued tag</label>
                <p><button type="submit">Set</button></p>
                </form></details>
                """)
        }
    }

    func issueFromForm(_ request: Request) throws -> Response {
        let form = FormDecoding.decode(request.bodyText)
        guard context.csrf.verify(request, form: form) else {
            return try page(request, message: CSRFMessage.text, status: .forbidden)
        }
        let parsed = parse(count: form["count"], note: form["note"])
        guard case .success(let (count, note)) = parsed else {
            if case .failure(let problem) = parsed {
                return try page(request, message: problem.text, status: .badRequest)
            }
            return try page(request)
        }
        let issued = try context.tags.issue(count: count, note: note, by: request.user ?? "")
        return AppContext.redirect(
            "/tags?issued=\(PercentEncoding.encode(issued.first!.tag))&last=\(PercentEncoding.encode(issued.last!.tag))&count=\(count)"
        )
    }

    func setNextFromForm(_ request: Request) throws -> Response {
        let form = FormDecoding.decode(request.bodyText)
        guard context.csrf.verify(request, form: form) else {
            return try page(request, message: CSRFMessage.text, status: .forbidden)
        }
        let typed = (form["next"] ?? "").trimmingSpaces()
        do {
            let previous = try context.tags.setNext(typed, force: form["force"] == "1")
            context.logger.info(
                "next tag set to \(typed.uppercased()) (was \(previous))",
                metadata: ["REMOTE_USER": "\(request.user ?? "")"])
            return AppContext.redirect(
                "/tags?next-set=\(PercentEncoding.encode(try context.tags.peekNext()))&was=\(PercentEncoding.encode(previous))"
            )
        } catch let refusal as AssetTagStore.Refusal {
            return try page(request, message: refusal.description, status: .conflict)
        }
    }

    func issueFromAPI(_ request: Request) throws -> Response {
        let fields: [String: String]
        switch APIBody.fields(request) {
        case .success(let parsed): fields = parsed
        case .failure(let problem): return AppContext.jsonError(problem.status, problem.text)
        }
        switch parse(count: fields["count"], note: fields["note"]) {
        case .failure(let problem): return AppContext.jsonError(.badRequest, problem.text)
        case .success(let (count, note)):
            let issued = try context.tags.issue(count: count, note: note, by: request.user ?? "")
            return JSONAnswer.response(["tags": issued], status: .created)
        }
    }

    func list(_ request: Request) throws -> Response {
        let limit = min(max(Int(request.queryItems["limit"] ?? "") ?? 50, 1), 1000)
        var recent: [AssetTagStore.IssuedTag] = []
        let next = try context.tags.read { reader in
            try reader.forEachRecent(limit: limit) { tag in recent.append(tag) }
            return try reader.peekNext()
        }
        return JSONAnswer.response(List(next: next, tags: recent))
    }

    /// `GET /api/tags`'s answer: the next tag and the latest issued.
    struct List: Encodable {
        var next: String
        var tags: [AssetTagStore.IssuedTag]
    }

    struct Problem: Error {
        var text: String
    }

    private func parse(count: String?, note: String?) -> Result<(Int, String), Problem> {
        let countText = (count ?? "").isEmpty ? "1" : count!
        guard let value = Int(countText), (1...AssetTagStore.maximumBatch).contains(value) else {
            return .failure(Problem(text: "count must be a whole number from 1 to \(AssetTagStore.maximumBatch)"))
        }
        let note = note ?? ""
        guard note.count <= 200 else { return .failure(Problem(text: "note must be at most 200 characters")) }
        return .success((value, note))
    }
}

enum CSRFMessage {
    static let text =
        "The form expired or came from another site (CSRF check failed): reload the page and submit again."
}
