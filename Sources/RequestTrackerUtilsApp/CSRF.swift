import OpenSSLSupport
import Prefork

/// Cross-site request forgery protection for the HTML forms: a random `csrftoken` cookie, and
/// in each form a hidden field holding HMAC-SHA-256(SECRET_KEY, cookie). A page on another site
/// can make a browser post the form, but cannot read the cookie to compute the field. The JSON
/// API instead requires `Content-Type: application/json`, which a cross-site form cannot send.
struct CSRF: Sendable {
    static let cookieName = "csrftoken"
    static let fieldName = "csrf_token"

    let key: [UInt8]

    /// The cookie value the request carries, if it is well formed.
    static func cookie(_ request: Request) -> String? {
        guard let header = request.header("cookie") else { return nil }
        for part in header.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters() == cookieName else { continue }
            let value = String(pair[1].trimmingCharacters())
            if value.utf8.count == 32 && value.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) {
                return value
            }
        }
        return nil
    }

    func token(forCookie cookie: String) -> String {
        Digest.hex(Digest.hmacSHA256(key: key, message: Array(cookie.utf8)))
    }

    /// The cookie to use for a form page: the request's, or a new one with its `Set-Cookie`.
    func issue(_ request: Request) -> (cookie: String, setCookie: String?) {
        if let existing = Self.cookie(request) { return (existing, nil) }
        let fresh = Digest.hex(SecureRandom.bytes(16))
        let secure = request.scheme == "https" ? "; Secure" : ""
        return (fresh, "\(Self.cookieName)=\(fresh); Path=/; HttpOnly; SameSite=Lax\(secure)")
    }

    /// The hidden field for a form.
    func field(cookie: String) -> HTML {
        "<input type=\"hidden\" name=\"\(Self.fieldName)\" value=\"\(token(forCookie: cookie))\">"
    }

    /// Whether a posted form carries a valid token for the request's cookie.
    func verify(_ request: Request, form: [String: String]) -> Bool {
        guard let cookie = Self.cookie(request), let field = form[Self.fieldName] else { return false }
        return Digest.constantTimeEqual(Array(token(forCookie: cookie).utf8), Array(field.utf8))
    }
}

extension Substring {
    func trimmingCharacters() -> Substring {
        var slice = self
        while slice.first == " " || slice.first == "\t" { slice = slice.dropFirst() }
        while slice.last == " " || slice.last == "\t" { slice = slice.dropLast() }
        return slice
    }
}
