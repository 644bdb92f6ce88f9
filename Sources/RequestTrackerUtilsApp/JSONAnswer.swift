import FoundationEssentials
import Prefork

/// The API's answers: `Encodable` values written by FoundationEssentials' `JSONEncoder`, with
/// members sorted so that the same answer is always the same bytes, and one newline after the
/// object. Member names are snake case (`rt_asset_id`): an answer whose properties have names
/// of more than one word spells them in its `CodingKeys` (Foundation's `.convertToSnakeCase`
/// converted every name of every answer again, a third of the encoder's time for one tag).
enum JSONAnswer {
    static func response(_ value: some Encodable, status: HTTPStatus = .ok) -> Response {
        .bytes(encode(value) + [10], contentType: "application/json", status: status)
    }

    /// The value's JSON. Encoding strings, numbers and booleans cannot fail; if it ever did, the
    /// answer says so instead of sending half an object.
    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else {
            return Array(#"{"error":"the answer could not be written as JSON"}"#.utf8)
        }
        return Array(data)
    }

    /// An object member's name chosen at run time.
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// An optional that is written as `null` rather than left out, so that an answer always has
/// the same members.
// swift-format-ignore: UseSynthesizedInitializer
@propertyWrapper
struct Nullable<Value: Encodable>: Encodable {
    var wrappedValue: Value?

    // The memberwise initialiser would not serve: a wrapped stored property of a struct is
    // initialised through `init(wrappedValue:)` from the plain optional.
    init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue)
    }
}

extension Nullable: Sendable where Value: Sendable {}
extension Nullable: Equatable where Value: Equatable {}
