/// Walks the field lines of an already validated head, yielding name and value ranges (value
/// with OWS trimmed). It never reads outside the head, even if given the wrong buffer.
public struct HTTPFieldIterator: IteratorProtocol, Sequence {
    public typealias Element = (name: Range<Int>, value: Range<Int>)

    @usableFromInline let base: UnsafePointer<UInt8>?
    @usableFromInline var position: Int
    /// Offset of the final empty line's CR.
    @usableFromInline let end: Int

    @inlinable
    init(base: UnsafePointer<UInt8>?, position: Int, end: Int) {
        self.base = base
        self.position = position
        self.end = end
    }

    @inlinable
    public mutating func next() -> Element? {
        guard let p = base, position < end else { return nil }
        var k = position
        while k < end && p[k] != HTTPByte.colon { k &+= 1 }
        let name = position..<k
        k &+= 1
        while k < end && HTTPByte.isOWS(p[k]) { k &+= 1 }
        let valueStart = k
        while k < end && p[k] != HTTPByte.cr { k &+= 1 }
        var valueEnd = k
        while valueEnd > valueStart && HTTPByte.isOWS(p[valueEnd &- 1]) { valueEnd &-= 1 }
        position = k &+ 2
        return (name, valueStart..<valueEnd)
    }
}

extension HTTPRequestHead {
    /// The field lines of this head in `bytes` (the buffer it was parsed from), in order.
    @inlinable
    public func fields(in bytes: UnsafeRawBufferPointer) -> HTTPFieldIterator {
        let end = Swift.min(length - 2, bytes.count)
        let base = bytes.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) }
        return HTTPFieldIterator(base: base, position: fieldsStart, end: end)
    }

    /// First value of the field named `lowercasedName` (compared ASCII case-insensitively), as a range.
    @inlinable
    public func firstValue(of lowercasedName: StaticString, in bytes: UnsafeRawBufferPointer) -> Range<Int>? {
        var iterator = fields(in: bytes)
        guard let p = iterator.base else { return nil }
        let count = lowercasedName.utf8CodeUnitCount
        while let field = iterator.next() {
            if field.name.count == count && HTTPByte.equalsLowercased(p + field.name.lowerBound, count, lowercasedName)
            {
                return field.value
            }
        }
        return nil
    }
}
