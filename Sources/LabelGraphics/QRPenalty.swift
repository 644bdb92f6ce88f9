/// The mask evaluation score of ISO/IEC 18004, 7.8.3: the lower, the easier the symbol is to
/// read. Computed over the whole symbol, function patterns included.
enum QRPenalty {
    /// Sum of the four rules for `matrix`.
    static func score(_ matrix: QRMatrix) -> Int {
        runs(matrix) + blocks(matrix) + finderLikePatterns(matrix) + balance(matrix)
    }

    /// Rule 1: each run of five or more same-coloured modules in a row or column scores
    /// 3 plus 1 for every module beyond five.
    static func runs(_ matrix: QRMatrix) -> Int {
        var total = 0
        for line in lines(matrix) {
            var runLength = 1
            for index in 1...line.count {
                if index < line.count && line[index] == line[index - 1] {
                    runLength += 1
                    continue
                }
                if runLength >= 5 { total += 3 + runLength - 5 }
                runLength = 1
            }
        }
        return total
    }

    /// Rule 2: each 2×2 block of one colour scores 3 (overlapping blocks all count).
    static func blocks(_ matrix: QRMatrix) -> Int {
        var total = 0
        for y in 0..<(matrix.size - 1) {
            for x in 0..<(matrix.size - 1) {
                let colour = matrix.isDark(x: x, y: y)
                if matrix.isDark(x: x + 1, y: y) == colour && matrix.isDark(x: x, y: y + 1) == colour
                    && matrix.isDark(x: x + 1, y: y + 1) == colour
                {
                    total += 3
                }
            }
        }
        return total
    }

    /// Rule 3: each 1:1:3:1:1 dark-light-dark-light-dark pattern with four light modules on one
    /// side, in a row or column, scores 40. Only patterns wholly inside the symbol are counted.
    static func finderLikePatterns(_ matrix: QRMatrix) -> Int {
        let pattern: [Bool] = [true, false, true, true, true, false, true, false, false, false, false]
        let reversed = Array(pattern.reversed())
        var total = 0
        for line in lines(matrix) where line.count >= pattern.count {
            for start in 0...(line.count - pattern.count) {
                let window = line[start..<(start + pattern.count)]
                if window.elementsEqual(pattern) { total += 40 }
                if window.elementsEqual(reversed) { total += 40 }
            }
        }
        return total
    }

    /// Rule 4: 10 for every full 5 % step the dark share is away from 50 %.
    static func balance(_ matrix: QRMatrix) -> Int {
        let dark = matrix.modules.lazy.filter { $0 }.count
        let total = matrix.modules.count
        let deviation = abs(dark * 20 - total * 10)  // in units of 5 % of total
        return deviation / total * 10
    }

    /// Every row, then every column.
    private static func lines(_ matrix: QRMatrix) -> [[Bool]] {
        let size = matrix.size
        let rows = (0..<size).map { y in Array(matrix.modules[(y * size)..<((y + 1) * size)]) }
        let columns = (0..<size).map { x in (0..<size).map { y in matrix.isDark(x: x, y: y) } }
        return rows + columns
    }
}
