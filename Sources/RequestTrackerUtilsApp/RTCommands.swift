import FoundationEssentials
import Logging
import Prefork
import PreforkCore
import RequestTracker

#if canImport(Glibc)
    import Glibc
#endif

/// The RT commands an operator runs by hand: `rt-check` after setting RT_URL and RT_TOKEN,
/// `rt-asset` to see what RT has for a tag. Exit codes: 0 done, 1 RT failed or said no
/// (one line on stderr saying why), 2 the command line is wrong.
enum RTCommands {
    static let all: [ApplicationCommand] = [check, asset]

    /// `rt-check`: connects, authenticates, prints "RT at URL: ok (RT 5.0.3, user root)".
    static let check = ApplicationCommand(
        name: "rt-check", summary: "check that RT (RT_URL) answers and accepts the credentials"
    ) { configuration, arguments, _ in
        guard arguments.isEmpty else { return usage("rt-check takes no arguments") }
        return withClient(configuration) { client throws(RTError) in
            let info = try client.check()
            print(
                "RT at \(client.configuration.url): ok (RT \(info.version), \(info.user.map { "user \($0)" } ?? "token auth"))"
            )
        }
    }

    /// `rt-asset TAG`, `rt-asset serial:SERIAL`, `rt-asset id:N`: the asset as JSON.
    /// (Not `--serial`: every `--` option is parsed as a setting before the command runs.)
    static let asset = ApplicationCommand(
        name: "rt-asset", summary: "print the RT asset with a tag, serial:SERIAL or id:N as JSON"
    ) { configuration, arguments, _ in
        guard arguments.count == 1, !arguments[0].isEmpty else {
            return usage("rt-asset takes one argument: TAG, serial:SERIAL or id:N")
        }
        let argument = arguments[0]
        if argument.hasPrefix("id:") && Int(argument.dropFirst(3)) == nil {
            return usage("rt-asset id:N needs a number after id:")
        }
        return withClient(configuration) { client throws(RTError) in
            let asset: RTAsset
            if argument.hasPrefix("serial:") {
                asset = try client.asset(serial: String(argument.dropFirst(7)))
            } else if argument.hasPrefix("id:"), let id = Int(argument.dropFirst(3)) {
                asset = try client.asset(id: id)
            } else {
                asset = try client.asset(tag: argument)
            }
            print(printed(asset, url: client.assetWebURL(id: asset.id)))
        }
    }

    /// The asset as `rt-asset` prints it: RTAsset's JSON plus its `url` in RT, keys sorted,
    /// indented for people.
    static func printed(_ asset: RTAsset, url: String) -> String {
        struct Printed: Encodable {
            var asset: RTAsset
            var url: String
            func encode(to encoder: any Encoder) throws {
                try asset.encode(to: encoder)
                var container = encoder.container(keyedBy: Key.self)
                try container.encode(url, forKey: .url)
            }
            enum Key: CodingKey { case url }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(Printed(asset: asset, url: url)) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Runs `body` with the configured client; an error becomes one line on stderr and exit 1.
    private static func withClient(_ configuration: Configuration, _ body: (RTClient) throws(RTError) -> Void) -> Int32
    {
        do {
            guard let client = try RTSettings.client(from: configuration) else {
                printError("RT_URL is not set: the RT features are off")
                return 1
            }
            try body(client)
            return 0
        } catch {
            printError(error.description)
            return 1
        }
    }

    private static func usage(_ line: String) -> Int32 {
        printError(line)
        return 2
    }

    private static func printError(_ line: String) {
        let text = "error: \(line)\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
    }
}
