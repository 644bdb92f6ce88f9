/// Why a symbol could not be made. A struct over a private kind, so new cases can be added
/// without breaking callers; compare `code` to tell them apart.
public struct LabelGraphicsError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, independent of the input that caused it.
    public struct Code: Hashable, Sendable {
        private let raw: Int
        /// The data does not fit in the largest symbol (QR Code version 40 at the chosen level).
        public static let dataTooLong = Code(raw: 1)
        /// A character the symbology cannot encode (Code 128 here takes printable ASCII only).
        public static let unsupportedCharacter = Code(raw: 2)
    }

    /// The kind of failure.
    public let code: Code
    /// A sentence for a log line or an error page, naming the limit that was hit.
    public let description: String

    static func dataTooLong(byteCount: Int, maximum: Int, level: String) -> LabelGraphicsError {
        LabelGraphicsError(
            code: .dataTooLong,
            description: "data too long for a QR code: \(byteCount) bytes, level \(level) holds at most \(maximum)")
    }

    static func unsupportedCharacter(_ scalar: Unicode.Scalar, offset: Int) -> LabelGraphicsError {
        LabelGraphicsError(
            code: .unsupportedCharacter,
            description: "Code 128 cannot encode U+\(String(scalar.value, radix: 16, uppercase: true)) "
                + "at offset \(offset): only printable ASCII (32-126) is supported")
    }
}
