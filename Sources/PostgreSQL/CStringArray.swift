/// Strings as a temporary C array of NUL-terminated strings (nil stays a null pointer), for
/// libpq's `const char *const *` arguments: one scratch allocation for all the bytes, and
/// one for the pointers, both released when the body returns.
enum CStringArray {
    /// Calls `body` with the count and the array (nil when `strings` is empty; with a null
    /// pointer after the last string when `terminated`). Returns the index of the first string
    /// that holds a NUL byte, without calling `body`, since C would cut that string short.
    static func with<R>(
        _ strings: [String?], terminated: Bool = false,
        _ body: (Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> R
    ) -> Result<R, NULByte> {
        if strings.isEmpty && !terminated { return .success(body(0, nil)) }
        var byteCount = 0
        for string in strings { byteCount += (string?.utf8.count ?? -1) + 1 }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(byteCount, 1)) { bytes in
            withUnsafeTemporaryAllocation(
                of: UnsafePointer<CChar>?.self, capacity: strings.count + (terminated ? 1 : 0)
            ) { pointers in
                var offset = 0
                for (index, string) in strings.enumerated() {
                    guard let string else {
                        pointers.initializeElement(at: index, to: nil)
                        continue
                    }
                    let target = UnsafeMutableBufferPointer(rebasing: bytes[offset..<(offset + string.utf8.count)])
                    _ = target.initialize(from: string.utf8)
                    if target.contains(0) { return .failure(NULByte(index: index)) }
                    bytes.initializeElement(at: offset + target.count, to: 0)
                    let start = UnsafeRawPointer(bytes.baseAddress! + offset)
                    pointers.initializeElement(at: index, to: start.assumingMemoryBound(to: CChar.self))
                    offset += target.count + 1
                }
                if terminated { pointers.initializeElement(at: strings.count, to: nil) }
                return .success(body(Int32(strings.count), UnsafePointer(pointers.baseAddress)))
            }
        }
    }

    /// The string at `index` holds a NUL byte.
    struct NULByte: Error {
        var index: Int
    }
}
