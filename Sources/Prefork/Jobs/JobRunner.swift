import PreforkCore

/// A job a job worker has claimed: its id (what the scoreboard, the logs and
/// `OrphanedJob` name it by) and its kind.
public struct ClaimedJob: Sendable, Equatable {
    public var id: Int64
    public var kind: String

    public init(id: Int64, kind: String) {
        self.id = id
        self.kind = kind
    }
}

/// What a job reports while it runs. Each call is also the job worker's heartbeat.
public struct JobProgress {
    let beat: () -> Void

    public init(beat: @escaping () -> Void) {
        self.beat = beat
    }

    /// Tells the master the job worker is alive (call it between steps of a long job).
    public func alive() { beat() }
}

/// The application's side of the job workers: where jobs are kept (rows in its database),
/// how one is claimed, and how each kind runs. Made by `PreforkApplication.makeJobRunner` in
/// each job worker after fork. The job worker calls it from one thread.
public protocol JobRunner: AnyObject {
    /// Called once when the job worker starts. `orphans` are jobs whose job worker died
    /// running them (retry each once, then mark it failed with the reason); jobs still marked
    /// running by an earlier server (not `serverID`) died with it and are treated the same.
    func recover(_ orphans: [OrphanedJob], serverID: String) throws
    /// Atomically claims the oldest waiting job for this server, or answers nil.
    func claim(serverID: String) throws -> ClaimedJob?
    /// Runs a claimed job to its end and records the outcome (done or failed, with the reason);
    /// calls `progress.alive()` between steps.
    func run(_ job: ClaimedJob, progress: JobProgress)
}
