/// A QR Code (model 2, ISO/IEC 18004) holding one segment of data in the smallest version
/// that fits at the chosen error-correction level, with the mask the standard's penalty rules
/// score lowest.
///
/// The segment mode is picked from the data: numeric for digits only, alphanumeric for
/// upper-case text in the 45-character set, bytes otherwise (UTF-8 text as its bytes, without
/// an ECI header, which is what phone cameras and zbar expect).
///
/// ```swift
/// let code = try QRCode("https://rt.example.org/Asset/Display.html?id=1234")
/// code.isDark(x: 0, y: 0)  // true: the top-left finder
/// ```
public struct QRCode: Sendable {
    /// The version, 1–40; the symbol is 17 + 4 × version modules wide.
    public let version: Int
    /// The error-correction level the symbol was built with.
    public let errorCorrection: ErrorCorrectionLevel
    /// The data mask pattern chosen, 0–7.
    public let mask: Int
    /// Modules per side, without the quiet zone.
    public let size: Int
    private let modules: [Bool]

    /// Encodes UTF-8 text.
    /// - Throws: `LabelGraphicsError.Code.dataTooLong` when it does not fit in version 40.
    public init(_ text: String, errorCorrection: ErrorCorrectionLevel = .medium) throws(LabelGraphicsError) {
        try self.init(bytes: Array(text.utf8), errorCorrection: errorCorrection)
    }

    /// Encodes raw bytes.
    /// - Throws: `LabelGraphicsError.Code.dataTooLong` when they do not fit in version 40.
    public init(bytes: [UInt8], errorCorrection: ErrorCorrectionLevel = .medium) throws(LabelGraphicsError) {
        let mode = QRMode.best(for: bytes)
        guard let version = Self.smallestVersion(count: bytes.count, mode: mode, level: errorCorrection) else {
            throw .dataTooLong(
                byteCount: bytes.count, maximum: Self.capacity(version: 40, mode: mode, level: errorCorrection),
                level: errorCorrection.description)
        }
        let data = QRCodewords.dataCodewords(bytes, mode: mode, version: version, level: errorCorrection)
        var matrix = QRMatrix(version: version)
        matrix.placeCodewords(QRCodewords.interleaved(data, version: version, level: errorCorrection))

        var best: (matrix: QRMatrix, mask: Int, score: Int)?
        for mask in 0..<8 {
            var candidate = matrix
            candidate.applyMask(mask)
            candidate.drawFormatBits(QRFormatInformation.formatBits(level: errorCorrection, mask: mask))
            let score = QRPenalty.score(candidate)
            if best == nil || score < best!.score { best = (candidate, mask, score) }
        }
        self.version = version
        self.errorCorrection = errorCorrection
        self.mask = best!.mask
        self.size = matrix.size
        self.modules = best!.matrix.modules
    }

    /// Whether the module at column `x`, row `y` (0 ..< size, origin top left) is dark.
    /// Coordinates outside the symbol are light, as the quiet zone is.
    public func isDark(x: Int, y: Int) -> Bool {
        guard x >= 0, y >= 0, x < size, y < size else { return false }
        return modules[y * size + x]
    }

    /// The most bytes of arbitrary (byte-mode) data a version holds at a level.
    public static func byteCapacity(version: Int, errorCorrection: ErrorCorrectionLevel = .medium) -> Int {
        capacity(version: version, mode: .byte, level: errorCorrection)
    }

    static func capacity(version: Int, mode: QRMode, level: ErrorCorrectionLevel) -> Int {
        var count = 0
        while fits(count: count + 1, mode: mode, version: version, level: level) { count += 1 }
        return count
    }

    private static func smallestVersion(count: Int, mode: QRMode, level: ErrorCorrectionLevel) -> Int? {
        QRVersionTable.versions.first { fits(count: count, mode: mode, version: $0, level: level) }
    }

    private static func fits(count: Int, mode: QRMode, version: Int, level: ErrorCorrectionLevel) -> Bool {
        let bits = mode.segmentBits(count: count, version: version)
        let countLimit = 1 << mode.countWidth(version: version)
        return count < countLimit && bits <= QRVersionTable.dataCodewords(version: version, level: level) * 8
    }
}
