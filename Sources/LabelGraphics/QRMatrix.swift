/// The module grid of a QR Code while it is being built: function patterns (6.3), the
/// codeword bits in their zigzag placement (7.7.3), data masking (7.8), and format and
/// version information (7.9, 7.10). Row-major; `true` is dark.
struct QRMatrix {
    /// Modules per side.
    let size: Int
    private(set) var modules: [Bool]
    /// Modules that belong to function patterns or format/version information: never masked
    /// and never given data.
    private var isFunction: [Bool]

    /// A grid with every function pattern drawn and the format area reserved (all light).
    init(version: Int) {
        size = QRVersionTable.size(version: version)
        modules = [Bool](repeating: false, count: size * size)
        isFunction = modules
        drawTimingPatterns()
        for (x, y) in [(3, 3), (size - 4, 3), (3, size - 4)] { drawFinderPattern(centerX: x, centerY: y) }
        drawAlignmentPatterns(version: version)
        drawFormatBits(0)
        drawVersionBits(version: version)
    }

    /// Whether the module at column `x`, row `y` is dark.
    func isDark(x: Int, y: Int) -> Bool { modules[y * size + x] }

    /// Modules that are free for codewords.
    var dataModuleCount: Int { isFunction.lazy.filter { !$0 }.count }

    // MARK: Function patterns

    private mutating func setFunction(x: Int, y: Int, dark: Bool) {
        modules[y * size + x] = dark
        isFunction[y * size + x] = true
    }

    private mutating func drawTimingPatterns() {
        for index in 0..<size {
            setFunction(x: 6, y: index, dark: index % 2 == 0)
            setFunction(x: index, y: 6, dark: index % 2 == 0)
        }
    }

    /// A 7×7 finder with its one-module light separator (drawn as a 9×9 area, clipped).
    private mutating func drawFinderPattern(centerX: Int, centerY: Int) {
        for dy in -4...4 {
            for dx in -4...4 {
                let x = centerX + dx
                let y = centerY + dy
                guard x >= 0, x < size, y >= 0, y < size else { continue }
                let ring = max(abs(dx), abs(dy))
                setFunction(x: x, y: y, dark: ring != 2 && ring != 4)
            }
        }
    }

    private mutating func drawAlignmentPatterns(version: Int) {
        let positions = QRVersionTable.alignmentPositions(version: version)
        let last = positions.count - 1
        for (row, y) in positions.enumerated() {
            for (column, x) in positions.enumerated() {
                // The three corners are taken by finder patterns.
                if (row == 0 && column == 0) || (row == 0 && column == last) || (row == last && column == 0) {
                    continue
                }
                for dy in -2...2 {
                    for dx in -2...2 {
                        setFunction(x: x + dx, y: y + dy, dark: max(abs(dx), abs(dy)) != 1)
                    }
                }
            }
        }
    }

    /// Writes the 15 format bits (bit 0 least significant) into both copies, and the dark module.
    mutating func drawFormatBits(_ bits: Int) {
        func bit(_ index: Int) -> Bool { (bits >> index) & 1 == 1 }
        // Copy around the top-left finder: down column 8, then left along row 8.
        for index in 0...5 { setFunction(x: 8, y: index, dark: bit(index)) }
        setFunction(x: 8, y: 7, dark: bit(6))
        setFunction(x: 8, y: 8, dark: bit(7))
        setFunction(x: 7, y: 8, dark: bit(8))
        for index in 9...14 { setFunction(x: 14 - index, y: 8, dark: bit(index)) }
        // Copy split between the top-right (row 8) and bottom-left (column 8) finders.
        for index in 0...7 { setFunction(x: size - 1 - index, y: 8, dark: bit(index)) }
        for index in 8...14 { setFunction(x: 8, y: size - 15 + index, dark: bit(index)) }
        setFunction(x: 8, y: size - 8, dark: true)
    }

    /// Writes the two 6×3 version information blocks (versions 7 and up).
    private mutating func drawVersionBits(version: Int) {
        guard version >= 7 else { return }
        let bits = QRFormatInformation.versionBits(version)
        for index in 0..<18 {
            let dark = (bits >> index) & 1 == 1
            let across = size - 11 + index % 3
            let along = index / 3
            setFunction(x: across, y: along, dark: dark)
            setFunction(x: along, y: across, dark: dark)
        }
    }

    // MARK: Data and masking

    /// Places codeword bits, most significant first, in two-module-wide columns from the
    /// bottom-right corner, alternately upwards and downwards, skipping function modules and
    /// the vertical timing column. Modules left over (remainder bits) stay light.
    mutating func placeCodewords(_ codewords: [UInt8]) {
        let bitCount = codewords.count * 8
        var bitIndex = 0
        var right = size - 1
        while right >= 1 {
            if right == 6 { right = 5 }
            let upward = (right + 1) & 2 == 0
            for step in 0..<size {
                let y = upward ? size - 1 - step : step
                for x in [right, right - 1] where !isFunction[y * size + x] && bitIndex < bitCount {
                    modules[y * size + x] = (codewords[bitIndex / 8] >> UInt8(7 - bitIndex % 8)) & 1 == 1
                    bitIndex += 1
                }
            }
            right -= 2
        }
    }

    /// Inverts every non-function module where the mask pattern's condition holds (Table 10;
    /// `i` is the row, `j` the column).
    mutating func applyMask(_ mask: Int) {
        for i in 0..<size {
            for j in 0..<size where !isFunction[i * size + j] {
                let invert: Bool
                switch mask {
                case 0: invert = (i + j) % 2 == 0
                case 1: invert = i % 2 == 0
                case 2: invert = j % 3 == 0
                case 3: invert = (i + j) % 3 == 0
                case 4: invert = (i / 2 + j / 3) % 2 == 0
                case 5: invert = (i * j) % 2 + (i * j) % 3 == 0
                case 6: invert = ((i * j) % 2 + (i * j) % 3) % 2 == 0
                default: invert = ((i + j) % 2 + (i * j) % 3) % 2 == 0
                }
                if invert { modules[i * size + j].toggle() }
            }
        }
    }
}
