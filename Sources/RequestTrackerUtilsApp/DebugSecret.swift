import OpenSSLSupport
import SystemCalls

#if canImport(Glibc)
    import Glibc
#endif

/// In debug mode without SECRET_KEY, a random key kept in `WORKING_DIR/.debug-secret-key`, so
/// every worker (and every restart) signs forms with the same key. The first worker to get
/// there creates it with link(2), which cannot overwrite another worker's key.
enum DebugSecret {
    static func load(workingDirectory: String) throws -> String {
        let path = workingDirectory + "/.debug-secret-key"
        if let bytes = try CollectStatic.readFile(path), bytes.count >= 32 {
            return String(decoding: bytes, as: UTF8.self)
        }
        let temporary = "\(path).\(getpid())"
        let key = Array(Digest.hex(SecureRandom.bytes(32)).utf8)
        do {
            let fd = try syscall("open") { open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600) }
            defer { close(fd) }
            try FileIO.writeAll(fd, key)
        } catch {
            unlink(temporary)
            let verb = error.call == "open" ? "create" : "write"
            throw CollectStatic.Failure(description: "cannot \(verb) \(temporary): \(error.message)")
        }
        defer { unlink(temporary) }
        _ = link(temporary, path)  // fails with EEXIST if another worker won: read theirs
        guard let bytes = try CollectStatic.readFile(path) else {
            throw CollectStatic.Failure(description: "cannot create \(path)")
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
