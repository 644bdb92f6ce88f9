import Testing

@testable import RequestTrackerUtilsApp

@Suite struct TagInputTests {
    @Test func theOldToolsCheckDigit() {
        #expect(TagInput.checkDigit("W12-00042") == 7)
        #expect(TagInput.checkDigit("W12-0001") == (87 + 49 + 50 + 45 + 48 + 48 + 48 + 49) % 10)
    }

    @Test func aScannedOldBarcodeIsItsTag() throws {
        #expect(try TagInput.parse("W12-00042*7").get() == "W12-00042")
        #expect(try TagInput.parse("  w12-00042*7 ").get() == "W12-00042")
        #expect(try TagInput.parse("W12-0001").get() == "W12-0001")
    }

    @Test func aWrongCheckDigitOrOtherSuffixIsRefusedWithASentence() throws {
        guard case .failure(let wrong) = TagInput.parse("W12-00042*3") else {
            Issue.record("a wrong check digit was accepted")
            return
        }
        #expect(wrong.text == "W12-00042*3 was misread: the check digit of W12-00042 is 7, not 3; scan it again")
        for bad in ["W12-00042*", "W12-00042*77", "*7", "W12 0001", "A/B", ""] {
            if case .success(let tag) = TagInput.parse(bad) { Issue.record("\(bad) was read as \(tag)") }
        }
    }

    @Test func storedTimesParseBack() {
        #expect(Timestamp(iso8601: "2026-11-21T14:03:09Z")?.iso8601 == "2026-11-21T14:03:09Z")
        #expect(Timestamp(iso8601: "not a time") == nil)
        #expect(RequestTrackerBridge.rtTime("2026-12-01T00:00:30Z") == "2026-11-30 23:59:30")
    }
}
