/// One `--bind` entry: `HOST:PORT`, `[IPv6]:PORT`, `unix:PATH` or `fd://N`.
public enum BindAddress: Sendable, Equatable, CustomStringConvertible {
    case tcp(host: String, port: UInt16)
    case unix(path: String)
    case fileDescriptor(Int32)

    /// Parses a bind entry; the error says what is wrong and what form is expected.
    public static func parse(_ text: String) -> Result<BindAddress, BindAddressError> {
        let expected = "use HOST:PORT, [IPv6]:PORT, unix:PATH or fd://N"
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { return .failure(.init("\"\(text)\" has no socket path (\(expected))")) }
            guard path.utf8.count < 108 else {
                return .failure(.init("unix socket path \"\(path)\" is longer than 107 bytes"))
            }
            return .success(.unix(path: path))
        }
        if text.hasPrefix("fd://") {
            guard let fd = Int32(text.dropFirst(5)), fd >= 0 else {
                return .failure(.init("\"\(text)\" is not a file descriptor number (\(expected))"))
            }
            return .success(.fileDescriptor(fd))
        }
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                return .failure(.init("\"\(text)\" has no closing ']' (\(expected))"))
            }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return .failure(.init("\"\(text)\" has no :PORT (\(expected))")) }
            portText = rest.dropFirst()
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") {
                return .failure(.init("IPv6 address in \"\(text)\" needs brackets: [\(host)]:\(portText)"))
            }
        } else {
            // Gunicorn accepts a bare host (port 8000); a bare number is taken as a port.
            if let port = UInt16(text) { return .success(.tcp(host: "127.0.0.1", port: port)) }
            host = Substring(text)
            portText = "8000"
        }
        guard let port = UInt16(portText) else {
            return .failure(.init("\"\(portText)\" in \"\(text)\" is not a port from 0 to 65535 (\(expected))"))
        }
        let hostName = host.isEmpty ? "0.0.0.0" : String(host)
        return .success(.tcp(host: hostName, port: port))
    }

    public var description: String {
        switch self {
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): return "unix:\(path)"
        case .fileDescriptor(let fd): return "fd://\(fd)"
        }
    }
}

public struct BindAddressError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
