/// Per-version facts of QR Code model 2: symbol size, codeword capacity, error-correction block
/// structure (ISO/IEC 18004, Table 9) and alignment pattern centres (Annex E).
enum QRVersionTable {
    /// All versions, smallest first.
    static let versions = 1...40

    /// Modules per side: 21 for version 1, 4 more per version.
    static func size(version: Int) -> Int { 17 + 4 * version }

    /// Modules left for codewords (data, error correction and remainder bits) once the function
    /// patterns, format and version information are taken out.
    static func rawDataModules(version: Int) -> Int {
        let side = size(version: version)
        var modules = side * side
        modules -= 3 * 64 + 1  // three finders with separators, and the dark module
        modules -= 2 * 15 + 2 * (side - 16)  // format information and the timing patterns
        if version >= 2 {
            let count = version / 7 + 2
            let patterns = count * count - 3
            let onTiming = 2 * (count - 2)  // alignment patterns crossing a timing pattern
            modules -= 25 * patterns - 5 * onTiming
        }
        if version >= 7 { modules -= 36 }  // two version information blocks
        return modules
    }

    /// Codewords of data and error correction together.
    static func totalCodewords(version: Int) -> Int { rawDataModules(version: version) / 8 }

    /// Error-correction codewords in each block.
    static func eccPerBlock(version: Int, level: QRCode.ErrorCorrectionLevel) -> Int {
        eccPerBlockTable[level.rawValue][version - 1]
    }

    /// Number of error-correction blocks the codewords are split into.
    static func blockCount(version: Int, level: QRCode.ErrorCorrectionLevel) -> Int {
        blockCountTable[level.rawValue][version - 1]
    }

    /// Codewords available for data (mode headers, payload, terminator and padding).
    static func dataCodewords(version: Int, level: QRCode.ErrorCorrectionLevel) -> Int {
        totalCodewords(version: version)
            - eccPerBlock(version: version, level: level) * blockCount(version: version, level: level)
    }

    /// Row and column coordinates of alignment pattern centres; empty for version 1.
    /// They start at 6, end at size − 7 and are evenly spaced by an even step in between
    /// (the step rounds up, except version 32 which the standard spaces by 26).
    static func alignmentPositions(version: Int) -> [Int] {
        guard version >= 2 else { return [] }
        let count = version / 7 + 2
        let last = size(version: version) - 7
        let step = version == 32 ? 26 : (version * 4 + count * 2 + 1) / (2 * count - 2) * 2
        var positions = [6]
        for index in (0..<(count - 1)).reversed() {
            positions.append(last - index * step)
        }
        return positions
    }

    // Rows are levels L, M, Q, H; columns versions 1–40. Kept as a grid, not one number a line.
    // swift-format-ignore
    private static let eccPerBlockTable: [[Int]] = [
        [7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28,
         28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
        [10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
         26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28],
        [13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30,
         28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
        [17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28,
         30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
    ]

    // swift-format-ignore
    private static let blockCountTable: [[Int]] = [
        [1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8,
         8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25],
        [1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
         17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49],
        [1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20,
         23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68],
        [1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25,
         25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81],
    ]
}
