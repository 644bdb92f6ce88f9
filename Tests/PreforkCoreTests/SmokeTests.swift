import Testing

@testable import PreforkCore

@Test func versionIsSet() {
    #expect(!PreforkCore.version.isEmpty)
}
