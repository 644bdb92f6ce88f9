import HTTPTypes
import PreforkCore

/// A request handler. Handlers are synchronous: a worker runs one at a time, like Gunicorn's
/// sync worker, while its event loop keeps every other connection's I/O moving.
public typealias Handler = @Sendable (Request) throws -> Response

/// A middleware wraps the handler chain (logging, auth, headers...).
public protocol Middleware: Sendable {
    func handle(_ request: Request, next: Handler) throws -> Response
}

/// Matches a method and path to a handler. Patterns are literal segments and `:name` captures,
/// e.g. `/labels/:tag`; a trailing `*` matches the rest of the path (captured as `*`).
public struct Router: Sendable {
    struct Route: Sendable {
        var method: HTTPRequest.Method?
        var pattern: String
        var segments: [Segment]
        var handler: Handler
    }

    enum Segment: Sendable, Equatable {
        case literal([UInt8])
        case capture(String)
        case rest
    }

    var routes: [Route] = []

    public init() {}

    /// Adds a route for `method` (nil: any method) and `pattern`.
    public mutating func add(_ method: HTTPRequest.Method?, _ pattern: String, _ handler: @escaping Handler) {
        let segments: [Segment] = pattern.split(separator: "/").map { part in
            if part == "*" { return .rest }
            if part.hasPrefix(":") { return .capture(String(part.dropFirst())) }
            return .literal(Array(part.utf8))
        }
        routes.append(Route(method: method, pattern: pattern, segments: segments, handler: handler))
    }

    /// Every route as added: method (nil: any) and pattern, in matching order.
    public var patterns: [(method: HTTPRequest.Method?, pattern: String)] { routes.map { ($0.method, $0.pattern) } }

    public mutating func get(_ pattern: String, _ handler: @escaping Handler) { add(.get, pattern, handler) }
    public mutating func post(_ pattern: String, _ handler: @escaping Handler) { add(.post, pattern, handler) }
    public mutating func put(_ pattern: String, _ handler: @escaping Handler) { add(.put, pattern, handler) }
    public mutating func delete(_ pattern: String, _ handler: @escaping Handler) { add(.delete, pattern, handler) }

    /// Routes the request: 404 when no pattern matches, 405 (with `Allow`) when the path
    /// matches but not the method. `HEAD` is served by the `GET` route.
    public func handle(_ request: Request) throws -> Response {
        var allowed: [HTTPRequest.Method] = []
        for route in routes {
            guard let parameters = request.withHeadBytes({ match(route.segments, $0, request.parsed.path) }) else {
                continue
            }
            let method = route.method
            if method == nil || method == request.method || (method == .get && request.method == .head) {
                var routed = request
                if !parameters.isEmpty { routed.parameters = parameters }
                return try route.handler(routed)
            }
            if let method { allowed.append(method) }
        }
        if allowed.isEmpty { return .error(.notFound) }
        var response = Response.error(.methodNotAllowed)
        response.headers.add("Allow", allowed.map(\.rawValue).joined(separator: ", "))
        return response
    }

    /// Whether some route's pattern matches the request's path, whatever its method: what a
    /// middleware asks to answer an unknown path with the router's 404 before anything else.
    public func matchesPath(_ request: Request) -> Bool {
        request.withHeadBytes { bytes in
            routes.contains { match($0.segments, bytes, request.parsed.path) != nil }
        }
    }

    /// Matches path bytes against the segments; returns the captures, or nil.
    private func match(_ segments: [Segment], _ bytes: UnsafeRawBufferPointer, _ path: Range<Int>) -> [String: String]?
    {
        var captures: [String: String] = [:]
        var position = path.lowerBound
        for segment in segments {
            // Skip the '/' before the segment.
            guard position < path.upperBound, bytes[position] == UInt8(ascii: "/") else { return nil }
            position += 1
            var end = position
            while end < path.upperBound && bytes[end] != UInt8(ascii: "/") { end += 1 }
            switch segment {
            case .literal(let literal):
                guard end - position == literal.count else { return nil }
                for (offset, byte) in literal.enumerated() where bytes[position + offset] != byte { return nil }
            case .capture(let name):
                guard end > position else { return nil }
                let raw = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<end]), as: UTF8.self)
                captures[name] = FormDecoding.percentDecodePath(raw)
            case .rest:
                let raw = String(
                    decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<path.upperBound]), as: UTF8.self)
                captures["*"] = FormDecoding.percentDecodePath(raw)
                return captures
            }
            position = end
        }
        // Allow one trailing slash only for the root.
        if position == path.upperBound { return captures }
        if segments.isEmpty && position + 1 == path.upperBound && bytes[position] == UInt8(ascii: "/") {
            return captures
        }
        return nil
    }
}
