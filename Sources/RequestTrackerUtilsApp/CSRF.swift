import OpenSSLSupport
import Prefork

/// Cross-site request forgery protection for the HTML forms. Each form carries a hidden field
/// holding HMAC-SHA-256(SECRET_KEY, binding), where the binding is the signed-in session's id
/// (so a token works only for that session and dies with it), or before sign-in a random
/// `csrftoken` cookie. A page on another site can make a browser post the form, but cannot
/// read either cookie to compute the field. The JSON API instead requires `Content-Type:
/// application/json`, which a cross-site form cannot send; a request with an API token needs
/// no field, as a browser never adds an `Authorization` header on its own.
struct CSRF: Sendable {
    static let cookieName = "csrftoken"
    static let fieldName = "csrf_token"

    /// HMAC-SHA-256 under SECRET_KEY, set up once per worker.
    let signer: HMACKey
    /// Random bytes for new cookies, fetched from OpenSSL 4 KiB at a time.
    let random = RandomPool()

    init(key: [UInt8]) {
        signer = HMACKey(key)
    }

    /// What the request's forms are bound to: its session's id, else its `csrftoken` cookie.
    static func binding(_ request: Request) -> String? {
        if let session = SignInRoutes.cookie(request) { return "session:" + session }
        return cookie(request)
    }

    /// The `csrftoken` cookie value the request carries, if it is well formed (32 hex digits).
    static func cookie(_ request: Request) -> String? {
        guard let value = request.cookie(cookieName), HexText.isLowercaseHex(value, count: 32) else { return nil }
        return value
    }

    /// Tokens this worker computed, by binding: a signed-in user's pages all carry the same one,
    /// and an HMAC costs more than the lookup.
    let tokens = TokenCache()

    func token(forCookie cookie: String) -> String {
        if let known = tokens.entries[cookie] { return known }
        let token = sign(cookie)
        if tokens.entries.count >= TokenCache.capacity { tokens.entries.removeAll(keepingCapacity: true) }
        tokens.entries[cookie] = token
        return token
    }

    private func sign(_ cookie: String) -> String {
        var cookie = cookie
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { mac in
            cookie.withUTF8 { signer.sign(UnsafeRawBufferPointer($0), into: mac.baseAddress!) }
            return Self.hex(UnsafeRawBufferPointer(mac))
        }
    }

    /// Lowercase hexadecimal.
    static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: 2 * bytes.count) { out in
            for (index, byte) in bytes.enumerated() {
                out[2 * index] = HTMLHex.digit(byte >> 4)
                out[2 * index + 1] = HTMLHex.digit(byte & 0xF)
            }
            return 2 * bytes.count
        }
    }

    /// The binding for a form page: the request's, or a new `csrftoken` with its `Set-Cookie`.
    func issue(_ request: Request) -> (cookie: String, setCookie: String?) {
        if let existing = Self.binding(request) { return (existing, nil) }
        let fresh = random.take(16) { Self.hex($0) }
        let secure = request.scheme == "https" ? "; Secure" : ""
        return (fresh, "\(Self.cookieName)=\(fresh); Path=/; HttpOnly; SameSite=Lax\(secure)")
    }

    /// The hidden field for a form.
    func field(cookie: String) -> HTML {
        "<input type=\"hidden\" name=\"\(Self.fieldName)\" value=\"\(token(forCookie: cookie))\">"
    }

    /// Whether a posted form carries a valid token for the request's binding (or the request
    /// was made with an API token the sign-in guard accepted).
    func verify(_ request: Request, form: [String: String]) -> Bool {
        if request.user != nil, request.header("authorization") != nil { return true }
        guard let cookie = Self.binding(request), let field = form[Self.fieldName] else { return false }
        return Digest.constantTimeEqual(Array(token(forCookie: cookie).utf8), Array(field.utf8))
    }
}

/// A worker's computed CSRF tokens (one request at a time: no lock).
final class TokenCache: @unchecked Sendable {
    static let capacity = 1024
    var entries: [String: String] = [:]
}

/// Checks on hexadecimal text.
enum HexText {
    /// Whether `text` is exactly `count` lowercase hex digits.
    static func isLowercaseHex(_ text: String, count: Int) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            guard bytes.count == count else { return false }
            for byte in bytes where !(byte >= 48 && byte <= 57) && !(byte >= 97 && byte <= 102) { return false }
            return true
        }
    }
}

/// Lowercase hex digits.
enum HTMLHex {
    @inline(__always)
    static func digit(_ value: UInt8) -> UInt8 { value < 10 ? 48 + value : 87 + value }
}

/// Random bytes from OpenSSL's generator, fetched 4 KiB at a time and handed out once each.
/// One per worker (made after the fork, filled on first use); a worker serves one request at
/// a time, so there is no lock.
final class RandomPool: @unchecked Sendable {
    private var bytes: [UInt8] = []
    private var used = 0

    /// Calls `body` with `count` fresh random bytes (at most 4096).
    func take<T>(_ count: Int, _ body: (UnsafeRawBufferPointer) -> T) -> T {
        if used + count > bytes.count {
            bytes = SecureRandom.bytes(4096)
            used = 0
        }
        defer { used += count }
        return bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[used..<used + count])) }
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
