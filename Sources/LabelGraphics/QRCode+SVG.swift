extension QRCode {
    /// The recommended quiet zone: four light modules on every side.
    public static let standardQuietZone = 4

    /// A stand-alone SVG document of the symbol (`class="qr"`), `viewBox` in modules including
    /// the quiet zone, on a white background. With `sizeMm` it gets that physical width and
    /// height; without, it scales to whatever box it is shown in.
    public func svg(quietZone: Int = standardQuietZone, sizeMm: Double? = nil) -> String {
        let side = size + 2 * quietZone
        return SVG.document(
            className: "qr", viewWidth: side, viewHeight: side, path: svgPath(quietZone: quietZone),
            widthMm: sizeMm, heightMm: sizeMm, preserveAspectRatio: true)
    }

    /// The symbol as a nested `<svg class="qr">` for composing into a larger drawing: a square
    /// of `size` user units (mm in a drawing whose viewBox is in mm) at (x, y), quiet zone inside.
    public func svgElement(x: Double, y: Double, size side: Double, quietZone: Int = standardQuietZone) -> String {
        let modulesPerSide = size + 2 * quietZone
        return SVG.embedded(
            className: "qr", x: x, y: y, width: side, height: side, viewWidth: modulesPerSide,
            viewHeight: modulesPerSide, path: svgPath(quietZone: quietZone), preserveAspectRatio: true)
    }

    /// Every horizontal run of dark modules as one rectangle of a single path.
    private func svgPath(quietZone: Int) -> String {
        var path = ""
        for y in 0..<size {
            var x = 0
            while x < size {
                guard isDark(x: x, y: y) else {
                    x += 1
                    continue
                }
                let start = x
                while x < size && isDark(x: x, y: y) { x += 1 }
                path += SVG.rectangle(x: start + quietZone, y: y + quietZone, width: x - start, height: 1)
            }
        }
        return path
    }
}
