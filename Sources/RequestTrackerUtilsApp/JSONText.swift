import RequestTracker

/// Writing JSON by hand, for the API's small responses.
enum JSONText {
    /// A JSON string literal (the RT client's encoder: `<` is escaped too, safe inside HTML).
    static func quote(_ text: String) -> String { JSONValue.string(text).encoded }

    static func quote(_ text: String?) -> String { text.map { quote($0) } ?? "null" }

    /// An object from already-encoded values, in the given order.
    static func object(_ members: [(String, String)]) -> String {
        "{" + members.map { quote($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }

    static func array(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }
}
