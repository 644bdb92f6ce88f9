/// A connection's read buffer: bytes read from the socket and not consumed yet. The driver reads
/// straight into `freeSpace(limit:)` and reports how many bytes came with `didRead(_:)`; the
/// state machine parses them in place. One buffer per connection, reused for every request.
///
/// A class because it owns raw memory (freed in `deinit`); it makes no system calls.
public final class ReadBuffer {
    private var storage: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0

    public init(capacity: Int) {
        storage = .allocate(byteCount: max(capacity, 16), alignment: 16)
    }

    deinit {
        storage.deallocate()
    }

    /// The bytes read and not consumed yet.
    public var unread: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[start..<end]) }
    public var count: Int { end - start }
    public var isEmpty: Bool { start == end }
    public var capacity: Int { storage.count }

    /// Room to read into: compacts consumed bytes away, or doubles the buffer up to `limit`.
    /// Nil when the buffer is full and may not grow (a head at the limit, which the state
    /// machine rejects).
    public func freeSpace(limit: Int) -> UnsafeMutableRawBufferPointer? {
        if end == storage.count {
            if start > 0 {
                compact()
            } else if storage.count < limit {
                grow(to: min(limit, storage.count * 2))
            } else {
                return nil
            }
        }
        return UnsafeMutableRawBufferPointer(rebasing: storage[end...])
    }

    /// Records that `count` bytes were written into the space `freeSpace` returned.
    public func didRead(_ count: Int) {
        precondition(count >= 0 && end + count <= storage.count, "read past the free space")
        end += count
    }

    /// Drops `count` bytes from the front.
    public func consume(_ count: Int) {
        start += count
        if start == end {
            start = 0
            end = 0
        }
    }

    /// Drops everything unread.
    public func clear() {
        start = 0
        end = 0
    }

    /// A copy of the first `count` unread bytes (a request head, kept for the application).
    func copyPrefix(_ count: Int) -> [UInt8] {
        Array(UnsafeRawBufferPointer(rebasing: storage[start..<start + count]))
    }

    private func compact() {
        let count = end - start
        if count > 0 { storage.baseAddress!.copyMemory(from: storage.baseAddress! + start, byteCount: count) }
        start = 0
        end = count
    }

    private func grow(to size: Int) {
        let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        bigger.copyMemory(from: unread)
        storage.deallocate()
        storage = bigger
        end -= start
        start = 0
    }
}
