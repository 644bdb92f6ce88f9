/// Reads the config file: a subset of TOML that is enough for settings.
///
///     # comment
///     workers = 4
///     timeout = 2.5
///     reuse_port = true
///     bind = ["127.0.0.1:8000", "unix:/run/app.sock"]   # lists may span lines
///     access_log_format = 'literal %(h)s'
///
/// Keys may use `-` or `_` (normalised to `_`). Tables, dotted keys, dates and multi-line
/// strings are not supported and are reported as syntax errors naming the line.
struct ConfigFileParser {
    struct Entry: Equatable {
        var key: String
        var value: ConfigFileValue
        var line: Int
    }

    struct SyntaxError: Error, Equatable {
        var line: Int
        var reason: String
    }

    private let scalars: [Unicode.Scalar]
    private var index = 0
    private var line = 1

    init(_ text: String) { scalars = Array(text.unicodeScalars) }

    /// Parses every line; stops at the first syntax error, since what follows it is guesswork.
    static func parse(_ text: String) -> Result<[Entry], SyntaxError> {
        var parser = ConfigFileParser(text)
        do { return .success(try parser.entries()) } catch { return .failure(error) }
    }

    private var current: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    private mutating func entries() throws(SyntaxError) -> [Entry] {
        var entries: [Entry] = []
        while true {
            skipBlanks()
            guard let scalar = current else { return entries }
            switch scalar {
            case "\n": advance()
            case "#": skipComment()
            case "[":
                throw fail(
                    "tables like [section] are not supported (write every setting at the top level as key = value)")
            default:
                let keyLine = line
                let key = try readKey()
                skipBlanks()
                guard current == "=" else { throw fail("expected '=' after '\(key)' (write key = value)") }
                advance()
                skipBlanks()
                let value = try readValue()
                try expectEndOfLine()
                entries.append(Entry(key: key, value: value, line: keyLine))
            }
        }
    }

    // MARK: Keys and values

    private mutating func readKey() throws(SyntaxError) -> String {
        var key = ""
        while let scalar = current, isBareKeyScalar(scalar) {
            key.unicodeScalars.append(scalar == "-" ? "_" : scalar)
            advance()
        }
        if key.isEmpty { throw fail("expected a setting name (write key = value)") }
        return key
    }

    private mutating func readValue() throws(SyntaxError) -> ConfigFileValue {
        switch current {
        case nil, "\n", "#": throw fail("missing value after '='")
        case "\"": return .string(try readBasicString())
        case "'": return .string(try readLiteralString())
        case "[": return .array(try readArray())
        default: return try readBareValue()
        }
    }

    private mutating func readBasicString() throws(SyntaxError) -> String {
        if startsWith("\"\"\"") { throw fail("multi-line strings are not supported") }
        advance()
        var text = ""
        while true {
            guard let scalar = current, scalar != "\n" else {
                throw fail("unterminated string (add the closing \")")
            }
            advance()
            switch scalar {
            case "\"": return text
            case "\\": text.unicodeScalars.append(try readEscape())
            default: text.unicodeScalars.append(scalar)
            }
        }
    }

    private mutating func readEscape() throws(SyntaxError) -> Unicode.Scalar {
        guard let scalar = current else { throw fail("unterminated string (add the closing \")") }
        advance()
        switch scalar {
        case "\"": return "\""
        case "\\": return "\\"
        case "n": return "\n"
        case "t": return "\t"
        case "r": return "\r"
        case "b": return "\u{08}"
        case "f": return "\u{0C}"
        case "u", "U":
            let count = scalar == "u" ? 4 : 8
            var hex = ""
            for _ in 0..<count {
                guard let digit = current, digit.properties.isASCIIHexDigit else {
                    throw fail("\\\(scalar) needs \(count) hex digits")
                }
                hex.unicodeScalars.append(digit)
                advance()
            }
            guard let value = UInt32(hex, radix: 16), let result = Unicode.Scalar(value) else {
                throw fail("\\\(scalar)\(hex) is not a valid character")
            }
            return result
        default:
            throw fail(
                "unknown escape \\\(scalar) in a \"string\" (write \\\\ for a backslash, or use a 'literal string')")
        }
    }

    private mutating func readLiteralString() throws(SyntaxError) -> String {
        if startsWith("'''") { throw fail("multi-line strings are not supported") }
        advance()
        var text = ""
        while true {
            guard let scalar = current, scalar != "\n" else { throw fail("unterminated string (add the closing ')") }
            advance()
            if scalar == "'" { return text }
            text.unicodeScalars.append(scalar)
        }
    }

    private mutating func readArray() throws(SyntaxError) -> [String] {
        let openedOn = line
        advance()
        var items: [String] = []
        while true {
            skipWhitespaceNewlinesAndComments()
            switch current {
            case nil: throw SyntaxError(line: openedOn, reason: "unterminated list (add the closing ])")
            case "]":
                advance()
                return items
            case "\"": items.append(try readBasicString())
            case "'": items.append(try readLiteralString())
            default: throw fail("lists may only hold quoted strings, like [\"a\", \"b\"]")
            }
            skipWhitespaceNewlinesAndComments()
            switch current {
            case ",": advance()
            case "]": continue
            case nil: throw SyntaxError(line: openedOn, reason: "unterminated list (add the closing ])")
            default: throw fail("expected ',' or ']' in the list")
            }
        }
    }

    private mutating func readBareValue() throws(SyntaxError) -> ConfigFileValue {
        var word = ""
        while let scalar = current, scalar != "#", !scalar.properties.isWhitespace {
            word.unicodeScalars.append(scalar)
            advance()
        }
        if word == "true" { return .boolean(true) }
        if word == "false" { return .boolean(false) }
        if let value = Self.integer(word) { return value }
        if let value = Self.float(word) { return value }
        let digits = word.hasPrefix("+") || word.hasPrefix("-") ? String(word.dropFirst()) : word
        if digits.count > 1, digits.hasPrefix("0"), digits.allSatisfy(\.isNumber) {
            throw fail("\(word) has a leading zero (write 0o\(digits.dropFirst()) for an octal mode)")
        }
        throw fail("\(word) is not a value (put text in quotes: \(word.quoted))")
    }

    /// TOML integers: `42`, `-7`, `1_000`, `0o755`, `0x1F`, `0b101`; no leading zeros.
    static func integer(_ word: String) -> ConfigFileValue? {
        var body = Substring(word.replacingAll("_", with: ""))
        guard !word.hasPrefix("_"), !word.hasSuffix("_"), !word.contains("__") else { return nil }
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where body.hasPrefix(prefix) {
            guard let number = Int(body.dropFirst(2), radix: radix), !body.dropFirst(2).hasPrefix("-"),
                !body.dropFirst(2).hasPrefix("+")
            else { return nil }
            return .integer(number, literal: word)
        }
        var sign = ""
        if body.hasPrefix("+") || body.hasPrefix("-") {
            sign = body.hasPrefix("-") ? "-" : ""
            body = body.dropFirst()
        }
        guard !body.isEmpty, body.allSatisfy({ ("0"..."9").contains($0) }), body == "0" || !body.hasPrefix("0"),
            let number = Int(sign + body)
        else { return nil }
        return .integer(number, literal: word)
    }

    /// TOML floats: `0.5`, `-2.0`, `1e3`, `6.02e23`; digits on both sides of the point.
    static func float(_ word: String) -> ConfigFileValue? {
        let body = word.replacingAll("_", with: "")
        guard body.contains(where: { ".eE".contains($0) }) else { return nil }
        var digitsSeen = false
        for (offset, character) in body.enumerated() {
            switch character {
            case "0"..."9": digitsSeen = true
            case "+", "-": guard offset == 0 || "eE".contains(Array(body)[offset - 1]) else { return nil }
            case ".", "e", "E": guard digitsSeen else { return nil }
            default: return nil
            }
        }
        guard body.last.map({ ("0"..."9").contains($0) }) == true, let number = Double(body), number.isFinite else {
            return nil
        }
        return .float(number, literal: word)
    }

    // MARK: Scanning

    private func isBareKeyScalar(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
            || scalar == "_" || scalar == "-"
    }

    private func startsWith(_ prefix: String) -> Bool {
        let wanted = Array(prefix.unicodeScalars)
        return index + wanted.count <= scalars.count && Array(scalars[index..<index + wanted.count]) == wanted
    }

    private mutating func advance() {
        if current == "\n" { line += 1 }
        index += 1
    }

    /// Spaces, tabs and a carriage return before a newline.
    private mutating func skipBlanks() {
        while let scalar = current, scalar == " " || scalar == "\t" || scalar == "\r" { advance() }
    }

    private mutating func skipComment() {
        while let scalar = current, scalar != "\n" { advance() }
    }

    private mutating func skipWhitespaceNewlinesAndComments() {
        while let scalar = current {
            if scalar == "#" { skipComment() } else if scalar.properties.isWhitespace { advance() } else { return }
        }
    }

    private mutating func expectEndOfLine() throws(SyntaxError) {
        skipBlanks()
        switch current {
        case nil, "\n": return
        case "#": skipComment()
        default: throw fail("unexpected text after the value (put one setting per line; start comments with #)")
        }
    }

    private func fail(_ reason: String) -> SyntaxError { SyntaxError(line: line, reason: reason) }
}
