import RequestTracker

/// What a label (or the look-up page) says about an asset: typed into the label form, or read
/// from the asset in Request Tracker.
struct AssetDetails: Sendable, Equatable {
    /// The asset's id in RT, when it came from RT.
    var id: Int?
    /// The device's name: typed in, or RT's Description (the Name when it has none).
    var name = ""
    var serial = ""
    /// The owner typed in, or RT's owner ("" for Nobody).
    var owner = ""
    /// The asset tag: RT's Name ("" when the details were typed in).
    var tag = ""
    /// RT custom fields the district's labels print: "Internal Name" (e.g. "Brave Otter"),
    /// "Model", "Funding Source", and "Type" (which decides the default label size).
    var internalName = ""
    var model = ""
    var fundingSource = ""
    var type = ""

    /// The RT custom fields read besides "Serial Number".
    enum Field {
        static let internalName = "Internal Name"
        static let model = "Model"
        static let fundingSource = "Funding Source"
        static let type = "Type"
    }

    init(
        id: Int? = nil, name: String = "", serial: String = "", owner: String = "", tag: String = "",
        internalName: String = "", model: String = "", fundingSource: String = "", type: String = ""
    ) {
        self.id = id
        self.name = name
        self.serial = serial
        self.owner = owner
        self.tag = tag
        self.internalName = internalName
        self.model = model
        self.fundingSource = fundingSource
        self.type = type
    }

    /// The details of an asset as RT has it; "N/A" in a custom field (the original tool's
    /// placeholder) counts as empty.
    init(_ asset: RTAsset) {
        func field(_ name: String) -> String {
            let value = (asset.customFields[name]?.first ?? "").trimmingSpaces()
            return value == "N/A" ? "" : value
        }
        self.init(
            id: asset.id, name: asset.description.isEmpty ? asset.name : asset.description, serial: asset.serial ?? "",
            owner: asset.owner == "Nobody" ? "" : asset.owner, tag: asset.name,
            internalName: field(Field.internalName), model: field(Field.model),
            fundingSource: field(Field.fundingSource), type: field(Field.type))
    }
}

/// Finds an asset's details in Request Tracker. Errors are RT's (unreachable, timeout, ...),
/// for the page to answer 502/504 with.
protocol AssetDirectory: Sendable {
    /// The asset named `tag`; nil when RT has none.
    func details(tag: String, deadline: RTDeadline?) throws(RTError) -> AssetDetails?
    /// The asset with this id; nil when RT has none.
    func details(id: Int, deadline: RTDeadline?) throws(RTError) -> AssetDetails?
    /// One deadline for all the look-ups of one request (`RT_TIMEOUT` from now).
    func deadline() -> RTDeadline
    /// The Names (tags) of the assets an RT query (AssetSQL) selects, at most `limit` of them.
    func tags(matching query: String, limit: Int, deadline: RTDeadline?) throws(RTError) -> [String]
    /// The asset's page in RT, or a search for its tag when the id is not known.
    func webURL(tag: String, id: Int?) -> String
}
