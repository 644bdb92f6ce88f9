import LabelGraphics

/// The two label sizes a desk prints: large for devices, small for chargers and cables.
enum LabelSize: String, CaseIterable, Sendable {
    case large, small
}

/// How this site prints labels (from ``LabelSettings``), and the pure decisions of a label:
/// its size and the lines it prints.
struct LabelOptions: Sendable, Equatable {
    struct Dimensions: Sendable, Equatable {
        var widthMm: Double
        var heightMm: Double
    }

    var large: Dimensions
    var small: Dimensions
    /// The size when the URL does not name one and the asset's type does not decide it.
    var defaultSize: LabelSize
    /// The line at the foot of every label ("" for none).
    var footer: String

    /// RT asset types ("Type" custom field) whose labels are small unless the URL says otherwise,
    /// compared without regard to case or surrounding spaces.
    static let smallAssetTypes: Set<String> = ["charger", "power adapter", "cable"]

    /// The funding source the labels leave out: most devices have it, so it says nothing.
    static let unprintedFundingSource = "district funds"

    func dimensions(_ size: LabelSize) -> Dimensions {
        size == .large ? large : small
    }

    /// The size of one label: the one the URL asks for; else small for a charger, power
    /// adapter or cable; else the site's default.
    func size(requested: LabelSize?, assetType: String) -> LabelSize {
        if let requested { return requested }
        if Self.smallAssetTypes.contains(assetType.trimmingSpaces().lowercased()) { return .small }
        return defaultSize
    }

    /// The lines under the tag, top to bottom (empty ones are not printed).
    ///
    /// Large: the Internal Name as "N: …" (or, without one, the device's name), "S: SERIAL"
    /// (upper-cased), "M: model", "F: funding source" unless it is District Funds, then the
    /// owner when one was typed in (RT's owner changes at every check-in, so labels from RT
    /// leave it out). Small (29 mm high, beside the QR Code): only the first of those, the name
    /// line; serial, model, funding source and owner are left out so the tag stays large.
    static func lines(_ details: AssetDetails, size: LabelSize) -> [LabelContent.Line] {
        let name =
            details.internalName.isEmpty
            ? LabelContent.Line("name", details.name) : LabelContent.Line("internal-name", "N: " + details.internalName)
        guard size == .large else { return [name] }
        return [
            name,
            LabelContent.Line("serial", prefixed("S: ", details.serial.uppercased())),
            LabelContent.Line("model", prefixed("M: ", details.model)),
            LabelContent.Line("funding", printsFunding(details.fundingSource) ? "F: " + details.fundingSource : ""),
            LabelContent.Line("owner", details.id == nil ? details.owner : ""),
        ]
    }

    /// Whether the label prints this funding source: not when empty or District Funds.
    static func printsFunding(_ source: String) -> Bool {
        let normalized = source.trimmingSpaces().lowercased()
        return !normalized.isEmpty && normalized != unprintedFundingSource
    }

    /// Everything one label shows, at `size`.
    func content(tag: String, details: AssetDetails, size: LabelSize, qrPayload: String) -> LabelContent {
        LabelContent(tag: tag, lines: Self.lines(details, size: size), footer: footer, qrPayload: qrPayload)
    }

    /// "90.3 × 29 mm".
    func caption(_ size: LabelSize) -> String {
        let dimensions = dimensions(size)
        return "\(Self.millimetres(dimensions.widthMm)) × \(Self.millimetres(dimensions.heightMm)) mm"
    }

    static func millimetres(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    private static func prefixed(_ prefix: String, _ value: String) -> String {
        value.isEmpty ? "" : prefix + value
    }
}
