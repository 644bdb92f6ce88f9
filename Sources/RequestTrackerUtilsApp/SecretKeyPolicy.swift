/// What makes a `SECRET_KEY` acceptable in production: long, varied, not a placeholder.
enum SecretKeyPolicy {
    static let minimumLength = 50
    static let minimumDistinctCharacters = 5
    static let placeholders = ["your-generated-secret-key-here", "change-me", "changeme", "secret", "django-insecure"]

    /// Why `key` is weak, or nil when it will do.
    static func weakness(_ key: String) -> String? {
        let lowered = key.lowercased()
        if let placeholder = placeholders.first(where: { lowered.hasPrefix($0) }) {
            return "looks like the placeholder '\(placeholder)…'"
        }
        if key.count < minimumLength {
            return "is too short (\(key.count) characters; at least \(minimumLength) are needed)"
        }
        if Set(key).count < minimumDistinctCharacters {
            return "has fewer than \(minimumDistinctCharacters) different characters"
        }
        return nil
    }

    /// The remedy every SECRET_KEY error ends with.
    static let remedy =
        "generate one with `request-tracker-utils generate-secret-key` and set SECRET_KEY in the secrets file"
}
