import COpenSSL

/// An HMAC-SHA-256 key made ready once (OpenSSL's MAC context with the key set), for signing
/// many short messages: each `sign` resets the context instead of setting it up again, which is
/// what `Digest.hmacSHA256` pays per call. Not for sharing between threads; a worker makes its own.
public final class HMACKey: @unchecked Sendable {
    private let context: OpaquePointer

    public init(_ key: [UInt8]) {
        let made = key.withUnsafeBufferPointer { copenssl_hmac_sha256_new($0.baseAddress, $0.count) }
        guard let made else { preconditionFailure("EVP_MAC HMAC-SHA-256 set-up failed") }
        context = made
    }

    deinit { EVP_MAC_CTX_free(context) }

    /// The 32-byte HMAC-SHA-256 of `message`, written to `output` (32 bytes).
    public func sign(_ message: UnsafeRawBufferPointer, into output: UnsafeMutablePointer<UInt8>) {
        let ok = copenssl_hmac_sha256(
            context, message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count, output)
        precondition(ok == 1, "HMAC-SHA-256 failed")
    }
}
