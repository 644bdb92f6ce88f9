import OpenSSLSupport

/// A connection the client sends a request on and reads the response from: plain TCP
/// (``ClientSocket``) or TLS over it (``TLSConnection``).
protocol ClientConnection {
    func send(_ bytes: [UInt8], phase: HTTPClientError.Phase) throws(HTTPClientError)
    /// Reads some bytes; 0 means the server ended the stream.
    func receive(into buffer: UnsafeMutableRawBufferPointer, phase: HTTPClientError.Phase) throws(HTTPClientError)
        -> Int
}

extension ClientSocket: ClientConnection {}

/// TLS over a ``ClientSocket``: the ``TLSStream`` engine encrypts and decrypts; this type
/// moves its ciphertext to and from the socket, where every wait is bounded by the deadline.
final class TLSConnection: ClientConnection {
    private let socket: ClientSocket
    private let stream: TLSStream
    private var ciphertext = [UInt8](repeating: 0, count: 16 * 1024)

    /// Performs the handshake (certificate and host name verification included).
    init(socket: ClientSocket, client: TLSClient, serverName: String) throws(HTTPClientError) {
        self.socket = socket
        do {
            stream = try TLSStream(client: client, serverName: serverName)
        } catch {
            throw Self.clientError(error, endpoint: socket.endpoint)
        }
        while true {
            let done: Bool
            do {
                done = try stream.handshake()
            } catch {
                throw Self.clientError(error, endpoint: socket.endpoint)
            }
            try flush(phase: .tlsHandshake)
            if done { return }
            guard try fill(phase: .tlsHandshake) else {
                throw HTTPClientError(
                    .closedEarly, endpoint: socket.endpoint, phase: .tlsHandshake,
                    "the server closed the connection during the TLS handshake (is it a TLS port?)")
            }
        }
    }

    func send(_ bytes: [UInt8], phase: HTTPClientError.Phase) throws(HTTPClientError) {
        let written = bytes.withUnsafeBytes { plaintext in
            Result { () throws(TLSError) in try stream.write(plaintext) }
        }
        if case .failure(let error) = written { throw Self.clientError(error, endpoint: socket.endpoint) }
        try flush(phase: phase)
    }

    func receive(into buffer: UnsafeMutableRawBufferPointer, phase: HTTPClientError.Phase) throws(HTTPClientError)
        -> Int
    {
        while true {
            let result: TLSStream.ReadResult
            do {
                result = try stream.read(into: buffer)
            } catch {
                throw Self.clientError(error, endpoint: socket.endpoint)
            }
            switch result {
            case .bytes(let count): return count
            case .closed: return 0
            case .needsInput:
                try flush(phase: phase)
                // A TCP close without close_notify: the HTTP framing decides if that is complete.
                guard try fill(phase: phase) else { return 0 }
            }
        }
    }

    /// Sends what the TLS engine has written.
    private func flush(phase: HTTPClientError.Phase) throws(HTTPClientError) {
        let output = stream.takeNetworkOutput()
        if !output.isEmpty { try socket.send(output, phase: phase) }
    }

    /// Reads ciphertext from the socket into the engine; false at end of stream.
    private func fill(phase: HTTPClientError.Phase) throws(HTTPClientError) -> Bool {
        let count = try ciphertext.withUnsafeMutableBytes { bytes in
            Result { () throws(HTTPClientError) in try socket.receive(into: bytes, phase: phase) }
        }.get()
        guard count > 0 else { return false }
        ciphertext.withUnsafeBytes { stream.receivedFromNetwork(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        return true
    }

    private static func clientError(_ error: TLSError, endpoint: String) -> HTTPClientError {
        let kind: HTTPClientError.Kind = error.kind == .verificationFailed ? .tlsVerificationFailed : .tls
        return HTTPClientError(kind, endpoint: endpoint, phase: .tlsHandshake, "TLS: \(error.message)")
    }
}
