/// USR2: upgrading the master's binary in place. The master checks the new binary, re-executes
/// it (same PID, sockets and scoreboard), and the new master adopts the running workers and
/// starts a generation of its own exactly as a reload does; the old workers drain once it
/// serves. A new generation that cannot boot is abandoned as a reload's would be, and the
/// previous binary is executed again to adopt the workers that never stopped.
extension ArbiterState {
    mutating func beginUpgrade(_ entry: SignalEntry) {
        guard mode == .running else { return }
        if pendingReload != nil || upgrade != nil {
            log(.warning, "Handling signal: \(entry.logName); ignored while a reload or upgrade is under way")
            return
        }
        upgrade = .checking
        log(.info, "Handling signal: \(entry.logName); upgrading in place: checking the new binary")
        actions.append(.notify(.reloading))
        actions.append(.checkUpgrade)
    }

    mutating func upgradeChecked(failure: String?) {
        if upgrade == .rollingBack, let failure {
            upgrade = nil
            log(
                .critical, "cannot go back to the previous binary: \(failure); serving on with generation \(generation)"
            )
            actions.append(.notify(.ready(status: "upgrade failed; rollback failed: \(failure)")))
            return
        }
        guard upgrade == .checking else { return }
        if let failure {
            upgrade = nil
            log(.error, "upgrade abandoned: \(failure); the running master and its workers keep serving")
            actions.append(.notify(.ready(status: "upgrade abandoned: \(failure)")))
            return
        }
        log(.info, "the new binary passed its check; re-executing it in place")
        actions.append(.execUpgrade)
    }

    /// The re-executed master takes over the workers its previous image left running. After an
    /// upgrade, the arbiter then starts a generation (`.reloadResolved`); after a rollback the
    /// adopted workers are the current generation.
    public mutating func adopt(
        _ adopted: [UpgradeHandoff.Worker], newestGeneration newest: UInt64, rollback: Bool, now: Int64
    ) -> [ArbiterAction] {
        defer { actions = [] }
        for worker in adopted {
            var record = WorkerRecord(
                pid: worker.pid, slot: worker.slot, generation: worker.generation, kind: worker.kind, spawnedAt: now,
                phase: worker.draining ? .draining(since: now) : .ready)
            if worker.draining { record.sent = .term }
            workers[worker.pid] = record
        }
        newestGeneration = max(newestGeneration, newest)
        let serving = adopted.filter { !$0.draining && $0.kind == .http }.map(\.generation)
        generation = serving.max() ?? newestGeneration
        upgrade = rollback ? nil : .adopted
        let drained = adopted.filter(\.draining).count
        log(
            .info,
            "\(rollback ? "Rolled back in place" : "Upgraded in place"): adopted \(adopted.count - drained) worker(s)"
                + " of generation \(generation)\(drained > 0 ? " and \(drained) draining" : "")")
        if rollback { actions.append(.notify(.ready(status: "upgrade rolled back: serving with the previous binary"))) }
        return actions
    }

    /// Once the abandoned generation's workers are gone, the previous binary is executed again.
    mutating func rollBackWhenClear() {
        guard upgrade == .rollingBack,
            !workers.values.contains(where: { abandonedGenerations.contains($0.generation) })
        else { return }
        actions.append(.rollbackUpgrade)
    }
}
