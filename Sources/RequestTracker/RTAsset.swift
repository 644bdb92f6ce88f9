/// An RT asset as the app uses it. The asset's Name is its tag (the number on the label).
/// Encodes (for `rt-asset` and the API) as `id`, `name`, `description`, `status`, `owner`,
/// `catalog_id`, `serial` (null without one) and `custom_fields`.
public struct RTAsset: Sendable, Equatable, Encodable {
    public var id: Int
    /// The asset tag.
    public var name: String
    public var description: String
    /// Lifecycle status: new, allocated, in-use, recycled, stolen, deleted (RT's default lifecycle).
    public var status: String
    /// The owner's user name ("Nobody" when unowned).
    public var owner: String
    /// The catalog's id (RT answers with the id, not the name).
    public var catalogID: Int
    /// The values of every custom field that has one, by field name (RT also lists the
    /// catalog's empty fields; they are left out).
    public var customFields: [String: [String]]

    /// The custom field that holds the manufacturer's serial number.
    public static let serialNumberField = "Serial Number"

    /// The value of the "Serial Number" custom field, if it has one.
    public var serial: String? { customFields[Self.serialNumberField]?.first }

    /// The first value of the custom field `name`, if it has one.
    public func customField(_ name: String) -> String? { customFields[name]?.first }

    public init(
        id: Int, name: String, description: String = "", status: String = "new", owner: String = "Nobody",
        catalogID: Int = 1, customFields: [String: [String]] = [:]
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.status = status
        self.owner = owner
        self.catalogID = catalogID
        self.customFields = customFields
    }

    /// From RT's `GET /asset/N` answer.
    init(_ record: RTAssetRecord) {
        var fields: [String: [String]] = [:]
        for field in record.customFields ?? [] where !field.values.isEmpty {
            fields[field.name, default: []] += field.values
        }
        self.init(
            id: record.id.value, name: record.name, description: record.description ?? "",
            status: record.status ?? "", owner: record.owner?.id ?? "",
            catalogID: record.catalog.flatMap { Int($0.id) } ?? 0, customFields: fields)
    }

    private enum CodingKeys: String, CodingKey {
        case id, name, description, status, owner
        case catalogID = "catalog_id"
        case serial
        case customFields = "custom_fields"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(description, forKey: .description)
        try container.encode(status, forKey: .status)
        try container.encode(owner, forKey: .owner)
        try container.encode(catalogID, forKey: .catalogID)
        try container.encode(serial, forKey: .serial)  // null, not left out, when there is none
        try container.encode(customFields, forKey: .customFields)
    }
}
