import HTTPTypes
import PreforkCore

#if canImport(Glibc)
    import Glibc
#endif

/// Serves the files below a directory, for an application run without nginx in front:
/// `GET`/`HEAD` only, strong `ETag` and `Last-Modified` with conditional requests (304),
/// single byte ranges (206/416), long-lived caching for content-hashed names, and the body
/// sent with `sendfile(2)`.
///
/// Mount it for every method, so it can answer 405 itself, with a pattern that matches
/// `urlPrefix`:
///
///     let files = StaticFiles(root: "var/static")
///     router.add(nil, "/static/*", files.handler)
///
/// What is served (docs/static-files.md has the reasons):
/// - only regular files reached from `root` without following a symbolic link: each path
///   component is opened with `openat(O_NOFOLLOW)` relative to the one before. `root` itself
///   may be a symlink; it is opened (and so resolved) afresh on every request, so repointing it
///   at a new collectstatic directory takes effect at once, without a reload;
/// - no dotfiles, no `.`/`..` segments, no encoded `/`, `\` or NUL, no empty segments;
///   anything refused, missing or unreadable is 404, never 403, so nothing about the tree leaks;
/// - `Cache-Control: public, max-age=31536000, immutable` when `immutablePattern` accepts the
///   file name (default: `name.<12 hex>.ext`), otherwise `no-cache` (revalidate every time:
///   a name that is not hashed may change content without changing name).
public struct StaticFiles: Sendable {
    public let root: String
    public let urlPrefix: String
    public let immutablePattern: @Sendable (String) -> Bool

    public static let immutableCacheControl = "public, max-age=31536000, immutable"
    public static let revalidateCacheControl = "no-cache"

    /// - Parameters:
    ///   - root: the directory served; relative paths are relative to the working directory.
    ///   - urlPrefix: the percent-encoded path prefix the file paths follow, with both slashes.
    ///   - immutablePattern: whether a file name (last segment, decoded) is content-hashed.
    public init(
        root: String, urlPrefix: String = "/static/",
        immutablePattern: @escaping @Sendable (String) -> Bool = { StaticPath.isContentHashed($0) }
    ) {
        self.root = root
        self.urlPrefix = urlPrefix
        self.immutablePattern = immutablePattern
    }

    /// The handler to mount (for any method) at the route matching `urlPrefix`.
    public var handler: Handler {
        { request in self.response(for: request) }
    }

    public func response(for request: Request) -> Response {
        guard request.method == .get || request.method == .head else {
            var response = Response.error(.methodNotAllowed)
            response.headers.add("Allow", "GET, HEAD")
            return response
        }
        let path = request.path
        guard path.hasPrefix(urlPrefix), let segments = StaticPath.segments(path.dropFirst(urlPrefix.count)) else {
            return .error(.notFound)
        }
        let descriptor = openBeneathRoot(segments)
        guard descriptor >= 0 else {
            let failure = errno
            return [EMFILE, ENFILE, ENOMEM, EIO].contains(failure) ? .error(.internalServerError) : .error(.notFound)
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            _ = close(descriptor)
            return .error(.notFound)
        }
        let file = FileRegion(takingOwnershipOf: descriptor, offset: 0, count: Int(info.st_size))
        let name = String(decoding: segments[segments.count - 1], as: UTF8.self)
        return respond(request, file: file, info: info, name: name)
    }

    /// The response for an open regular file: 304, 206, 416 or 200.
    private func respond(_ request: Request, file: FileRegion, info: stat, name: String) -> Response {
        let size = file.count
        let modifiedSeconds = Int64(info.st_mtim.tv_sec)
        let etag = EntityTag.forFile(
            inode: UInt64(info.st_ino), size: size,
            modifiedNanos: modifiedSeconds * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
        let lastModified = HTTPDate.format(epochSeconds: modifiedSeconds)
        var headers = ResponseHeaders()
        headers.add("ETag", etag)
        headers.add("Last-Modified", lastModified)
        headers.add("Cache-Control", immutablePattern(name) ? Self.immutableCacheControl : Self.revalidateCacheControl)

        if isNotModified(request, etag: etag, modifiedSeconds: modifiedSeconds) {
            return Response(status: .notModified, headers: headers)
        }
        headers.add("Content-Type", MediaTypes.forFileName(name))
        headers.add("X-Content-Type-Options", "nosniff")
        headers.add("Accept-Ranges", "bytes")
        switch rangeSelection(request, size: size, etag: etag, modifiedSeconds: modifiedSeconds) {
        case .whole:
            return Response(status: .ok, headers: headers, body: .file(file))
        case .partial(let bytes):
            headers.add("Content-Range", "bytes \(bytes.lowerBound)-\(bytes.upperBound)/\(size)")
            let copy = dup(file.descriptor)
            guard copy >= 0 else { return .error(.internalServerError) }
            let part = FileRegion(takingOwnershipOf: copy, offset: bytes.lowerBound, count: bytes.count)
            return Response(status: .partialContent, headers: headers, body: .file(part))
        case .unsatisfiable:
            var response = Response.error(.rangeNotSatisfiable)
            response.headers.add("Content-Range", "bytes */\(size)")
            return response
        }
    }

    /// RFC 9110 13.2.2 steps 3 and 4: `If-None-Match` when present, else `If-Modified-Since`.
    private func isNotModified(_ request: Request, etag: String, modifiedSeconds: Int64) -> Bool {
        if let tags = request.header("if-none-match") {
            return EntityTag.ifNoneMatchMatches(tags, current: etag)
        }
        if let since = request.header("if-modified-since"), let date = HTTPDateParser.epochSeconds(since) {
            return modifiedSeconds <= date
        }
        return false
    }

    /// RFC 9110 13.2.2 step 5: a `Range` on a GET, unless `If-Range` names another version.
    private func rangeSelection(_ request: Request, size: Int, etag: String, modifiedSeconds: Int64)
        -> ByteRangeSelection
    {
        guard request.method == .get, let range = request.header("range") else { return .whole }
        if let condition = request.header("if-range") {
            let matches: Bool
            if condition.hasPrefix("\"") || condition.hasPrefix("W/") {
                matches = EntityTag.ifRangeMatches(condition, current: etag)
            } else {
                matches = HTTPDateParser.epochSeconds(condition) == modifiedSeconds
            }
            guard matches else { return .whole }
        }
        return ByteRangeSelection.select(rangeField: range, size: size)
    }

    /// Opens root (following it if it is a symlink), then each segment relative to the one
    /// before with `O_NOFOLLOW`: a symlink anywhere below root fails with `ELOOP`. Returns the
    /// file's descriptor, or -1 with `errno` set.
    private func openBeneathRoot(_ segments: [[UInt8]]) -> Int32 {
        var directory = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { return -1 }
        for (index, segment) in segments.enumerated() {
            let isLast = index == segments.count - 1
            let flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (isLast ? O_NONBLOCK | O_NOCTTY : O_DIRECTORY)
            let next = (segment + [0]).withUnsafeBufferPointer { name in
                name.withMemoryRebound(to: CChar.self) { openat(directory, $0.baseAddress!, flags) }
            }
            let failure = errno
            _ = close(directory)
            guard next >= 0 else {
                errno = failure
                return -1
            }
            directory = next
        }
        return directory
    }
}
