import PreforkCore

/// The byte-level encoders behind `HTML` and `HTMLWriter`: HTML escaping, percent-encoding and
/// decimal integers, each writing UTF-8 straight to an output pointer. Callers size the room
/// with the matching `...Count` function first, so no encoder checks bounds per byte.
enum HTMLEncoding {
    // MARK: Escaping

    /// `"` `&` `'` `<` `>` are all below 64: one bit each of a 64-bit mask.
    @inline(__always)
    static func needsEscape(_ byte: UInt8) -> Bool {
        let mask: UInt64 = 1 << 34 | 1 << 38 | 1 << 39 | 1 << 60 | 1 << 62
        return byte < 64 && (mask >> UInt64(byte)) & 1 != 0
    }

    /// The index of the first byte that needs escaping, or `input.count`. Eight bytes at a
    /// time while none does: most text (tags, dates, names) has no special byte at all.
    static func firstSpecial(_ input: UnsafeRawBufferPointer) -> Int {
        guard let base = input.baseAddress else { return 0 }
        let count = input.count
        var index = 0
        while index + 8 <= count && !mayHaveSpecial(base.loadUnaligned(fromByteOffset: index, as: UInt64.self)) {
            index += 8
        }
        while index < count && !needsEscape(input[index]) { index += 1 }
        return index
    }

    /// Whether any byte of `word` may be `"` `&` `'` `<` `>` (never false when one is): `&`
    /// and `'` differ only in bit 0, `<` and `>` only in bit 1, so three zero-byte tests do.
    @inline(__always)
    static func mayHaveSpecial(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        @inline(__always) func hasZeroByte(_ value: UInt64) -> Bool {
            (value &- ones) & ~value & (ones &* 0x80) != 0
        }
        return hasZeroByte(word ^ (ones &* 0x22)) || hasZeroByte((word | ones) ^ (ones &* 0x27))
            || hasZeroByte((word | (ones &* 0x02)) ^ (ones &* 0x3E))
    }

    /// How many bytes `escape` writes for `input`.
    static func escapedCount(_ input: UnsafeRawBufferPointer, from start: Int) -> Int {
        var count = input.count
        for index in start..<input.count {
            switch input[index] {
            case UInt8(ascii: "&"), UInt8(ascii: "'"): count += 4  // &amp; &#39;
            case UInt8(ascii: "<"), UInt8(ascii: ">"): count += 3  // &lt; &gt;
            case UInt8(ascii: "\""): count += 5  // &quot;
            default: break
            }
        }
        return count
    }

    /// Writes `input` with `& < > " '` replaced by entities, for element content and quoted
    /// attribute values alike. `start` is where the first special byte is (see `firstSpecial`);
    /// returns the number of bytes written.
    static func escape(_ input: UnsafeRawBufferPointer, from start: Int, into out: UnsafeMutablePointer<UInt8>)
        -> Int
    {
        var written = start
        if start > 0 { out.update(from: input.baseAddress!.assumingMemoryBound(to: UInt8.self), count: start) }
        for index in start..<input.count {
            let byte = input[index]
            guard needsEscape(byte) else {
                out[written] = byte
                written += 1
                continue
            }
            let entity: StaticString
            switch byte {
            case UInt8(ascii: "&"): entity = "&amp;"
            case UInt8(ascii: "<"): entity = "&lt;"
            case UInt8(ascii: ">"): entity = "&gt;"
            case UInt8(ascii: "\""): entity = "&quot;"
            default: entity = "&#39;"
            }
            (out + written).update(from: entity.utf8Start, count: entity.utf8CodeUnitCount)
            written += entity.utf8CodeUnitCount
        }
        return written
    }

    // MARK: Integers

    /// The most bytes `decimal` writes: a sign and 19 digits.
    static let decimalMaximum = 20

    /// Writes `value` in decimal; returns the number of bytes written.
    static func decimal(_ value: Int, into out: UnsafeMutablePointer<UInt8>) -> Int {
        var magnitude = value.magnitude
        var digits = 0
        repeat {
            digits += 1
            magnitude /= 10
        } while magnitude > 0
        let sign = value < 0 ? 1 : 0
        if sign == 1 { out[0] = UInt8(ascii: "-") }
        magnitude = value.magnitude
        var index = sign + digits
        repeat {
            index -= 1
            out[index] = UInt8(48 + magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
        return sign + digits
    }
}

/// Where `HTML` interpolations and `HTMLWriter` put their bytes: room for at most `maximum`
/// bytes is made, `body` writes there and returns how many it wrote.
protocol HTMLByteSink {
    mutating func write(maximum: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int)
}

extension HTMLByteSink {
    /// Bytes that are HTML already (a literal, a finished fragment).
    @inline(__always)
    mutating func appendRaw(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        write(maximum: bytes.count) { out in
            out.update(from: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
            return bytes.count
        }
    }

    @inline(__always)
    mutating func appendStatic(_ literal: StaticString) {
        guard literal.hasPointerRepresentation else {
            literal.withUTF8Buffer { appendRaw(UnsafeRawBufferPointer($0)) }
            return
        }
        appendRaw(UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// Text, escaped: a run without special bytes is copied as it is.
    mutating func appendEscaped(_ text: UnsafeRawBufferPointer) {
        let first = HTMLEncoding.firstSpecial(text)
        if first == text.count {
            appendRaw(text)
            return
        }
        write(maximum: HTMLEncoding.escapedCount(text, from: first)) { out in
            HTMLEncoding.escape(text, from: first, into: out)
        }
    }

    mutating func appendEscaped(_ text: some StringProtocol) {
        if let done: Void = text.utf8.withContiguousStorageIfAvailable({ appendEscaped(UnsafeRawBufferPointer($0)) }) {
            return done
        }
        var copy = String(text)
        copy.withUTF8 { appendEscaped(UnsafeRawBufferPointer($0)) }
    }

    mutating func appendPercentEncoded(_ text: UnsafeRawBufferPointer) {
        if text.allSatisfy(PercentEncoding.isUnreserved) {
            appendRaw(text)
            return
        }
        write(maximum: PercentEncoding.encodedCount(text)) { out in PercentEncoding.encode(text, into: out) }
    }

    mutating func appendPercentEncoded(_ text: some StringProtocol) {
        if let done: Void = text.utf8.withContiguousStorageIfAvailable({
            appendPercentEncoded(UnsafeRawBufferPointer($0))
        }) {
            return done
        }
        var copy = String(text)
        copy.withUTF8 { appendPercentEncoded(UnsafeRawBufferPointer($0)) }
    }

    mutating func appendDecimal(_ value: Int) {
        write(maximum: HTMLEncoding.decimalMaximum) { out in HTMLEncoding.decimal(value, into: out) }
    }
}
