import Testing

@testable import RequestTrackerUtilsApp

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct InternalNameTests {
    @Test func namesAreAnAdjectiveAndAnAnimal() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let parts = InternalNames.random(using: &generator).split(separator: " ").map(String.init)
            #expect(parts.count == 2)
            #expect(InternalNameWords.adjectives.contains(parts[0]) && InternalNameWords.animals.contains(parts[1]))
        }
        #expect(InternalNames.count >= 3000)
        #expect(Set(InternalNameWords.adjectives).count == InternalNameWords.adjectives.count)
        #expect(Set(InternalNameWords.animals).count == InternalNameWords.animals.count)
    }

    /// The Swift copy is generated from data/internal-names/: it must match.
    @Test func theWordListsMatchTheirDataFiles() {
        let root = String(#filePath.split(separator: "/").dropLast(3).joined(separator: "/"))
        let status = system("python3 /\(root)/scripts/generate-internal-names.py --check")
        #expect(status == 0, "run scripts/generate-internal-names.py")
    }

    @Test func aBatchIsCheckedBeforeRTIsAsked() throws {
        let batch = try IntakeBatch.parse(
            ["serials": "abc1\nABC2, abc3", "type": "Chromebook", "funding_source": "Title I"],
            defaultCatalog: "General assets"
        ).get()
        #expect(batch.serials == ["ABC1", "ABC2", "ABC3"] && batch.catalog == "General assets")
        #expect(batch.sharedFields == ["Type": "Chromebook", "Funding Source": "Title I"])
        for (serials, problem) in [
            ("", "serials are required"), ("A\nA", "A is listed twice"),
            ((1...26).map { "S\($0)" }.joined(separator: "\n"), "at most 25 devices"),
        ] {
            guard case .failure(let refused) = IntakeBatch.parse(["serials": serials], defaultCatalog: "x") else {
                Issue.record("\(serials) was accepted")
                continue
            }
            #expect(refused.text.contains(problem))
        }
    }

    @Test func aBatchHasMostOfTheWorkerTimeout() {
        #expect(RequestTrackerBridge.batchSeconds(rtTimeout: 10, workerTimeout: 30) == 24)
        #expect(RequestTrackerBridge.batchSeconds(rtTimeout: 10, workerTimeout: 11) == 10)
        #expect(RequestTrackerBridge.batchSeconds(rtTimeout: 5, workerTimeout: 0) == 30)
    }
}
