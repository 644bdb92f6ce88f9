/// A piece of HTML that is safe to put in a page: written as a string literal whose
/// interpolations are escaped, so the safe way is the default one and markup from a value has
/// to be asked for by name.
///
///     let row: HTML = "<td class=\"tag\">\(tag)</td><td>\(count)</td>"      // tag escaped
///     let link: HTML = "<a href=\"/labels/\(percentEncoded: tag)\">label</a>"
///     let label: HTML = "<div>\(raw: svg)</div>"                           // svg as it is
///
/// Interpolated `String`s (and substrings) are escaped (`& < > " '`, fine in element content and
/// in quoted attribute values); integers are written as digits; another `HTML` goes in as it is.
/// Any other type does not compile: say what it is (`\(String(describing: x))`) on purpose.
///
/// A plain literal is kept as its `StaticString`; an interpolated one is written as UTF-8 into
/// one heap block (one allocation, no `String` per piece), copied once into the page.
public struct HTML: Sendable, ExpressibleByStringInterpolation {
    public typealias StringLiteralType = StaticString

    enum Storage: Sendable {
        case literal(StaticString)
        case bytes(ByteBuffer)
    }

    let storage: Storage

    init(storage: Storage) {
        self.storage = storage
    }

    /// Whether the fragment has no bytes.
    public var isEmpty: Bool {
        switch storage {
        case .literal(let literal): literal.utf8CodeUnitCount == 0
        case .bytes(let bytes): bytes.count == 0
        }
    }

    public init(stringLiteral literal: StaticString) {
        storage = .literal(literal)
    }

    public init(stringInterpolation: StringInterpolation) {
        storage = .bytes(stringInterpolation.buffer)
    }

    /// Markup taken as it is, unescaped: only for text that is HTML already and trusted (SVG
    /// drawn by the server, a fragment kept as bytes).
    public init(unescaped text: some StringProtocol) {
        var interpolation = StringInterpolation(literalCapacity: text.utf8.count, interpolationCount: 0)
        interpolation.appendInterpolation(raw: text)
        self.init(stringInterpolation: interpolation)
    }

    /// An empty fragment.
    public static let empty: HTML = ""

    /// The number of bytes.
    public var count: Int {
        switch storage {
        case .literal(let literal): return literal.utf8CodeUnitCount
        case .bytes(let bytes): return bytes.count
        }
    }

    /// Calls `body` with the fragment's UTF-8 bytes.
    public func withBytes<T>(_ body: (UnsafeRawBufferPointer) -> T) -> T {
        switch storage {
        case .literal(let literal):
            if literal.hasPointerRepresentation {
                return body(UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
            }
            return literal.withUTF8Buffer { body(UnsafeRawBufferPointer($0)) }
        case .bytes(let bytes): return bytes.withBytes(body)
        }
    }

    /// The fragment as text (for tests and logs; pages append fragments to an `HTMLWriter`).
    public var text: String { withBytes { String(decoding: $0, as: UTF8.self) } }

    /// The interpolations a fragment literal takes. Each appends UTF-8 bytes directly.
    public struct StringInterpolation: StringInterpolationProtocol, HTMLByteSink {
        public typealias StringLiteralType = StaticString

        var buffer: ByteBuffer

        public init(literalCapacity: Int, interpolationCount: Int) {
            buffer = ByteBuffer(capacity: literalCapacity + 24 * interpolationCount)
        }

        @inline(__always)
        mutating func write(maximum: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
            buffer.write(maximum: maximum, body)
        }

        public mutating func appendLiteral(_ literal: StaticString) { appendStatic(literal) }

        /// Text, escaped.
        public mutating func appendInterpolation(_ text: String) { appendEscaped(text) }

        /// Text, escaped.
        public mutating func appendInterpolation(_ text: Substring) { appendEscaped(text) }

        /// An integer as decimal digits.
        public mutating func appendInterpolation(_ value: Int) { appendDecimal(value) }

        /// An integer as decimal digits.
        public mutating func appendInterpolation(_ value: Int64) { appendDecimal(Int(value)) }

        /// A fragment, as it is (it was escaped when it was made).
        public mutating func appendInterpolation(_ html: HTML) { html.withBytes { appendRaw($0) } }

        /// Markup as it is, unescaped: the explicit way to put trusted HTML (server-drawn SVG)
        /// into a page.
        public mutating func appendInterpolation(raw text: some StringProtocol) {
            if let done: Void = text.utf8.withContiguousStorageIfAvailable({ appendRaw(UnsafeRawBufferPointer($0)) }) {
                return done
            }
            var copy = String(text)
            copy.withUTF8 { appendRaw(UnsafeRawBufferPointer($0)) }
        }

        /// Text percent-encoded as one URL path segment or query value (RFC 3986 unreserved
        /// characters kept), which is also safe in HTML: `href="/labels/\(percentEncoded: tag)"`.
        public mutating func appendInterpolation(percentEncoded text: some StringProtocol) {
            appendPercentEncoded(text)
        }

        /// UTF-8 bytes (a database column read in place), escaped.
        public mutating func appendInterpolation(escaping utf8: UnsafeRawBufferPointer) { appendEscaped(utf8) }

        /// UTF-8 bytes, percent-encoded as one URL component.
        public mutating func appendInterpolation(percentEncoded utf8: UnsafeRawBufferPointer) {
            appendPercentEncoded(utf8)
        }
    }
}

/// Bytes in one heap block: a small header (count, capacity) with the bytes allocated after
/// it, written through a pointer and never zero-filled. One allocation per buffer.
final class ByteBlock: ManagedBuffer<ByteBlock.Header, UInt8> {
    struct Header {
        var count: Int
        var capacity: Int
    }

    static func make(capacity: Int) -> ByteBlock {
        let block = create(minimumCapacity: capacity) { _ in Header(count: 0, capacity: capacity) }
        return unsafeDowncast(block, to: ByteBlock.self)
    }
}

/// A growable byte buffer in a `ByteBlock`, written through pointers with no per-byte bounds
/// check. A copy shares the block until one of them writes (then the writer copies it), so
/// the bytes a copy sees never change: that is why it is Sendable.
public struct ByteBuffer: @unchecked Sendable, HTMLByteSink {
    private var block: ByteBlock

    init(capacity: Int) {
        block = ByteBlock.make(capacity: max(capacity, 64))
    }

    /// The number of bytes written.
    public var count: Int { block.withUnsafeMutablePointerToHeader { $0.pointee.count } }

    // The header is reached through its pointer, not `block.header`: a class's stored property
    // would be checked for exclusive access at run time on every write.
    @inline(__always)
    mutating func write(maximum: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        let room = block.withUnsafeMutablePointerToHeader { $0.pointee.capacity - $0.pointee.count }
        if room < maximum || !isKnownUniquelyReferenced(&block) { grow(by: maximum) }
        block.withUnsafeMutablePointers { header, bytes in
            header.pointee.count += body(bytes + header.pointee.count)
        }
    }

    @inline(never)
    private mutating func grow(by needed: Int) {
        let (count, capacity) = block.withUnsafeMutablePointerToHeader { ($0.pointee.count, $0.pointee.capacity) }
        let larger = ByteBlock.make(capacity: max(count + needed, 2 * capacity))
        block.withUnsafeMutablePointers { _, old in
            larger.withUnsafeMutablePointers { header, new in
                new.update(from: old, count: count)
                header.pointee.count = count
            }
        }
        block = larger
    }

    /// Calls `body` with the bytes written.
    public func withBytes<T>(_ body: (UnsafeRawBufferPointer) -> T) -> T {
        block.withUnsafeMutablePointers { header, bytes in
            body(UnsafeRawBufferPointer(start: bytes, count: header.pointee.count))
        }
    }
}
