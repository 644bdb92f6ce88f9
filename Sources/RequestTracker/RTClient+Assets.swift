import FoundationEssentials

/// Assets: find one by tag, serial or id; search by a custom field or an RT query; create;
/// change the owner, status, name and custom fields. Each call's HTTP requests share its
/// deadline (nil: RT_TIMEOUT from the call's start).
extension RTClient {
    /// Most assets one search reads (pages of 100): a batch larger than this is refused.
    public static let searchLimit = 1000

    /// The asset whose Name is `tag`. Throws `.notFound` when there is none and `.ambiguous`
    /// when several share the name.
    public func asset(tag: String, deadline: RTDeadline? = nil) throws(RTError) -> RTAsset {
        let deadline = deadline ?? defaultDeadline
        return try asset(
            id: findOneAsset(field: "Name", value: tag, what: "tag", deadline: deadline), deadline: deadline)
    }

    /// The asset whose "Serial Number" custom field is `serial`.
    public func asset(serial: String, deadline: RTDeadline? = nil) throws(RTError) -> RTAsset {
        let deadline = deadline ?? defaultDeadline
        let field = "CustomField.{\(RTAsset.serialNumberField)}"
        return try asset(
            id: findOneAsset(field: field, value: serial, what: "serial number", deadline: deadline), deadline: deadline
        )
    }

    /// The asset with RT id `id` (with its owner as RT has it now: read it before a change).
    public func asset(id: Int, deadline: RTDeadline? = nil) throws(RTError) -> RTAsset {
        do {
            let record: RTAssetRecord = try call("GET", "/asset/\(id)", deadline: deadline ?? defaultDeadline)
            return RTAsset(record)
        } catch  where error.kind == .notFound {
            throw RTError(.notFound, url: configuration.url, "no asset has id \(id)", status: 404)
        }
    }

    /// The RT number of the user named `name` (for a roster that names students by RT user
    /// number); `.notFound` when RT has no such user.
    public func userNumber(name: String, deadline: RTDeadline? = nil) throws(RTError) -> Int {
        let record: RTUserRecord = try call(
            "GET", "/user/\(Self.queryValue(name))", deadline: deadline ?? defaultDeadline)
        return record.id.value
    }

    /// The ids of the assets whose custom field `name` is `value` (in id order): none, one, or
    /// several when the value is not unique. For checking that a serial number or an internal
    /// name is not taken before using it.
    public func assetIDs(customField name: String, value: String, deadline: RTDeadline? = nil) throws(RTError) -> [Int]
    {
        try searchIDs(field: "CustomField.{\(name)}", value: value, deadline: deadline ?? defaultDeadline).ids
    }

    /// The ids of the assets an RT query (AssetSQL, as in RT's asset search: `Catalog = 'General
    /// assets' AND Status = 'new'`) selects, in id order; `GET /assets?query=...`. RT refuses a
    /// query on a field it does not know (400, `.rejected`), but RT 5.0 reads some text it
    /// cannot parse (`Nonsense`, `Name = = 'x'`) as no condition at all and answers every
    /// asset: show the count before acting on the result. More than ``searchLimit`` matches
    /// throws `.rejected`.
    public func assetIDs(query: String, deadline: RTDeadline? = nil) throws(RTError) -> [Int] {
        let deadline = deadline ?? defaultDeadline
        var ids: [Int] = []
        var page = 1
        while true {
            let path = "/assets?query=\(Self.queryValue(query))&orderby=id&order=ASC&per_page=100&page=\(page)"
            let found: RTSearchPage = try call("GET", path, deadline: deadline)
            ids += found.items.map(\.id.value)
            let total = found.total ?? ids.count
            if total > Self.searchLimit {
                throw RTError(
                    .rejected, url: configuration.url,
                    "the query selects \(total) assets, more than \(Self.searchLimit): narrow it")
            }
            if found.items.isEmpty || ids.count >= total { return ids }
            page += 1
        }
    }

    /// Creates an asset in `catalog` (its name or id) and returns its id. `customFields` are
    /// set by field name ("Serial Number", "Internal Name", ...); the catalog must have them.
    /// The asset is read back: a custom field RT did not set throws `.rejected`, naming it.
    public func createAsset(
        name: String, catalog: String, description: String = "", customFields: [String: String] = [:],
        deadline: RTDeadline? = nil
    ) throws(RTError) -> RTAsset {
        let deadline = deadline ?? defaultDeadline
        let asset = RTNewAsset(name: name, catalog: catalog, description: description, customFields: customFields)
        let created: RTCreated = try call("POST", "/asset", body: asset, deadline: deadline)
        let made = try self.asset(id: created.id.value, deadline: deadline)
        let missing = customFields.keys.sorted().filter {
            !customFields[$0]!.isEmpty && made.customField($0) != customFields[$0]
        }
        guard missing.isEmpty else {
            throw RTError(
                .rejected, url: configuration.url,
                "RT created asset \(made.id) without the custom field(s) \(missing.joined(separator: ", ")) "
                    + "(does catalog \(catalog) have them?)", status: 201)
        }
        return made
    }

    /// Changes what is given (Name, owner as an RT user name, status, custom fields by name) and
    /// returns the asset as RT now has it. RT answers 200 with a list of messages even when it
    /// refused a change (an unknown user, a status the lifecycle does not have), so the asset is
    /// read back and compared: a change that did not happen throws `.rejected` with RT's messages.
    @discardableResult
    public func updateAsset(
        id: Int, name: String? = nil, owner: String? = nil, status: String? = nil,
        customFields: [String: String] = [:], deadline: RTDeadline? = nil
    ) throws(RTError) -> RTAsset {
        let deadline = deadline ?? defaultDeadline
        let changes = RTAssetChanges(
            name: name, owner: owner, status: status, customFields: customFields.isEmpty ? nil : customFields)
        guard !changes.isEmpty else { return try asset(id: id, deadline: deadline) }
        let answer: (status: Int, body: [UInt8])
        do {
            answer = try send("PUT", "/asset/\(id)", body: changes, deadline: deadline)
        } catch  where error.kind == .notFound {
            throw RTError(.notFound, url: configuration.url, "no asset has id \(id)", status: 404)
        }
        let updated = try asset(id: id, deadline: deadline)
        var refused = owner.map { updated.owner.lowercased() != $0.lowercased() } ?? false
        refused = refused || status.map { updated.status != $0 } ?? false
        refused = refused || name.map { updated.name != $0 } ?? false
        refused = refused || customFields.contains { (updated.customField($0.key) ?? "") != $0.value }
        if refused {
            let messages = RTMessages(answer.body).list
            let said = messages.isEmpty ? "no reason given" : messages.joined(separator: "; ")
            throw RTError(.rejected, url: configuration.url, "RT did not update asset \(id): \(said)", status: 200)
        }
        return updated
    }

    // MARK: - Searching

    /// Searches assets with a JSON-body query (`POST /assets`) and returns the one id that matches.
    private func findOneAsset(field: String, value: String, what: String, deadline: RTDeadline) throws(RTError) -> Int {
        let (ids, total) = try searchIDs(field: field, value: value, deadline: deadline)
        switch ids.count {
        case 0:
            throw RTError(.notFound, url: configuration.url, "no asset has the \(what) '\(value)'")
        case 1:
            return ids[0]
        default:
            let list = ids.prefix(5).map(String.init).joined(separator: ", ")
            throw RTError(
                .ambiguous, url: configuration.url,
                "\(total) assets have the \(what) '\(value)' (ids \(list)\(total > 5 ? ", ..." : "")); it should be unique"
            )
        }
    }

    /// The first page (100) of ids whose `field` equals `value`, and how many match in all.
    private func searchIDs(field: String, value: String, deadline: RTDeadline) throws(RTError)
        -> (ids: [Int], total: Int)
    {
        let query = [RTSearchCondition(field: field, value: value)]
        let found: RTSearchPage = try call(
            "POST", "/assets?orderby=id&order=ASC&per_page=100", body: query, deadline: deadline)
        let ids = found.items.map(\.id.value)
        return (ids, found.total ?? ids.count)
    }
}

/// RT's answer to a change: a list of messages ("Owner changed from alice to Nobody").
struct RTMessages {
    var list: [String]

    init(_ body: [UInt8]) {
        list = (try? JSONDecoder().decode([Skippable].self, from: Data(body)))?.compactMap(\.text) ?? []
    }

    /// A string, or any other value (dropped).
    private struct Skippable: Decodable {
        var text: String?
        init(from decoder: any Decoder) throws { text = try? decoder.singleValueContainer().decode(String.self) }
    }
}
