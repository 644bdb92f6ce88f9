/// Printable asset labels as SVG documents, sized in mm for a label printer.
public enum LabelSVG {
    /// A complete SVG document of the label: `width`/`height` in mm and a viewBox in mm, a white
    /// background, the QR Code (`class="qr"`), the text lines (`class` "tag", then each content
    /// line's class, e.g. "name", "serial", "owner"), the footer (`class="footer"`, centred above
    /// the bar code) and the tag's Code 128 (`class="barcode"`).
    ///
    /// The layout depends on the height: from 40 mm up (e.g. 100×62 mm) the QR Code sits top
    /// left with the text beside it and the bar code runs across the bottom; lower labels
    /// (e.g. 90.3×29 mm) have the QR Code full height at the left and text and bar code to its
    /// right. Text is sized to fit and cut with an ellipsis when even the minimum size is too
    /// large. The bar code is left out when its modules would be narrower than 0.25 mm (a tag
    /// of about 30 characters or more at 100 mm) or the tag is not printable ASCII; the QR Code
    /// is left out only when the payload exceeds a version 40 symbol. Text uses the generic
    /// `monospace` family, whose 0.6 em advance makes the fitting exact.
    public static func render(_ content: LabelContent, widthMm: Double, heightMm: Double) -> String {
        let layout = LabelLayout(content, widthMm: widthMm, heightMm: heightMm)
        let w = SVG.number(widthMm)
        let h = SVG.number(heightMm)
        var svg = "<svg xmlns=\"\(SVG.namespace)\" class=\"label\" width=\"\(w)mm\" height=\"\(h)mm\""
        svg += " viewBox=\"0 0 \(w) \(h)\">"
        svg += "<rect width=\"\(w)\" height=\"\(h)\" fill=\"#fff\"/>"
        if let (code, box) = layout.qr {
            svg += code.svgElement(x: box.x, y: box.y, size: box.width)
        }
        for line in layout.lines {
            svg += "<text class=\"\(line.className)\" x=\"\(SVG.number(line.x))\" y=\"\(SVG.number(line.baseline))\""
            svg += " font-family=\"monospace\" font-size=\"\(SVG.number(line.fit.fontSize))\""
            svg += line.bold ? " font-weight=\"bold\">" : ">"
            svg += SVG.escape(line.fit.text) + "</text>"
        }
        if let (code, box) = layout.barcode {
            svg += code.svgElement(x: box.x, y: box.y, width: box.width, height: box.height)
        }
        return svg + "</svg>"
    }
}
