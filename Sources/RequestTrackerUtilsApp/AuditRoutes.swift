import Prefork
import PreforkCore

/// Device audits. Technology staff create a session from the active roster (its RT devices
/// prefetched by job workers), see every student, lock, unlock, close, rename and delete it.
/// Teachers see the students of their advisory and mark each device and each student while
/// the session is open. Every change is in the session's change log; `export.csv` is the whole
/// session.
struct AuditRoutes: Sendable {
    let context: AppContext
    let prefetch: Bool
    var store: AuditStore { AuditStore(database: context.database) }
    var pages: AuditPages { AuditPages(context: context) }

    /// Who is asking: their name, and whether they are technology staff (else a teacher).
    struct Viewer {
        var name: String
        var isTech: Bool

        /// Whether this viewer may see and mark `student`.
        func sees(_ student: AuditStore.Student) -> Bool {
            isTech || AuditRules.advises(advisor: student.advisor, teacher: name)
        }
    }

    func add(to router: inout Router) {
        router.get("/audits") { request in try list(request) }
        router.post("/audits") { request in try create(request) }
        router.get("/audits/:id") { request in
            try withSession(request) { viewer, session in
                try pages.session(
                    request, viewer: viewer, session, students: store.students(session.id).filter(viewer.sees))
            }
        }
        router.get("/audits/:id/changes") { request in
            try withSession(request) { viewer, session in
                guard viewer.isTech else { return forbidden(request) }
                return pages.changes(request, session, try store.changes(session.id))
            }
        }
        router.get("/audits/:id/export.csv") { request in
            try withSession(request) { viewer, session in
                guard viewer.isTech else { return forbidden(request) }
                return AuditPages.csv(
                    session, students: try store.students(session.id), devices: try store.devices(session.id))
            }
        }
        router.post("/audits/:id/state") { request in
            try manage(request) { form, session, actor in
                guard let state = AuditRules.SessionState(rawValue: form["state"] ?? ""),
                    AuditRules.transitions(from: session.state).contains(state)
                else { return "A \(session.state.rawValue) session cannot be changed that way." }
                try store.update(session, state: state, by: actor)
                return nil
            }
        }
        router.post("/audits/:id/rename") { request in
            try manage(request) { form, session, actor in
                let name = (form["name"] ?? "").trimmingSpaces()
                guard !name.isEmpty, name.count <= 200 else { return "Give the session a name of 1 to 200 characters." }
                try store.update(session, name: name, by: actor)
                return nil
            }
        }
        router.post("/audits/:id/delete") { request in try delete(request) }
        router.get("/audits/:id/students/:student") { request in
            try withStudent(request) { viewer, session, student in
                pages.student(
                    request, viewer: viewer, session, student,
                    devices: try store.devices(session.id, studentID: student.studentID))
            }
        }
        router.post("/audits/:id/students/:student") { request in try mark(request) }
    }

    // MARK: Access

    func viewer(_ request: Request) throws -> Viewer {
        let name = request.user ?? ""
        let account = try AccountStore(database: context.database).find(name)
        return Viewer(name: name, isTech: account?.role == .tech)
    }

    func forbidden(_ request: Request) -> Response {
        context.errorPage(
            .forbidden, "Not for your role", "This is for technology staff; teachers see their advisory's students.",
            user: request.user)
    }

    /// A form whose CSRF token does not check out.
    func expired(_ request: Request) -> Response {
        context.errorPage(.forbidden, "Form expired", CSRFMessage.text, user: request.user)
    }

    func notFound(_ request: Request, _ what: String) -> Response {
        context.errorPage(
            .notFound, "Not found", "There is no \(what) here: it may have been deleted.", user: request.user)
    }

    func withSession(
        _ request: Request, _ body: (Viewer, AuditStore.Session) throws -> Response
    ) throws -> Response {
        guard let id = Int(request.parameters["id"] ?? ""), let session = try store.session(id) else {
            return notFound(request, "audit session")
        }
        return try body(try viewer(request), session)
    }

    func withStudent(
        _ request: Request, _ body: (Viewer, AuditStore.Session, AuditStore.Student) throws -> Response
    ) throws -> Response {
        try withSession(request) { viewer, session in
            guard let student = try store.student(session.id, request.parameters["student"] ?? ""),
                viewer.sees(student)
            else { return notFound(request, "student of yours in this session") }
            return try body(viewer, session, student)
        }
    }

    // MARK: Sessions

    func list(_ request: Request) throws -> Response {
        let viewer = try viewer(request)
        var rows: [(AuditStore.Session, Int)] = []
        for session in try store.sessions() {
            if viewer.isTech {
                rows.append((session, session.students))
            } else {
                let mine = try store.students(session.id).filter(viewer.sees).count
                if mine > 0 { rows.append((session, mine)) }
            }
        }
        return pages.list(
            request, viewer: viewer, rows, message: request.queryItems["deleted"].map { "Deleted \($0)." })
    }

    func create(_ request: Request) throws -> Response {
        let form = FormDecoding.decode(request.bodyText)
        let viewer = try viewer(request)
        guard viewer.isTech else { return forbidden(request) }
        guard context.csrf.verify(request, form: form) else {
            return expired(request)
        }
        let name = (form["name"] ?? "").trimmingSpaces()
        guard !name.isEmpty, name.count <= 200 else {
            return context.errorPage(
                .badRequest, "No name", "Give the session a name of 1 to 200 characters.", user: request.user)
        }
        let session = try store.create(name: name, by: viewer.name, prefetch: prefetch)
        context.logger.info("audit session \(session.id) created by \(viewer.name) with \(session.students) students")
        return AppContext.redirect("/audits/\(session.id)")
    }

    /// A technology-staff change to a session: `change` answers nil when done, else why not.
    func manage(
        _ request: Request, _ change: ([String: String], AuditStore.Session, String) throws -> String?
    ) throws -> Response {
        try withSession(request) { viewer, session in
            guard viewer.isTech else { return forbidden(request) }
            let form = FormDecoding.decode(request.bodyText)
            guard context.csrf.verify(request, form: form) else {
                return expired(request)
            }
            if let problem = try change(form, session, viewer.name) {
                return context.errorPage(.conflict, "Not changed", problem, user: request.user)
            }
            return AppContext.redirect("/audits/\(session.id)")
        }
    }

    func delete(_ request: Request) throws -> Response {
        try withSession(request) { viewer, session in
            guard viewer.isTech else { return forbidden(request) }
            let form = FormDecoding.decode(request.bodyText)
            guard context.csrf.verify(request, form: form) else {
                return expired(request)
            }
            guard form["confirm"] == "yes" else {
                return context.errorPage(
                    .badRequest, "Not deleted", "Tick the box to confirm that the whole session goes.",
                    user: request.user)
            }
            try store.delete(session)
            context.logger.info("audit session \(session.id) (\(session.name)) deleted by \(viewer.name)")
            return AppContext.redirect("/audits?deleted=" + PercentEncoding.encode(session.name))
        }
    }

    // MARK: Marks

    /// One form per student page: `action=device` (device_id, status, note), `action=found`
    /// (tag, note) or `action=student` (audited, note).
    func mark(_ request: Request) throws -> Response {
        try withStudent(request) { viewer, session, student in
            let form = FormDecoding.decode(request.bodyText)
            guard context.csrf.verify(request, form: form) else {
                return expired(request)
            }
            guard AuditRules.acceptsMarks(session.state) else {
                return context.errorPage(
                    .conflict, "Session \(session.state.rawValue)",
                    "This session is \(session.state.rawValue): marks can no longer be changed.", user: request.user)
            }
            let note = String((form["note"] ?? "").trimmingSpaces().prefix(500))
            switch form["action"] {
            case "device":
                let devices = try store.devices(session.id, studentID: student.studentID)
                guard let device = devices.first(where: { "\($0.id)" == form["device_id"] }),
                    let status = AuditRules.DeviceStatus(rawValue: form["status"] ?? "")
                else { return bad(request, "Choose correct, missing or extra for one of this student's devices.") }
                try store.mark(session.id, device: device, status: status, note: note, by: viewer.name)
            case "found":
                let tag = (form["tag"] ?? "").trimmingSpaces()
                guard !tag.isEmpty, tag.count <= 100 else { return bad(request, "Type the tag of the device found.") }
                try store.addFound(session.id, studentID: student.studentID, tag: tag, note: note, by: viewer.name)
            case "student":
                try store.markStudent(
                    session.id, studentID: student.studentID, audited: form["audited"] == "yes", note: note,
                    by: viewer.name)
            default:
                return bad(request, "The form did not say what to record.")
            }
            return AppContext.redirect(
                "/audits/\(session.id)/students/\(PercentEncoding.encode(student.studentID))?saved=1")
        }
    }

    func bad(_ request: Request, _ message: String) -> Response {
        context.errorPage(.badRequest, "Not recorded", message, user: request.user)
    }
}
