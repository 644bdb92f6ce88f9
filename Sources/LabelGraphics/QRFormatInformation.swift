/// The BCH-protected format and version information words (ISO/IEC 18004, 7.9 and 7.10).
enum QRFormatInformation {
    /// The 15-bit format word: level and mask, a BCH(15,5) remainder under generator 0x537,
    /// XORed with 0x5412 so it is never all zeros.
    static func formatBits(level: QRCode.ErrorCorrectionLevel, mask: Int) -> Int {
        let data = level.formatBits << 3 | mask
        return (data << 10 | remainder(of: data, dataWidth: 5, generator: 0x537, degree: 10)) ^ 0x5412
    }

    /// The 18-bit version word: the version in six bits and a BCH(18,6) remainder under 0x1F25.
    static func versionBits(_ version: Int) -> Int {
        version << 12 | remainder(of: version, dataWidth: 6, generator: 0x1F25, degree: 12)
    }

    /// Remainder of data·x^degree divided by the generator, over GF(2).
    private static func remainder(of data: Int, dataWidth: Int, generator: Int, degree: Int) -> Int {
        var value = data << degree
        for shift in stride(from: dataWidth + degree - 1, through: degree, by: -1) where (value >> shift) & 1 == 1 {
            value ^= generator << (shift - degree)
        }
        return value
    }
}
