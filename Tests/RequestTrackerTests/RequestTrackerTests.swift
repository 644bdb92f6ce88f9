import Curl
import FoundationEssentials
import TestSupport
import Testing

@testable import RequestTracker

#if canImport(Glibc)
    import Glibc
#endif

func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
    try JSONDecoder().decode(type, from: Data(text.utf8))
}

@Suite struct RTRecordTests {
    @Test func readsAnAssetAsRTSendsIt() throws {
        let record = try decode(
            RTAssetRecord.self,
            """
            {"id": 7, "Name": "T-1007", "Description": "Chromebook", "Status": "in-use", "pages": 0.0,
             "Owner": {"id": "alice", "type": "user", "_url": "x"}, "Catalog": {"id": "1", "type": "catalog"},
             "CustomFields": [{"name": "Serial Number", "id": "1", "values": ["SN-7"]}, {"name": "Room", "values": []},
                              {"name": "Photo", "values": [{"content_type": "image/png", "filename": "a.png"}]}],
             "Contact": [], "text": "caf\\u00e9 \\ud83d\\ude00"}
            """)
        let asset = RTAsset(record)
        #expect(
            asset
                == RTAsset(
                    id: 7, name: "T-1007", description: "Chromebook", status: "in-use", owner: "alice",
                    catalogID: 1, customFields: ["Serial Number": ["SN-7"]]))
        #expect(asset.serial == "SN-7" && asset.customField("Room") == nil)
    }

    @Test func idsAsNumbersOrStringsAndOwnersAsNames() throws {
        let record = try decode(
            RTAssetRecord.self, #"{"id": "12", "Name": "T", "Owner": "Nobody", "Catalog": {"id": 3}}"#)
        #expect(RTAsset(record).id == 12 && RTAsset(record).owner == "Nobody" && RTAsset(record).catalogID == 3)
        #expect(throws: DecodingError.self) { try decode(RTAssetRecord.self, #"{"id": "x", "Name": "T"}"#) }
        #expect(throws: DecodingError.self) { try decode(RTAssetRecord.self, #"{"id": 1}"#) }
    }

    @Test func readsASearchPage() throws {
        let page = try decode(
            RTSearchPage.self,
            #"{"count": 2, "total": 2, "page": 1, "per_page": 100, "items": [{"id": "4", "type": "asset"}, {"id": 9}]}"#
        )
        #expect(page.items.map(\.id.value) == [4, 9] && page.total == 2 && page.perPage == 100)
    }

    @Test func readsRTsMessagesAndSkipsTheRest() {
        #expect(
            RTMessages(Array(#"["Owner changed", {"x": 1}, "Status changed"]"#.utf8)).list == [
                "Owner changed", "Status changed",
            ])
        #expect(RTMessages(Array("not json".utf8)).list.isEmpty)
    }

    @Test func encodesOnlyWhatChanges() throws {
        let changes = RTAssetChanges(name: "W12-00042", owner: nil, status: nil, customFields: ["Model": "C340"])
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let text = String(decoding: try encoder.encode(changes), as: UTF8.self)
        #expect(text == #"{"CustomFields":{"Model":"C340"},"Name":"W12-00042"}"#)
        #expect(RTAssetChanges().isEmpty)
    }

    @Test func assetEncodesWithANullSerial() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let asset = RTAsset(id: 3, name: "T-3", customFields: ["Model": ["C340"]])
        #expect(
            String(decoding: try encoder.encode(asset), as: UTF8.self)
                == #"{"catalog_id":1,"custom_fields":{"Model":["C340"]},"description":"","id":3,"name":"T-3","#
                + #""owner":"Nobody","serial":null,"status":"new"}"#)
    }
}

@Suite struct RTErrorTests {
    @Test func transportFailuresMapToKinds() {
        #expect(RTError.kind(of: CurlError(.timedOut, "timed out after 2s while connecting")) == .timeout)
        #expect(RTError.kind(of: CurlError(.connectionRefused, "connection refused")) == .unreachable)
        #expect(RTError.kind(of: CurlError(.cannotResolve, "DNS lookup failed: x")) == .unreachable)
        #expect(RTError.kind(of: CurlError(.tls, "TLS error: x")) == .unreachable)
        #expect(RTError.kind(of: CurlError(.invalidRequest, "x")) == .configuration)
        #expect(RTError.kind(of: CurlError(.responseTooLarge, "x")) == .badResponse)
        let error = RTError(CurlError(.connectionRefused, "connection refused"), url: "https://rt.example")
        #expect(error.description == "RT at https://rt.example: connection refused")
    }

    @Test func deadlineRemembersItsSeconds() {
        let deadline = RTDeadline(seconds: 2)
        #expect(deadline.seconds == 2 && deadline.remaining > 1.9 && deadline.remaining <= 2)
        let later = RTDeadline(at: .now + .seconds(5))
        #expect(later.seconds > 4.9 && later.seconds <= 5)
        #expect(RTDeadline(seconds: -1).remaining == 0)
    }
}

@Suite struct RTClientTests {
    @Test func webURLAndConfigurationErrors() throws {
        let client = try RTClient(.init(url: "https://tickets.example.org/", authentication: .token("t")))
        #expect(client.assetWebURL(id: 12) == "https://tickets.example.org/Asset/Display.html?id=12")
        let error = #expect(throws: RTError.self) {
            try RTClient(.init(url: "tickets.example.org", authentication: .token("t")))
        }
        #expect(error?.kind == .configuration)
        #expect(error?.description == "RT at tickets.example.org: invalid URL: it must start with http:// or https://")
        let missing = #expect(throws: RTError.self) {
            try RTClient(.init(url: "https://rt.example", authentication: .token("t"), caFile: "/nonexistent.pem"))
        }
        #expect(missing?.kind == .configuration)
    }

    /// Two calls to an RT that never answers, with one deadline of 1.5 s: both end within it,
    /// not 1.5 s each.
    @Test func oneDeadlineCoversSeveralCalls() throws {
        let listener = try MuteListener()
        let client = try RTClient(
            .init(url: "http://127.0.0.1:\(listener.port)", authentication: .token("t"), timeout: 10))
        let deadline = RTDeadline(seconds: 1.5)
        let started = ContinuousClock.now
        let first = #expect(throws: RTError.self) { try client.check(deadline: deadline) }
        let second = #expect(throws: RTError.self) { try client.asset(tag: "T-1", deadline: deadline) }
        let elapsed = ContinuousClock.now - started
        #expect(first?.kind == .timeout && second?.kind == .timeout)
        #expect(first?.message == "timed out after 1.5s while waiting for the response")
        #expect(elapsed >= .milliseconds(1400) && elapsed < .milliseconds(2200), "took \(elapsed)")
    }

    @Test func aPassedDeadlineFailsWithoutAsking() throws {
        let client = try RTClient(.init(url: "http://127.0.0.1:1", authentication: .token("t")))
        let error = #expect(throws: RTError.self) { try client.check(deadline: RTDeadline(seconds: 0)) }
        #expect(error?.kind == .timeout)
    }
}
