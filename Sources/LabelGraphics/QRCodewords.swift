/// Turns data into the final codeword sequence of a symbol: the segment bits, terminator and
/// padding (7.4.9–7.4.10), split into blocks, each given its Reed–Solomon codewords, and
/// interleaved (7.5–7.6).
enum QRCodewords {
    /// The data codewords of one segment, filled to the version's capacity with the
    /// terminator, zero bits to a byte boundary, then alternating 0xEC 0x11.
    static func dataCodewords(
        _ data: [UInt8], mode: QRMode, version: Int, level: QRCode.ErrorCorrectionLevel
    ) -> [UInt8] {
        let capacityBits = QRVersionTable.dataCodewords(version: version, level: level) * 8
        var writer = BitWriter()
        mode.write(data, version: version, to: &writer)
        precondition(writer.count <= capacityBits, "segment does not fit the chosen version")
        writer.append(0, width: min(4, capacityBits - writer.count))
        writer.append(0, width: (8 - writer.count % 8) % 8)
        var codewords = writer.bytes()
        var padIndex = 0
        while codewords.count * 8 < capacityBits {
            codewords.append(padIndex % 2 == 0 ? 0xEC : 0x11)
            padIndex += 1
        }
        return codewords
    }

    /// Splits data codewords into blocks (the shorter blocks first, the longer ones holding one
    /// more data codeword), appends each block's error correction, and interleaves: the data
    /// codewords column by column across blocks, then the error-correction codewords likewise.
    static func interleaved(_ data: [UInt8], version: Int, level: QRCode.ErrorCorrectionLevel) -> [UInt8] {
        let blockCount = QRVersionTable.blockCount(version: version, level: level)
        let eccLength = QRVersionTable.eccPerBlock(version: version, level: level)
        let total = QRVersionTable.totalCodewords(version: version)
        let longBlocks = total % blockCount
        let shortDataLength = total / blockCount - eccLength

        var dataBlocks: [ArraySlice<UInt8>] = []
        var eccBlocks: [[UInt8]] = []
        var start = 0
        for index in 0..<blockCount {
            let length = shortDataLength + (index >= blockCount - longBlocks ? 1 : 0)
            let block = data[start..<(start + length)]
            dataBlocks.append(block)
            eccBlocks.append(ReedSolomon.errorCorrection(for: Array(block), degree: eccLength))
            start += length
        }

        var result: [UInt8] = []
        result.reserveCapacity(total)
        for column in 0...shortDataLength {
            for block in dataBlocks where column < block.count {
                result.append(block[block.startIndex + column])
            }
        }
        for column in 0..<eccLength {
            for block in eccBlocks { result.append(block[column]) }
        }
        return result
    }
}
