/// What a master hands to the binary it re-executes on USR2, in the environment variable
/// `PREFORK_UPGRADE`: the descriptors it keeps open across exec (listening sockets, the shared
/// scoreboard, the previous binary and command for a rollback) and the workers it leaves
/// running, so the new master adopts them instead of starting from nothing. One line per fact,
/// `key value…`; decoding refuses anything it does not know, so a mismatched pair of binaries
/// fails loudly instead of guessing.
public struct UpgradeHandoff: Sendable, Equatable {
    public static let environmentName = "PREFORK_UPGRADE"
    public static let formatVersion = 1

    public struct Socket: Sendable, Equatable {
        public var fd: Int32
        /// As `BindAddress` prints it (parsed back by the new master).
        public var address: String
        /// From systemd (socket activation): never closed by the master.
        public var inherited: Bool

        public init(fd: Int32, address: String, inherited: Bool) {
            self.fd = fd
            self.address = address
            self.inherited = inherited
        }
    }

    public struct Worker: Sendable, Equatable {
        public var pid: Int32
        public var slot: Int
        public var generation: UInt64
        public var kind: WorkerRecord.Kind
        /// Already told to drain (SIGTERM sent).
        public var draining: Bool

        public init(pid: Int32, slot: Int, generation: UInt64, kind: WorkerRecord.Kind, draining: Bool) {
            self.pid = pid
            self.slot = slot
            self.generation = generation
            self.kind = kind
            self.draining = draining
        }
    }

    /// The memfd of the scoreboard.
    public var scoreboard: Int32
    /// The previous binary (open for a rollback), or -1.
    public var previousBinary: Int32 = -1
    /// A memfd with the previous master's command line and environment, or -1.
    public var previousCommand: Int32 = -1
    /// This exec is a rollback to the previous binary: adopt the workers, start no generation.
    public var rollback = false
    public var newestGeneration: UInt64 = 1
    public var serverID = ""
    public var listeners: [Socket] = []
    public var metrics: Socket?
    public var workers: [Worker] = []

    public init(scoreboard: Int32) {
        self.scoreboard = scoreboard
    }

    public func encoded() -> String {
        var lines = [
            "prefork-upgrade \(Self.formatVersion)", "scoreboard \(scoreboard)", "previous-binary \(previousBinary)",
            "previous-command \(previousCommand)", "rollback \(rollback ? 1 : 0)",
            "newest-generation \(newestGeneration)", "server-id \(serverID)",
        ]
        for socket in listeners { lines.append("listener \(socket.fd) \(socket.inherited ? 1 : 0) \(socket.address)") }
        if let metrics { lines.append("metrics \(metrics.fd) 0 \(metrics.address)") }
        for worker in workers {
            lines.append(
                "worker \(worker.pid) \(worker.slot) \(worker.generation) \(worker.kind == .job ? "job" : "http") "
                    + (worker.draining ? "draining" : "serving"))
        }
        return lines.joined(separator: "\n")
    }

    public static func decode(_ text: String) -> Result<UpgradeHandoff, UpgradeHandoffError> {
        var handoff = UpgradeHandoff(scoreboard: -1)
        var sawVersion = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let words = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
            guard let ok = handoff.apply(words) else { return .failure(UpgradeHandoffError(line: String(line))) }
            if ok { sawVersion = true }
        }
        guard sawVersion, handoff.scoreboard >= 0 else { return .failure(UpgradeHandoffError(line: "(no scoreboard)")) }
        return .success(handoff)
    }

    /// Applies one line; nil if it is not understood, true for the version line.
    private mutating func apply(_ words: [String]) -> Bool? {
        func int<T: FixedWidthInteger>(_ index: Int) -> T? { index < words.count ? T(words[index]) : nil }
        switch (words.first ?? "", words.count) {
        case ("prefork-upgrade", 2): return words[1] == "\(Self.formatVersion)" ? true : nil
        case ("scoreboard", 2): scoreboard = int(1) ?? -1
        case ("previous-binary", 2): previousBinary = int(1) ?? -1
        case ("previous-command", 2): previousCommand = int(1) ?? -1
        case ("rollback", 2): rollback = words[1] == "1"
        case ("newest-generation", 2):
            guard let value: UInt64 = int(1) else { return nil }
            newestGeneration = value
        case ("server-id", 2): serverID = words[1]
        case ("listener", 4), ("metrics", 4):
            guard let fd: Int32 = int(1) else { return nil }
            let socket = Socket(fd: fd, address: words[3], inherited: words[2] == "1")
            if words[0] == "metrics" { metrics = socket } else { listeners.append(socket) }
        case ("worker", 4):
            let rest = words[3].split(separator: " ").map(String.init)
            guard let pid: Int32 = int(1), let slot: Int = int(2), rest.count == 3, let generation = UInt64(rest[0]),
                ["http", "job"].contains(rest[1]), ["serving", "draining"].contains(rest[2])
            else { return nil }
            workers.append(
                Worker(
                    pid: pid, slot: slot, generation: generation, kind: rest[1] == "job" ? .job : .http,
                    draining: rest[2] == "draining"))
        default: return nil
        }
        return false
    }
}

public struct UpgradeHandoffError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: String
    public var description: String { "\(UpgradeHandoff.environmentName): cannot read \(line.debugDescription)" }
}

/// The path a USR2 re-executes: the binary the master was started as, resolved once at start
/// (argv[0] against the starting directory, or searched in PATH), so a file replaced at that path
/// is what runs next, as Puma's and uWSGI's re-exec do.
public enum ExecutablePath {
    public static func resolve(
        argv0: String, directory: String, path: String?, isExecutable: (String) -> Bool
    ) -> String? {
        if argv0.hasPrefix("/") { return argv0 }
        if argv0.contains("/") {
            var relative = Substring(argv0)
            while relative.hasPrefix("./") { relative = relative.dropFirst(2) }
            return directory.hasSuffix("/") ? directory + relative : directory + "/" + relative
        }
        for entry in (path ?? "").split(separator: ":", omittingEmptySubsequences: false) {
            let dir = entry.isEmpty ? directory : String(entry)
            let candidate = dir.hasSuffix("/") ? dir + argv0 : dir + "/" + argv0
            if isExecutable(candidate) { return candidate.hasPrefix("/") ? candidate : directory + "/" + candidate }
        }
        return nil
    }
}
