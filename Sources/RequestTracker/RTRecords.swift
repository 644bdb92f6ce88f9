import FoundationEssentials

// What RT's REST 2.0 API sends and takes, as Codable structs decoded with FoundationEssentials'
// JSONDecoder. Only the members the client reads are declared; RT sends many more.

/// An id RT writes as a number (`"id": 5`) or as a string (`"id": "5"`), depending on the resource.
struct RTFlexibleInt: Decodable, Equatable {
    var value: Int

    init(_ value: Int) { self.value = value }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) {
            value = number
        } else if let number = Int(try container.decode(String.self)) {
            value = number
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "an id that is not a number")
        }
    }
}

/// A link to another record: `{"type": "user", "id": "alice", "_url": ...}`.
struct RTReference: Decodable {
    var id: String

    init(from decoder: any Decoder) throws {
        // Users come as objects whose id is the user name; some versions write a bare name.
        if let name = try? decoder.singleValueContainer().decode(String.self) {
            id = name
            return
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let number = try? container.decode(Int.self, forKey: .id) {
            id = String(number)
        } else {
            id = try container.decode(String.self, forKey: .id)
        }
    }

    private enum CodingKeys: String, CodingKey { case id }
}

/// `GET /rt`.
struct RTSystemRecord: Decodable {
    var version: String

    private enum CodingKeys: String, CodingKey { case version = "Version" }
}

/// `GET /asset/N`.
struct RTAssetRecord: Decodable {
    struct CustomField: Decodable {
        var name: String
        /// Text values; Image and Binary fields' values are objects, left out.
        var values: [String]

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            var items = try container.nestedUnkeyedContainer(forKey: .values)
            var texts: [String] = []
            while !items.isAtEnd {
                if let text = try? items.decode(String.self) {
                    texts.append(text)
                } else {
                    _ = try items.decode(Skipped.self)
                }
            }
            values = texts
        }

        private enum CodingKeys: String, CodingKey { case name, values }
    }

    var id: RTFlexibleInt
    var name: String
    var description: String?
    var status: String?
    var owner: RTReference?
    var catalog: RTReference?
    var customFields: [CustomField]?

    private enum CodingKeys: String, CodingKey {
        case id
        case name = "Name"
        case description = "Description"
        case status = "Status"
        case owner = "Owner"
        case catalog = "Catalog"
        case customFields = "CustomFields"
    }
}

/// `GET /user/NAME`: only its number is used.
struct RTUserRecord: Decodable {
    var id: RTFlexibleInt
}

/// Any JSON value, decoded and dropped.
struct Skipped: Decodable {
    init(from decoder: any Decoder) throws {}
}

/// A page of a search: `{"count": 2, "total": 2, "page": 1, "per_page": 20, "items": [{"id": ...}]}`.
struct RTSearchPage: Decodable {
    struct Item: Decodable { var id: RTFlexibleInt }
    var items: [Item]
    var total: Int?
    var page: Int?
    var perPage: Int?

    private enum CodingKeys: String, CodingKey {
        case items, total, page
        case perPage = "per_page"
    }
}

/// `{"id": 12, "type": "ticket", ...}`: what a create answers.
struct RTCreated: Decodable {
    var id: RTFlexibleInt
}

/// An error's body: `{"message": "..."}`.
struct RTMessage: Decodable {
    var message: String
}

/// One condition of a JSON search (`POST /assets`): no AssetSQL quoting to get wrong.
struct RTSearchCondition: Encodable {
    var field: String
    var value: String
    var `operator`: String = "="
}

/// `POST /asset`.
struct RTNewAsset: Encodable {
    var name: String
    var catalog: String
    var description: String
    var customFields: [String: String]

    private enum CodingKeys: String, CodingKey {
        case name = "Name"
        case catalog = "Catalog"
        case description = "Description"
        case customFields = "CustomFields"
    }
}

/// `PUT /asset/N`: only the members that change are sent.
struct RTAssetChanges: Encodable {
    var name: String?
    var owner: String?
    var status: String?
    var customFields: [String: String]?

    private enum CodingKeys: String, CodingKey {
        case name = "Name"
        case owner = "Owner"
        case status = "Status"
        case customFields = "CustomFields"
    }

    var isEmpty: Bool { name == nil && owner == nil && status == nil && (customFields ?? [:]).isEmpty }
}

/// `POST /ticket`.
struct RTNewTicket: Encodable {
    var queue: String
    var subject: String
    var content: String
    var contentType = "text/plain"
    var requestor: String?
    var refersTo: String?

    private enum CodingKeys: String, CodingKey {
        case queue = "Queue"
        case subject = "Subject"
        case content = "Content"
        case contentType = "ContentType"
        case requestor = "Requestor"
        case refersTo = "RefersTo"
    }
}
