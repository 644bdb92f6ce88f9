import Foundation
import PreforkCore
import Testing

/// The signal tables of README.md and docs/operations.md are generated from `SignalTable`
/// (`make docs`); this fails when either drifts.
@Suite struct SignalsDocTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test(arguments: ["README.md", "docs/operations.md"])
    func signalTableMatchesTheTable(_ path: String) throws {
        let actual = try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
        #expect(actual.contains("<!-- BEGIN GENERATED signals:"), "\(path) has no generated signal table")
        #expect(actual == SignalTable.regenerate(actual), "\(path) is out of date: run `make docs` and commit it")
    }
}
