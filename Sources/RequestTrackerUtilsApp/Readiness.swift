import Prefork

#if canImport(Glibc)
    import Glibc
#endif

/// `/readyz`: ready when the database answers and is migrated to this release's schema, and
/// the static manifest is there with every file it names. nginx and monitors poll it;
/// `/healthz` only says the process is alive.
struct Readiness: Sendable {
    struct State {
        var checks: [(name: String, ok: Bool, detail: String)] = []
        var ready: Bool { checks.allSatisfy(\.ok) }
        var problems: [String] { checks.filter { !$0.ok }.map { "\($0.name): \($0.detail)" } }
    }

    let database: AppDatabase
    let staticDirectory: String

    func check() -> State {
        var state = State()
        do {
            let version = try Migrator(database: database).appliedVersions().last ?? 0
            if version == Migrations.latest {
                state.checks.append(("database", true, "schema version \(version)"))
            } else if version < Migrations.latest {
                state.checks.append(
                    (
                        "database", false,
                        "schema version \(version), this release needs \(Migrations.latest): run `request-tracker-utils migrate`"
                    ))
            } else {
                state.checks.append(
                    ("database", false, "schema version \(version) is newer than this release (\(Migrations.latest))"))
            }
        } catch {
            state.checks.append(("database", false, "\(error)"))
        }
        do {
            if let manifest = try CollectStatic.readManifest(directory: staticDirectory) {
                let missing = manifest.paths.values.sorted().filter { access(staticDirectory + "/" + $0, R_OK) != 0 }
                if missing.isEmpty {
                    state.checks.append(("static", true, "\(manifest.paths.count) files"))
                } else {
                    state.checks.append(
                        (
                            "static", false,
                            "missing \(missing.joined(separator: ", ")): run `request-tracker-utils collectstatic`"
                        ))
                }
            } else {
                state.checks.append(
                    (
                        "static", false,
                        "no \(staticDirectory)/\(StaticManifest.fileName): run `request-tracker-utils collectstatic`"
                    ))
            }
        } catch {
            state.checks.append(("static", false, "\(error)"))
        }
        return state
    }

    func response() -> Response {
        let state = check()
        var response = JSONAnswer.response(Answer(state), status: state.ready ? .ok : .serviceUnavailable)
        response.headers.add("Cache-Control", "no-store")
        return response
    }

    /// `{"status": "ready", "<check>": {"ok": true, "detail": "..."}, ...}`, checks in order.
    struct Answer: Encodable {
        struct Check: Encodable {
            var ok: Bool
            var detail: String
        }

        var status: String
        var checks: [(name: String, check: Check)]

        init(_ state: State) {
            status = state.ready ? "ready" : "not ready"
            checks = state.checks.map { ($0.name, Check(ok: $0.ok, detail: $0.detail)) }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: JSONAnswer.Key.self)
            try container.encode(status, forKey: JSONAnswer.Key("status"))
            for (name, check) in checks { try container.encode(check, forKey: JSONAnswer.Key(name)) }
        }
    }
}
