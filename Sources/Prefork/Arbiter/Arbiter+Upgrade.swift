import CPreforkShims
import PreforkCore

#if canImport(Glibc)
    import Glibc
#endif

/// What a USR2 re-executes, captured when the process starts (before `chdir`): the binary's
/// path as it was started, the starting directory, and the command line.
enum UpgradeContext {
    nonisolated(unsafe) static var executable: String?
    nonisolated(unsafe) static var directory = "/"

    /// Set in `Prefork.main`: argv[0] resolved against the starting directory or PATH.
    static func capture() {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        directory = getcwd(&buffer, buffer.count).map { String(cString: $0) } ?? "/"
        executable = ExecutablePath.resolve(
            argv0: CommandLine.arguments.first ?? "", directory: directory,
            path: RuntimeResolver.environment()["PATH"], isExecutable: { access($0, X_OK) == 0 })
    }

    /// Set in the binary a USR2 runs to check itself: it resolves its configuration and exits.
    static let checkVariable = "PREFORK_UPGRADE_CHECK"
}

/// USR2: the in-place upgrade's effects (the decisions are `ArbiterState`'s).
extension Arbiter {
    // MARK: - Checking the new binary

    /// Forks and executes the new binary in check mode (it resolves its configuration and the
    /// application's, and exits 0); `upgradeCheckExited` or the deadline feeds the result.
    func checkUpgrade() {
        guard let path = UpgradeContext.executable else {
            feed(
                .upgradeChecked(failure: "the path this server was started from is unknown (argv[0] not found in PATH)")
            )
            return
        }
        guard access(path, X_OK) == 0 else {
            feed(.upgradeChecked(failure: "\(path) is not an executable file (\(SystemError("access").description))"))
            return
        }
        let environment = processEnvironment().filter { !$0.hasPrefix(UpgradeContext.checkVariable + "=") }
        let pid = withCStrings(CommandLine.arguments) { argv in
            withCStrings(environment + [UpgradeContext.checkVariable + "=1"]) { envp in
                let pid = prefork_fork()
                if pid == 0 {
                    _ = chdir(UpgradeContext.directory)
                    execve(path, argv, envp)
                    _exit(127)
                }
                return pid
            }
        }
        guard pid > 0 else {
            feed(.upgradeChecked(failure: "cannot fork to check \(path): \(SystemError("fork").description)"))
            return
        }
        let boot = runtime.timeouts.boot
        upgradeCheck = (pid, Clock.monotonic() + (boot > 0 ? boot : 30_000_000_000), path)
        logger.info("checking the new binary \(path) (pid \(pid))")
    }

    func upgradeCheckExited(status: Int32) {
        guard let check = upgradeCheck else { return }
        upgradeCheck = nil
        if prefork_wifsignaled(status) != 0 {
            let name = SignalTable.name(of: prefork_wtermsig(status))
            feed(.upgradeChecked(failure: "the new binary \(check.path) was killed by \(name) during its check"))
        } else if prefork_wexitstatus(status) == 127 {
            feed(.upgradeChecked(failure: "\(check.path) could not be executed"))
        } else if prefork_wexitstatus(status) != 0 {
            let code = prefork_wexitstatus(status)
            feed(.upgradeChecked(failure: "the new binary \(check.path) exited with code \(code) during its check"))
        } else {
            feed(.upgradeChecked(failure: nil))
        }
    }

    func checkUpgradeDeadline() {
        guard let check = upgradeCheck, Clock.monotonic() >= check.deadline else { return }
        _ = kill(check.pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(check.pid, &status, 0)
        upgradeCheck = nil
        feed(.upgradeChecked(failure: "the new binary \(check.path) did not finish its check within boot_timeout"))
    }

    // MARK: - Re-executing

    /// Re-executes the new binary (or, for a rollback, the previous one) in place: the PID stays,
    /// and the sockets, the scoreboard and the workers pass to the new image through
    /// `PREFORK_UPGRADE`. Returns only if exec failed, which is reported and changes nothing.
    func execUpgrade(rollback: Bool) {
        var handoff = UpgradeHandoff(scoreboard: scoreboard.fd)
        handoff.rollback = rollback
        handoff.newestGeneration = state.newestGeneration
        handoff.serverID = serverID
        handoff.listeners = listeners.map { .init(fd: $0.fd, address: "\($0.address)", inherited: $0.inherited) }
        handoff.metrics = metricsListener.map { .init(fd: $0.fd, address: "\($0.address)", inherited: false) }
        handoff.workers = state.workers.values.sorted { $0.pid < $1.pid }.map {
            .init(pid: $0.pid, slot: $0.slot, generation: $0.generation, kind: $0.kind, draining: $0.isDraining)
        }
        var path = UpgradeContext.executable ?? ""
        var arguments = CommandLine.arguments
        var environment = processEnvironment()
        var opened: [Int32] = []
        if rollback {
            path = "/proc/self/fd/\(rollbackFiles.binary)"
            if let command = readCommand(rollbackFiles.command) { (arguments, environment) = command }
        } else {
            let binary = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)
            let command = writeCommand(arguments, environment)
            opened = [binary, command].filter { $0 >= 0 }
            handoff.previousBinary = binary
            handoff.previousCommand = command
        }
        let kept = [scoreboard.fd] + listeners.map(\.fd) + (metricsListener.map { [$0.fd] } ?? []) + opened
        environment = environment.filter { entry in
            !["PREFORK_UPGRADE=", "LISTEN_FDS=", "LISTEN_PID=", "LISTEN_FDNAMES=", UpgradeContext.checkVariable + "="]
                .contains { entry.hasPrefix($0) }
        }
        environment.append("\(UpgradeHandoff.environmentName)=\(handoff.encoded())")
        for fd in kept { _ = prefork_set_cloexec(fd, 0) }
        logger.info("re-executing \(rollback ? "the previous binary" : path) in place (pid \(masterPID) kept)")
        _ = chdir(UpgradeContext.directory)
        withCStrings(arguments) { argv in withCStrings(environment) { envp in _ = execve(path, argv, envp) } }
        let error = SystemError("execve", context: path)
        for fd in kept { _ = prefork_set_cloexec(fd, 1) }
        for fd in opened { _ = close(fd) }
        if let directory = runtime.configuration[.chdir] { _ = chdir(directory) }
        feed(.upgradeChecked(failure: "cannot execute \(path): \(error.description)"))
    }

    /// The sockets the previous image bound (or got from systemd), as they were.
    func adoptListeners(_ handoff: UpgradeHandoff) throws(SystemError) {
        func listener(_ socket: UpgradeHandoff.Socket) throws(SystemError) -> Listener {
            _ = prefork_set_cloexec(socket.fd, 1)
            guard case .success(let address) = BindAddress.parse(socket.address) else {
                throw SystemError("upgrade", context: "cannot read the address \(socket.address) handed over")
            }
            return Listener(address: address, fd: socket.fd, inherited: socket.inherited)
        }
        for socket in handoff.listeners { listeners.append(try listener(socket)) }
        if let metrics = handoff.metrics { metricsListener = try listener(metrics) }
    }

    /// The workers the previous image left running become this master's; after an upgrade a new
    /// generation starts as for a reload.
    func adoptWorkers(_ handoff: UpgradeHandoff) {
        perform(
            state.adopt(
                handoff.workers, newestGeneration: handoff.newestGeneration, rollback: handoff.rollback,
                now: Clock.monotonic()))
        if handoff.rollback {
            closeRollbackFiles()
        } else {
            feed(.reloadResolved(runtime))
        }
        self.handoff = nil
    }

    /// Once an upgrade completed (or was given up), the previous binary is no longer needed.
    func closeRollbackFiles() {
        for fd in [rollbackFiles.binary, rollbackFiles.command] where fd >= 0 { _ = close(fd) }
        rollbackFiles = (-1, -1)
    }

    // MARK: - Command lines and environments

    /// The previous image's command line and environment, in a memfd: a count, then
    /// NUL-terminated arguments and environment entries.
    private func writeCommand(_ arguments: [String], _ environment: [String]) -> Int32 {
        let fd = prefork_memfd("prefork-previous-command")
        guard fd >= 0 else { return -1 }
        var bytes = Array("\(arguments.count)".utf8) + [0]
        for entry in arguments + environment { bytes += Array(entry.utf8) + [0] }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if written != bytes.count {
            close(fd)
            return -1
        }
        return fd
    }

    private func readCommand(_ fd: Int32) -> (arguments: [String], environment: [String])? {
        guard fd >= 0 else { return nil }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var offset: off_t = 0
        while true {
            let n = pread(fd, &chunk, chunk.count, offset)
            if n <= 0 { break }
            bytes += chunk[0..<n]
            offset += off_t(n)
        }
        let entries = bytes.split(separator: 0, omittingEmptySubsequences: false).dropLast().map {
            String(decoding: $0, as: UTF8.self)
        }
        guard let count = entries.first.flatMap({ Int($0) }), count < entries.count else { return nil }
        return (Array(entries[1...count]), Array(entries[(count + 1)...]))
    }

    func processEnvironment() -> [String] {
        var result: [String] = []
        var pointer = environ
        while let entry = pointer.pointee {
            result.append(String(cString: entry))
            pointer += 1
        }
        return result
    }
}

/// Calls `body` with a NULL-terminated array of C strings.
func withCStrings<R>(_ strings: [String], _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
}
