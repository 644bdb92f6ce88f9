import Testing

@testable import LabelGraphics

/// Round trips through real tools: each symbol is rendered to SVG, rasterised by rsvg-convert
/// and read back by zbarimg; the decoded text must equal the input exactly.
@Suite struct DecodingTests {
    /// Deterministic mixed text of a given length (lower case forces byte mode).
    static func text(length: Int, seed: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_./:?=&#%+")
        var state = UInt64(seed) &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        var result = ""
        for _ in 0..<length {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            result.append(alphabet[Int(state >> 33) % alphabet.count])
        }
        return "x" + result.dropFirst()
    }

    struct QRCase: CustomTestStringConvertible, Sendable {
        let text: String
        let level: QRCode.ErrorCorrectionLevel
        var testDescription: String { "\(level) \(text.utf8.count) bytes: \(text.prefix(40))" }
    }

    static let lengths = [1, 2, 7, 14, 20, 33, 50, 64, 85, 107, 135, 170, 214, 260, 300]

    static let qrCases: [QRCase] =
        QRCode.ErrorCorrectionLevel.allCases.flatMap { level in
            lengths.enumerated().map { QRCase(text: text(length: $0.element, seed: $0.offset), level: level) }
        }
        + [
            "https://rt.example.org/Asset/Display.html?id=1234",
            "https://rt.example.org/Asset/Display.html?id=98765&Queue=Chromebooks&Status=in%20repair",
            "Schüler-Laptop Nr. 7 – Raum Ä/Ö/Ü, Größe ß",
            "日本語のテキスト、資産タグ",
            "Emoji 🎒📚✏️ ok",
            "W12-0001", "0123456789012345678901234567890", "HTTPS://RT.EXAMPLE.ORG/A/1234", "a",
        ].map { QRCase(text: $0, level: .medium) }
        + (1...12).map { version in
            QRCase(text: text(length: QRCode.byteCapacity(version: version), seed: 100 + version), level: .medium)
        }

    @Test(arguments: qrCases) func qrCodeDecodes(_ input: QRCase) throws {
        let code = try QRCode(input.text, errorCorrection: input.level)
        let pixels = (code.size + 8) * 4
        let decoded = try ExternalTools.decode(svg: code.svg(), pixelWidth: pixels, pixelHeight: pixels)
        #expect(decoded == input.text, "version \(code.version) mask \(code.mask)")
    }

    @Test func casesCoverVersionsAndLevels() throws {
        let codes = try Self.qrCases.map { try QRCode($0.text, errorCorrection: $0.level) }
        #expect(Set(codes.map(\.version)).isSuperset(of: 1...12))
        #expect(codes.map(\.version).max() ?? 0 >= 15)
        #expect(Set(codes.map(\.mask)) == Set(0..<8))
    }

    static let barcodeTexts = [
        "W12-0001", "W12-123456", "12345678", "1234567", "A1234B", "A123456B", "PJJ123C", "x", "00",
        "Hello, World!", "Room 114 / Cart 3 / 0042", "tag:42 {ok} [x] |~`^_\\\"'", "CHROMEBOOK-2024-000123",
        String((32...126).map { Character(Unicode.Scalar(UInt8($0))) }),
    ]

    @Test(arguments: barcodeTexts) func code128Decodes(_ text: String) throws {
        let code = try Code128(text)
        let decoded = try ExternalTools.decode(
            svg: code.svg(barHeight: 40), pixelWidth: code.moduleCount * 3, pixelHeight: 120)
        #expect(decoded == text)
    }

    static let labelContents = [
        LabelContent(
            tag: "W12-0001", name: "Dell Latitude 3340", serial: "7XK2LM3", owner: "Room 114 / Ms. Alvarez",
            qrPayload: "https://rt.example.org/Asset/Display.html?id=1234"),
        LabelContent(
            tag: "CB-2024-000123", name: "Lenovo 100e Chromebook Gen 4", serial: "PF4ABCD9", owner: "Grade 7 cart B",
            qrPayload: "https://rt.example.org/Asset/Display.html?id=55&Queue=Chromebooks"),
        // The tag is too long for 0.25 mm modules beside the QR Code on the small label: there
        // the bar code is left out (see LabelLayout) and only the QR Code is expected.
        LabelContent(
            tag: "CHROMEBOOK-2024-000123", name: "Lenovo 100e Chromebook Gen 4 (Student, Grade 7)",
            serial: "PF4ABCD9", owner: "Schüler: Jürgen Müller-Lüdenscheidt",
            qrPayload: "https://rt.example.org/Asset/Display.html?id=987654&Queue=Chromebooks"),
        // The district's label: the original's fields and a footer between text and bar code.
        LabelContent(
            tag: "W12-00042",
            lines: [
                .init("internal-name", "N: Brave Otter"), .init("serial", "S: PF4ABCD9"), .init("model", "M: 20W0"),
            ],
            footer: "Western CUSD #12", qrPayload: "https://rt.example.org/Asset/Display.html?id=42"),
    ]

    static let labelCases: [(LabelContent, Double, Double)] = labelContents.flatMap { [($0, 100, 62), ($0, 90.3, 29)] }

    @Test(arguments: labelCases) func labelDecodes(_ content: LabelContent, width: Double, height: Double) throws {
        let svg = LabelSVG.render(content, widthMm: width, heightMm: height)
        let decoded = try ExternalTools.decode(svg: svg, dpi: 300)
        let symbols = decoded.split(separator: "\n").map(String.init)
        #expect(symbols.contains(content.qrPayload), "\(symbols)")
        let hasBarcode = LabelLayout(content, widthMm: width, heightMm: height).barcode != nil
        #expect(hasBarcode || (content.tag.count > 20 && height < 40))
        #expect(symbols.contains(content.tag) == hasBarcode, "\(symbols)")
        #expect(symbols.count == (hasBarcode ? 2 : 1), "\(symbols)")
    }
}
