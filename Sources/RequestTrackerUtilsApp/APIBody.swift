import FoundationEssentials
import Prefork

/// The JSON API's request bodies: a flat JSON object of strings, numbers, booleans and nulls.
/// `Content-Type: application/json` is required; besides saying what the body is, it keeps
/// other sites out, since a cross-site HTML form cannot send it.
enum APIBody {
    struct Problem: Error {
        var status: HTTPStatus
        var text: String
    }

    /// The members as text (numbers as written, booleans as true/false; nulls left out).
    static func fields(_ request: Request) -> Result<[String: String], Problem> {
        let type = (request.header("content-type") ?? "").lowercased()
        guard type.hasPrefix("application/json") else {
            return .failure(
                Problem(status: .unsupportedMediaType, text: "send a JSON object with Content-Type: application/json"))
        }
        if request.body.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }) { return .success([:]) }
        var parser = FlatJSONParser(bytes: request.body)
        guard let object = parser.parseObject() else {
            return .failure(
                Problem(status: .badRequest, text: "the body is not a JSON object of plain values: \(parser.problem)"))
        }
        return .success(object)
    }
}

/// One JSON object whose values are strings, numbers, booleans or null, as text (numbers as
/// integers or as Swift writes the Double; booleans as true/false; nulls left out). Parsing is
/// FoundationEssentials' JSONDecoder.
struct FlatJSONParser {
    let bytes: [UInt8]
    private(set) var problem = ""

    init(bytes: [UInt8]) { self.bytes = bytes }

    private static let decoder = JSONDecoder()

    mutating func parseObject() -> [String: String]? {
        let members: [String: PlainValue]
        do {
            members = try Self.decoder.decode([String: PlainValue].self, from: Data(bytes))
        } catch DecodingError.typeMismatch(_, let context) where !context.codingPath.isEmpty {
            let key = context.codingPath[0].stringValue
            problem = "\"\(key)\" holds an object or array; only plain values are accepted"
            return nil
        } catch DecodingError.typeMismatch {
            problem = "expected {"
            return nil
        } catch {
            problem = "invalid JSON"
            return nil
        }
        return members.compactMapValues(\.text)
    }

    /// A string, number, boolean or null, as text (nil for null).
    private struct PlainValue: Decodable {
        var text: String?

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            // Most likely first: each type that does not match costs a thrown error.
            if container.decodeNil() {
                text = nil
            } else if let string = try? container.decode(String.self) {
                text = string
            } else if let number = try? container.decode(Int.self) {
                text = String(number)
            } else if let flag = try? container.decode(Bool.self) {
                text = flag ? "true" : "false"
            } else {
                text = String(try container.decode(Double.self))
            }
        }
    }
}
