import FoundationEssentials

/// Request Tracker's answers, decoded as the client decodes them, for the fuzzer
/// (`prefork-fuzz rtanswer`): an asset (and the `RTAsset` made from it), a search page, a user,
/// a created record, an error message, a list of messages. Whatever the bytes, each decode
/// throws or succeeds; none may trap.
public enum RTAnswerDecoding {
    public static func fuzz(_ bytes: [UInt8]) {
        let data = Data(bytes)
        let decoder = JSONDecoder()
        if let record = try? decoder.decode(RTAssetRecord.self, from: data) { _ = RTAsset(record) }
        _ = try? decoder.decode(RTSearchPage.self, from: data)
        _ = try? decoder.decode(RTUserRecord.self, from: data)
        _ = try? decoder.decode(RTCreated.self, from: data)
        _ = try? decoder.decode(RTMessage.self, from: data)
        _ = RTMessages(bytes)
    }
}
