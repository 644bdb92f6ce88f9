import Prefork
import PreforkCore
import RequestTracker

/// Device intake: `GET /intake` (the form), `POST /intake`, `POST /api/intake` (JSON, the
/// same fields; `serials` one per line). Each serial is checked unique in RT first (a serial RT
/// already has stops the batch before anything is made); then each device is created in RT
/// with its custom fields and a new "Adjective Animal" Internal Name no other asset has, given
/// the next tag (recorded only once the asset exists, so no tag is used without one) and
/// renamed to it. The labels of the batch open for printing. A failure stops the batch and the
/// page says which serials were made and which were not.
struct IntakeRoutes: Sendable {
    let context: AppContext
    let bridge: RequestTrackerBridge?
    static let defaultCatalog = "General assets"

    func add(to router: inout Router) {
        router.get("/intake") { request in form(request) }
        router.post("/intake") { request in try submitForm(request) }
        router.post("/api/intake") { request in try submitAPI(request) }
    }

    func run(_ batch: IntakeBatch, with bridge: RequestTrackerBridge, by user: String) -> IntakeOutcome {
        var outcome = IntakeOutcome()
        let client = bridge.client
        let deadline = bridge.batchDeadline()
        var generator = SystemRandomNumberGenerator()
        do {
            for serial in batch.serials {
                if let existing = try client.assetIDs(
                    customField: RTAsset.serialNumberField, value: serial, deadline: deadline
                )
                .first {
                    outcome.duplicate = (serial, existing)
                    outcome.notMade = batch.serials
                    return outcome
                }
            }
        } catch {
            outcome.failure = error
            outcome.notMade = batch.serials
            return outcome
        }
        for (index, serial) in batch.serials.enumerated() {
            do {
                let name = try uniqueInternalName(client, deadline, &generator)
                var fields = batch.sharedFields
                fields[RTAsset.serialNumberField] = serial
                fields["Internal Name"] = name
                let asset = try client.createAsset(
                    name: serial, catalog: batch.catalog, description: batch.description, customFields: fields,
                    deadline: deadline)
                let (tag, _) = try context.tags.issue(forAsset: asset.id, note: "intake", by: user)
                try client.updateAsset(id: asset.id, name: tag.tag, deadline: deadline)
                outcome.made.append(.init(serial: serial, tag: tag.tag, internalName: name, assetID: asset.id))
            } catch let error as RTError {
                outcome.failure = error
                outcome.notMade = Array(batch.serials[index...])
                break
            } catch {
                outcome.failure = RTError(.badResponse, url: client.configuration.url, "\(error)")
                outcome.notMade = Array(batch.serials[index...])
                break
            }
        }
        let tags = outcome.made.isEmpty ? "" : " (\(outcome.made.map(\.tag).joined(separator: ", ")))"
        context.logger.info(
            "intake: \(outcome.made.count) of \(batch.serials.count) device(s) created in RT\(tags)",
            metadata: ["REMOTE_USER": "\(user)"])
        return outcome
    }

    private func uniqueInternalName(
        _ client: RTClient, _ deadline: RTDeadline, _ generator: inout SystemRandomNumberGenerator
    ) throws(RTError) -> String {
        for _ in 0..<12 {
            let name = InternalNames.random(using: &generator)
            if try client.assetIDs(customField: "Internal Name", value: name, deadline: deadline).isEmpty {
                return name
            }
        }
        throw RTError(
            .rejected, url: client.configuration.url,
            "no free Internal Name after 12 tries: add words to data/internal-names (\(InternalNames.count) names)")
    }

    /// One sentence for what stopped the batch.
    static func stopped(_ outcome: IntakeOutcome) -> String? {
        if let duplicate = outcome.duplicate {
            return "RT already has serial \(duplicate.serial) (asset #\(duplicate.assetID)): nothing was created."
        }
        guard let failure = outcome.failure else { return nil }
        let made = outcome.made.isEmpty ? "Nothing was created" : "\(outcome.made.count) device(s) were created"
        return "\(made); RT stopped the batch at \(outcome.notMade.first ?? "?"): \(failure.message). "
            + "Not created: \(outcome.notMade.joined(separator: ", "))."
    }

    func submitAPI(_ request: Request) throws -> Response {
        let fields: [String: String]
        switch APIBody.fields(request) {
        case .success(let parsed): fields = parsed
        case .failure(let problem): return AppContext.jsonError(problem.status, problem.text)
        }
        let batch: IntakeBatch
        switch IntakeBatch.parse(fields, defaultCatalog: Self.defaultCatalog) {
        case .success(let value): batch = value
        case .failure(let problem): return AppContext.jsonError(.badRequest, problem.text)
        }
        guard let bridge else { return AppContext.jsonError(.serviceUnavailable, AssetTagRoutes.notSetUp) }
        let outcome = run(batch, with: bridge, by: request.user ?? "")
        let answer = Answer(
            error: Self.stopped(outcome),
            created: outcome.made.map {
                Answer.Device(serial: $0.serial, tag: $0.tag, internalName: $0.internalName, assetID: $0.assetID)
            },
            notCreated: outcome.notMade)
        guard answer.error != nil else { return JSONAnswer.response(answer, status: .created) }
        let status = outcome.duplicate != nil ? .conflict : RequestTrackerBridge.status(outcome.failure!)
        return JSONAnswer.response(answer, status: status)
    }

    /// `POST /api/intake`'s answer; `error` only when the batch stopped.
    struct Answer: Encodable {
        struct Device: Encodable {
            var serial: String
            var tag: String
            var internalName: String
            var assetID: Int

            enum CodingKeys: String, CodingKey {
                case serial, tag
                case internalName = "internal_name"
                case assetID = "asset_id"
            }
        }

        var error: String?
        var created: [Device]
        var notCreated: [String]

        enum CodingKeys: String, CodingKey {
            case error, created
            case notCreated = "not_created"
        }
    }

    func submitForm(_ request: Request) throws -> Response {
        let fields = FormDecoding.decode(request.bodyText)
        guard context.csrf.verify(request, form: fields) else {
            return form(request, fields: fields, message: CSRFMessage.text, status: .forbidden)
        }
        let batch: IntakeBatch
        switch IntakeBatch.parse(fields, defaultCatalog: Self.defaultCatalog) {
        case .success(let value): batch = value
        case .failure(let problem): return form(request, fields: fields, message: problem.text, status: .badRequest)
        }
        guard let bridge else {
            return form(request, fields: fields, message: AssetTagRoutes.notSetUp, status: .serviceUnavailable)
        }
        let outcome = run(batch, with: bridge, by: request.user ?? "")
        let labels = "/labels?tags=" + outcome.made.map { PercentEncoding.encode($0.tag) }.joined(separator: ",")
        guard let stopped = Self.stopped(outcome) else { return AppContext.redirect(labels) }
        var kept = fields
        kept["serials"] = outcome.notMade.joined(separator: "\n")
        let status: HTTPStatus = outcome.duplicate != nil ? .conflict : RequestTrackerBridge.status(outcome.failure!)
        return form(request, fields: kept, message: stopped, status: status, made: outcome.made, labels: labels)
    }

    func form(
        _ request: Request, fields: [String: String] = [:], message: String? = nil, status: HTTPStatus = .ok,
        made: [IntakeOutcome.Made] = [], labels: String = ""
    ) -> Response {
        context.formPage(request, status: status, title: "Device intake") { page, csrfField in
            if let message { page.append(Layout.message(message, ok: false)) }
            if !made.isEmpty {
                page.append(
                    "<table><thead><tr><th>Serial</th><th>Tag</th><th>Internal Name</th><th>RT</th></tr></thead><tbody>"
                )
                for device in made {
                    page.append(
                        """
                        <tr><td>\(device.serial)</td><td class="tag">\(device.tag)</td><td>\(device.internalName)</td>\
                        <td>#\(String(device.assetID))</td></tr>
                        """)
                }
                page.append("</tbody></table><p><a href=\"\(labels)\">Print the labels of these</a></p>")
            }
            page.append(
                """
                <form class="card" method="post" action="/intake">
                \(csrfField)
                <p>New devices into Request Tracker: each gets the next tag and an Internal Name, then their labels open for printing (at most \(String(IntakeBatch.maximum)) at a time).</p>
                <label for="serials">Serial numbers, one per line</label><textarea id="serials" name="serials" rows="8" required>\(fields["serials"] ?? "")</textarea>
                <label for="type">Type</label><input id="type" name="type" type="text" value="\(fields["type"] ?? "")" placeholder="Chromebook, Laptop, Charger...">
                <label for="model">Model</label><input id="model" name="model" type="text" value="\(fields["model"] ?? "")">
                <label for="funding_source">Funding Source</label><input id="funding_source" name="funding_source" type="text" value="\(fields["funding_source"] ?? "")">
                <label for="catalog">RT catalog</label><input id="catalog" name="catalog" type="text" value="\(fields["catalog"] ?? Self.defaultCatalog)">
                <label for="description">Description (optional)</label><input id="description" name="description" type="text" value="\(fields["description"] ?? "")">
                <p><button type="submit">Create in Request Tracker</button></p>
                </form>
                """)
        }
    }
}
