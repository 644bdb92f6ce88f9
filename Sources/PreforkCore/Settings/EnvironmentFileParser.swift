/// Reads a secrets file in the `KEY=VALUE` syntax of systemd's `EnvironmentFile=`, so the same
/// file works for the unit and for `--secrets-file`:
///
///     # comment            ; comment
///     SECRET_KEY=abc       export RT_TOKEN="1-2-3"      RT_PASSWORD='p a s s'
///
/// Blank lines and lines starting with `#` or `;` are skipped; `export ` is allowed; values may
/// be single-quoted (taken as is) or double-quoted (`\"`, `\\`, `\$` and `\n` escapes);
/// unquoted values lose surrounding whitespace. Errors never echo a value: the file holds secrets.
public enum EnvironmentFileParser {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var value: String
        public var line: Int
    }

    public struct SyntaxError: Error, Sendable, Equatable {
        public var line: Int
        public var reason: String
    }

    public static func parse(_ text: String) -> Result<[Entry], SyntaxError> {
        var entries: [Entry] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            var line = Substring(rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine)
            line = line.drop(while: { $0 == " " || $0 == "\t" })
            if line.isEmpty || line.first == "#" || line.first == ";" { continue }
            if line.hasPrefix("export ") { line = line.dropFirst("export ".count).drop(while: { $0 == " " }) }
            guard let equals = line.firstIndex(of: "=") else {
                return .failure(SyntaxError(line: number, reason: "expected NAME=VALUE"))
            }
            let name = String(line[..<equals]).trimmingWhitespace()
            guard isValidName(name) else {
                return .failure(
                    SyntaxError(line: number, reason: "'\(name)' is not a variable name (letters, digits and _)"))
            }
            switch value(line[line.index(after: equals)...]) {
            case .success(let value): entries.append(Entry(name: name, value: value, line: number))
            case .failure(let reason): return .failure(SyntaxError(line: number, reason: reason.text))
            }
        }
        return .success(entries)
    }

    private static func value(_ raw: Substring) -> Result<String, Reason> {
        let text = raw.drop(while: { $0 == " " || $0 == "\t" })
        guard let quote = text.first, quote == "\"" || quote == "'" else {
            return .success(String(text).trimmingWhitespace())
        }
        var result = ""
        var index = text.index(after: text.startIndex)
        while index < text.endIndex {
            let character = text[index]
            if character == quote {
                let rest = String(text[text.index(after: index)...]).trimmingWhitespace()
                guard rest.isEmpty || rest.hasPrefix("#") else {
                    return .failure(Reason(text: "text after the closing quote of the value"))
                }
                return .success(result)
            }
            if quote == "\"" && character == "\\" && text.index(after: index) < text.endIndex {
                index = text.index(after: index)
                let escaped = text[index]
                result.append(escaped == "n" ? "\n" : escaped)
            } else {
                result.append(character)
            }
            index = text.index(after: index)
        }
        return .failure(Reason(text: "the value's opening \(quote) is never closed"))
    }

    private struct Reason: Error { var text: String }

    private static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
        }
    }
}
