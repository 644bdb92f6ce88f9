import Prefork
import PreforkCore

/// How a job goes, from any worker: `GET /api/jobs/ID` (JSON) and `GET /jobs/ID` (a page
/// with the progress bar, which follows the job with app.js while it runs).
struct JobRoutes: Sendable {
    let context: AppContext
    var store: JobStore { JobStore(database: context.database) }

    func add(to router: inout Router) {
        router.get("/api/jobs/:id") { request in
            guard let id = Int(request.parameters["id"] ?? ""), let status = try store.status(id) else {
                return AppContext.jsonError(.notFound, "there is no job \(request.parameters["id"] ?? "")")
            }
            return JSONAnswer.response(status)
        }
        router.get("/jobs/:id") { request in
            guard let id = Int(request.parameters["id"] ?? ""), let status = try store.status(id) else {
                return context.errorPage(.notFound, "Not found", "There is no such job.", user: request.user)
            }
            return context.page("Job \(status.id): \(status.kind)", user: request.user) { page in
                JobPages.progress(status, what: "steps", into: &page)
                page.append("<p class=\"muted\">Started by \(status.createdBy) at \(status.createdAt).</p>\n")
            }
        }
    }
}

enum JobPages {
    /// The progress bar of a job: done of total, then the outcome. `data-job` lets app.js
    /// follow it through `/api/jobs/ID` while it runs; without JavaScript, reloading does.
    static func progress(_ job: JobStore.Status, what: String, into page: inout HTMLWriter) {
        page.append(
            """
            <div class="card job" data-job="\(job.id)" data-finished="\(job.finished ? "1" : "0")" data-what="\(what)">
            <progress max="\(max(1, job.total))" value="\(job.done)" aria-label="progress">\(job.done) of \(job.total)</progress>
            <span data-job-text>\(text(job, what: what))</span></div>

            """)
    }

    /// "12 of 200 students' devices read from RT (running)"; the outcome once finished.
    static func text(_ job: JobStore.Status, what: String) -> String {
        switch job.state {
        case JobStore.State.done.rawValue:
            return "Done: \(job.message.isEmpty ? "\(job.done) of \(job.total) \(what)" : job.message)."
        case JobStore.State.failed.rawValue: return "Failed: \(job.message)."
        case JobStore.State.queued.rawValue:
            return
                "\(job.done) of \(job.total) \(what) (waiting for a job worker\(job.message.isEmpty ? "" : "; \(job.message)"))"
        default: return "\(job.done) of \(job.total) \(what) (running)"
        }
    }
}
