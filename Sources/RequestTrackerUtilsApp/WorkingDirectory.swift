#if canImport(Glibc)
    import Glibc
#endif

/// `WORKING_DIR`: the database, collected static files, uploads and logs live under it.
enum WorkingDirectory {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func prepare(_ path: String) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw Failure(description: "WORKING_DIR \(path) exists and is not a directory")
            }
            guard access(path, W_OK) == 0 else {
                throw Failure(description: "WORKING_DIR \(path) is not writable by this user (fix its owner or mode)")
            }
            return
        }
        if mkdir(path, 0o750) != 0 && errno != EEXIST {
            throw Failure(
                description:
                    "cannot create WORKING_DIR \(path): \(String(cString: strerror(errno))) (create it or set WORKING_DIR)"
            )
        }
    }
}
