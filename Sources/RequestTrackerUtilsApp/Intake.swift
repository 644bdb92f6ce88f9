import RequestTracker

/// A batch of new devices to create in RT: what the intake form or API gives, checked.
struct IntakeBatch: Equatable {
    static let maximum = 25

    var serials: [String]
    var catalog: String
    var type: String
    var model: String
    var fundingSource: String
    var description: String

    /// The custom fields every asset of the batch gets (besides its serial and internal name).
    var sharedFields: [String: String] {
        ["Type": type, "Model": model, "Funding Source": fundingSource].filter { !$0.value.isEmpty }
    }

    /// Serial numbers one per line (or separated by commas or spaces), upper-cased; the error
    /// says what is wrong in one sentence.
    static func parse(_ fields: [String: String], defaultCatalog: String) -> Result<IntakeBatch, TagRoutes.Problem> {
        let separators: Set<Character> = ["\n", "\r", ",", " ", "\t", ";"]
        let serials = (fields["serials"] ?? "").split(whereSeparator: { separators.contains($0) }).map {
            String($0).uppercased()
        }
        guard !serials.isEmpty else {
            return .failure(.init(text: "serials are required: one serial number per line"))
        }
        guard serials.count <= maximum else {
            return .failure(
                .init(text: "at most \(maximum) devices at a time (\(serials.count) given): split the batch"))
        }
        var seen: Set<String> = []
        for serial in serials {
            guard serial.utf8.count <= 64, serial.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                return .failure(
                    .init(text: "\(serial.prefix(64)) is not a serial number (printable, at most 64 characters)"))
            }
            guard seen.insert(serial).inserted else {
                return .failure(.init(text: "\(serial) is listed twice"))
            }
        }
        let text = { (name: String) in (fields[name] ?? "").trimmingSpaces() }
        let catalog = text("catalog").isEmpty ? defaultCatalog : text("catalog")
        for (name, value) in [
            ("catalog", catalog), ("type", text("type")), ("model", text("model")),
            ("funding source", text("funding_source")), ("description", text("description")),
        ]
        where value.count > 200 {
            return .failure(.init(text: "\(name) must be at most 200 characters"))
        }
        return .success(
            IntakeBatch(
                serials: serials, catalog: catalog, type: text("type"), model: text("model"),
                fundingSource: text("funding_source"), description: text("description")))
    }
}

/// "Adjective Animal" names from the word lists in data/internal-names/.
enum InternalNames {
    static func random<G: RandomNumberGenerator>(using generator: inout G) -> String {
        InternalNameWords.adjectives.randomElement(using: &generator)! + " "
            + InternalNameWords.animals.randomElement(using: &generator)!
    }

    static var count: Int { InternalNameWords.adjectives.count * InternalNameWords.animals.count }
}

/// What an intake came to: the devices made, in order, and where it stopped and why.
struct IntakeOutcome {
    struct Made {
        var serial: String
        var tag: String
        var internalName: String
        var assetID: Int
    }

    var made: [Made] = []
    /// The serials not created (the failing one first), with the reason.
    var notMade: [String] = []
    var failure: RTError?
    /// A serial RT already has: nothing was created.
    var duplicate: (serial: String, assetID: Int)?
}
