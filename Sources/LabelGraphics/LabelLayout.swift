/// Where everything on a label goes, in mm from the top-left corner. Pure geometry, so tests
/// can check sizes without rendering.
///
/// - Labels at least `largeMinimumHeight` high (e.g. 100×62 mm): the QR Code square at the
///   top left, the text to its right, the tag's Code 128 across the whole width at the bottom.
/// - Lower labels (e.g. 90.3×29 mm): the QR Code at the left, full height; text and the
///   Code 128 share the column to its right.
///
/// A footer (when the content has one) is centred in its own band just above the bar code:
/// across the whole width on large labels, in the column beside the QR Code on low ones.
///
/// Text lines never run past the label: the stack is scaled down to fit the height, and each
/// line is shrunk to fit its width down to a minimum size, then cut with an ellipsis.
///
/// The Code 128 is left out (the tag stays as text) when its modules would come out narrower
/// than `minimumModuleWidth` (at 100 mm wide that is a tag of roughly 30 characters, more when
/// it is mostly digits), or when the tag has characters Code 128 cannot encode. The QR Code is
/// left out when the payload does not fit even at level L; it is made at level M otherwise
/// (L when M is too small).
struct LabelLayout {
    /// A rectangle in mm.
    struct Box: Equatable {
        var x, y, width, height: Double
    }

    /// One line of text: drawn starting at `x`, baseline at `baseline`.
    struct Line {
        let className: String
        let fit: TextFit
        let x: Double
        let baseline: Double
        let bold: Bool
        let maxWidth: Double
    }

    /// Narrowest Code 128 module (bar unit) printed, in mm.
    static let minimumModuleWidth = 0.25
    /// Labels at least this high (mm) get the large layout.
    static let largeMinimumHeight = 40.0
    /// Baseline position below the top of a line, and line pitch, in em.
    static let ascent = 0.8
    static let lineHeight = 1.2

    let width: Double
    let height: Double
    private(set) var qr: (code: QRCode, box: Box)?
    private(set) var barcode: (code: Code128, box: Box)?
    private(set) var lines: [Line] = []

    init(_ content: LabelContent, widthMm: Double, heightMm: Double) {
        width = widthMm
        height = heightMm
        let large = heightMm >= Self.largeMinimumHeight
        let margin = large ? 2.0 : 1.0
        let qrCode = (try? QRCode(content.qrPayload)) ?? (try? QRCode(content.qrPayload, errorCorrection: .low))
        let tagCode = try? Code128(content.tag)

        var textLeft = margin
        let textTop = margin
        var textBottom = heightMm - margin
        if large {
            let barHeight = heightMm * 0.2
            let barBox = Box(
                x: margin, y: heightMm - margin - barHeight, width: widthMm - 2 * margin, height: barHeight)
            barcode = Self.placed(tagCode, in: barBox)
            if barcode != nil { textBottom = barBox.y - 1.5 }
            if let footer = Self.footer(
                content.footer, left: margin, right: widthMm - margin, bottom: textBottom, large: true)
            {
                lines.append(footer)
                textBottom = footer.baseline - footer.fit.fontSize * Self.ascent - 0.5
            }
            let side = min(textBottom - margin, widthMm / 2)
            if let qrCode {
                qr = (qrCode, Box(x: margin, y: margin, width: side, height: side))
                textLeft = margin + side + 1
            }
        } else {
            let side = heightMm - 2 * margin
            if let qrCode {
                qr = (qrCode, Box(x: margin, y: margin, width: side, height: side))
                textLeft = margin + side + 1
            }
            let barHeight = heightMm * 0.28
            let barBox = Box(
                x: textLeft, y: heightMm - margin - barHeight, width: widthMm - margin - textLeft, height: barHeight)
            barcode = Self.placed(tagCode, in: barBox)
            if barcode != nil { textBottom = barBox.y - 1 }
            if let footer = Self.footer(
                content.footer, left: textLeft, right: widthMm - margin, bottom: textBottom, large: false)
            {
                lines.append(footer)
                textBottom = footer.baseline - footer.fit.fontSize * Self.ascent - 0.3
            }
        }
        lines.insert(
            contentsOf: Self.stack(
                content, large: large, left: textLeft, top: textTop, width: widthMm - margin - textLeft,
                height: textBottom - textTop),
            at: 0)
    }

    /// The footer line, bold and centred between `left` and `right`, its bottom at `bottom`; nil
    /// when there is no footer.
    private static func footer(_ text: String, left: Double, right: Double, bottom: Double, large: Bool) -> Line? {
        guard !text.isEmpty else { return nil }
        let sizes = large ? (preferred: 3.5, minimum: 2.2) : (preferred: 2.6, minimum: 1.8)
        let width = right - left
        let fit = TextFit(text, maxWidth: width, preferredSize: sizes.preferred, minimumSize: sizes.minimum)
        let baseline = bottom - fit.fontSize * (lineHeight - ascent)
        return Line(
            className: "footer", fit: fit, x: left + max(0, (width - fit.width) / 2), baseline: baseline, bold: true,
            maxWidth: width)
    }

    /// The bar code in `box`, unless its modules would be too narrow there.
    private static func placed(_ code: Code128?, in box: Box) -> (code: Code128, box: Box)? {
        guard let code, box.width / Double(code.moduleCount) >= minimumModuleWidth else { return nil }
        return (code, box)
    }

    /// The text lines from the top of the area down: the tag (bold), then the content's lines;
    /// empty lines are skipped.
    private static func stack(
        _ content: LabelContent, large: Bool, left: Double, top: Double, width: Double, height: Double
    ) -> [Line] {
        let tagSizes = large ? (preferred: 10.0, minimum: 5.0) : (preferred: 6.0, minimum: 3.5)
        let detailSizes = large ? (preferred: 4.5, minimum: 2.5) : (preferred: 3.0, minimum: 2.0)
        let entries = ([("tag", content.tag, true)] + content.lines.map { ($0.className, $0.text, false) }).filter {
            !$0.1.isEmpty
        }
        let wanted = entries.reduce(0.0) { sum, entry in
            sum + (entry.2 ? tagSizes.preferred : detailSizes.preferred) * lineHeight
        }
        let scale = wanted > 0 ? min(1, max(0, height) / wanted) : 1
        var cursor = top
        var result: [Line] = []
        for (className, text, bold) in entries {
            let sizes = bold ? tagSizes : detailSizes
            let fit = TextFit(
                text, maxWidth: width, preferredSize: sizes.preferred * scale, minimumSize: sizes.minimum * scale)
            result.append(
                Line(
                    className: className, fit: fit, x: left, baseline: cursor + fit.fontSize * ascent, bold: bold,
                    maxWidth: width))
            cursor += fit.fontSize * lineHeight
        }
        return result
    }
}
