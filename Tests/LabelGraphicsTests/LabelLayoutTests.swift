import Testing

@testable import LabelGraphics

@Suite struct LabelLayoutTests {
    static let sample = LabelContent(
        tag: "W12-0001", name: "Dell Latitude 3340", serial: "7XK2LM3", owner: "Room 114 / Ms. Alvarez",
        qrPayload: "https://rt.example.org/Asset/Display.html?id=1234")

    static let sizes: [(Double, Double)] = [(100, 62), (90.3, 29)]

    @Test func documentSizeAndParts() {
        let svg = LabelSVG.render(Self.sample, widthMm: 100, heightMm: 62)
        #expect(
            svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"label\" width=\"100mm\" height=\"62mm\""))
        #expect(svg.contains("viewBox=\"0 0 100 62\""))
        #expect(svg.contains("class=\"qr\"") && svg.contains("class=\"barcode\""))
        #expect(svg.contains(">W12-0001</text>") && svg.contains(">S/N 7XK2LM3</text>"))
        #expect(svg.contains("font-family=\"monospace\""))
        let small = LabelSVG.render(Self.sample, widthMm: 90.3, heightMm: 29)
        #expect(small.contains("width=\"90.3mm\" height=\"29mm\"") && small.contains("viewBox=\"0 0 90.3 29\""))
    }

    @Test func largeLayoutGeometry() throws {
        let layout = LabelLayout(Self.sample, widthMm: 100, heightMm: 62)
        let qr = try #require(layout.qr?.box)
        let bar = try #require(layout.barcode?.box)
        #expect(qr.x == 2 && qr.y == 2 && qr.width == qr.height)
        #expect(bar.x == 2 && bar.width == 96 && bar.y + bar.height == 60)
        #expect(qr.y + qr.height <= bar.y)
        #expect(layout.lines.allSatisfy { $0.x >= qr.x + qr.width })
        #expect(layout.lines.map(\.className) == ["tag", "name", "serial", "owner"])
        #expect(layout.lines[0].fit.fontSize > layout.lines[1].fit.fontSize)
    }

    @Test func smallLayoutGeometry() throws {
        let layout = LabelLayout(Self.sample, widthMm: 90.3, heightMm: 29)
        let qr = try #require(layout.qr?.box)
        let bar = try #require(layout.barcode?.box)
        #expect(qr.x == 1 && qr.height == 27)
        #expect(bar.x >= qr.x + qr.width && bar.x + bar.width <= 90.3 && bar.y + bar.height <= 29)
        #expect(layout.lines.allSatisfy { $0.x >= qr.x + qr.width && $0.baseline < bar.y })
    }

    /// Every line, for long and wide text, stays within the label: horizontally within its
    /// column, vertically above the bar code (or the bottom edge).
    @Test(arguments: sizes) func textNeverOverflows(width: Double, height: Double) {
        let long = LabelContent(
            tag: "W12-00000000000001", name: String(repeating: "Very Long Device Name ", count: 8),
            serial: String(repeating: "9", count: 80), owner: "東京都立学校 情報システム部 教職員用ノートパソコン 管理番号",
            qrPayload: "https://rt.example.org/Asset/Display.html?id=1234")
        for content in [Self.sample, long] {
            let layout = LabelLayout(content, widthMm: width, heightMm: height)
            let bottom = layout.barcode?.box.y ?? height
            for line in layout.lines {
                #expect(line.x + line.fit.width <= width - 0.5, "\(line.className): \(line.fit)")
                #expect(line.fit.width <= line.maxWidth + 1e-9)
                #expect(line.baseline + line.fit.fontSize * 0.25 <= bottom, "\(line.className)")
                #expect(line.fit.fontSize >= 1.5)
            }
        }
        let layout = LabelLayout(long, widthMm: width, heightMm: height)
        #expect(layout.lines.first { $0.className == "name" }?.fit.text.hasSuffix("…") == true)
        #expect(layout.lines.first { $0.className == "owner" }?.fit.text.hasSuffix("…") == true)
    }

    @Test func textFitShrinksThenTruncates() {
        let fits = TextFit("W12-0001", maxWidth: 50, preferredSize: 10, minimumSize: 5)
        #expect(fits.text == "W12-0001" && fits.fontSize == 10)
        let shrinks = TextFit(String(repeating: "x", count: 12), maxWidth: 50, preferredSize: 10, minimumSize: 5)
        #expect(shrinks.fontSize < 10 && abs(shrinks.width - 50) < 1e-9)
        let cut = TextFit(String(repeating: "x", count: 40), maxWidth: 30, preferredSize: 4, minimumSize: 2.5)
        #expect(cut.fontSize == 2.5 && cut.text == String(repeating: "x", count: 19) + "…")
        #expect(cut.width <= 30)
        #expect(TextFit.cells("日本") == 4 && TextFit.cells("e\u{301}") == 1)
    }

    @Test func tooLongTagDropsTheBarcode() {
        var content = Self.sample
        content.tag = String(repeating: "AB", count: 20)  // 40 symbols: about 0.2 mm modules at 96 mm
        let layout = LabelLayout(content, widthMm: 100, heightMm: 62)
        #expect(layout.barcode == nil)
        #expect(layout.lines.first?.fit.text.hasSuffix("…") == true || layout.lines.first?.fit.text == content.tag)
        content.tag = "Schüler-01"
        #expect(LabelLayout(content, widthMm: 100, heightMm: 62).barcode == nil)
        content.tag = String(repeating: "A", count: 25)
        let kept = LabelLayout(content, widthMm: 100, heightMm: 62)
        let moduleWidth = kept.barcode.map { $0.box.width / Double($0.code.moduleCount) } ?? 0
        #expect(moduleWidth >= LabelLayout.minimumModuleWidth)
    }

    @Test func textIsEscaped() {
        var content = Self.sample
        content.name = "<Lab & \"Co\">\n'x'"
        let svg = LabelSVG.render(content, widthMm: 100, heightMm: 62)
        #expect(svg.contains(">&lt;Lab &amp; &quot;Co&quot;&gt; &apos;x&apos;</text>"))
        #expect(SVG.number(0.1 + 0.2) == "0.3" && SVG.number(-2.5) == "-2.5" && SVG.number(-0.0001) == "0")
        #expect(SVG.number(12.0004) == "12" && SVG.number(0.05) == "0.05")
    }

    /// The footer sits centred in its own band above the bar code, clear of the QR Code and the
    /// other lines, at both sizes; without one the layout is as before.
    @Test(arguments: sizes) func footerAboveTheBarcode(width: Double, height: Double) throws {
        var content = Self.sample
        content.footer = "Western CUSD #12"
        let layout = LabelLayout(content, widthMm: width, heightMm: height)
        let footer = try #require(layout.lines.last)
        let bar = try #require(layout.barcode?.box)
        let qr = try #require(layout.qr?.box)
        #expect(footer.className == "footer" && footer.fit.text == "Western CUSD #12" && footer.bold)
        #expect(footer.baseline + footer.fit.fontSize * 0.25 <= bar.y)
        #expect(footer.x + footer.fit.width <= width - 0.5)
        #expect(abs((footer.x + footer.fit.width / 2) - (bar.x + bar.width / 2)) < 1e-9)  // centred over the bar code
        if height >= LabelLayout.largeMinimumHeight {
            #expect(qr.y + qr.height <= footer.baseline - footer.fit.fontSize * LabelLayout.ascent)
        } else {
            #expect(footer.x >= qr.x + qr.width)
        }
        let top = footer.baseline - footer.fit.fontSize * LabelLayout.ascent
        for line in layout.lines.dropLast() {
            #expect(line.baseline + line.fit.fontSize * 0.25 <= top, "\(line.className)")
        }
        #expect(
            LabelLayout(Self.sample, widthMm: width, heightMm: height).lines.allSatisfy { $0.className != "footer" })
        let svg = LabelSVG.render(content, widthMm: width, heightMm: height)
        #expect(svg.contains("class=\"footer\"") && svg.contains(">Western CUSD #12</text>"))
    }
}
