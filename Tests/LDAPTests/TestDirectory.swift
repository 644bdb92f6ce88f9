import LDAP
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A throw-away slapd made by `Tests/ldap/slapd-server.sh start` in a fresh temporary
/// directory, stopped and deleted when the suite (or the test) ends.
struct TestDirectory: Sendable {
    let directory: String
    /// ldap://127.0.0.1:PORT (StartTLS offered) and ldaps://127.0.0.1:TLSPORT.
    let ldapURI: String
    let ldapsURI: String
    /// The test CA that signed the server's certificate (unless started with --untrusted-cert).
    var caFile: String { directory + "/ca.pem" }

    static let base = "dc=example,dc=org"
    /// The users the script loads, with their passwords and the group each is in.
    static let users: [(name: String, password: String, group: String?)] = [
        ("tech1", "tech1-secret", "cn=it-staff,ou=groups,dc=example,dc=org"),
        ("teacher1", "Lehrer Paßwort 1", "cn=teachers,ou=groups,dc=example,dc=org"),
        ("nobody1", "nobody1-secret", nil),
    ]

    static func dn(_ user: String) -> String { "uid=\(LDAPConnection.escapeDNValue(user)),ou=people,\(base)" }

    static let script: String = {
        // .../Tests/LDAPTests/TestDirectory.swift -> .../Tests/ldap/slapd-server.sh
        var path = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        path.removeLast(2)
        return path.joined(separator: "/") + "/ldap/slapd-server.sh"
    }()

    /// Starts a directory; `options` are the script's (`--untrusted-cert`, `--wrong-host-cert`).
    static func start(_ options: [String] = []) throws -> TestDirectory {
        var template = Array("/tmp/ldap-tests.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Command.Failure(description: "mkdtemp failed") }
        let directory = String(cString: made)
        let (status, output) = try Command.run([script, "start", directory] + options)
        let lines = output.split(separator: "\n")
        guard status == 0, let ldap = lines.first(where: { $0.hasPrefix("ldap://") }),
            let ldaps = lines.first(where: { $0.hasPrefix("ldaps://") })
        else {
            _ = try? Command.run(["rm", "-rf", directory])
            throw Command.Failure(description: "slapd-server.sh start failed (\(status)): \(output)")
        }
        return TestDirectory(directory: directory, ldapURI: String(ldap), ldapsURI: String(ldaps))
    }

    /// Stops slapd, keeping its directory.
    func stopServer() {
        _ = try? Command.run([Self.script, "stop", directory])
    }

    func stop() {
        stopServer()
        _ = try? Command.run(["rm", "-rf", directory])
    }

    /// Options for ldap:// with StartTLS, or ldaps://, trusting the test CA.
    func options(ldaps: Bool = false, timeout: Double = 5) -> LDAPOptions {
        LDAPOptions(
            uri: ldaps ? ldapsURI : ldapURI, startTLS: !ldaps, verifyCertificate: true, caCertificateFile: caFile,
            timeoutSeconds: timeout)
    }
}

/// Starts one directory around the whole suite; its tests find it in ``TestDirectory/current``.
struct TestDirectoryTrait: SuiteTrait, TestScoping {
    @TaskLocal static var current: TestDirectory?

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let directory = try TestDirectory.start()
        defer { directory.stop() }
        try await Self.$current.withValue(directory) { try await function() }
    }
}

extension Trait where Self == TestDirectoryTrait {
    /// A throw-away slapd for the suite (Tests/ldap/slapd-server.sh).
    static var testDirectory: Self { TestDirectoryTrait() }
}

extension TestDirectory {
    static var current: TestDirectory {
        get throws {
            guard let directory = TestDirectoryTrait.current else {
                throw Command.Failure(description: "no test directory: the suite needs the .testDirectory trait")
            }
            return directory
        }
    }
}

/// A TCP socket on 127.0.0.1 that listens but never accepts: the kernel completes each
/// handshake into the backlog, and nothing is ever read or answered.
final class SilentListener {
    let descriptor: Int32
    let port: Int

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Command.Failure(description: "socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && listen(descriptor, 16) == 0
                    && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound else {
            close(descriptor)
            throw Command.Failure(description: "bind/listen failed")
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}

/// A loopback port nobody listens on (bound, then closed): connections to it are refused.
func refusedPort() throws -> Int {
    let listener = try SilentListener()
    return listener.port
}

/// Runs `body` and returns how long it took and the LDAPError it threw (nil if none).
func measure(_ body: () throws(LDAPError) -> Void) -> (Duration, LDAPError?) {
    let clock = ContinuousClock()
    let start = clock.now
    do {
        try body()
        return (clock.now - start, nil)
    } catch {
        return (clock.now - start, error)
    }
}
