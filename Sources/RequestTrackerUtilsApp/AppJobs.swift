import Logging
import Prefork
import PreforkCore
import RequestTracker

#if canImport(Glibc)
    import Glibc
#endif

/// The application's jobs, run by Prefork's job workers: the audit prefetch, and with
/// `enable_test_routes` a job that only waits (for the server's own tests).
final class AppJobRunner: JobRunner {
    static let testSleepKind = "test-sleep"

    let database: AppDatabase
    let jobs: JobStore
    let prefetch: AuditPrefetch
    /// Whether the database has the jobs table (checked again every 10 s until it has).
    var migrated = false
    var lastSchemaCheck: Int = -10
    let logger: Logger
    let testJobs: Bool
    /// This host's name: a job still running under another server of this host died with it.
    let host: String

    init(_ configuration: Configuration, logger: Logger) throws {
        let database = try AppDatabase.open(configuration, applicationName: "request-tracker-utils job worker")
        self.database = database
        jobs = JobStore(database: database)
        prefetch = AuditPrefetch(database: database, jobs: jobs, client: try RTSettings.client(from: configuration))
        self.logger = logger
        testJobs = configuration[AppSettings.enableTestRoutes]
        var name = [UInt8](repeating: 0, count: 256)
        host =
            gethostname(&name, name.count) == 0 ? String(decoding: name.prefix { $0 != 0 }, as: UTF8.self) : "localhost"
    }

    func server(_ serverID: String) -> String { "\(host)/\(serverID)" }

    func recover(_ orphans: [OrphanedJob], serverID: String) throws {
        guard try isMigrated() else { return }
        for line in try jobs.recover(orphans, server: server(serverID), host: host) { logger.warning("\(line)") }
    }

    func claim(serverID: String) throws -> ClaimedJob? {
        guard try isMigrated() else { return nil }
        return try jobs.claim(server: server(serverID), pid: getpid())
    }

    /// Until `migrate` has run, a job worker waits (saying so once) instead of failing each look.
    private func isMigrated() throws -> Bool {
        if migrated { return true }
        let now = Timestamp.now().seconds
        guard now - lastSchemaCheck >= 10 else { return false }
        let first = lastSchemaCheck < 0
        lastSchemaCheck = now
        let version = try Migrator(database: database).appliedVersions().last ?? 0
        migrated = version >= Migrations.jobsAndAudits.version
        if !migrated && first {
            let needed = Migrations.jobsAndAudits.version
            logger.warning(
                "job worker waiting: the database is at schema version \(version) and jobs need \(needed); run `request-tracker-utils migrate`"
            )
        }
        return migrated
    }

    func run(_ job: ClaimedJob, progress: JobProgress) {
        do {
            let outcome: String
            switch job.kind {
            case AuditPrefetch.partKind: outcome = try prefetch.run(job, progress: progress)
            case Self.testSleepKind where testJobs: outcome = try sleep(job, progress: progress)
            default: throw AuditPrefetch.Failure(description: "this release has no job of kind \(job.kind)")
            }
            try jobs.finish(job.id, .done, message: outcome)
        } catch {
            logger.error("job \(job.id) (\(job.kind)) failed: \(error)", metadata: ["job_id": "\(job.id)"])
            do {
                try jobs.finish(job.id, .failed, message: "\(error)")
            } catch {
                logger.error("job \(job.id): cannot record that it failed: \(error)")
            }
        }
    }

    /// Waits the payload's seconds, a step a second.
    private func sleep(_ job: ClaimedJob, progress: JobProgress) throws -> String {
        let seconds = Int(try jobs.payload(job.id)) ?? 1
        try jobs.progress(job.id, done: 0, total: seconds)
        for second in 0..<seconds {
            var request = timespec(tv_sec: 1, tv_nsec: 0)
            var remaining = timespec()
            while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
            progress.alive()
            try jobs.progress(job.id, done: second + 1)
        }
        return "slept \(seconds) s"
    }
}
