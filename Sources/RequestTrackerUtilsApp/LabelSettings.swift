import PreforkCore

/// The settings of printed labels (section "Labels"): the two label sizes a desk prints, which
/// one a label gets when the URL does not say, and the footer line.
enum LabelSettings {
    static let widthMm = SettingKey<Double>(
        "label_width_mm", section: "Labels", env: ["LABEL_WIDTH_MM"], default: 100,
        doc: "Width of the large label (`size=large`) in millimetres: 100 for the 100×62 device labels.",
        validate: millimetres)

    static let heightMm = SettingKey<Double>(
        "label_height_mm", section: "Labels", env: ["LABEL_HEIGHT_MM"], default: 62,
        doc: "Height of the large label in millimetres: 62 for the 100×62 device labels.",
        validate: millimetres)

    static let smallWidthMm = SettingKey<Double>(
        "label_small_width_mm", section: "Labels", env: ["LABEL_SMALL_WIDTH_MM"], default: 90.3,
        doc: "Width of the small label (`size=small`, chargers and cables) in millimetres: 90.3 for 90.3×29 labels.",
        validate: millimetres)

    static let smallHeightMm = SettingKey<Double>(
        "label_small_height_mm", section: "Labels", env: ["LABEL_SMALL_HEIGHT_MM"], default: 29,
        doc: "Height of the small label in millimetres: 29 for 90.3×29 labels.",
        validate: millimetres)

    static let size = SettingKey<String>(
        "label_size", section: "Labels", env: ["LABEL_SIZE"], default: "large",
        doc: "Label size when the URL has no `size=`: large or small. Assets whose RT \"Type\" is Charger, "
            + "Power Adapter or Cable get the small label regardless.",
        hint: "large|small",
        validate: { LabelSize(rawValue: $0) == nil ? "must be large or small, not \($0)" : nil })

    static let footer = SettingKey<String>(
        "label_footer", section: "Labels", env: ["LABEL_FOOTER"], default: "",
        doc: "A line printed at the foot of every label, above the bar code, such as the district's name; "
            + "empty prints none.",
        validate: { $0.utf8.count <= 80 ? nil : "must be at most 80 bytes (one line on a small label)" })

    static let all: [AnySetting] = [
        widthMm.any, heightMm.any, smallWidthMm.any, smallHeightMm.any, size.any, footer.any,
    ]

    /// The label options of a worker, from the configuration.
    static func options(from configuration: Configuration) -> LabelOptions {
        LabelOptions(
            large: .init(widthMm: configuration[widthMm], heightMm: configuration[heightMm]),
            small: .init(widthMm: configuration[smallWidthMm], heightMm: configuration[smallHeightMm]),
            defaultSize: LabelSize(rawValue: configuration[size]) ?? .large, footer: configuration[footer])
    }

    private static let millimetres: @Sendable (Double) -> String? = { value in
        (10...500).contains(value) ? nil : "must be between 10 and 500 millimetres, not \(value)"
    }
}
