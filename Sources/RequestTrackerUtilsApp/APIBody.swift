import Prefork
import RequestTracker

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
/// written, booleans as true/false, nulls left out). Parsing is the RT client's `JSONValue`.
struct FlatJSONParser {
    let bytes: [UInt8]
    private(set) var problem = ""

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseObject() -> [String: String]? {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes)
        } catch {
            problem = error.description
            return nil
        }
        guard case .object(let members) = value else {
            problem = "expected {"
            return nil
        }
        var result: [String: String] = [:]
        for member in members {
            switch member.value {
            case .null: continue
            case .string(let text), .number(let text): result[member.key] = text
            case .bool(let flag): result[member.key] = flag ? "true" : "false"
            case .array, .object:
                problem = "\"\(member.key)\" holds an object or array; only plain values are accepted"
                return nil
            }
        }
        return result
    }
}
