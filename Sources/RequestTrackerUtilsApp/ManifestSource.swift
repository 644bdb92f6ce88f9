#if canImport(Glibc)
    import Glibc
#endif

/// The static manifest a worker's pages link with, picked up again when `collectstatic` replaces
/// it: at most once a second the worker `stat`s `staticfiles.json` and re-reads it when its
/// modification time or inode changed (collectstatic renames a new file into place). Until the
/// first manifest appears, pages link the plain names.
final class ManifestSource: @unchecked Sendable {
    // One worker runs one request at a time, and the master never renders pages: no lock.
    private let path: String
    private var manifest = StaticManifest(paths: [:])
    private var stamp: (inode: UInt, seconds: Int, nanoseconds: Int)?
    private var checkedAt = -1

    init(directory: String) {
        path = directory + "/" + StaticManifest.fileName
        refresh()
    }

    var current: StaticManifest {
        let now = time(nil)
        if now != checkedAt { refresh(now: now) }
        return manifest
    }

    private func refresh(now: Int = time(nil)) {
        checkedAt = now
        var info = stat()
        guard stat(path, &info) == 0 else { return }  // keep what we had
        let seen = (UInt(info.st_ino), Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec))
        if let stamp, stamp == seen { return }
        guard let bytes = try? CollectStatic.readFile(path),
            let parsed = StaticManifest.parse(bytes)
        else { return }
        manifest = parsed
        stamp = seen
    }
}
