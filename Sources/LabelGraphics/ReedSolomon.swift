/// Reed–Solomon error correction over GF(256) with the QR Code field polynomial
/// x⁸ + x⁴ + x³ + x² + 1 (0x11D) and generator roots α⁰ … α^(n−1) (ISO/IEC 18004, 7.5.2).
enum ReedSolomon {
    /// `exp[i]` is αⁱ; doubled in length so a sum of two logarithms needs no modulo.
    static let exp: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 512)
        var value = 1
        for power in 0..<255 {
            table[power] = UInt8(value)
            value <<= 1
            if value & 0x100 != 0 { value ^= 0x11D }
        }
        for power in 255..<512 { table[power] = table[power - 255] }
        return table
    }()

    /// `log[x]` is the power of α that gives x (undefined for 0).
    static let log: [Int] = {
        var table = [Int](repeating: 0, count: 256)
        for power in 0..<255 { table[Int(exp[power])] = power }
        return table
    }()

    /// The product of two field elements.
    static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
        if a == 0 || b == 0 { return 0 }
        return exp[log[Int(a)] + log[Int(b)]]
    }

    /// The monic generator polynomial of the given degree, highest power first (leading 1 included).
    static func generator(degree: Int) -> [UInt8] {
        var poly: [UInt8] = [1]
        for root in 0..<degree {
            var next = poly + [0]
            for index in 1..<next.count {
                next[index] ^= multiply(poly[index - 1], exp[root])
            }
            poly = next
        }
        return poly
    }

    /// The `degree` error-correction codewords for `data`: the remainder of data·x^degree
    /// divided by the generator polynomial.
    static func errorCorrection(for data: [UInt8], degree: Int) -> [UInt8] {
        let poly = generator(degree: degree)
        var remainder = [UInt8](repeating: 0, count: degree)
        for byte in data {
            let factor = byte ^ remainder[0]
            remainder.removeFirst()
            remainder.append(0)
            for index in 0..<degree {
                remainder[index] ^= multiply(poly[index + 1], factor)
            }
        }
        return remainder
    }
}
