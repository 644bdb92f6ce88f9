import PostgreSQL
import SystemCalls
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A throw-away PostgreSQL cluster made by `Tests/pg/pg-server.sh start` in a fresh temporary
/// directory, stopped and deleted when the suite ends.
struct TestCluster: Sendable {
    let directory: String
    let port: Int
    let password: String

    static let script: String = {
        // .../Tests/PostgreSQLTests/TestCluster.swift -> .../Tests/pg/pg-server.sh
        var path = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        path.removeLast(2)
        return path.joined(separator: "/") + "/pg/pg-server.sh"
    }()

    static func start() throws -> TestCluster {
        var template = Array("/tmp/pg-tests.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Command.Failure(description: "mkdtemp failed") }
        let directory = String(cString: made)
        let (status, output) = try Command.run([script, "start", directory])
        let url = output.split(separator: "\n").last { $0.hasPrefix("postgresql://") }
        guard status == 0, let url, let portText = url.split(separator: ":").last?.split(separator: "/").first,
            let port = Int(portText)
        else {
            _ = try? Command.run(["rm", "-rf", directory])
            throw Command.Failure(description: "pg-server.sh start failed (\(status)): \(output)")
        }
        let password = try FileIO.read(directory + "/password")
        return TestCluster(directory: directory, port: port, password: String(decoding: password, as: UTF8.self))
    }

    func stop() {
        _ = try? Command.run([Self.script, "stop", directory])
        _ = try? Command.run(["rm", "-rf", directory])
    }

    /// PQconnectdbParams keywords for the role rtutils over TCP, with `extra` appended.
    func parameters(password: String? = nil, _ extra: [(String, String)] = []) -> [(String, String)] {
        [
            ("host", "127.0.0.1"), ("port", String(port)), ("dbname", "rtutils"), ("user", "rtutils"),
            ("password", password ?? self.password), ("connect_timeout", "5"),
        ] + extra
    }

    func connect(_ extra: [(String, String)] = []) throws -> PostgreSQLConnection {
        try PostgreSQLConnection(parameters: parameters(extra))
    }
}

/// Starts one cluster around the whole suite; its tests find it in ``TestCluster/current``.
struct TestClusterTrait: SuiteTrait, TestScoping {
    @TaskLocal static var current: TestCluster?

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let cluster = try TestCluster.start()
        defer { cluster.stop() }
        try await Self.$current.withValue(cluster) { try await function() }
    }
}

extension Trait where Self == TestClusterTrait {
    /// A throw-away PostgreSQL cluster for the suite (Tests/pg/pg-server.sh).
    static var testCluster: Self { TestClusterTrait() }
}

extension TestCluster {
    static var current: TestCluster {
        get throws {
            guard let cluster = TestClusterTrait.current else {
                throw Command.Failure(description: "no test cluster: the suite needs the .testCluster trait")
            }
            return cluster
        }
    }
}
