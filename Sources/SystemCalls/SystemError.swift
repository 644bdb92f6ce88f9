#if canImport(Glibc)
    import Glibc
#endif

/// A failed system call: the call's name and errno, and what it was about.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    public var call: String
    public var errno: Int32
    public var context: String

    public init(_ call: String, errno: Int32 = Glibc.errno, context: String = "") {
        self.call = call
        self.errno = errno
        self.context = context
    }

    /// The errno's text: "No such file or directory".
    public var message: String { String(cString: strerror(errno)) }

    public var description: String {
        let text = context.isEmpty ? "\(call): \(message)" : "\(context): \(call): \(message)"
        return hint.map { "\(text) (\($0))" } ?? text
    }

    /// What to do, for the failures an operator meets at start-up.
    public var hint: String? {
        switch (call, errno) {
        case ("bind", EADDRINUSE):
            return "another process listens there; find it with `ss -ltnp`, stop it, or choose another bind"
        case ("bind", EACCES):
            return "ports below 1024 need root or CAP_NET_BIND_SERVICE; use a higher port or systemd socket activation"
        case ("bind", EADDRNOTAVAIL):
            return "no network interface has this address; check the host part of bind"
        case ("open", EACCES), ("chmod", EPERM):
            return "permission denied; check the owner and mode of the directory"
        case ("open", ENOENT):
            return "the directory does not exist; create it first"
        default:
            return nil
        }
    }
}
