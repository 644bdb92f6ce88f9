import Testing

@testable import RequestTracker

#if canImport(Glibc)
    import Glibc
#endif

/// Against a live RT, when RT_TEST_URL and RT_TEST_TOKEN name one (Tests/rt/rt-server.sh
/// start + seed): the write operations, which no command drives yet.
@Suite(.enabled(if: LiveRT.makeClient() != nil, "set RT_TEST_URL and RT_TEST_TOKEN to run against a live RT"))
struct LiveRTTests {
    let client = LiveRT.makeClient()!

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

/// What device intake, tags and label batches need (issue 12), against the seeded catalog's
/// custom fields (Tests/rt/rt-server.sh).
@Suite(.enabled(if: LiveRT.makeClient() != nil, "set RT_TEST_URL and RT_TEST_TOKEN to run against a live RT"))
struct LiveRTAssetTests {
    let client = LiveRT.makeClient()!
    let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)

    @Test func createsFindsRenamesAndSearches() throws {
        let serial = "SN-new-\(suffix)"
        let internalName = "Brave Otter \(suffix)"
        let asset = try client.createAsset(
            name: "T-new-\(suffix)", catalog: "General assets", description: "Chromebook C340",
            customFields: [
                "Serial Number": serial, "Internal Name": internalName, "Model": "C340",
                "Funding Source": "District Funds", "Type": "Chromebook",
            ])
        #expect(asset.serial == serial && asset.customField("Internal Name") == internalName)
        #expect(
            asset.customField("Type") == "Chromebook" && asset.owner == "Nobody"
                && asset.description == "Chromebook C340")
        #expect(try client.assetIDs(customField: "Internal Name", value: internalName) == [asset.id])
        #expect(try client.assetIDs(customField: "Serial Number", value: "SN-none-\(suffix)").isEmpty)
        let renamed = try client.updateAsset(id: asset.id, name: "W12-\(suffix)", customFields: ["Model": "C341"])
        #expect(renamed.name == "W12-\(suffix)" && renamed.customField("Model") == "C341" && renamed.serial == serial)
        #expect(try client.asset(tag: "W12-\(suffix)").id == asset.id)
        #expect(try client.assetIDs(query: "Name = 'W12-\(suffix)'") == [asset.id])
        #expect(try client.assetIDs(query: "CF.{Internal Name} = '\(internalName)'") == [asset.id])
    }

    @Test func aQuerySelectingManyAssetsReadsEveryPage() throws {
        let ids = try client.assetIDs(query: "Catalog = 'General assets'")
        #expect(ids.count >= 2 && ids == ids.sorted() && Set(ids).count == ids.count)
    }

    @Test func aQueryOnAFieldRTDoesNotKnowIsRejected() {
        let error = #expect(throws: RTError.self) { try client.assetIDs(query: "Foo = 'x'") }
        #expect(error?.kind == .rejected && error?.status == 400)
    }

    @Test func aCustomFieldTheCatalogLacksIsRejected() {
        let error = #expect(throws: RTError.self) {
            try client.createAsset(
                name: "T-bad-\(suffix)", catalog: "General assets", customFields: ["No Such Field": "x"])
        }
        #expect(error?.kind == .rejected && error?.message.contains("No Such Field") == true)
    }

    @Test func oneDeadlineCoversSeveralCalls() throws {
        let deadline = RTDeadline(seconds: 5)
        let asset = try client.asset(tag: "T-1001", deadline: deadline)
        #expect(try client.asset(id: asset.id, deadline: deadline).name == "T-1001")
        let spent = RTDeadline(at: .now - .seconds(1))
        let error = #expect(throws: RTError.self) { try client.asset(id: asset.id, deadline: spent) }
        #expect(error?.kind == .timeout)
    }
}

/// A client per test: a client is not thread-safe (one libcurl handle), and tests run in parallel.
enum LiveRT {
    static func makeClient() -> RTClient? {
        guard let url = getenv("RT_TEST_URL").map({ String(cString: $0) }),
            let token = getenv("RT_TEST_TOKEN").map({ String(cString: $0) })
        else { return nil }
        return try? RTClient(.init(url: url, authentication: .token(token), timeout: 10))
    }
}
