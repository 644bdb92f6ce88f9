import LabelGraphics
import Prefork
import RequestTracker

/// `GET /labels`: the forms (with the recently issued tags), the forms' redirects to one label,
/// and the batches.
extension LabelRoutes {
    func index(_ request: Request) throws -> Response {
        let query = request.queryItems
        let requested: LabelSize?
        do {
            requested = try requestedSize(request)
        } catch {
            return error.response
        }
        let size = requested.map { [("size", $0.rawValue)] } ?? []
        if let tag = query["tag"], !tag.isEmpty {  // the single-label form
            return AppContext.redirect(
                "/labels/\(Self.encoded(tag.trimmingSpaces().uppercased()))"
                    + Self.queryString(Self.detailsQuery(query) + size))
        }
        if let id = query["asset"], !id.isEmpty {  // the form by RT asset id
            return AppContext.redirect("/labels/asset/\(Self.encoded(id.trimmingSpaces()))" + Self.queryString(size))
        }
        let found: Batch?
        do {
            found = try self.batch(query, user: request.user)
        } catch {
            return error.response
        }
        guard let batch = found else { return try form(user: request.user) }
        let labels: [Label]
        do {
            labels =
                try batch.lookUp
                ? lookedUp(batch.tags, requested: requested, user: request.user) : bare(batch.tags, requested)
        } catch {
            return error.response
        }
        return batchPage(batch, labels: labels, requested: requested, user: request.user)
    }

    /// The tags of a batch and how it was asked for.
    struct Batch {
        var tags: [String]
        /// The query that makes the same batch (without `size`), for the size switch.
        var query: [(String, String)]
        /// Whether each label takes its details from RT (a list of tags, with RT configured).
        var lookUp: Bool
    }

    /// The batch `?tags=` or `?from=&count=` asks for; nil for neither (the forms).
    private func batch(_ query: [String: String], user: String?) throws(Refusal) -> Batch? {
        let batch: Batch
        if let list = query["tags"], !list.isEmpty {
            var tags: [String] = []
            for typed in list.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" || $0 == "\r" }) {
                switch TagInput.parse(String(typed)) {
                case .success(let tag): tags.append(tag)
                case .failure(let problem):
                    throw Refusal(response: context.errorPage(.badRequest, "Labels", problem.text, user: user))
                }
            }
            batch = Batch(tags: tags, query: [("tags", tags.joined(separator: ","))], lookUp: directory != nil)
        } else if let from = query["from"], !from.isEmpty {
            let countText = query["count"] ?? "1"
            guard let count = Int(countText), (1...Self.maximumBatch).contains(count),
                let range = Self.series(from: from.uppercased(), count: count)
            else {
                throw Refusal(
                    response: context.errorPage(
                        .badRequest, "Labels",
                        "from must be a tag ending in digits, and count a number from 1 to \(Self.maximumBatch)",
                        user: user))
            }
            batch = Batch(tags: range, query: [("from", from.uppercased()), ("count", String(count))], lookUp: false)
        } else if let rtQuery = query["query"]?.trimmingSpaces(), !rtQuery.isEmpty {
            // An RT query (AssetSQL): its assets' labels with their details. RT 5.0 reads some
            // text it cannot parse as no condition at all: the page's title says how many
            // labels, and more than a batch may have is refused.
            guard let directory else {
                throw Refusal(
                    response: context.errorPage(.serviceUnavailable, "Labels", AssetTagRoutes.notSetUp, user: user))
            }
            do {
                let tags = try directory.tags(
                    matching: rtQuery, limit: Self.maximumBatch, deadline: directory.deadline())
                guard !tags.isEmpty else {
                    throw Refusal(
                        response: context.errorPage(
                            .notFound, "Labels", "No asset in Request Tracker matches \(rtQuery).", user: user))
                }
                batch = Batch(tags: tags, query: [("query", rtQuery)], lookUp: true)
            } catch let error as RTError {
                throw rtFailure(error, user: user)
            } catch let refusal as Refusal {
                throw refusal
            } catch {
                throw Refusal(response: context.errorPage(.internalServerError, "Labels", "\(error)", user: user))
            }
        } else {
            return nil
        }
        guard !batch.tags.isEmpty else { return nil }
        guard batch.tags.count <= Self.maximumBatch else {
            throw Refusal(
                response: context.errorPage(
                    .badRequest, "Labels", "At most \(Self.maximumBatch) labels at a time.", user: user))
        }
        if let bad = batch.tags.first(where: { !Self.isTag($0) }) {
            throw Refusal(response: context.errorPage(.badRequest, "Labels", "Not an asset tag: \(bad)", user: user))
        }
        return batch
    }

    /// Labels of bare tags (pre-printing): no details, the size asked for or the default.
    private func bare(_ tags: [String], _ requested: LabelSize?) -> [Label] {
        let size = context.labels.size(requested: requested, assetType: "")
        return tags.map { Label(tag: $0, details: AssetDetails(), size: size) }
    }

    /// Labels with each tag's details from RT (one request per tag, all within one deadline, so
    /// a long batch against a slow RT ends as a 504 page, not a killed worker); a tag RT lacks
    /// gets a bare label.
    private func lookedUp(_ tags: [String], requested: LabelSize?, user: String?) throws(Refusal) -> [Label] {
        var labels: [Label] = []
        let deadline = directory?.deadline()
        for tag in tags {
            labels.append(try lookUp(tag, requested: requested, user: user, deadline: deadline).0)
        }
        return labels
    }

    private func batchPage(_ batch: Batch, labels: [Label], requested: LabelSize?, user: String?) -> Response {
        let missing = labels.filter { $0.details.id == nil }.map(\.tag)
        let sizes = labels.map(\.size)
        let current = requested ?? (Set(sizes).count == 1 ? sizes[0] : nil)
        return context.page(
            "\(labels.count) label\(labels.count == 1 ? "" : "s")", extraCSS: ["labels.css"], user: user
        ) { page in
            if batch.lookUp && !missing.isEmpty {
                page.append(
                    Layout.message(
                        "Request Tracker has no asset named \(missing.joined(separator: ", ")); "
                            + (missing.count == 1
                                ? "its label links to a search for it." : "their labels link to searches for them."),
                        ok: false))
            }
            page.append(
                """
                <p class="no-print">\(labels.first!.tag) to \(labels.last!.tag), one label per page when printed.
                <button type="button" data-print>Print</button>
                \(sizeSwitch(current: current, path: "/labels", query: batch.query))</p>
                \(pageStyle(sizes))
                <div class="labels">
                """)
            for (index, label) in labels.enumerated() {
                if index > 0 { page.append("\n") }
                page.append(labelElement(render(label), label.size))
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
                \(sizeChoice(id: "size"))
                <p><button type="submit">Show label</button></p>
                </form>
                """)
            if directory != nil {
                page.append(
                    """
                    <form class="card" method="get" action="/labels">
                    <p>One label by the asset's id in Request Tracker.</p>
                    <label for="asset">RT asset id</label><input id="asset" name="asset" type="number" min="1" required>
                    \(sizeChoice(id: "asset-size"))
                    <p><button type="submit">Show label</button></p>
                    </form>
                    <form class="card" method="get" action="/labels">
                    <p>A batch of tags, each with its details from Request Tracker, one label per printed page.</p>
                    <label for="tags">Asset tags (commas, spaces or one a line)</label><textarea id="tags" name="tags" rows="3" required></textarea>
                    \(sizeChoice(id: "tags-size"))
                    <p><button type="submit">Show labels</button></p>
                    </form>
                    <form class="card" method="get" action="/labels">
                    <p>The assets a Request Tracker query selects, like <code>CF.{Type} = 'Charger' AND Status = 'new'</code>. Check the count in the title before printing.</p>
                    <label for="query">RT query (AssetSQL)</label><input id="query" name="query" type="text" required>
                    \(sizeChoice(id: "query-size"))
                    <p><button type="submit">Show labels</button></p>
                    </form>
                    """)
            }
            page.append(
                """
                <form class="card" method="get" action="/labels">
                <p>A batch of bare tags for pre-printing, one label per printed page.</p>
                <label for="from">First tag</label><input id="from" name="from" type="text" placeholder="W12-0001">
                <label for="count">How many</label><input id="count" name="count" type="number" min="1" max="\(Self.maximumBatch)" value="10">
                \(sizeChoice(id: "from-size"))
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

    /// The size menu of a form: Default (the URL names no size), Large, Small.
    private func sizeChoice(id: String) -> HTML {
        """
        <label for="\(id)">Size</label><select id="\(id)" name="size"><option value="">Default</option>\
        <option value="large">Large</option><option value="small">Small</option></select>
        """
    }
}
