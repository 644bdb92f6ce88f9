import Testing

@testable import LabelGraphics

@Suite struct QRCodeTests {
    /// Format words of Annex C, Table C.1 (level bits, mask, BCH, XOR 0x5412).
    @Test func formatInformation() {
        #expect(QRFormatInformation.formatBits(level: .medium, mask: 0) == 0x5412)
        #expect(QRFormatInformation.formatBits(level: .low, mask: 0) == 0x77C4)
        #expect(QRFormatInformation.formatBits(level: .quartile, mask: 0) == 0x355F)
        #expect(QRFormatInformation.formatBits(level: .high, mask: 0) == 0x1689)
        #expect(QRFormatInformation.formatBits(level: .medium, mask: 5) == 0x40CE)
        #expect(QRFormatInformation.formatBits(level: .high, mask: 7) == 0x083B)
    }

    /// Version words of Annex D, Table D.1.
    @Test func versionInformation() {
        #expect(QRFormatInformation.versionBits(7) == 0x07C94)
        #expect(QRFormatInformation.versionBits(8) == 0x085BC)
        #expect(QRFormatInformation.versionBits(21) == 0x15683)
        #expect(QRFormatInformation.versionBits(40) == 0x28C69)
    }

    /// Alignment pattern rows/columns of Annex E, Table E.1.
    @Test func alignmentPositions() {
        #expect(QRVersionTable.alignmentPositions(version: 1) == [])
        #expect(QRVersionTable.alignmentPositions(version: 2) == [6, 18])
        #expect(QRVersionTable.alignmentPositions(version: 7) == [6, 22, 38])
        #expect(QRVersionTable.alignmentPositions(version: 15) == [6, 26, 48, 70])
        #expect(QRVersionTable.alignmentPositions(version: 32) == [6, 34, 60, 86, 112, 138])
        #expect(QRVersionTable.alignmentPositions(version: 36) == [6, 24, 50, 76, 102, 128, 154])
        #expect(QRVersionTable.alignmentPositions(version: 40) == [6, 30, 58, 86, 114, 142, 170])
    }

    /// The capacity formula agrees with the modules the drawn function patterns leave free, and
    /// the block table adds up for every version and level.
    @Test(arguments: QRVersionTable.versions) func codewordCapacity(version: Int) {
        #expect(QRMatrix(version: version).dataModuleCount == QRVersionTable.rawDataModules(version: version))
        for level in QRCode.ErrorCorrectionLevel.allCases {
            let blocks = QRVersionTable.blockCount(version: version, level: level)
            let shortData =
                QRVersionTable.totalCodewords(version: version) / blocks
                - QRVersionTable.eccPerBlock(version: version, level: level)
            #expect(shortData > 0)
        }
        #expect(QRVersionTable.totalCodewords(version: 1) == 26)
        #expect(QRVersionTable.totalCodewords(version: 40) == 3706)
    }

    /// Byte-mode capacities at level M (Table 7), and the version each boundary length gets.
    @Test func byteCapacityLevelMBoundaries() throws {
        let capacities = [
            14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412, 450, 504, 560, 624, 666,
            711, 779, 857, 911, 997, 1059, 1125, 1190, 1264, 1370, 1452, 1538, 1628, 1722, 1809, 1911, 1989, 2099,
            2213, 2331,
        ]
        for (index, capacity) in capacities.enumerated() {
            let version = index + 1
            #expect(QRCode.byteCapacity(version: version) == capacity, "version \(version)")
            let largest = try QRCode(String(repeating: "a", count: capacity))
            #expect(largest.version == version)
            if version < 40 {
                let oneMore = try QRCode(String(repeating: "a", count: capacity + 1))
                #expect(oneMore.version == version + 1)
            }
        }
        #expect(QRCode.byteCapacity(version: 40, errorCorrection: .low) == 2953)
        #expect(QRCode.byteCapacity(version: 40, errorCorrection: .high) == 1273)
        #expect(QRCode.byteCapacity(version: 10, errorCorrection: .quartile) == 151)
    }

    @Test func tooLongInputThrows() {
        #expect(throws: LabelGraphicsError.self) { try QRCode(String(repeating: "a", count: 2332)) }
        do {
            _ = try QRCode(String(repeating: "a", count: 1274), errorCorrection: .high)
            Issue.record("1274 bytes at level H should not fit")
        } catch {
            #expect(error.code == .dataTooLong)
            #expect(error.description.contains("1274 bytes"))
            #expect(error.description.contains("at most 1273"))
        }
        #expect((try? QRCode(String(repeating: "a", count: 2953), errorCorrection: .low))?.version == 40)
    }

    @Test func modeSelection() throws {
        #expect(QRMode.best(for: Array("0123".utf8)) == .numeric)
        #expect(QRMode.best(for: Array("W12-0001".utf8)) == .alphanumeric)
        #expect(QRMode.best(for: Array("https://x".utf8)) == .byte)
        // Numeric packs 7089 digits into version 40-L; alphanumeric 4296 characters.
        #expect(try QRCode(String(repeating: "7", count: 7089), errorCorrection: .low).version == 40)
        #expect(try QRCode(String(repeating: "A", count: 4296), errorCorrection: .low).version == 40)
        #expect(throws: LabelGraphicsError.self) {
            try QRCode(String(repeating: "A", count: 4297), errorCorrection: .low)
        }
    }

    @Test func symbolStructure() throws {
        let code = try QRCode("https://rt.example.org/Asset/Display.html?id=1234", errorCorrection: .quartile)
        #expect(code.size == 17 + 4 * code.version)
        // Finder corners and the dark module; quiet zone outside.
        #expect(code.isDark(x: 0, y: 0) && code.isDark(x: code.size - 1, y: 0) && code.isDark(x: 0, y: code.size - 1))
        #expect(!code.isDark(x: 7, y: 0) && !code.isDark(x: -1, y: 0) && !code.isDark(x: code.size, y: 3))
        #expect(code.isDark(x: 8, y: code.size - 8))
        // The format information read back from beside the top-left finder.
        var bits = 0
        for y in 0...5 where code.isDark(x: 8, y: y) { bits |= 1 << y }
        if code.isDark(x: 8, y: 7) { bits |= 1 << 6 }
        if code.isDark(x: 8, y: 8) { bits |= 1 << 7 }
        if code.isDark(x: 7, y: 8) { bits |= 1 << 8 }
        for index in 9...14 where code.isDark(x: 14 - index, y: 8) { bits |= 1 << index }
        #expect(bits == QRFormatInformation.formatBits(level: .quartile, mask: code.mask))
    }

    /// The chosen mask is the one with the lowest penalty.
    @Test func lowestPenaltyMaskChosen() throws {
        let code = try QRCode("Hello, world! 123", errorCorrection: .low)
        let data = QRCodewords.dataCodewords(
            Array("Hello, world! 123".utf8), mode: .byte, version: code.version, level: .low)
        var scores: [Int] = []
        for mask in 0..<8 {
            var matrix = QRMatrix(version: code.version)
            matrix.placeCodewords(QRCodewords.interleaved(data, version: code.version, level: .low))
            matrix.applyMask(mask)
            matrix.drawFormatBits(QRFormatInformation.formatBits(level: .low, mask: mask))
            scores.append(QRPenalty.score(matrix))
        }
        #expect(scores[code.mask] == scores.min())
    }

    @Test func svgShape() throws {
        let code = try QRCode("A")
        let svg = code.svg()
        #expect(svg.hasPrefix("<svg class=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 29 29\""))
        #expect(svg.contains("shape-rendering=\"crispEdges\""))
        #expect(svg.contains("<path d=\"M4 4h7v1h-7z"))
        #expect(code.svg(sizeMm: 25.5).contains("width=\"25.5mm\" height=\"25.5mm\""))
        let element = code.svgElement(x: 2, y: 3.25, size: 40)
        #expect(
            element.hasPrefix("<svg class=\"qr\" x=\"2\" y=\"3.25\" width=\"40\" height=\"40\" viewBox=\"0 0 29 29\""))
    }
}
