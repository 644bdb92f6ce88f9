import PreforkCore

@testable import Prefork

/// Builds a Request the way a worker does, from raw bytes.
func makeRequest(_ text: String, body: [UInt8] = [], peer: String = "127.0.0.1", trust: ProxyTrust = .loopback) throws
    -> Request
{
    let bytes = Array(text.utf8)
    let head = try bytes.withUnsafeBytes { try HTTPRequestHeadParser.parse($0, limits: HTTPLimits()) }
    guard let head else { throw TestFailure("incomplete head") }
    let peer = Peer(address: peer, trusted: trust.trusts(peer), trustedNetworks: trust)
    return Request(head: Array(bytes[0..<head.length]), parsed: head, body: body, peer: peer, id: .generated(0xABC))
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
