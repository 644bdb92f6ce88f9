import Prefork
import PreforkCore

/// Device check-in: `GET /checkin` (the form), `POST /checkins` (from the form),
/// `POST /api/checkins` (JSON); the day's list in CheckinDashboard.swift, retry, correction
/// and deletion in CheckinEditing.swift.
struct CheckinRoutes: Sendable {
    let context: AppContext
    /// Tells Request Tracker about a recorded check-in; nil when RT is not configured.
    let requestTracker: (any CheckinSync)?

    func add(to router: inout Router) {
        router.get("/checkin") { request in try formAfter(request) }
        router.post("/checkins") { request in try submitForm(request) }
        router.post("/api/checkins") { request in try submitAPI(request) }
        router.get("/checkins") { request in try dashboard(request) }
        router.get("/checkins.csv") { request in try csv(request) }
        router.get("/api/checkins") { request in try list(request) }
        router.post("/checkins/:id/sync") { request in try retrySync(request) }
        router.get("/checkins/:id/edit") { request in try editPage(request) }
        router.post("/checkins/:id/edit") { request in try saveEdit(request) }
        router.post("/checkins/:id/delete") { request in try delete(request) }
    }

    struct Input {
        var tag: String
        var student: String
        var condition: CheckinStore.Condition
        var notes: String
        /// Open a repair ticket whatever the condition.
        var ticket = false
        /// The day's earlier check-in of this device to replace (the explicit override of 409).
        var replace: Int64?
        /// The roster student returning it (the name then comes from the roster).
        var studentID: String? = nil
        /// The explicit override of "this student already returned a device" (409).
        var secondDevice = false
    }

    /// Validates the submitted fields; the error says which field and what is expected.
    static func input(_ fields: [String: String]) -> Result<Input, TagRoutes.Problem> {
        let tag: String
        switch TagInput.parse(fields["tag"] ?? "") {
        case .success(let parsed): tag = parsed
        case .failure(let problem): return .failure(problem)
        }
        let student = (fields["student"] ?? "").trimmingSpaces()
        let notes = (fields["notes"] ?? "").trimmingSpaces()
        let studentID = (fields["student_id"] ?? "").trimmingSpaces()
        guard !student.isEmpty || !studentID.isEmpty, student.count <= 120, studentID.count <= 200 else {
            return .failure(TagRoutes.Problem(text: "student is required (at most 120 characters)"))
        }
        guard let condition = CheckinStore.Condition(rawValue: (fields["condition"] ?? "").lowercased()) else {
            return .failure(TagRoutes.Problem(text: "condition must be good, fair or damaged"))
        }
        guard notes.count <= 2000 else {
            return .failure(TagRoutes.Problem(text: "notes must be at most 2000 characters"))
        }
        if condition == .damaged && notes.isEmpty {
            return .failure(TagRoutes.Problem(text: "notes are required for a damaged device: say what is wrong"))
        }
        let yes = ["1", "true", "on", "yes"]
        let ticket = yes.contains((fields["ticket"] ?? "").lowercased())
        if ticket && notes.isEmpty {
            return .failure(TagRoutes.Problem(text: "notes are required for a repair ticket: say what is wrong"))
        }
        var replace: Int64?
        if let text = fields["replace"], !text.isEmpty, text != "false" {
            guard let id = Int64(text) else {
                return .failure(TagRoutes.Problem(text: "replace must be the number of the day's earlier check-in"))
            }
            replace = id
        }
        return .success(
            Input(
                tag: tag, student: student, condition: condition, notes: notes, ticket: ticket, replace: replace,
                studentID: studentID.isEmpty ? nil : studentID,
                secondDevice: yes.contains((fields["second_device"] ?? "").lowercased())))
    }

    // MARK: Form

    func form(
        _ request: Request, fields: [String: String] = [:], message: String? = nil, ok: Bool = false,
        status: HTTPStatus = .ok, replacing existing: CheckinStore.Checkin? = nil, secondDevice: Bool = false,
        card: HTML = .empty
    ) -> Response {
        let condition = fields["condition"] ?? "good"
        return context.formPage(request, status: status, title: "Check in a device") { page, csrfField in
            page.append(
                """
                \(message.map { Layout.message($0, ok: ok) } ?? .empty)
                """)
            if let existing { Self.overrideCard(&page, csrfField: csrfField, fields: fields, existing: existing) }
            if secondDevice { Self.secondDeviceCard(&page, csrfField: csrfField, fields: fields) }
            if requestTracker != nil && card.isEmpty && existing == nil && !secondDevice {
                page.append(
                    """
                    <form class="card no-print" method="get" action="/checkin"><label for="scan">Scan or type the tag \
                    to see whose device it is</label><input id="scan" name="tag" type="text" required autofocus> \
                    <button type="submit">Look up</button></form>
                    """)
            }
            page.append(card)
            page.append(
                """
                <form class="card" method="post" action="/checkins">
                \(csrfField)
                <input type="hidden" name="student_id" value="\(fields["student_id"] ?? "")">
                <label for="tag">Asset tag</label><input id="tag" name="tag" type="text" required value="\(fields["tag"] ?? "")">
                <label for="student">Student</label><input id="student" name="student" type="text" value="\(fields["student"] ?? "")">
                <label for="condition">Condition</label><select id="condition" name="condition">
                """)
            Self.conditionOptions(&page, selected: condition)
            page.append(
                """
                </select>
                <label for="notes">Notes (required if damaged or for a ticket)</label><textarea id="notes" name="notes" rows="3">\(fields["notes"] ?? "")</textarea>
                <label><input name="ticket" type="checkbox" value="1"\(raw: fields["ticket"] == "1" ? " checked" : "")> Open a repair ticket in Request Tracker (always for a damaged device)</label>
                <p><button type="submit">Check in</button></p>
                </form>
                <p><a href="/checkins">Today's check-ins</a></p>
                """)
        }
    }

    func submitForm(_ request: Request) throws -> Response {
        let fields = FormDecoding.decode(request.bodyText)
        guard context.csrf.verify(request, form: fields) else {
            return form(request, fields: fields, message: CSRFMessage.text, status: .forbidden)
        }
        var input: Input
        switch Self.input(fields) {
        case .success(let value): input = value
        case .failure(let problem): return form(request, fields: fields, message: problem.text, status: .badRequest)
        }
        switch try checkStudent(&input) {
        case .unknown(let id)?:
            return form(request, fields: fields, message: Self.message(.unknown(id), api: false), status: .badRequest)
        case let problem?:
            return form(
                request, fields: fields, message: Self.message(problem, api: false), status: .conflict,
                secondDevice: true)
        case nil: break
        }
        switch try record(input, request) {
        case .duplicate(let existing):
            return overrideForm(request, fields: fields, existing: existing)
        case .recorded(let checkin):
            // POST/redirect/GET: the page that says what happened is a GET, so reloading it
            // does not send the check-in again (which would answer "already checked in").
            _ = sync(checkin, input)
            return AppContext.redirect("/checkin?recorded=\(checkin.id)")
        }
    }

    /// The form; after a check-in (`?recorded=ID`) with what was recorded and what RT said.
    func formAfter(_ request: Request) throws -> Response {
        let query = request.queryItems
        guard let id = query["recorded"].flatMap({ Int64($0) }) else {
            var fields = query.filter { $0.key == "tag" || $0.key == "student" }
            var card = HTMLWriter(capacity: 1024)
            if let typed = fields["tag"], !typed.isEmpty {
                switch TagInput.parse(typed) {
                case .success(let tag):
                    fields["tag"] = tag
                    try ownerCard(tag, into: &card, fields: &fields)
                case .failure(let problem):
                    return form(request, fields: fields, message: problem.text, status: .badRequest)
                }
            }
            return form(request, fields: fields, card: card.html)
        }
        guard let checkin = try context.checkins.find(id: id) else {
            return form(request, message: "There is no check-in #\(id).", status: .notFound)
        }
        let (rt, synced) =
            requestTracker == nil
            ? ("Request Tracker is not configured (RT_URL); recorded here only.", true)
            : Self.requestTrackerOutcome(checkin)
        let by = checkin.checkedInBy.isEmpty ? "" : " by \(checkin.checkedInBy)"
        let text = "Checked in \(checkin.tag) from \(checkin.student) (\(checkin.condition))\(by). " + rt
        return form(request, message: text, ok: synced)
    }

    func submitAPI(_ request: Request) throws -> Response {
        let fields: [String: String]
        switch APIBody.fields(request) {
        case .success(let parsed): fields = parsed
        case .failure(let problem): return AppContext.jsonError(problem.status, problem.text)
        }
        var input: Input
        switch Self.input(fields) {
        case .success(let value): input = value
        case .failure(let problem): return AppContext.jsonError(.badRequest, problem.text)
        }
        switch try checkStudent(&input) {
        case .unknown(let id)?: return AppContext.jsonError(.badRequest, Self.message(.unknown(id), api: true))
        case let problem?: return AppContext.jsonError(.conflict, Self.message(problem, api: true))
        case nil: break
        }
        switch try record(input, request) {
        case .duplicate(let existing):
            let error =
                Self.duplicateMessage(existing)
                + " To record this one instead, send it again with \"replace\": \(existing.id)."
            return JSONAnswer.response(Answer(error: error, checkin: existing), status: .conflict)
        case .recorded(let checkin):
            let outcome = sync(checkin, input)
            let saved = try context.checkins.find(id: checkin.id) ?? checkin
            let answer = Answer(
                error: outcome.failure == nil ? nil : outcome.summary, checkin: saved, requestTracker: outcome.summary)
            return JSONAnswer.response(answer, status: outcome.failure ?? .created)
        }
    }

    /// `POST /api/checkins`'s answer; `error` only when it did not fully succeed.
    struct Answer: Encodable {
        var error: String?
        var checkin: CheckinStore.Checkin
        var requestTracker: String?

        enum CodingKeys: String, CodingKey {
            case error, checkin
            case requestTracker = "request_tracker"
        }
    }

    func record(_ input: Input, _ request: Request) throws -> CheckinStore.RecordResult {
        let result = try context.checkins.record(
            tag: input.tag, student: input.student, studentID: input.studentID, condition: input.condition,
            notes: input.notes, ticket: input.ticket, by: request.user ?? "", replacing: input.replace)
        if case .recorded = result { AppMetrics.checkIn(condition: input.condition.rawValue) }
        return result
    }

    /// The condition menu's options, `selected` marked.
    static func conditionOptions(_ page: inout HTMLWriter, selected: String) {
        for option in CheckinStore.Condition.allCases {
            page.append(
                option.rawValue == selected
                    ? "<option selected>\(option.rawValue)</option>" : "<option>\(option.rawValue)</option>")
        }
    }

    /// The 409 page: what was recorded, and a button that records this one instead.
    func overrideForm(_ request: Request, fields: [String: String], existing: CheckinStore.Checkin) -> Response {
        form(request, fields: fields, message: Self.duplicateMessage(existing), status: .conflict, replacing: existing)
    }

    /// The card that replaces the day's check-in `existing` with the one in `fields`.
    static func overrideCard(
        _ page: inout HTMLWriter, csrfField: HTML, fields: [String: String], existing: CheckinStore.Checkin
    ) {
        page.append(
            """
            <form class="card" method="post" action="/checkins">\(csrfField)
            <p>If the earlier check-in was a mistake, record this one instead of it.</p>
            """)
        hiddenFields(&page, fields)
        page.append(
            """
            <input type="hidden" name="replace" value="\(String(existing.id))">
            <p><button type="submit" id="replace">Replace check-in #\(String(existing.id)) with this one</button></p></form>
            """)
    }

    /// The card that records a second device for a student who already returned one.
    static func secondDeviceCard(_ page: inout HTMLWriter, csrfField: HTML, fields: [String: String]) {
        page.append("<form class=\"card\" method=\"post\" action=\"/checkins\">\(csrfField)")
        hiddenFields(&page, fields)
        page.append(
            """
            <input type="hidden" name="second_device" value="1">
            <p><button type="submit" id="second-device">Check in this device too</button></p></form>
            """)
    }

    static func hiddenFields(_ page: inout HTMLWriter, _ fields: [String: String]) {
        for name in ["tag", "student", "student_id", "condition", "notes", "ticket"] {
            page.append("<input type=\"hidden\" name=\"\(name)\" value=\"\(fields[name] ?? "")\">")
        }
    }

    /// What Request Tracker made of a check-in, from what was saved with it; false when RT was
    /// not told (every such state offers Retry).
    static func requestTrackerOutcome(_ checkin: CheckinStore.Checkin) -> (String, Bool) {
        switch checkin.rtStatus {
        case "not in RT":
            return ("Request Tracker has no asset named \(checkin.tag); nothing was changed there.", true)
        case "sending":
            return (
                "It is not known whether Request Tracker was changed (the answer never came back); Retry reads "
                    + "RT first and changes only what is not done yet.", false
            )
        case let status where status.hasPrefix("updated"):
            let asset = checkin.rtAssetID.map { "asset #\($0)" } ?? "the asset"
            let ticket = checkin.rtTicketID.map { "; repair ticket #\($0) opened" } ?? ""
            return ("Request Tracker: \(asset) updated\(ticket).", true)
        case let status where status.hasPrefix("failed: "):
            return (
                "The check-in is saved here (#\(checkin.id)), but Request Tracker was not updated: "
                    + "\(status.dropFirst(8)). Retry from the check-ins page once RT answers.", false
            )
        default:
            return ("Request Tracker has not been told yet; retry from the check-ins page.", false)
        }
    }

    static func duplicateMessage(_ existing: CheckinStore.Checkin) -> String {
        "\(existing.tag) was already checked in today (check-in #\(existing.id) at \(existing.checkedInAt), "
            + "from \(existing.student)); a device is checked in once a day."
    }

    // MARK: Request Tracker

    struct SyncOutcome {
        var summary: String
        /// The status to answer with when RT could not be told (502/503/504).
        var failure: HTTPStatus?
    }

    /// Tells RT, having first marked the check-in "sending": a worker killed mid-way leaves a
    /// row that says RT may have changed, never one that claims nothing was sent.
    func sync(_ checkin: CheckinStore.Checkin, _ input: Input) -> SyncOutcome {
        guard let requestTracker else {
            return SyncOutcome(summary: "Request Tracker is not configured (RT_URL); recorded here only.", failure: nil)
        }
        do {
            try context.checkins.markSending(id: checkin.id)
        } catch {
            context.logger.error("check-in #\(checkin.id): could not mark it as being sent to RT: \(error)")
        }
        let result = requestTracker.checkIn(checkin, input)
        do {
            try context.checkins.setRequestTracker(id: checkin.id, result: result)
        } catch {
            context.logger.error("check-in #\(checkin.id): could not save the RT outcome: \(error)")
        }
        return SyncOutcome(summary: result.summary, failure: result.failure)
    }

}

/// What telling Request Tracker about a check-in came to.
struct CheckinSyncResult: Sendable {
    var assetID: Int?
    var ticketID: Int?
    /// What RT said of the asset before changing it ("" when not read, or already changed).
    var previousOwner = ""
    var deviceType = ""
    var serial = ""
    /// Stored with the check-in: "updated", "failed: …".
    var status: String
    /// One sentence for the person at the desk.
    var summary: String
    /// The status to answer with when RT could not be told (502/503/504), nil on success.
    var failure: HTTPStatus?
}

/// Tells Request Tracker about a recorded check-in (owner change, repair ticket).
protocol CheckinSync: Sendable {
    func checkIn(_ checkin: CheckinStore.Checkin, _ input: CheckinRoutes.Input) -> CheckinSyncResult
}
