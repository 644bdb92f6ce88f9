import CPostgreSQL

/// A `postgresql://` connection URI read by libpq's own parser (`PQconninfoParse`), so every
/// form libpq accepts is accepted here (percent-encoding, `?host=/run/postgresql`, several
/// hosts, any connection keyword) and nothing libpq would refuse at connect time.
public struct PostgreSQLURI: Sendable, Equatable {
    public struct Parameter: Sendable, Equatable {
        public var keyword: String
        public var value: String

        public init(keyword: String, value: String) {
            self.keyword = keyword
            self.value = value
        }
    }

    /// The keywords the URI sets, in libpq's order; a password among them if the URI has one.
    public var parameters: [Parameter]

    /// The URI's keywords without the password, for messages and `print-config`:
    /// `postgresql://rtutils@db.example.org:5432/rtutils?sslmode=require`.
    public var redacted: String {
        func value(_ keyword: String) -> String? { parameters.first { $0.keyword == keyword }?.value }
        var text = "postgresql://"
        if let user = value("user") { text += user + (value("password") == nil ? "" : ":(secret)") + "@" }
        if let host = value("host"), !host.hasPrefix("/") { text += host.contains(":") ? "[\(host)]" : host }
        if let port = value("port") { text += ":" + port }
        text += "/" + (value("dbname") ?? "")
        let rest = parameters.filter { !["user", "password", "port", "dbname"].contains($0.keyword) }
            .filter { $0.keyword != "host" || $0.value.hasPrefix("/") }
        if !rest.isEmpty { text += "?" + rest.map { "\($0.keyword)=\($0.value)" }.joined(separator: "&") }
        return text
    }

    /// Parses `text`, a `postgresql://` or `postgres://` URI. The failure says what libpq
    /// found wrong, with any password in the text replaced by `(secret)`.
    public static func parse(_ text: String) -> Result<PostgreSQLURI, PostgreSQLError> {
        guard text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") else {
            return .failure(PostgreSQLError(kind: .connection, message: "not a postgresql:// URI"))
        }
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(text, &errorMessage) else {
            let reason = errorMessage.map { String(cString: $0) } ?? "libpq could not parse it"
            PQfreemem(errorMessage)
            let safe = PostgreSQLError.oneLine(reason).replacingAll(text, with: redactedText(text))
            return .failure(PostgreSQLError(kind: .connection, message: safe))
        }
        defer { PQconninfoFree(options) }
        var parameters: [Parameter] = []
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                parameters.append(Parameter(keyword: String(cString: keyword), value: String(cString: value)))
            }
            option += 1
        }
        if let port = parameters.first(where: { $0.keyword == "port" })?.value,
            !port.split(separator: ",", omittingEmptySubsequences: false).allSatisfy({
                Int($0).map { (1...65535).contains($0) } == true
            })
        {
            return .failure(
                PostgreSQLError(kind: .connection, message: "the port \"\(port)\" is not a number from 1 to 65535"))
        }
        return .success(PostgreSQLURI(parameters: parameters))
    }

    /// `text` with whatever lies between the scheme's `//` and the last `@` before the path
    /// after its first `:` (the password) replaced: for messages about a URI libpq refused.
    static func redactedText(_ text: String) -> String {
        guard let schemeEnd = text.firstRange(of: "://")?.upperBound else { return text }
        let authorityEnd = text[schemeEnd...].firstIndex(where: { $0 == "/" || $0 == "?" }) ?? text.endIndex
        guard let at = text[schemeEnd..<authorityEnd].lastIndex(of: "@"),
            let colon = text[schemeEnd..<at].firstIndex(of: ":")
        else { return text }
        return String(text[..<text.index(after: colon)]) + "(secret)" + String(text[at...])
    }
}

extension String {
    fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty, target != replacement else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
