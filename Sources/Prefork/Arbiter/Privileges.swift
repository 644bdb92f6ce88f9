#if canImport(Glibc)
    import Glibc
#endif

/// Dropping root in a worker after the master bound its sockets (`user`, `group`).
enum Privileges {
    static func lookUpUser(_ name: String) -> (uid: uid_t, gid: gid_t)? {
        if let uid = UInt32(name) { return (uid, getpwuid(uid)?.pointee.pw_gid ?? uid) }
        guard let entry = getpwnam(name) else { return nil }
        return (entry.pointee.pw_uid, entry.pointee.pw_gid)
    }

    static func lookUpGroup(_ name: String) -> gid_t? {
        if let gid = UInt32(name) { return gid }
        return getgrnam(name)?.pointee.gr_gid
    }

    /// Switches to `user` and `group` (the user's primary group if no group is given). Fails
    /// loudly rather than serve as root by mistake.
    static func drop(user: String?, group: String?) throws(SystemError) {
        guard user != nil || group != nil else { return }
        var gid: gid_t?
        if let group { gid = lookUpGroup(group) }
        var uid: uid_t?
        if let user, let entry = lookUpUser(user) {
            uid = entry.uid
            if gid == nil { gid = entry.gid }
        }
        if let gid {
            if getegid() != gid || geteuid() == 0 {
                try syscall("setgroups", context: "dropping privileges to group \(gid)") { setgroups(0, nil) }
                try syscall("setgid", context: "dropping privileges to group \(gid) (setting 'group')") { setgid(gid) }
            }
        }
        if let uid, getuid() != uid {
            try syscall("setuid", context: "dropping privileges to user \(uid) (setting 'user')") { setuid(uid) }
        }
    }
}
