extension Code128 {
    /// A stand-alone SVG document of the bars (`class="barcode"`), `viewBox` one unit per module
    /// wide (quiet zones included) and `barHeight` units high, on a white background. It
    /// stretches to any box (`preserveAspectRatio="none"`), so `widthMm` and `heightMm` set the
    /// physical module width and bar height independently.
    public func svg(barHeight: Int = 40, widthMm: Double? = nil, heightMm: Double? = nil) -> String {
        SVG.document(
            className: "barcode", viewWidth: moduleCount, viewHeight: barHeight, path: svgPath(barHeight: barHeight),
            widthMm: widthMm, heightMm: heightMm, preserveAspectRatio: false)
    }

    /// The bars as a nested `<svg class="barcode">` filling the box at (x, y), in the parent's
    /// user units (mm in a drawing whose viewBox is in mm). The quiet zones are inside the box,
    /// so the module width is `width / moduleCount`.
    public func svgElement(x: Double, y: Double, width: Double, height: Double) -> String {
        SVG.embedded(
            className: "barcode", x: x, y: y, width: width, height: height, viewWidth: moduleCount, viewHeight: 1,
            path: svgPath(barHeight: 1), preserveAspectRatio: false)
    }

    private func svgPath(barHeight: Int) -> String {
        var path = ""
        var x = Self.quietZone
        for (index, width) in widths.enumerated() {
            if index % 2 == 0 { path += SVG.rectangle(x: x, y: 0, width: width, height: barHeight) }
            x += width
        }
        return path
    }
}
