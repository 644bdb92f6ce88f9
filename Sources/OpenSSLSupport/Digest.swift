import COpenSSL

/// SHA-256 and HMAC-SHA-256 from OpenSSL's libcrypto: the only place the project calls it
/// for hashing.
public enum Digest {
    /// The SHA-256 digest of `bytes` (32 bytes).
    public static func sha256(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var length: UInt32 = 0
        let output = [UInt8](unsafeUninitializedCapacity: 32) { buffer, count in
            let ok = withContiguous(bytes) { input in
                EVP_Digest(input.baseAddress, input.count, buffer.baseAddress, &length, sha256Algorithm, nil)
            }
            precondition(ok == 1 && length == 32, "EVP_Digest(SHA-256) failed")
            count = 32
        }
        return output
    }

    /// SHA-256 fetched from OpenSSL's provider once per process: `EVP_sha256()` makes
    /// `EVP_Digest` look the implementation up again on every call, which costs more than
    /// hashing a session id. (Fetching starts no thread.)
    nonisolated(unsafe) private static let sha256Algorithm: OpaquePointer? = EVP_MD_fetch(nil, "SHA256", nil)

    /// The HMAC-SHA-256 of `message` under `key` (32 bytes).
    public static func hmacSHA256(key: some Collection<UInt8>, message: some Collection<UInt8>) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = withContiguous(key) { keyBytes in
            withContiguous(message) { messageBytes in
                HMAC(
                    EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count),
                    messageBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), messageBytes.count,
                    &output, &length)
            }
        }
        precondition(result != nil, "HMAC(SHA-256) failed")
        return Array(output.prefix(Int(length)))
    }

    /// Lowercase hexadecimal.
    public static func hex(_ bytes: [UInt8]) -> String {
        // Written straight into the string's storage: one allocation, no per-byte appends.
        String(unsafeUninitializedCapacity: 2 * bytes.count) { out in
            for (index, byte) in bytes.enumerated() {
                out[2 * index] = hexDigit(byte >> 4)
                out[2 * index + 1] = hexDigit(byte & 0xF)
            }
            return 2 * bytes.count
        }
    }

    @inline(__always)
    private static func hexDigit(_ value: UInt8) -> UInt8 { value < 10 ? 48 + value : 87 + value }

    /// Compares two byte strings in time independent of where they differ.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { x in
            b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, a.count) == 0 }
        }
    }

    private static func withContiguous<T>(_ bytes: some Collection<UInt8>, _ body: (UnsafeRawBufferPointer) -> T) -> T {
        if let result = bytes.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) { return result }
        return Array(bytes).withUnsafeBytes(body)
    }
}

/// Cryptographically secure random bytes from OpenSSL's generator.
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: count)
        let ok = output.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        precondition(ok == 1, "RAND_bytes failed")
        return output
    }
}
