import CPreforkShims
import PreforkCore

#if canImport(Glibc)
    import Glibc
#endif

/// A listening socket the master binds before it forks; every worker inherits it.
struct Listener {
    let address: BindAddress
    let fd: Int32
    /// Inherited (systemd, fd://): not ours to unlink or re-create.
    let inherited: Bool

    struct Options {
        var backlog: Int32
        var reusePort: Bool
        var unixMode: UInt32
    }

    /// Binds `address`. Errors name the address and say what to do.
    static func bind(_ address: BindAddress, options: Options) throws(SystemError) -> Listener {
        switch address {
        case .fileDescriptor(let fd):
            var type: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0 else {
                throw SystemError("getsockopt", context: "bind \(address): file descriptor \(fd) is not an open socket")
            }
            try setNonBlocking(fd)
            return Listener(address: address, fd: fd, inherited: true)
        case .unix(let path):
            return Listener(address: address, fd: try bindUnix(path: path, options: options), inherited: false)
        case .tcp(let host, let port):
            return Listener(
                address: address, fd: try bindTCP(host: host, port: port, options: options), inherited: false)
        }
    }

    /// Closes the socket, and removes a unix socket file we created.
    func close() {
        _ = Glibc.close(fd)
        if case .unix(let path) = address, !inherited { unlink(path) }
    }

    private static func bindTCP(host: String, port: UInt16, options: Options) throws(SystemError) -> Int32 {
        let location = "bind \(BindAddress.tcp(host: host, port: port))"
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let info = result else {
            throw SystemError(
                "getaddrinfo", errno: EINVAL,
                context: "\(location): cannot resolve host '\(host)' "
                    + "(\(String(cString: gai_strerror(status))))")
        }
        defer { freeaddrinfo(result) }
        return try listeningSocket(family: info.pointee.ai_family, options: options, context: location) {
            fd throws(SystemError) in
            _ = prefork_setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1)
            if options.reusePort { _ = prefork_setsockopt_int(fd, SOL_SOCKET, SO_REUSEPORT, 1) }
            if info.pointee.ai_family == AF_INET6 {
                _ = prefork_setsockopt_int(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1)
            }
            try syscall("bind", context: location) { Glibc.bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) }
        }
    }

    private static func bindUnix(path: String, options: Options) throws(SystemError) -> Int32 {
        let location = "bind unix:\(path)"
        try removeStaleSocket(path: path, context: location)
        return try listeningSocket(family: AF_UNIX, options: options, context: location) { fd throws(SystemError) in
            var address = unixAddress(path)
            try syscall("bind", context: location) {
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                    }
                }
            }
            try syscall("chmod", context: location) { chmod(path, mode_t(options.unixMode)) }
        }
    }

    /// A socket of `family`, set up by `bind`, then listening and non-blocking; closed if any
    /// step fails.
    private static func listeningSocket(
        family: Int32, options: Options, context: String, bind: (Int32) throws(SystemError) -> Void
    ) throws(SystemError) -> Int32 {
        let fd = try syscall("socket", context: context) {
            socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        do {
            try bind(fd)
            try syscall("listen", context: context) { listen(fd, options.backlog) }
            try setNonBlocking(fd)
        } catch {
            _ = Glibc.close(fd)
            throw error
        }
        return fd
    }

    /// A socket file left by a dead server is replaced; one a live server answers on is not,
    /// and a path that is not a socket is never removed.
    private static func removeStaleSocket(path: String, context: String) throws(SystemError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw SystemError(
                "bind", errno: EEXIST,
                context: "\(context): \(path) exists and is not a socket; remove it or choose another path")
        }
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard probe >= 0 else { throw SystemError("socket", context: context) }
        defer { _ = Glibc.close(probe) }
        var address = unixAddress(path)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(probe, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if connected == 0 {
            throw SystemError(
                "bind", errno: EADDRINUSE, context: "\(context): another server is listening on it; stop it first")
        }
        unlink(path)
    }

    static func unixAddress(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }
}

func setNonBlocking(_ fd: Int32) throws(SystemError) {
    let flags = try syscall("fcntl") { fcntl(fd, F_GETFL) }
    try syscall("fcntl") { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
}
