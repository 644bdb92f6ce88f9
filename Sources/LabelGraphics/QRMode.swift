/// The data encoding mode of a single QR Code segment (ISO/IEC 18004, 7.4). The whole input
/// is one segment in the most compact mode that can hold every byte of it.
enum QRMode: Equatable {
    /// Digits 0–9, three to 10 bits.
    case numeric
    /// Digits, upper-case letters and ` $%*+-./:`, two to 11 bits.
    case alphanumeric
    /// Any byte, 8 bits each (UTF-8 text is stored as its bytes).
    case byte

    /// The 45 characters of the alphanumeric mode, in code value order.
    static let alphanumericCharacters: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".utf8)

    /// The most compact mode that can encode all of `data`.
    static func best(for data: [UInt8]) -> QRMode {
        if data.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { return .numeric }
        if data.allSatisfy({ alphanumericCharacters.contains($0) }) { return .alphanumeric }
        return .byte
    }

    /// The 4-bit mode indicator.
    var indicator: Int {
        switch self {
        case .numeric: 0b0001
        case .alphanumeric: 0b0010
        case .byte: 0b0100
        }
    }

    /// Width of the character count field, which grows at versions 10 and 27.
    func countWidth(version: Int) -> Int {
        let group = version <= 9 ? 0 : (version <= 26 ? 1 : 2)
        switch self {
        case .numeric: return [10, 12, 14][group]
        case .alphanumeric: return [9, 11, 13][group]
        case .byte: return [8, 16, 16][group]
        }
    }

    /// Bits of a segment holding `count` characters: header and payload, no terminator.
    func segmentBits(count: Int, version: Int) -> Int {
        let payload: Int
        switch self {
        case .numeric: payload = 10 * (count / 3) + [0, 4, 7][count % 3]
        case .alphanumeric: payload = 11 * (count / 2) + 6 * (count % 2)
        case .byte: payload = 8 * count
        }
        return 4 + countWidth(version: version) + payload
    }

    /// Writes the segment: mode indicator, character count, then the data.
    func write(_ data: [UInt8], version: Int, to writer: inout BitWriter) {
        writer.append(indicator, width: 4)
        writer.append(data.count, width: countWidth(version: version))
        switch self {
        case .numeric:
            var start = 0
            while start < data.count {
                let group = data[start..<min(start + 3, data.count)]
                let value = group.reduce(0) { $0 * 10 + Int($1 - 0x30) }
                writer.append(value, width: [0, 4, 7, 10][group.count])
                start += 3
            }
        case .alphanumeric:
            let codes = data.map { byte in Self.alphanumericCharacters.firstIndex(of: byte) ?? 0 }
            var start = 0
            while start + 1 < codes.count {
                writer.append(codes[start] * 45 + codes[start + 1], width: 11)
                start += 2
            }
            if start < codes.count { writer.append(codes[start], width: 6) }
        case .byte:
            for byte in data { writer.append(Int(byte), width: 8) }
        }
    }
}
