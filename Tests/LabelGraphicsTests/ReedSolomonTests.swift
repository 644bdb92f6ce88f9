import Testing

@testable import LabelGraphics

@Suite struct ReedSolomonTests {
    @Test func fieldTablesAreInverse() {
        #expect(ReedSolomon.exp[0] == 1 && ReedSolomon.exp[8] == 0x1D && ReedSolomon.exp[255] == 1)
        for value in 1...255 {
            #expect(Int(ReedSolomon.exp[ReedSolomon.log[value]]) == value)
        }
        #expect(ReedSolomon.multiply(0x53, 0xCA) == ReedSolomon.multiply(0xCA, 0x53))
        #expect(ReedSolomon.multiply(2, 0x80) == 0x1D)
        #expect(ReedSolomon.multiply(0, 0x80) == 0)
    }

    /// Degree-7 generator of Annex A: α^0 x^7 + α^87 x^6 + α^229 x^5 + α^146 x^4 + α^149 x^3
    /// + α^238 x^2 + α^102 x + α^21.
    @Test func generatorPolynomialDegree7() {
        let exponents = [0, 87, 229, 146, 149, 238, 102, 21]
        #expect(ReedSolomon.generator(degree: 7) == exponents.map { ReedSolomon.exp[$0] })
    }

    /// The worked example of ISO/IEC 18004 Annex I: "01234567" as version 1-M.
    @Test func isoExample01234567() {
        let data = QRCodewords.dataCodewords(Array("01234567".utf8), mode: .numeric, version: 1, level: .medium)
        #expect(
            data == [
                0x10, 0x20, 0x0C, 0x56, 0x61, 0x80, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11,
            ])
        let ecc = ReedSolomon.errorCorrection(for: data, degree: 10)
        #expect(ecc == [0xA5, 0x24, 0xD4, 0xC1, 0xED, 0x36, 0xC7, 0x87, 0x2C, 0x55])
        #expect(QRCodewords.interleaved(data, version: 1, level: .medium) == data + ecc)
        let code = try? QRCode("01234567", errorCorrection: .medium)
        #expect(code?.version == 1)
    }

    /// Two blocks of different lengths (5-Q: 2×15 and 2×16 data codewords): interleaving takes
    /// one codeword per block, and the longer blocks' last codewords come at the end of the data.
    @Test func interleavingWithUnequalBlocks() {
        let data = (0..<62).map { UInt8($0) }
        let result = QRCodewords.interleaved(data, version: 5, level: .quartile)
        #expect(result.count == 134)
        #expect(Array(result.prefix(8)) == [0, 15, 30, 46, 1, 16, 31, 47])
        #expect(Array(result[56..<62]) == [14, 29, 44, 60, 45, 61])
    }
}
