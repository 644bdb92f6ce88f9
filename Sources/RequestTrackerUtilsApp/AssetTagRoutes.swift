import Prefork
import PreforkCore
import RequestTracker

/// Tags stuck on RT assets: `POST /tags/asset` (the form on /tags), `POST /api/tags/asset`
/// (JSON: `{"id": N}`, `{"serial": "..."}` or `{"tag": "..."}`), and `POST /webhook/asset-created`
/// for RT's scrip on asset creation (`{"asset_id": N}`, with an API token). The asset's Name in
/// RT becomes its tag and the link is recorded; a second call for the same asset answers with
/// the same tag (never a second one), and renames it again if RT missed the first rename.
struct AssetTagRoutes: Sendable {
    let context: AppContext
    let bridge: RequestTrackerBridge?

    func add(to router: inout Router) {
        router.post("/tags/asset") { request in try fromForm(request) }
        router.post("/api/tags/asset") { request in try fromAPI(request, webhook: false) }
        router.post("/webhook/asset-created") { request in try fromAPI(request, webhook: true) }
    }

    enum Which: Equatable {
        case id(Int)
        case serial(String)
        case tag(String)
    }

    struct Outcome {
        var asset: RTAsset
        var tag: AssetTagStore.IssuedTag
        var isNew: Bool
    }

    /// Finds the asset, gives it its tag (the linked one, or the next) and writes it to RT as
    /// the asset's Name; all RT calls share one deadline.
    func tag(_ which: Which, with bridge: RequestTrackerBridge, by user: String, note: String) throws -> Result<
        Outcome, RTError
    > {
        let deadline = bridge.deadline()
        do {
            let asset: RTAsset
            switch which {
            case .id(let id): asset = try bridge.client.asset(id: id, deadline: deadline)
            case .serial(let serial): asset = try bridge.client.asset(serial: serial, deadline: deadline)
            case .tag(let tag): asset = try bridge.client.asset(tag: tag, deadline: deadline)
            }
            let (tag, isNew) = try context.tags.issue(forAsset: asset.id, note: note, by: user)
            var renamed = asset
            if asset.name != tag.tag {
                renamed = try bridge.client.updateAsset(id: asset.id, name: tag.tag, deadline: deadline)
            }
            context.logger.info(
                "asset #\(asset.id) tagged \(tag.tag)\(isNew ? "" : " (its tag already)")",
                metadata: ["REMOTE_USER": "\(user)"])
            return .success(Outcome(asset: renamed, tag: tag, isNew: isNew))
        } catch let error as RTError {
            context.logger.warning("tagging an RT asset (\(which)): \(error)")
            return .failure(error)
        }
    }

    static let notSetUp = "Request Tracker is not set up here: the operator sets RT_URL and RT_TOKEN."

    static func which(_ fields: [String: String]) -> Result<Which, TagRoutes.Problem> {
        if let text = fields["asset_id"] ?? fields["id"], !text.isEmpty {
            guard let id = Int(text.trimmingSpaces()), id > 0 else {
                return .failure(.init(text: "id must be an RT asset's number"))
            }
            return .success(.id(id))
        }
        if let serial = fields["serial"]?.trimmingSpaces(), !serial.isEmpty { return .success(.serial(serial)) }
        if let tag = fields["tag"], !tag.isEmpty { return TagInput.parse(tag).map { .tag($0) } }
        return .failure(.init(text: "say which asset: its RT id, its serial number or its current name (tag)"))
    }

    func fromAPI(_ request: Request, webhook: Bool) throws -> Response {
        let fields: [String: String]
        switch APIBody.fields(request) {
        case .success(let parsed): fields = parsed
        case .failure(let problem): return AppContext.jsonError(problem.status, problem.text)
        }
        if webhook && (fields["asset_id"] ?? fields["id"]) == nil {
            return AppContext.jsonError(.badRequest, "the webhook needs {\"asset_id\": N}, the new asset's id")
        }
        let which: Which
        switch Self.which(fields) {
        case .success(let value): which = value
        case .failure(let problem): return AppContext.jsonError(.badRequest, problem.text)
        }
        guard let bridge else { return AppContext.jsonError(.serviceUnavailable, Self.notSetUp) }
        let note = webhook ? "new RT asset (webhook)" : (fields["note"] ?? "")
        switch try tag(which, with: bridge, by: request.user ?? "", note: note) {
        case .failure(let error):
            return AppContext.jsonError(RequestTrackerBridge.status(error), error.description)
        case .success(let outcome):
            return JSONAnswer.response(
                Answer(tag: outcome.tag.tag, assetID: outcome.asset.id, new: outcome.isNew),
                status: outcome.isNew ? .created : .ok)
        }
    }

    /// The API's and the webhook's answer: the asset's tag, and whether this call gave it.
    struct Answer: Encodable {
        var tag: String
        var assetID: Int
        var new: Bool

        enum CodingKeys: String, CodingKey {
            case tag
            case assetID = "asset_id"
            case new
        }
    }

    func fromForm(_ request: Request) throws -> Response {
        let fields = FormDecoding.decode(request.bodyText)
        let page = TagRoutes(context: context)
        guard context.csrf.verify(request, form: fields) else {
            return try page.page(request, message: CSRFMessage.text, status: .forbidden)
        }
        let typed = (fields["asset"] ?? "").trimmingSpaces()
        let by = fields["by"] ?? "id"
        let which: Which
        switch Self.which([by: typed]) {
        case .success(let value): which = value
        case .failure(let problem): return try page.page(request, message: problem.text, status: .badRequest)
        }
        guard let bridge else { return try page.page(request, message: Self.notSetUp, status: .serviceUnavailable) }
        switch try tag(which, with: bridge, by: request.user ?? "", note: fields["note"] ?? "") {
        case .failure(let error):
            return try page.page(request, message: error.description, status: RequestTrackerBridge.status(error))
        case .success(let outcome):
            return AppContext.redirect(
                "/tags?tagged=\(PercentEncoding.encode(outcome.tag.tag))&asset=\(outcome.asset.id)"
                    + (outcome.isNew ? "" : "&again=1"))
        }
    }
}
