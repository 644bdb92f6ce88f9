/// One entry a search returned.
public struct LDAPEntry: Sendable, Equatable {
    /// The entry's DN as the server wrote it.
    public var dn: String
    /// Attribute name as the server returns it (its case, e.g. `memberOf`) -> values, in the
    /// server's order, as UTF-8 text (invalid bytes, as in binary attributes, replaced).
    public var attributes: [String: [String]]

    public init(dn: String, attributes: [String: [String]]) {
        self.dn = dn
        self.attributes = attributes
    }

    /// The values of `name`, whatever the case the server gave it (attribute names are
    /// case-insensitive); empty if the entry has none.
    public func values(_ name: String) -> [String] {
        if let values = attributes[name] { return values }
        let lowered = name.lowercased()
        return attributes.first { $0.key.lowercased() == lowered }?.value ?? []
    }
}
