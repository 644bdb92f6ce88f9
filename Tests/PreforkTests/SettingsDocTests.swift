import Foundation
import PreforkCore
import RequestTrackerUtilsApp
import Testing

@testable import Prefork

/// docs/settings.md is generated from the registry (`make docs`); this fails when it drifts.
@Suite struct SettingsDocTests {
    @Test func settingsReferenceMatchesRegistry() throws {
        let registry = SettingsRegistry(ServerSettings.serverSettings + RequestTrackerUtils().settings)
        let expected = registry.markdownReference(title: "Settings")
        let docs = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/settings.md")
        let actual = try String(contentsOf: docs, encoding: .utf8)
        #expect(actual == expected, "docs/settings.md is out of date: run `make docs` and commit it")
    }
}
