/// A Code 128 bar code (ISO/IEC 15417) of printable ASCII text.
///
/// Text is written in code set B; runs of digits go into code set C (two digits a symbol)
/// wherever that makes the symbol shorter: at the start (start C) when the leading run holds
/// at least four digits, or two when that is all; after other text, a run of four or more
/// digits at the end or six or more in the middle. Of an odd run the first digit stays in B.
/// So "W12-0001" is `W 1 2 - [Code C] 00 01`.
public struct Code128: Sendable {
    /// Light modules required on each side of the symbol.
    public static let quietZone = 10

    /// The text encoded.
    public let text: String
    /// Symbol values in order: start, data and code-set switches, the checksum, stop (106).
    public let values: [Int]
    /// Bar and space widths in modules, a bar first, from the start character through the stop
    /// pattern (quiet zones not included).
    public let widths: [Int]

    /// The modulo-103 check value (second to last of `values`).
    public var checksum: Int { values[values.count - 2] }

    /// Width of the whole symbol in modules, both quiet zones included.
    public var moduleCount: Int { widths.reduce(0, +) + 2 * Self.quietZone }

    /// Encodes `text`.
    /// - Throws: `LabelGraphicsError.Code.unsupportedCharacter` for anything outside ASCII 32–126.
    public init(_ text: String) throws(LabelGraphicsError) {
        let bytes = Array(text.unicodeScalars)
        for (offset, scalar) in bytes.enumerated() where scalar.value < 32 || scalar.value > 126 {
            throw .unsupportedCharacter(scalar, offset: offset)
        }
        var values = Self.dataValues(bytes.map { UInt8($0.value) })
        let weighted = values.enumerated().reduce(0) { sum, item in sum + item.element * max(item.offset, 1) }
        values.append(weighted % 103)
        values.append(Code128Patterns.stop)
        self.text = text
        self.values = values
        self.widths = values.flatMap(Code128Patterns.widths(of:))
    }

    /// Start character and data symbols, switching between code sets B and C.
    private static func dataValues(_ bytes: [UInt8]) -> [Int] {
        func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
        func digitRun(from start: Int) -> Int {
            var end = start
            while end < bytes.count && isDigit(bytes[end]) { end += 1 }
            return end - start
        }
        func pair(at index: Int) -> Int { Int(bytes[index] - 0x30) * 10 + Int(bytes[index + 1] - 0x30) }

        var values: [Int] = []
        var index = 0
        var inSetC = false
        // Start C when the even part of the leading digits is shorter in C, counting the
        // switch back to B when anything follows it.
        let leadingPairs = digitRun(from: 0) / 2
        if leadingPairs > 0 && leadingPairs + (2 * leadingPairs < bytes.count ? 1 : 0) < 2 * leadingPairs {
            values.append(Code128Patterns.startC)
            for _ in 0..<leadingPairs {
                values.append(pair(at: index))
                index += 2
            }
            inSetC = true
        } else {
            values.append(Code128Patterns.startB)
        }
        while index < bytes.count {
            if inSetC {
                values.append(Code128Patterns.codeB)
                inSetC = false
            }
            let run = digitRun(from: index)
            let pairs = run / 2
            let atEnd = index + run == bytes.count
            // In C: one switch, a symbol a pair, and a switch back unless the data ends there.
            if pairs >= 2 && 1 + pairs + (atEnd ? 0 : 1) < 2 * pairs {
                if run % 2 == 1 {
                    values.append(Int(bytes[index]) - 32)
                    index += 1
                }
                values.append(Code128Patterns.codeC)
                for _ in 0..<pairs {
                    values.append(pair(at: index))
                    index += 2
                }
                inSetC = true
                continue
            }
            values.append(Int(bytes[index]) - 32)
            index += 1
        }
        return values
    }
}
