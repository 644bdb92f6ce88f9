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
/// The literal's text is a `StaticString`, never copied until the fragment is appended to an
/// `HTMLWriter`; a fragment up to `inlineCapacity` bytes is built on the stack, so a page that
/// appends one fragment per table row does not allocate per row.
public struct HTML: Sendable, ExpressibleByStringInterpolation {
    public typealias StringLiteralType = StaticString

    /// Bytes a fragment holds without allocating.
    public static let inlineCapacity = 256

    enum Storage: Sendable {
        case literal(StaticString)
        case small(InlineBytes)
        case large(ByteBuffer)
    }

    let storage: Storage

    public init(stringLiteral literal: StaticString) {
        storage = .literal(literal)
    }

    public init(stringInterpolation: StringInterpolation) {
        if let large = stringInterpolation.large {
            storage = .large(large)
        } else {
            storage = .small(stringInterpolation.small)
        }
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
        case .small(let bytes): return bytes.count
        case .large(let bytes): return bytes.count
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
        case .small(let bytes): return bytes.withBytes(body)
        case .large(let bytes): return bytes.withBytes(body)
        }
    }

    /// The fragment as text (for tests and logs; pages append fragments to an `HTMLWriter`).
    public var text: String { withBytes { String(decoding: $0, as: UTF8.self) } }

    /// The interpolations a fragment literal takes. Each appends UTF-8 bytes directly.
    public struct StringInterpolation: StringInterpolationProtocol, HTMLByteSink {
        public typealias StringLiteralType = StaticString

        var small = InlineBytes()
        var large: ByteBuffer?

        public init(literalCapacity: Int, interpolationCount: Int) {
            let estimate = literalCapacity + 16 * interpolationCount
            if estimate > HTML.inlineCapacity { large = ByteBuffer(capacity: estimate) }
        }

        mutating func write(maximum: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
            if large == nil {
                if small.count + maximum <= HTML.inlineCapacity {
                    small.write(body)
                    return
                }
                var spilled = ByteBuffer(capacity: 2 * (small.count + maximum))
                small.withBytes { spilled.appendRaw($0) }
                large = spilled
            }
            large!.write(maximum: maximum, body)
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

/// Up to `HTML.inlineCapacity` bytes stored in place.
struct InlineBytes: Sendable {
    private var storage = InlineArray<256, UInt8>(repeating: 0)
    private(set) var count = 0

    /// Calls `body` with room for `HTML.inlineCapacity - count` bytes.
    @inline(__always)
    mutating func write(_ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        let start = count
        let written = withUnsafeMutableBytes(of: &storage) { raw in
            body(raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + start)
        }
        count += written
    }

    func withBytes<T>(_ body: (UnsafeRawBufferPointer) -> T) -> T {
        withUnsafeBytes(of: storage) { raw in body(UnsafeRawBufferPointer(rebasing: raw[0..<count])) }
    }
}

/// A growable byte buffer written through pointers: `storage` is kept longer than the bytes
/// written (`count`) and zero-filled ahead, so writing needs no per-byte bounds check and the
/// finished bytes are handed over as an array without a copy.
struct ByteBuffer: Sendable, HTMLByteSink {
    private var storage: [UInt8]
    private(set) var count = 0

    init(capacity: Int) {
        storage = [UInt8](repeating: 0, count: max(capacity, 64))
    }

    @inline(__always)
    mutating func write(maximum: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        if count + maximum > storage.count { grow(to: count + maximum) }
        let start = count
        let written = storage.withUnsafeMutableBufferPointer { body($0.baseAddress! + start) }
        count += written
    }

    @inline(never)
    private mutating func grow(to needed: Int) {
        storage.append(contentsOf: repeatElement(0, count: max(needed, 2 * storage.count) - storage.count))
    }

    /// Hands the bytes written over as an array, without copying them (the spare room is
    /// dropped); the buffer is empty afterwards.
    mutating func take() -> [UInt8] {
        storage.removeLast(storage.count - count)
        count = 0
        defer { storage = [] }
        return storage
    }

    func withBytes<T>(_ body: (UnsafeRawBufferPointer) -> T) -> T {
        storage.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }
}
