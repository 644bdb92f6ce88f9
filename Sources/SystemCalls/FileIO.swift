#if canImport(Glibc)
    import Glibc
#endif

/// Whole-file reads and whole-buffer writes on blocking descriptors, for the start-up and
/// command-line paths (config files, static files, secrets). The event loop has its own
/// non-blocking I/O.
public enum FileIO {
    /// The whole file at `path`; `SystemError` names `open` or `read` and the errno.
    public static func read(_ path: String) throws(SystemError) -> [UInt8] {
        let fd = try syscall("open", context: path) { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = try syscall("read", context: path) { Glibc.read(fd, &chunk, chunk.count) }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
        }
    }

    /// Writes every byte to `fd`, retrying short writes.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], context: String = "") throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let count = try syscall("write", context: context) {
                bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            }
            offset += count
        }
    }
}
