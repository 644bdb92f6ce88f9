extension QRCode {
    /// How much of the symbol may be damaged and still be read: about 7 % (L), 15 % (M),
    /// 25 % (Q) or 30 % (H) of the codewords. Higher levels make a larger symbol for the same data.
    public enum ErrorCorrectionLevel: Int, Sendable, CaseIterable, CustomStringConvertible {
        case low, medium, quartile, high

        /// The letter the standard uses: L, M, Q or H.
        public var description: String {
            switch self {
            case .low: "L"
            case .medium: "M"
            case .quartile: "Q"
            case .high: "H"
            }
        }

        /// The two bits the format information carries for this level (Table 12).
        var formatBits: Int {
            switch self {
            case .low: 0b01
            case .medium: 0b00
            case .quartile: 0b11
            case .high: 0b10
            }
        }
    }
}
