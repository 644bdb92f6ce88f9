import COpenSSL

/// The trust settings for TLS client connections: the system's CA store, plus an optional CA
/// file, TLS 1.2 or later, and certificate verification that is on unless a test turns it off.
/// Make one per client and reuse it for every connection; it is immutable once made.
public final class TLSClient: @unchecked Sendable {
    // @unchecked: the SSL_CTX is only read after init, which OpenSSL allows from any thread.
    let context: OpaquePointer

    /// - Parameters:
    ///   - caFile: a PEM file of CA certificates trusted in addition to the system's store
    ///     (`SSL_CTX_set_default_verify_paths`), for a server with a private CA.
    ///   - verifyPeer: false accepts any certificate for any name. Only for tests.
    public init(caFile: String? = nil, verifyPeer: Bool = true) throws(TLSError) {
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw TLSError(.setup, "SSL_CTX_new failed: \(TLSError.drainOpenSSLErrors())")
        }
        self.context = context
        guard copenssl_set_min_protocol_tls12(context) == 1 else {
            throw TLSError(.setup, "cannot require TLS 1.2: \(TLSError.drainOpenSSLErrors())")
        }
        SSL_CTX_set_verify(context, verifyPeer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
        guard SSL_CTX_set_default_verify_paths(context) == 1 else {
            throw TLSError(.setup, "cannot load the system CA store: \(TLSError.drainOpenSSLErrors())")
        }
        if let caFile, !caFile.isEmpty {
            guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                throw TLSError(.setup, "cannot read CA file \(caFile): \(TLSError.drainOpenSSLErrors())")
            }
        }
    }

    deinit { SSL_CTX_free(context) }
}

/// One TLS client connection as a pure engine over two memory buffers: it does no I/O. The
/// caller moves ciphertext between it and the socket (``receivedFromNetwork(_:)``,
/// ``takeNetworkOutput()``) and waits on the socket with its own deadline whenever a call
/// reports that it needs more input. Keeping every socket call in the caller means one place
/// for poll, deadlines and EINTR, and writes with `MSG_NOSIGNAL` (OpenSSL's socket BIO would
/// use `write`, which raises SIGPIPE when the server has gone).
///
/// Verification: the server's certificate must chain to a trusted CA and match `serverName`
/// (`SSL_set1_host`; an IP address is matched against the certificate's IP entries). SNI is
/// sent for names, not for IP addresses.
public final class TLSStream {
    private let ssl: OpaquePointer
    /// Ciphertext from the network, read by OpenSSL.
    private let networkInput: OpaquePointer
    /// Ciphertext OpenSSL wrote, for the caller to send.
    private let networkOutput: OpaquePointer

    /// What a read produced.
    public enum ReadResult: Equatable, Sendable {
        /// This many plaintext bytes were stored at the start of the buffer.
        case bytes(Int)
        /// OpenSSL needs more ciphertext: send ``takeNetworkOutput()``, then read the socket.
        case needsInput
        /// The server ended the TLS stream (close_notify).
        case closed
    }

    public init(client: TLSClient, serverName: String) throws(TLSError) {
        ERR_clear_error()
        guard let ssl = SSL_new(client.context) else {
            throw TLSError(.setup, "SSL_new failed: \(TLSError.drainOpenSSLErrors())")
        }
        guard let input = BIO_new(BIO_s_mem()), let output = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError(.setup, "BIO_new failed: \(TLSError.drainOpenSSLErrors())")
        }
        SSL_set_bio(ssl, input, output)  // the SSL owns both BIOs from here on
        self.ssl = ssl
        self.networkInput = input
        self.networkOutput = output
        SSL_set_connect_state(ssl)
        if !Self.isIPAddress(serverName) {
            guard copenssl_set_tlsext_host_name(ssl, serverName) == 1 else {
                throw TLSError(.setup, "cannot send server name \(serverName): \(TLSError.drainOpenSSLErrors())")
            }
        }
        guard SSL_set1_host(ssl, serverName) == 1 else {
            throw TLSError(.setup, "cannot verify for host \(serverName): \(TLSError.drainOpenSSLErrors())")
        }
    }

    deinit { SSL_free(ssl) }

    /// Advances the handshake. True when it is complete; false when it needs more input (send
    /// ``takeNetworkOutput()`` first: it holds the ClientHello or the next flight).
    public func handshake() throws(TLSError) -> Bool {
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 { return true }
        let error = SSL_get_error(ssl, result)
        if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE { return false }
        let verifyResult = SSL_get_verify_result(ssl)
        if verifyResult != X509_V_OK {
            let reason = String(cString: X509_verify_cert_error_string(verifyResult))
            _ = TLSError.drainOpenSSLErrors()
            throw TLSError(.verificationFailed, "certificate verification failed: \(reason)")
        }
        throw TLSError(.handshakeFailed, "TLS handshake failed: \(TLSError.drainOpenSSLErrors())")
    }

    /// Hands ciphertext read from the socket to OpenSSL.
    public func receivedFromNetwork(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        // A memory BIO grows as needed; a write to it fails only when memory runs out.
        let written = BIO_write(networkInput, base, Int32(bytes.count))
        precondition(written == Int32(bytes.count), "BIO_write to a memory BIO failed")
    }

    /// Ciphertext OpenSSL produced that must go to the socket, emptied by this call.
    public func takeNetworkOutput() -> [UInt8] {
        let pending = copenssl_bio_pending(networkOutput)
        guard pending > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: pending)
        let read = bytes.withUnsafeMutableBytes { BIO_read(networkOutput, $0.baseAddress, Int32(pending)) }
        return Array(bytes.prefix(max(0, Int(read))))
    }

    /// Encrypts `plaintext` (after the handshake); the ciphertext waits in ``takeNetworkOutput()``.
    public func write(_ plaintext: UnsafeRawBufferPointer) throws(TLSError) {
        var offset = 0
        while offset < plaintext.count {
            ERR_clear_error()
            let count = Int32(min(plaintext.count - offset, Int(Int32.max)))
            let result = SSL_write(ssl, plaintext.baseAddress! + offset, count)
            guard result > 0 else {
                throw TLSError(.protocolError, "TLS write failed: \(TLSError.drainOpenSSLErrors())")
            }
            offset += Int(result)
        }
    }

    /// Decrypts into `buffer` what the input received so far allows.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(TLSError) -> ReadResult {
        ERR_clear_error()
        let result = SSL_read(ssl, buffer.baseAddress, Int32(min(buffer.count, Int(Int32.max))))
        if result > 0 { return .bytes(Int(result)) }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return .needsInput
        case SSL_ERROR_ZERO_RETURN: return .closed
        default: throw TLSError(.protocolError, "TLS read failed: \(TLSError.drainOpenSSLErrors())")
        }
    }

    private static func isIPAddress(_ host: String) -> Bool {
        host.contains(":") || (!host.isEmpty && host.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || $0 == 46 })
    }
}

/// A TLS failure: what went wrong, in words an operator can act on.
public struct TLSError: Error, Sendable, CustomStringConvertible {
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The context could not be made (a CA file that does not load, out of memory).
        public static let setup = Kind("setup")
        /// The server's certificate is not trusted or is not for the host name.
        public static let verificationFailed = Kind("verification failed")
        /// The handshake failed for another reason (no common protocol or cipher, an alert).
        public static let handshakeFailed = Kind("handshake failed")
        /// A TLS record could not be read or written after the handshake.
        public static let protocolError = Kind("protocol error")
    }

    public var kind: Kind
    /// One line, such as "certificate verification failed: self-signed certificate".
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// Empties OpenSSL's thread-local error queue into one line ("unknown" when it is empty).
    static func drainOpenSSLErrors() -> String {
        var reasons: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            let text: String
            if let reason = ERR_reason_error_string(code) {
                text = String(cString: reason)
            } else {
                var buffer = [CChar](repeating: 0, count: 256)
                ERR_error_string_n(code, &buffer, buffer.count)
                text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            if !reasons.contains(text) { reasons.append(text) }
        }
        return reasons.isEmpty ? "unknown error" : reasons.joined(separator: "; ")
    }
}
