import OpenSSLSupport
import SystemCalls

#if canImport(Glibc)
    import Glibc
#endif

/// `collectstatic`: writes the embedded static files to `$WORKING_DIR/static/` as
/// `name.<12 hex of SHA-256>.ext` (and under their plain names), then the manifest. Every file
/// is written to a temporary name, synced and renamed into place, and the manifest goes last,
/// so a page built from any manifest only ever links files that exist. Hashed files of earlier
/// releases are kept: pages already served may still link them. Running it twice changes nothing.
struct CollectStatic {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    struct Outcome {
        var written: [String] = []
        var unchanged: [String] = []
    }

    let directory: String

    static func directory(workingDirectory: String) -> String { workingDirectory + "/static" }

    static func hashedName(_ name: String, content: [UInt8]) -> String {
        let digest = String(Digest.hex(Digest.sha256(content)).prefix(12))
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name + "." + digest }
        return String(name[..<dot]) + "." + digest + String(name[dot...])
    }

    func run(files: [(name: String, content: String)] = StaticAssets.files) throws -> Outcome {
        try makeDirectory(directory)
        var outcome = Outcome()
        var paths: [String: String] = [:]
        for file in files {
            let bytes = Array(file.content.utf8)
            let hashed = Self.hashedName(file.name, content: bytes)
            paths[file.name] = hashed
            for name in [hashed, file.name] {
                if try writeIfChanged(name, bytes) {
                    outcome.written.append(name)
                } else {
                    outcome.unchanged.append(name)
                }
            }
        }
        let manifest = StaticManifest(paths: paths)
        let manifestBytes = Array(manifest.json.utf8)
        if try writeIfChanged(StaticManifest.fileName, manifestBytes) {
            outcome.written.append(StaticManifest.fileName)
        } else {
            outcome.unchanged.append(StaticManifest.fileName)
        }
        return outcome
    }

    /// Reads the manifest; nil if there is none. Throws if it exists but cannot be read.
    static func readManifest(directory: String) throws -> StaticManifest? {
        let path = directory + "/" + StaticManifest.fileName
        guard let bytes = try readFile(path) else { return nil }
        guard let manifest = StaticManifest.parse(bytes) else {
            throw Failure(description: "\(path) is not a static manifest; run `request-tracker-utils collectstatic`")
        }
        return manifest
    }

    // MARK: Files

    private func writeIfChanged(_ name: String, _ bytes: [UInt8]) throws -> Bool {
        let path = directory + "/" + name
        if let existing = try Self.readFile(path), existing == bytes { return false }
        let temporary = directory + "/.\(name).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("create", temporary) }
        guard fchmod(fd, Self.fileMode) == 0 else {
            let error = failure("set the mode of", temporary)
            close(fd)
            unlink(temporary)
            throw error
        }
        do {
            try FileIO.writeAll(fd, bytes)
        } catch {
            let error = failure("write", temporary)
            close(fd)
            unlink(temporary)
            throw error
        }
        guard fsync(fd) == 0, close(fd) == 0 else { throw failure("sync", temporary) }
        guard rename(temporary, path) == 0 else {
            let error = failure("rename into place", path)
            unlink(temporary)
            throw error
        }
        return true
    }

    /// The file's bytes, or nil when it does not exist.
    static func readFile(_ path: String) throws -> [UInt8]? {
        do {
            return try FileIO.read(path)
        } catch {
            if error.call == "open" && error.errno == ENOENT { return nil }
            throw Failure(description: "cannot read \(path): \(error.message)")
        }
    }

    /// Static files are public (nginx, running as another user, serves them), so their modes
    /// do not follow the umask: a service with `UMask=0027` keeps its database private and its
    /// static files readable.
    static let fileMode: mode_t = 0o644
    static let directoryMode: mode_t = 0o755

    private func makeDirectory(_ path: String) throws {
        if mkdir(path, Self.directoryMode) == 0 {
            guard chmod(path, Self.directoryMode) == 0 else { throw failure("set the mode of", path) }
        } else if errno != EEXIST {
            throw failure("create directory", path)
        }
    }

    private func failure(_ what: String, _ path: String) -> Failure {
        Failure(
            description: "cannot \(what) \(path): \(String(cString: strerror(errno))) "
                + "(check that WORKING_DIR is writable by this user)")
    }
}
