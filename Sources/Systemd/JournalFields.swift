/// Journal field names: upper-case ASCII letters, digits and `_`, not starting with a digit or
/// `_` (reserved for trusted fields), at most 64 bytes.
public enum JournalFields {
    /// `request_id` → `REQUEST_ID`, `http.method` → `HTTP_METHOD`, `9lives` → `X_9LIVES`.
    public static func normalize(_ key: String) -> String {
        var name = ""
        for scalar in key.unicodeScalars {
            switch scalar {
            case "a"..."z": name.unicodeScalars.append(Unicode.Scalar(scalar.value - 32)!)
            case "A"..."Z", "0"..."9": name.unicodeScalars.append(scalar)
            default: name.append("_")
            }
        }
        while name.hasPrefix("_") { name.removeFirst() }
        if name.isEmpty { name = "FIELD" }
        if let first = name.unicodeScalars.first, ("0"..."9").contains(first) { name = "X_" + name }
        return String(name.prefix(64))
    }
}
