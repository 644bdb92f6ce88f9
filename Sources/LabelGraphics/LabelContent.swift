/// What a device label shows: the asset tag (large, and as a Code 128), lines of detail under
/// it, an optional footer line (e.g. the district's name), and the QR payload (typically the
/// asset's URL in Request Tracker).
public struct LabelContent: Sendable, Equatable {
    /// One line of detail: `className` becomes the SVG text element's class ("name", "serial", ...).
    public struct Line: Sendable, Equatable {
        public var className: String
        public var text: String

        public init(_ className: String, _ text: String) {
            self.className = className
            self.text = text
        }
    }

    /// The asset tag, e.g. "W12-0001"; printed large and as the Code 128 bar code.
    public var tag: String
    /// The detail lines under the tag, top to bottom; lines with empty text are not printed.
    public var lines: [Line]
    /// A line across the foot of the label, above the bar code (class "footer"); empty for none.
    public var footer: String
    /// What the QR Code holds.
    public var qrPayload: String

    public init(tag: String, lines: [Line], footer: String = "", qrPayload: String) {
        self.tag = tag
        self.lines = lines
        self.footer = footer
        self.qrPayload = qrPayload
    }

    /// The three classic lines: the device name, "S/N serial" and the owner.
    public init(tag: String, name: String, serial: String, owner: String, qrPayload: String) {
        self.init(
            tag: tag,
            lines: [Line("name", name), Line("serial", serial.isEmpty ? "" : "S/N " + serial), Line("owner", owner)],
            qrPayload: qrPayload)
    }

    /// The text of the "name" line ("" when there is none); setting it replaces or adds that line.
    public var name: String {
        get { lines.first { $0.className == "name" }?.text ?? "" }
        set {
            if let index = lines.firstIndex(where: { $0.className == "name" }) {
                lines[index].text = newValue
            } else {
                lines.insert(Line("name", newValue), at: 0)
            }
        }
    }
}
