import CSystemd

/// Listening sockets passed by systemd (`LISTEN_FDS`, `LISTEN_PID`, `LISTEN_FDNAMES`), so a
/// `.socket` unit holds the port across restarts and no connection is refused.
public struct ActivatedSocket: Sendable, Equatable {
    public var fd: Int32
    /// The `FileDescriptorName=` of the socket unit (`LISTEN_FDNAMES`), or "unknown".
    public var name: String
}

public enum SocketActivation {
    /// The sockets systemd passed to this process; empty when none (or `LISTEN_PID` is another
    /// process). Leaves the environment as it is, so a reload sees the same sockets.
    public static func sockets() -> [ActivatedSocket] {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let count = sd_listen_fds_with_names(0, &names)
        guard count > 0 else { return [] }
        var result: [ActivatedSocket] = []
        for index in 0..<Int(count) {
            var name = "unknown"
            if let names, let entry = names[index] {
                name = String(cString: entry)
                free(entry)
            }
            result.append(ActivatedSocket(fd: SD_LISTEN_FDS_START + Int32(index), name: name))
        }
        free(names)
        return result
    }
}

#if canImport(Glibc)
    import Glibc
#endif
