import PreforkCore
import RequestTracker
import RequestTrackerUtilsApp

/// What each fuzz target feeds the bytes to. Every target must return for any input: a trap,
/// an out-of-bounds access (AddressSanitizer) or a hang is a finding.
enum FuzzTarget: String, CaseIterable, Sendable {
    /// The connection state machine (request heads, bodies, chunked bodies, pipelining), the
    /// bytes delivered in reads of the size the first byte says.
    case request
    /// The chunked body decoder alone, in reads of the size the first byte says.
    case chunked
    /// A config file, resolved against the server's settings.
    case config
    /// A secrets/environment file (`KEY=VALUE` lines).
    case envfile
    /// A command line: NUL-separated arguments, resolved against the server's settings.
    case cli
    /// A multipart/form-data body (boundary `fuzz`).
    case multipart
    /// The student roster CSV reader.
    case roster
    /// Request Tracker's JSON answers: an asset, a search page, a user, messages.
    case rtanswer

    func run(_ input: UnsafeRawBufferPointer) {
        let bytes = [UInt8](input)
        switch self {
        case .request: Self.request(bytes)
        case .chunked: Self.chunked(bytes)
        case .config:
            let text = String(decoding: bytes, as: UTF8.self)
            _ = try? Self.registry.resolve(arguments: ["--config", "fuzz.toml"], environment: [:]) { _ in text }
        case .envfile: _ = EnvironmentFileParser.parse(String(decoding: bytes, as: UTF8.self))
        case .cli:
            let arguments = bytes.split(separator: 0, omittingEmptySubsequences: false).map {
                String(decoding: $0, as: UTF8.self)
            }
            _ = try? Self.registry.resolve(arguments: arguments, environment: [:]) { _ in "" }
        case .multipart: _ = try? Multipart.parse(bytes, boundary: "fuzz")
        case .roster: FuzzEntryPoints.rosterCSV(bytes)
        case .rtanswer: RTAnswerDecoding.fuzz(bytes)
        }
    }

    /// Built once: `ServerSettings.registry` makes a new registry each time it is read.
    static let registry = ServerSettings.registry

    static func readSize(_ bytes: [UInt8]) -> Int { bytes.isEmpty ? 1 : Int(bytes[0]) % 64 + 1 }

    static func request(_ bytes: [UInt8]) {
        let configuration = ConnectionConfiguration(
            limits: HTTPLimits(), keepaliveNanos: 5_000_000_000, headerTimeoutNanos: 10_000_000_000)
        var machine = ConnectionStateMachine(configuration: configuration, now: 0, bufferSize: 512)
        let step = readSize(bytes)
        var offset = min(1, bytes.count)
        var closed = false
        func serve() {
            for _ in 0..<10_000 {
                switch machine.next() {
                case .dispatch, .reject, .sendContinue, .flush, .halfClose: continue
                case .waitForWritable: machine.outputDrained(now: 0)
                case .awaitInput: return
                case .close:
                    closed = true
                    return
                }
            }
            fatalError("the connection state machine did not settle in 10,000 actions")
        }
        while offset < bytes.count && !closed {
            guard let space = machine.readSpace() else {
                serve()
                if machine.readSpace() == nil { return }
                continue
            }
            let count = min(space.count, step, bytes.count - offset)
            bytes.withUnsafeBytes { source in
                space.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<offset + count]))
            }
            offset += count
            machine.bytesRead(count, now: 0)
            serve()
        }
        if !closed {
            machine.inputEnded()
            serve()
        }
    }

    static func chunked(_ bytes: [UInt8]) {
        var decoder = ChunkedDecoder(limit: 1 << 20)
        var body: [UInt8] = []
        let step = readSize(bytes)
        var offset = min(1, bytes.count)
        bytes.withUnsafeBytes { all in
            while offset < all.count && !decoder.isComplete {
                let end = min(all.count, offset + step)
                do {
                    let used = try decoder.decode(UnsafeRawBufferPointer(rebasing: all[offset..<end]), into: &body)
                    precondition(used <= end - offset, "the decoder consumed more than it was given")
                } catch {
                    return
                }
                offset = end
            }
        }
    }
}
