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
            return .failure(Problem(status: .unsupportedMediaType, text: "send a JSON object with Content-Type: application/json"))
        }
        if request.body.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }) { return .success([:]) }
        var parser = FlatJSONParser(bytes: request.body)
        guard let object = parser.parseObject() else {
            return .failure(Problem(status: .badRequest, text: "the body is not a JSON object of plain values: \(parser.problem)"))
        }
        return .success(object)
    }
}

/// Parses one JSON object whose values are strings, numbers, booleans or null.
struct FlatJSONParser {
    let bytes: [UInt8]
    var index = 0
    var problem = "unexpected end"

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseObject() -> [String: String]? {
        skipSpace()
        guard take(UInt8(ascii: "{")) else { return fail("expected {") }
        var result: [String: String] = [:]
        skipSpace()
        if take(UInt8(ascii: "}")) { return finish(result) }
        while true {
            skipSpace()
            guard let key = parseString() else { return fail("expected a member name in quotes") }
            skipSpace()
            guard take(UInt8(ascii: ":")) else { return fail("expected : after \"\(key)\"") }
            skipSpace()
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                guard let value = parseString() else { return nil }
                result[key] = value
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                return fail("\"\(key)\" holds an object or array; only plain values are accepted")
            default:
                let start = index
                while index < bytes.count, !",} \t\r\n".utf8.contains(bytes[index]) { index += 1 }
                let word = String(decoding: bytes[start..<index], as: UTF8.self)
                if word == "null" { break }
                guard word == "true" || word == "false" || Double(word) != nil else {
                    return fail("\"\(key)\" has a value that is not JSON")
                }
                result[key] = word
            }
            skipSpace()
            if take(UInt8(ascii: ",")) { continue }
            guard take(UInt8(ascii: "}")) else { return fail("expected , or }") }
            return finish(result)
        }
    }

    private mutating func finish(_ result: [String: String]) -> [String: String]? {
        skipSpace()
        return index == bytes.count ? result : fail("text after the object")
    }

    private mutating func parseString() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        var out: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { return nil }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "b"): out.append(8)
                case UInt8(ascii: "f"): out.append(12)
                case UInt8(ascii: "u"):
                    guard index + 4 <= bytes.count,
                        var value = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
                    else { return fail("bad \\u escape") }
                    index += 4
                    if (0xD800..<0xDC00).contains(value), index + 6 <= bytes.count, bytes[index] == 92,
                        bytes[index + 1] == UInt8(ascii: "u"),
                        let low = UInt32(String(decoding: bytes[index + 2..<index + 6], as: UTF8.self), radix: 16),
                        (0xDC00..<0xE000).contains(low)
                    {
                        value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                        index += 6
                    }
                    out += Array(String(Unicode.Scalar(value) ?? "\u{FFFD}").utf8)
                default: out.append(escaped)
                }
            default:
                guard byte >= 0x20 else { return fail("control character in a string") }
                out.append(byte)
            }
        }
        return fail("unterminated string")
    }

    private mutating func skipSpace() {
        while index < bytes.count, bytes[index] == 32 || bytes[index] == 9 || bytes[index] == 10 || bytes[index] == 13 {
            index += 1
        }
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func fail(_ reason: String) -> [String: String]? {
        problem = reason
        return nil
    }

    private mutating func fail(_ reason: String) -> String? {
        problem = reason
        return nil
    }
}
