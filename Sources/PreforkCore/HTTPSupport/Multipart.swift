#if canImport(Glibc)
    import Glibc
#endif

/// `multipart/form-data` request bodies (RFC 7578 over RFC 2046), read as strictly as the
/// request parser reads a head: the body must begin with the first boundary (no preamble),
/// every part must say `Content-Disposition: form-data; name="..."`, header lines end in CRLF
/// and are not folded, and the body must end with the closing boundary. Anything else is a
/// `MultipartError` naming what was wrong, and no part is returned. The request's body limit
/// (`limit_request_body`) bounds the whole; `MultipartLimits` bounds the parts and headers.
public enum Multipart {
    /// One field of the form: a text field, or a file with its `filename`.
    public struct Part: Sendable, Equatable {
        public var name: String
        public var filename: String?
        public var contentType: String?
        public var body: [UInt8]

        public init(name: String, filename: String? = nil, contentType: String? = nil, body: [UInt8]) {
            self.name = name
            self.filename = filename
            self.contentType = contentType
            self.body = body
        }

        /// The body as text (invalid UTF-8 repaired with U+FFFD).
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    public struct Limits: Sendable {
        /// Parts in one body.
        public var parts: Int
        /// Bytes of one part's header block.
        public var headerBytes: Int

        public init(parts: Int = 16, headerBytes: Int = 2048) {
            self.parts = parts
            self.headerBytes = headerBytes
        }
    }

    /// The boundary of a `multipart/form-data` content type, or nil when the type is another or
    /// the boundary is missing or not one RFC 2046 allows (1 to 70 of its characters, not
    /// ending in a space).
    public static func boundary(contentType: String) -> String? {
        let pieces = contentType.split(separator: ";", omittingEmptySubsequences: false)
        guard let type = pieces.first, type.trimmingASCIISpaces().lowercased() == "multipart/form-data" else {
            return nil
        }
        for parameter in pieces.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, pair[0].trimmingASCIISpaces().lowercased() == "boundary" else { continue }
            var value = pair[1].trimmingASCIISpaces()
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = value.dropFirst().dropLast() }
            return isValidBoundary(value) ? String(value) : nil
        }
        return nil
    }

    static func isValidBoundary(_ value: Substring) -> Bool {
        let allowed = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ".utf8)
        return (1...70).contains(value.utf8.count) && value.utf8.allSatisfy(allowed.contains) && !value.hasSuffix(" ")
    }

    /// The parts of `body`, in order.
    public static func parse(
        _ body: [UInt8], boundary: String, limits: Limits = Limits()
    ) throws(MultipartError) -> [Part] {
        let delimiter = Array("--\(boundary)".utf8)
        let separator = [13, 10] + delimiter
        guard body.starts(with: delimiter) else { throw .noFirstBoundary }
        var parts: [Part] = []
        var position = delimiter.count
        while true {
            if body[position...].starts(with: [45, 45]) { return parts }  // "--": the closing boundary
            guard position < body.count else { throw .unterminated }
            while position < body.count, body[position] == 32 || body[position] == 9 { position += 1 }
            guard body[position...].starts(with: [13, 10]) else { throw .badBoundaryLine }
            position += 2
            guard parts.count < limits.parts else { throw .tooManyParts(limits.parts) }
            guard let headerEnd = headerBlockEnd(body, from: position, limit: limits.headerBytes) else {
                throw body.count - position > limits.headerBytes ? .headersTooLarge(limits.headerBytes) : .unterminated
            }
            var part = try headers(body[position..<headerEnd])
            let contentStart = headerEnd + (headerEnd == position ? 2 : 4)
            guard let contentEnd = find(separator, in: body, from: contentStart) else { throw .unterminated }
            part.body = Array(body[contentStart..<contentEnd])
            parts.append(part)
            position = contentEnd + separator.count
        }
    }

    /// Where the part's header block ends: the index of its closing blank line's CRLF pair
    /// (`position` itself when the part has no headers).
    private static func headerBlockEnd(_ body: [UInt8], from position: Int, limit: Int) -> Int? {
        if body[position...].starts(with: [13, 10]) { return position }
        guard let end = find([13, 10, 13, 10], in: body, from: position), end - position <= limit else { return nil }
        return end
    }

    private static func headers(_ block: ArraySlice<UInt8>) throws(MultipartError) -> Part {
        var disposition: String?
        var contentType: String?
        for line in split(block) {
            guard let colon = line.firstIndex(of: 58), colon > line.startIndex,
                line[line.startIndex..<colon].allSatisfy(isTokenByte)
            else { throw .badHeader(String(decoding: line.prefix(60), as: UTF8.self)) }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self).lowercased()
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingASCIISpaces()
            switch name {
            case "content-disposition": disposition = String(value)
            case "content-type": contentType = String(value)
            default: break
            }
        }
        guard let disposition else { throw .noDisposition }
        let (type, parameters) = dispositionParameters(disposition)
        guard type == "form-data", let name = parameters["name"], !name.isEmpty else { throw .noDisposition }
        return Part(name: name, filename: parameters["filename"], contentType: contentType, body: [])
    }

    /// `form-data; name="a"; filename="b.csv"` → ("form-data", [name: a, filename: b.csv]).
    /// Quoted values may hold `;` and backslash escapes.
    static func dispositionParameters(_ text: String) -> (String, [String: String]) {
        var characters = Substring(text)
        func skipSpaces() { while characters.first == " " || characters.first == "\t" { characters.removeFirst() } }
        let type = characters.prefix { $0 != ";" }
        characters = characters.dropFirst(type.count)
        var parameters: [String: String] = [:]
        while characters.first == ";" {
            characters.removeFirst()
            skipSpaces()
            let key = characters.prefix { $0 != "=" && $0 != ";" }
            characters = characters.dropFirst(key.count)
            guard characters.first == "=" else { continue }
            characters.removeFirst()
            var value = ""
            if characters.first == "\"" {
                characters.removeFirst()
                while let character = characters.popFirst(), character != "\"" {
                    value.append(character == "\\" ? (characters.popFirst() ?? "\\") : character)
                }
            } else {
                value = String(String(characters.prefix { $0 != ";" }).trimmingASCIISpaces())
                characters = characters.dropFirst(characters.prefix { $0 != ";" }.count)
            }
            skipSpaces()
            parameters[key.trimmingASCIISpaces().lowercased()] = value
        }
        return (type.trimmingASCIISpaces().lowercased(), parameters)
    }

    private static func split(_ block: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = block.startIndex
        var index = block.startIndex
        while index < block.endIndex {
            if block[index] == 13, index + 1 < block.endIndex, block[index + 1] == 10 {
                lines.append(block[start..<index])
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        lines.append(block[start..<block.endIndex])
        return lines
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default: return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// The first index of `needle` in `haystack` at or after `start` (`memchr` for its first
    /// byte, then a comparison).
    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard let first = needle.first, start <= haystack.count else { return nil }
        return haystack.withUnsafeBytes { hay -> Int? in
            guard let base = hay.baseAddress else { return nil }
            var position = start
            while hay.count - position >= needle.count {
                guard let hit = memchr(base + position, Int32(first), hay.count - position - needle.count + 1) else {
                    return nil
                }
                let index = base.distance(to: UnsafeRawPointer(hit))
                if memcmp(base + index, needle, needle.count) == 0 { return index }
                position = index + 1
            }
            return nil
        }
    }
}

/// Why a `multipart/form-data` body was refused, as a sentence for a 400 page.
public enum MultipartError: Error, Equatable, CustomStringConvertible {
    case noFirstBoundary
    case badBoundaryLine
    case badHeader(String)
    case noDisposition
    case headersTooLarge(Int)
    case tooManyParts(Int)
    case unterminated

    public var description: String {
        switch self {
        case .noFirstBoundary: "the form data does not start with its boundary"
        case .badBoundaryLine: "a boundary line of the form data is followed by something other than a line end"
        case .badHeader(let line): "a part of the form data has a header line that is not `Name: value`: \(line)"
        case .noDisposition: "a part of the form data has no `Content-Disposition: form-data; name=...`"
        case .headersTooLarge(let limit): "a part's headers are longer than \(limit) bytes"
        case .tooManyParts(let limit): "the form data has more than \(limit) parts"
        case .unterminated: "the form data ends before its closing boundary"
        }
    }
}

extension StringProtocol {
    func trimmingASCIISpaces() -> Substring {
        var slice = self[...]
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return Substring(slice)
    }
}
