/// Small helpers for writing SVG text by hand: number formatting without Foundation, XML
/// escaping, and the `<svg>` wrappers shared by the QR Code and Code 128 renderers.
enum SVG {
    static let namespace = "http://www.w3.org/2000/svg"

    /// A number with at most three decimals and no trailing zeros ("12", "0.25", "-3.5").
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let thousandths = Int((abs(value) * 1000).rounded())
        let sign = value < 0 && thousandths != 0 ? "-" : ""
        let whole = thousandths / 1000
        var fraction = thousandths % 1000
        guard fraction != 0 else { return sign + String(whole) }
        var digits = 3
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let fractionText = String(fraction)
        return sign + String(whole) + "." + String(repeating: "0", count: digits - fractionText.count) + fractionText
    }

    /// Text made safe for an attribute value or element content: the five XML specials become
    /// entities; control characters XML 1.0 forbids (and tabs, line breaks) become spaces.
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    result += " "
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }

    /// One path segment drawing a `width`×`height` rectangle at (x, y), relative moves only.
    static func rectangle(x: Int, y: Int, width: Int, height: Int) -> String {
        "M\(x) \(y)h\(width)v\(height)h-\(width)z"
    }

    /// A stand-alone document: `viewBox` in modules, a white background and the dark `path`.
    /// `width`/`height` are written only when given (in mm), so the drawing otherwise scales to
    /// whatever size the consumer sets.
    static func document(
        className: String, viewWidth: Int, viewHeight: Int, path: String,
        widthMm: Double?, heightMm: Double?, preserveAspectRatio: Bool
    ) -> String {
        var attributes = "xmlns=\"\(namespace)\""
        if let widthMm { attributes += " width=\"\(number(widthMm))mm\"" }
        if let heightMm { attributes += " height=\"\(number(heightMm))mm\"" }
        return element(
            className: className, attributes: attributes, viewWidth: viewWidth, viewHeight: viewHeight, path: path,
            preserveAspectRatio: preserveAspectRatio)
    }

    /// A nested `<svg>` to place inside another drawing: x, y, width and height are in the
    /// parent's user units (mm for `LabelSVG`).
    static func embedded(
        className: String, x: Double, y: Double, width: Double, height: Double,
        viewWidth: Int, viewHeight: Int, path: String, preserveAspectRatio: Bool
    ) -> String {
        let attributes = "x=\"\(number(x))\" y=\"\(number(y))\" width=\"\(number(width))\" height=\"\(number(height))\""
        return element(
            className: className, attributes: attributes, viewWidth: viewWidth, viewHeight: viewHeight, path: path,
            preserveAspectRatio: preserveAspectRatio)
    }

    private static func element(
        className: String, attributes: String, viewWidth: Int, viewHeight: Int, path: String,
        preserveAspectRatio: Bool
    ) -> String {
        let aspect = preserveAspectRatio ? "" : " preserveAspectRatio=\"none\""
        return "<svg class=\"\(escape(className))\" \(attributes) viewBox=\"0 0 \(viewWidth) \(viewHeight)\"\(aspect)"
            + " shape-rendering=\"crispEdges\">"
            + "<rect width=\"\(viewWidth)\" height=\"\(viewHeight)\" fill=\"#fff\"/>"
            + "<path d=\"\(path)\" fill=\"#000\"/></svg>"
    }
}
