/// A tag as staff type or scan it. The old tool's labels encode `TAG*D` in their Code 128 bar
/// code, where D is the sum of the tag's character codes modulo 10 (`W12-00042*7`); those
/// labels stay on devices for years, so wherever a tag is read (check-in, look-up, labels) a
/// scanned `TAG*D` with the right D means `TAG`, and a wrong D is refused: it is a misread,
/// not a tag.
enum TagInput {
    /// The old tool's check digit of `tag`.
    static func checkDigit(_ tag: String) -> Int {
        tag.unicodeScalars.reduce(0) { ($0 + Int($1.value)) % 10 }
    }

    /// The tag in `text` (trimmed, upper-cased, a valid old `*D` suffix removed), or the
    /// sentence saying why it is not one.
    static func parse(_ text: String) -> Result<String, TagRoutes.Problem> {
        var tag = text.trimmingSpaces().uppercased()
        if let star = tag.lastIndex(of: "*") {
            let digit = tag[tag.index(after: star)...]
            let base = String(tag[..<star])
            guard digit.count == 1, let given = Int(digit), !base.isEmpty else {
                return .failure(TagRoutes.Problem(text: "\(text) is not a tag: only a check digit may follow '*'"))
            }
            let expected = checkDigit(base)
            guard given == expected else {
                return .failure(
                    TagRoutes.Problem(
                        text:
                            "\(tag) was misread: the check digit of \(base) is \(expected), not \(given); scan it again"
                    ))
            }
            tag = base
        }
        guard !tag.isEmpty, tag.utf8.count <= 40, tag.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x2F })
        else {
            return .failure(
                TagRoutes.Problem(
                    text: "tag is required: the asset tag on the device, like W12-0001 (no spaces or '/')"))
        }
        return .success(tag)
    }
}
