import COpenSSL

/// Password hashes as PBKDF2-HMAC-SHA256 with a random 16-byte salt, in the text form Django
/// uses (`pbkdf2_sha256$ITERATIONS$SALT$HASH`, salt and hash in base64), so accounts carried
/// over from the old tool keep working. The iteration count is stored with each hash: raising
/// the default strengthens new and changed passwords without breaking old ones.
public enum PasswordHash {
    /// OWASP's recommendation for PBKDF2-HMAC-SHA256 (Password Storage Cheat Sheet, 2023).
    public static let recommendedIterations = 600_000

    /// A new hash of `password` with a fresh salt.
    public static func make(_ password: String, iterations: Int = recommendedIterations) -> String {
        let salt = Base64.encode(SecureRandom.bytes(12)).filter { $0 != "=" }
        let derived = derive(password, salt: salt, iterations: iterations)
        return "pbkdf2_sha256$\(iterations)$\(salt)$\(Base64.encode(derived))"
    }

    /// Whether `password` matches `encoded`, compared in constant time. False for anything
    /// that is not a hash this type makes (an empty or disabled password field).
    public static func verify(_ password: String, against encoded: String) -> Bool {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "pbkdf2_sha256", let iterations = Int(parts[1]),
            (1...10_000_000).contains(iterations), let expected = Base64.decode(String(parts[3])),
            expected.count == 32
        else { return false }
        let derived = derive(password, salt: String(parts[2]), iterations: iterations)
        return Digest.constantTimeEqual(derived, expected)
    }

    /// The iteration count a stored hash was made with (nil when it is not one).
    public static func iterations(of encoded: String) -> Int? {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "pbkdf2_sha256" else { return nil }
        return Int(parts[1])
    }

    static func derive(_ password: String, salt: String, iterations: Int) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: 32)
        // One NUL after the password keeps the buffer non-empty; the length passed excludes it.
        let passwordBytes = Array(password.utf8) + [0]
        let saltBytes = Array(salt.utf8) + [0]
        let status = passwordBytes.withUnsafeBytes { passwordBuffer in
            saltBytes.withUnsafeBytes { saltBuffer in
                PKCS5_PBKDF2_HMAC(
                    passwordBuffer.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(passwordBytes.count - 1),
                    saltBuffer.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(saltBytes.count - 1),
                    Int32(iterations), EVP_sha256(), 32, &output)
            }
        }
        precondition(status == 1, "PKCS5_PBKDF2_HMAC failed")
        return output
    }
}

/// Standard base64 with padding (RFC 4648 §4): the password hash's text form, and the basic
/// authentication header of the Request Tracker client.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let b0 = bytes[index]
            let b1 = index + 1 < bytes.count ? bytes[index + 1] : 0
            let b2 = index + 2 < bytes.count ? bytes[index + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(index + 1 < bytes.count ? alphabet[Int((b1 & 0x0f) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(index + 2 < bytes.count ? alphabet[Int(b2 & 0x3f)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var values: [UInt8] = []
        for byte in text.utf8 where byte != UInt8(ascii: "=") {
            guard let value = alphabet.firstIndex(of: byte) else { return nil }
            values.append(UInt8(value))
        }
        guard values.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        var index = 0
        while index + 1 < values.count {
            out.append(values[index] << 2 | values[index + 1] >> 4)
            if index + 2 < values.count { out.append(values[index + 1] << 4 | values[index + 2] >> 2) }
            if index + 3 < values.count { out.append(values[index + 2] << 6 | values[index + 3]) }
            index += 4
        }
        return out
    }
}
