import Testing

@testable import LabelGraphics

@Suite struct Code128Tests {
    @Test func everyPatternHasElevenModulesAndStartsWithABar() {
        for value in 0...105 {
            let widths = Code128Patterns.widths(of: value)
            #expect(widths.count == 6 && widths.reduce(0, +) == 11, "value \(value)")
            // Bars (even positions) always add up to an even number of modules.
            #expect((widths[0] + widths[2] + widths[4]) % 2 == 0, "value \(value)")
        }
        #expect(Code128Patterns.widths(of: 106) == [2, 3, 3, 1, 1, 1, 2])
        let all = Set((0...106).map { Code128Patterns.widths(of: $0) })
        #expect(all.count == 107)
    }

    /// "PJJ123C" in code set B: 104 + 48·1 + 42·2 + 42·3 + 17·4 + 18·5 + 19·6 + 35·7 = 879 ≡ 55.
    @Test func checksumOfKnownString() throws {
        let code = try Code128("PJJ123C")
        #expect(code.values == [104, 48, 42, 42, 17, 18, 19, 35, 55, 106])
        #expect(code.checksum == 55)
    }

    /// "W12-0001": B for "W12-", C for "0001" at the end (7 data symbols instead of 8).
    @Test func digitsAtTheEndUseCodeSetC() throws {
        let code = try Code128("W12-0001")
        // 104 + 55 + 17·2 + 18·3 + 13·4 + 99·5 + 0·6 + 1·7 = 801 ≡ 80 (mod 103)
        #expect(code.values == [104, 55, 17, 18, 13, 99, 0, 1, 80, 106])
        #expect(code.widths.reduce(0, +) == 11 * 9 + 13)
        #expect(code.moduleCount == 11 * 9 + 13 + 20)
    }

    @Test func codeSetChoices() throws {
        #expect(try Code128("12345678").values.dropLast(2) == [105, 12, 34, 56, 78])
        // Odd leading run: pairs in C, then the last digit in B.
        #expect(try Code128("12345X").values.dropLast(2) == [105, 12, 34, 100, 21, 56])
        // Three digits are shorter in B.
        #expect(try Code128("123").values.dropLast(2) == [104, 17, 18, 19])
        #expect(try Code128("12").values.dropLast(2) == [105, 12])
        // Odd run at the end: first digit in B, the rest in C.
        #expect(try Code128("W12-123456").values.dropLast(2) == [104, 55, 17, 18, 13, 99, 12, 34, 56])
        #expect(try Code128("A12345").values.dropLast(2) == [104, 33, 17, 99, 23, 45])
        // Four digits in the middle gain nothing; six do.
        #expect(try Code128("A1234B").values.dropLast(2) == [104, 33, 17, 18, 19, 20, 34])
        #expect(try Code128("A123456B").values.dropLast(2) == [104, 33, 99, 12, 34, 56, 100, 34])
        #expect(try Code128("").values == [104, 1, 106])  // checksum 104 mod 103
    }

    @Test func unsupportedCharactersThrow() {
        for text in ["Schüler", "tab\there", "\u{7F}"] {
            do {
                _ = try Code128(text)
                Issue.record("\(text) should not encode")
            } catch {
                #expect(error.code == .unsupportedCharacter)
            }
        }
        do {
            _ = try Code128("ab€")
        } catch {
            #expect(error.description.contains("U+20AC at offset 2"))
        }
    }

    @Test func svgShape() throws {
        let code = try Code128("W12-0001")
        let svg = code.svg(widthMm: 50, heightMm: 12)
        #expect(
            svg.hasPrefix("<svg class=\"barcode\" xmlns=\"http://www.w3.org/2000/svg\" width=\"50mm\" height=\"12mm\""))
        #expect(svg.contains("viewBox=\"0 0 132 40\" preserveAspectRatio=\"none\" shape-rendering=\"crispEdges\""))
        // The start B pattern 211214 begins after the 10-module quiet zone: bars at 10, 13, 16.
        #expect(svg.contains("<path d=\"M10 0h2v40h-2zM13 0h1v40h-1zM16 0h1v40h-1z"))
        let element = code.svgElement(x: 2, y: 47.6, width: 96, height: 12.4)
        #expect(element.hasPrefix("<svg class=\"barcode\" x=\"2\" y=\"47.6\" width=\"96\" height=\"12.4\""))
    }
}
