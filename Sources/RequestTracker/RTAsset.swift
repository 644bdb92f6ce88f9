/// An RT asset as the app uses it. The asset's Name is its tag (the number on the label).
public struct RTAsset: Sendable, Equatable {
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
    /// Every custom field's values, by field name.
    public var customFields: [String: [String]]

    /// The custom field that holds the manufacturer's serial number.
    public static let serialNumberField = "Serial Number"

    /// The value of the "Serial Number" custom field, if it has one.
    public var serial: String? { customFields[Self.serialNumberField]?.first }

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

    /// Reads RT's `GET /asset/N` answer; nil when the essentials (id, Name) are missing.
    public init?(restRecord record: JSONValue) {
        guard let id = record["id"]?.intValue, let name = record["Name"]?.stringValue else { return nil }
        self.id = id
        self.name = name
        description = record["Description"]?.stringValue ?? ""
        status = record["Status"]?.stringValue ?? ""
        // Users come as {"id": "alice", "type": "user", ...}: the id is the user name.
        owner = record["Owner"]?["id"]?.stringValue ?? record["Owner"]?.stringValue ?? ""
        catalogID = record["Catalog"]?["id"]?.intValue ?? 0
        var fields: [String: [String]] = [:]
        for field in record["CustomFields"]?.arrayValue ?? [] {
            guard let fieldName = field["name"]?.stringValue else { continue }
            fields[fieldName] = (field["values"]?.arrayValue ?? []).compactMap { $0.stringValue }
        }
        customFields = fields
    }

    /// The asset as JSON, for `rt-asset` and the app's pages.
    public var json: JSONValue {
        let fields = customFields.keys.sorted().map { name in
            JSONValue.Member(name, .array((customFields[name] ?? []).map { .string($0) }))
        }
        return .object([
            "id": .number(String(id)), "name": .string(name), "description": .string(description),
            "status": .string(status), "owner": .string(owner), "catalog_id": .number(String(catalogID)),
            "serial": serial.map { .string($0) } ?? .null, "custom_fields": .object(fields),
        ])
    }
}
