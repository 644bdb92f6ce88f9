#if canImport(Glibc)
    import Glibc
#endif

/// A log destination: stdout, stderr or a file opened with O_APPEND, reopened on SIGUSR1
/// (after logrotate moved it). Each line is one write(2), so lines from the master and the
/// workers never interleave mid-line.
final class LogFile: @unchecked Sendable {
    let path: String?  // nil: the standard stream `fd`
    private(set) var fd: Int32

    /// `path` is "-" for the standard stream given, or a file path.
    init(path: String, standardStream: Int32) throws(SystemError) {
        if path == "-" || path.isEmpty {
            self.path = nil
            self.fd = standardStream
        } else {
            self.path = path
            self.fd = try LogFile.open(path)
        }
    }

    static func open(_ path: String) throws(SystemError) -> Int32 {
        try syscall("open", context: "log file \(path)") {
            Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        }
    }

    /// Reopens the file at its path (logrotate's `create` or a move): the old descriptor is
    /// replaced atomically with dup2, so a write in between goes to one file or the other.
    func reopen() {
        guard let path else { return }
        guard let fresh = try? LogFile.open(path) else { return }
        _ = dup2(fresh, fd)
        _ = close(fresh)
    }

    func write(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let n = retryingEINTR { Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset) }
            if n <= 0 { return }
            offset += n
        }
    }
}

/// The server's log files, opened by `serve` before the master starts (and before workers drop
/// privileges), handed to the arbiter and from it to every worker; reopened together on SIGUSR1.
final class LogFiles: Sendable {
    let error: LogFile
    /// The access log file, when the access log goes to a file or a standard stream.
    let access: LogFile?

    init(error: LogFile, access: LogFile?) {
        self.error = error
        self.access = access
    }

    /// Reopens both files at their paths (SIGUSR1, after logrotate moved them).
    func reopen() {
        error.reopen()
        access?.reopen()
    }

    /// Gives the files to the workers' user, so workers can reopen them after a rotation.
    func chown(uid: uid_t?, gid: gid_t?) {
        guard uid != nil || gid != nil else { return }
        for file in [error, access].compactMap({ $0 }) where file.path != nil {
            _ = fchown(file.fd, uid ?? UInt32.max, gid ?? UInt32.max)
        }
    }
}
