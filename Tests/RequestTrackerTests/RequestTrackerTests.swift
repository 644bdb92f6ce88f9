import Testing

@testable import RequestTracker

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct JSONValueTests {
    @Test func parsesWhatRTSends() throws {
        let text = """
            {"id" : 1, "Name" : "T-1001", "Owner" : {"id" : "Nobody", "type" : "user"},
             "CustomFields" : [{"name" : "Serial Number", "values" : ["SN-1001"]}], "pages" : 0.0,
             "ok" : true, "none" : null, "text" : "caf\\u00e9 \\ud83d\\ude00 \\"q\\" \\n"}
            """
        let value = try JSONValue(parsing: text)
        #expect(value["id"]?.intValue == 1 && value["Name"]?.stringValue == "T-1001")
        #expect(value["Owner"]?["id"]?.stringValue == "Nobody")
        #expect(value["pages"] == .number("0.0") && value["ok"] == .bool(true) && value["none"] == .null)
        #expect(value["text"]?.stringValue == "café 😀 \"q\" \n")
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"\\x\"", "\"a\nb\"", "tru", "[] []", "\"\\ud800\""])
    func refusesInvalidJSON(_ text: String) {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: text) }
    }

    @Test func refusesDeepNesting() {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: String(repeating: "[", count: 200)) }
    }

    @Test func encodesAndRoundTrips() throws {
        let value = JSONValue.object([
            "s": .string("a\"b\\c\u{1}é"), "n": .number("-1.5e3"), "a": .array([.bool(false), .null]), "o": .object([]),
        ])
        #expect(value.encoded == #"{"s":"a\"b\\c\u0001é","n":-1.5e3,"a":[false,null],"o":{}}"#)
        #expect(try JSONValue(parsing: value.encoded) == value)
        #expect(try JSONValue(parsing: value.prettyPrinted) == value)
    }
}

@Suite struct RTAssetTests {
    @Test func readsARESTRecord() throws {
        let record = try JSONValue(
            parsing: """
                {"id": 7, "Name": "T-1007", "Description": "Chromebook", "Status": "in-use",
                 "Owner": {"id": "alice", "type": "user"}, "Catalog": {"id": "1", "type": "catalog"},
                 "CustomFields": [{"name": "Serial Number", "values": ["SN-7"]}, {"name": "Room", "values": []}]}
                """)
        let asset = try #require(RTAsset(restRecord: record))
        #expect(
            asset
                == RTAsset(
                    id: 7, name: "T-1007", description: "Chromebook", status: "in-use", owner: "alice",
                    catalogID: 1, customFields: ["Serial Number": ["SN-7"], "Room": []]))
        #expect(asset.serial == "SN-7")
        #expect(asset.json["serial"] == .string("SN-7") && asset.json["id"] == .number("7"))
    }

    @Test func webURLAndConfigurationErrors() throws {
        let client = try RTClient(.init(url: "https://tickets.example.org/", authentication: .token("t")))
        #expect(client.assetWebURL(id: 12) == "https://tickets.example.org/Asset/Display.html?id=12")
        let error = #expect(throws: RTError.self) {
            try RTClient(.init(url: "tickets.example.org", authentication: .token("t")))
        }
        #expect(error?.kind == .configuration)
        #expect(error?.description == "RT at tickets.example.org: invalid URL: it must start with http:// or https://")
    }
}

/// Against a live RT, when RT_TEST_URL and RT_TEST_TOKEN name one (Tests/rt/rt-server.sh
/// start + seed): the write operations, which no command drives yet.
@Suite(.enabled(if: LiveRT.client != nil, "set RT_TEST_URL and RT_TEST_TOKEN to run against a live RT"))
struct LiveRTTests {
    let client = LiveRT.client!

    @Test func checkInChangesOwnerAndStatus() throws {
        let asset = try client.asset(tag: "T-1001")
        let updated = try client.updateAsset(id: asset.id, owner: "it-staff", status: "allocated")
        #expect(updated.owner == "it-staff" && updated.status == "allocated")
        #expect(try client.asset(id: asset.id).owner == "it-staff")
        // RT's default asset lifecycle has no way back from allocated to new: reset the owner only.
        try client.updateAsset(id: asset.id, owner: "Nobody")
    }

    @Test func unknownOwnerIsRejectedWithRTsMessage() throws {
        let asset = try client.asset(tag: "T-1002")
        let error = #expect(throws: RTError.self) { try client.updateAsset(id: asset.id, owner: "no-such-user") }
        #expect(error?.kind == .rejected)
        #expect(error?.message == "RT did not update asset \(asset.id): Could not find or create user 'no-such-user'")
    }

    @Test func invalidStatusIsRejected() throws {
        let asset = try client.asset(tag: "T-1002")
        let error = #expect(throws: RTError.self) { try client.updateAsset(id: asset.id, status: "bogus") }
        #expect(error?.kind == .rejected && error?.message.contains("isn't a valid status") == true)
    }

    @Test func missingAssetIsNotFound() throws {
        let error = #expect(throws: RTError.self) { try client.updateAsset(id: 999_999, owner: "alice") }
        #expect(error?.kind == .notFound)
        #expect((#expect(throws: RTError.self) { try client.asset(id: 999_999) })?.kind == .notFound)
    }

    @Test func repairTicketIsLinkedToTheAsset() throws {
        let asset = try client.asset(serial: "SN-1002")
        let ticket = try client.createTicket(
            queue: "General", subject: "\(asset.name): cracked screen", text: "Dropped in the gym.\nCase is fine.",
            requestor: "alice@example.test", refersToAsset: asset.id)
        #expect(ticket > 0)
        let error = #expect(throws: RTError.self) {
            try client.createTicket(queue: "No Such Queue", subject: "x", text: "y")
        }
        #expect(error?.kind == .unauthorized || error?.kind == .rejected)
    }
}

enum LiveRT {
    static let client: RTClient? = {
        guard let url = getenv("RT_TEST_URL").map({ String(cString: $0) }),
            let token = getenv("RT_TEST_TOKEN").map({ String(cString: $0) })
        else { return nil }
        return try? RTClient(.init(url: url, authentication: .token(token), timeout: 10))
    }()
}
