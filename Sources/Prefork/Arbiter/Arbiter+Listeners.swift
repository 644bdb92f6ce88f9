import PreforkCore
import Systemd

#if canImport(Glibc)
    import Glibc
#endif

/// The listening sockets and the pid file.
extension Arbiter {
    func bindListeners() throws(SystemError) {
        try bindMainListeners()
        if let address = runtime.metricsBind {
            do {
                metricsListener = try Listener.bind(address, options: runtime.listenerOptions)
            } catch {
                for listener in listeners { listener.close() }
                listeners = []
                throw error
            }
        }
    }

    private func bindMainListeners() throws(SystemError) {
        let activated = SocketActivation.sockets()
        if !activated.isEmpty {
            for socket in activated {
                try setNonBlocking(socket.fd)
                listeners.append(Listener(address: .fileDescriptor(socket.fd), fd: socket.fd, inherited: true))
            }
            let names = activated.map(\.name).joined(separator: ", ")
            logger.info(
                "Using \(activated.count) listening socket(s) from systemd (\(names)); the bind setting is ignored")
            return
        }
        for address in runtime.binds {
            do {
                listeners.append(try Listener.bind(address, options: runtime.listenerOptions))
            } catch {
                for listener in listeners { listener.close() }
                listeners = []
                throw error
            }
        }
    }

    /// Binds addresses the new configuration adds; closes the ones it drops (old workers
    /// keep their copies until they drain).
    func rebind(for fresh: ServerRuntime) throws(SystemError) {
        try rebindMetrics(for: fresh)
        if listeners.contains(where: \.inherited) { return }  // systemd owns the sockets
        var kept: [Listener] = []
        var added: [Listener] = []
        for address in fresh.binds {
            if let existing = listeners.first(where: { $0.address == address }) {
                kept.append(existing)
                continue
            }
            do {
                added.append(try Listener.bind(address, options: fresh.listenerOptions))
            } catch {
                for listener in added { listener.close() }
                throw error
            }
        }
        for listener in listeners where !kept.contains(where: { $0.fd == listener.fd }) { listener.close() }
        listeners = kept + added
    }

    /// The metrics listener follows `metrics_bind` across reloads (bound before anything changes).
    private func rebindMetrics(for fresh: ServerRuntime) throws(SystemError) {
        guard fresh.metricsBind != metricsListener?.address else { return }
        var added: Listener?
        if let address = fresh.metricsBind { added = try Listener.bind(address, options: fresh.listenerOptions) }
        metricsListener?.close()
        metricsListener = added
        if added != nil { bootstrapMetrics() }
    }

    /// A stop begins: the sockets the master bound are closed (systemd's stay open, for the
    /// next start); the workers keep their copies until they exit.
    func closeOwnListeners() {
        for listener in listeners where !listener.inherited { listener.close() }
        listeners.removeAll { !$0.inherited }
        metricsListener?.close()
        metricsListener = nil
    }

    func writePIDFile() throws(SystemError) {
        guard let path = runtime.pidFile else { return }
        let text = "\(masterPID)\n"
        let fd = try syscall("open", context: "pid file \(path) (setting 'pid')") {
            open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        }
        defer { close(fd) }
        _ = text.withCString { write(fd, $0, strlen($0)) }
    }
}
