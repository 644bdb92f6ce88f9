/// Fitting one line of text into a width without measuring real glyphs: every character is
/// taken as `advance` em wide (monospace fonts are 0.6 em), East Asian wide characters and
/// emoji as two, combining marks as zero.
struct TextFit: Equatable {
    /// Glyph advance of the monospace fonts the label uses, as a fraction of the font size.
    static let advance = 0.6
    /// What replaces the cut-off end of a truncated line.
    static let ellipsis: Character = "…"

    /// The text to draw: the input, or its start followed by an ellipsis.
    let text: String
    /// The font size to draw it at, in the drawing's units.
    let fontSize: Double

    /// The line at `preferredSize` when it fits `maxWidth`; otherwise shrunk until it does, but
    /// not below `minimumSize`, where it is cut (whole characters) and ends in an ellipsis.
    init(_ text: String, maxWidth: Double, preferredSize: Double, minimumSize: Double) {
        let cells = Self.cells(text)
        let fittingSize = cells == 0 ? preferredSize : maxWidth / (Double(cells) * Self.advance)
        if fittingSize >= minimumSize {
            self.text = text
            self.fontSize = min(preferredSize, fittingSize)
            return
        }
        let available = Int(maxWidth / (minimumSize * Self.advance)) - 1  // room left for the ellipsis
        var kept = ""
        var used = 0
        for character in text {
            let width = Self.cells(character)
            if used + width > available { break }
            kept.append(character)
            used += width
        }
        self.text = kept + String(Self.ellipsis)
        self.fontSize = minimumSize
    }

    /// Width of the line as drawn, in the drawing's units.
    var width: Double { Double(Self.cells(text)) * Self.advance * fontSize }

    /// Character cells `text` takes in a monospace font.
    static func cells(_ text: String) -> Int { text.reduce(0) { $0 + cells($1) } }

    /// Cells of one character: its widest scalar, 2 for wide and emoji ranges, 0 for combining.
    static func cells(_ character: Character) -> Int {
        character.unicodeScalars.reduce(0) { widest, scalar in max(widest, cells(scalar)) }
    }

    private static func cells(_ scalar: Unicode.Scalar) -> Int {
        switch scalar.value {
        case 0x0300...0x036F, 0x200B...0x200F, 0xFE00...0xFE0F: 0
        case 0x1100...0x115F, 0x2E80...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F,
            0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            2
        default: 1
        }
    }
}
