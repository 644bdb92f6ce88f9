import Prefork
import PreforkCore

/// Device check-in: `GET /checkin` (the form), `POST /checkins` (from the form),
/// `POST /api/checkins` (JSON), `GET /checkins` (the day's dashboard), `GET /checkins.csv`,
/// `GET /api/checkins`.
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
    }

    struct Input {
        var tag: String
        var student: String
        var condition: CheckinStore.Condition
        var notes: String
    }

    /// Validates the submitted fields; the error says which field and what is expected.
    static func input(_ fields: [String: String]) -> Result<Input, TagRoutes.Problem> {
        let tag = (fields["tag"] ?? "").trimmingSpaces().uppercased()
        let student = (fields["student"] ?? "").trimmingSpaces()
        let notes = (fields["notes"] ?? "").trimmingSpaces()
        guard !tag.isEmpty, tag.count <= 40, tag.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else {
            return .failure(TagRoutes.Problem(text: "tag is required: the asset tag on the device, like W12-0001"))
        }
        guard !student.isEmpty, student.count <= 120 else {
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
        return .success(Input(tag: tag, student: student, condition: condition, notes: notes))
    }

    // MARK: Form

    func form(
        _ request: Request, fields: [String: String] = [:], message: String? = nil, ok: Bool = false,
        status: HTTPStatus = .ok
    ) -> Response {
        let condition = fields["condition"] ?? "good"
        return context.formPage(request, status: status, title: "Check in a device") { page, csrfField in
            page.append(
                """
                \(message.map { Layout.message($0, ok: ok) } ?? .empty)
                <form class="card" method="post" action="/checkins">
                \(csrfField)
                <label for="tag">Asset tag</label><input id="tag" name="tag" type="text" required autofocus value="\(fields["tag"] ?? "")">
                <label for="student">Student</label><input id="student" name="student" type="text" required value="\(fields["student"] ?? "")">
                <label for="condition">Condition</label><select id="condition" name="condition">
                """)
            for option in CheckinStore.Condition.allCases {
                page.append(
                    option.rawValue == condition
                        ? "<option selected>\(option.rawValue)</option>" : "<option>\(option.rawValue)</option>")
            }
            page.append(
                """
                </select>
                <label for="notes">Notes (required if damaged)</label><textarea id="notes" name="notes" rows="3">\(fields["notes"] ?? "")</textarea>
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
        let input: Input
        switch Self.input(fields) {
        case .success(let value): input = value
        case .failure(let problem): return form(request, fields: fields, message: problem.text, status: .badRequest)
        }
        switch try context.checkins.record(
            tag: input.tag, student: input.student, condition: input.condition, notes: input.notes,
            by: request.user ?? "")
        {
        case .duplicate(let existing):
            return form(request, fields: fields, message: Self.duplicateMessage(existing), status: .conflict)
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
            return form(request, fields: query.filter { $0.key == "tag" || $0.key == "student" })
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
        let input: Input
        switch Self.input(fields) {
        case .success(let value): input = value
        case .failure(let problem): return AppContext.jsonError(.badRequest, problem.text)
        }
        switch try context.checkins.record(
            tag: input.tag, student: input.student, condition: input.condition, notes: input.notes,
            by: request.user ?? "")
        {
        case .duplicate(let existing):
            return .json(
                JSONText.object([
                    ("error", JSONText.quote(Self.duplicateMessage(existing))), ("checkin", json(existing)),
                ])
                    + "\n", status: .conflict)
        case .recorded(let checkin):
            let outcome = sync(checkin, input)
            let saved = try context.checkins.find(id: checkin.id) ?? checkin
            var members = [("checkin", json(saved)), ("request_tracker", JSONText.quote(outcome.summary))]
            if outcome.failure != nil { members.insert(("error", JSONText.quote(outcome.summary)), at: 0) }
            return .json(JSONText.object(members) + "\n", status: outcome.failure ?? .created)
        }
    }

    func retrySync(_ request: Request) throws -> Response {
        let fields = FormDecoding.decode(request.bodyText)
        guard context.csrf.verify(request, form: fields) else {
            return context.errorPage(.forbidden, "Check-in", CSRFMessage.text)
        }
        guard let id = Int64(request.parameters["id"] ?? ""), let checkin = try context.checkins.find(id: id) else {
            return context.errorPage(.notFound, "Check-in", "There is no such check-in.")
        }
        guard let condition = CheckinStore.Condition(rawValue: checkin.condition) else {
            return context.errorPage(.internalServerError, "Check-in", "The check-in has an unknown condition.")
        }
        let input = Input(tag: checkin.tag, student: checkin.student, condition: condition, notes: checkin.notes)
        let outcome = sync(checkin, input)
        if let failure = outcome.failure {
            return context.errorPage(failure, "Check-in \(checkin.tag)", outcome.summary)
        }
        return AppContext.redirect("/checkins?date=\(checkin.checkedInOn)")
    }

    /// What Request Tracker made of a check-in, from what was saved with it; false when RT was
    /// not told.
    static func requestTrackerOutcome(_ checkin: CheckinStore.Checkin) -> (String, Bool) {
        switch checkin.rtStatus {
        case "not in RT":
            return ("Request Tracker has no asset named \(checkin.tag); nothing was changed there.", true)
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

    private func sync(_ checkin: CheckinStore.Checkin, _ input: Input) -> SyncOutcome {
        guard let requestTracker else {
            return SyncOutcome(summary: "Request Tracker is not configured (RT_URL); recorded here only.", failure: nil)
        }
        let result = requestTracker.checkIn(checkin, input)
        do {
            try context.checkins.setRequestTracker(
                id: checkin.id, assetID: result.assetID, ticketID: result.ticketID, status: result.status)
        } catch {
            context.logger.error("check-in #\(checkin.id): could not save the RT outcome: \(error)")
        }
        return SyncOutcome(summary: result.summary, failure: result.failure)
    }

    // MARK: Dashboard and export

    func dashboard(_ request: Request) throws -> Response {
        let today = Timestamp.now().localDate
        let date = Self.validDate(request.queryItems["date"]) ?? today
        let checkins = try context.checkins.list(from: date, to: date)
        var counts: [String: Int] = [:]
        for checkin in checkins { counts[checkin.condition, default: 0] += 1 }
        let (cookie, setCookie) = context.csrf.issue(request)
        var response = context.page("Check-ins on \(date)", user: request.user) { page in
            page.append(
                """
                <form class="no-print" method="get" action="/checkins"><label for="date">Day</label>
                <input id="date" name="date" type="date" value="\(date)"> <button type="submit">Show</button>
                <a href="/checkins.csv?from=\(date)&amp;to=\(date)">Download CSV</a> · <a href="/checkin">Check in a device</a></form>
                <div class="stats">
                """)
            for name in ["total"] + CheckinStore.Condition.allCases.map(\.rawValue) {
                page.append("<div><b>\(name == "total" ? checkins.count : counts[name, default: 0])</b>\(name)</div>")
            }
            page.append(
                """
                </div>
                <table><thead><tr><th>Time</th><th>Tag</th><th>Student</th><th>Condition</th><th>Notes</th><th>By</th><th>Request Tracker</th></tr></thead>
                <tbody>
                """)
            for (index, checkin) in checkins.enumerated() {
                if index > 0 { page.append("\n") }
                page.append(
                    """
                    <tr><td>\(Timestamp.localTime(ofISO: checkin.checkedInAt))</td><td class="tag">\(checkin.tag)</td>\
                    <td>\(checkin.student)</td><td>\(checkin.condition)</td><td>\(checkin.notes)</td><td>\(checkin.checkedInBy)</td><td>\(checkin.rtStatus)
                    """)
                if let ticket = checkin.rtTicketID { page.append(" (ticket #\(ticket))") }
                if checkin.rtStatus.hasPrefix("failed") {
                    page.append(
                        """
                        <form method="post" action="/checkins/\(checkin.id)/sync">\(context.csrf.field(cookie: cookie))\
                        <button type="submit">Retry</button></form>
                        """)
                }
                page.append("</td></tr>")
            }
            page.append(
                checkins.isEmpty
                    ? "</tbody></table>\n<p class=\"muted\">No check-ins on \(date).</p>" : "</tbody></table>\n")
        }
        if let setCookie { response.headers.add("Set-Cookie", setCookie) }
        return response
    }

    func csv(_ request: Request) throws -> Response {
        let today = Timestamp.now().localDate
        let from = Self.validDate(request.queryItems["from"]) ?? today
        let to = Self.validDate(request.queryItems["to"]) ?? from
        let checkins = try context.checkins.list(from: from, to: to, limit: 1_000_000).reversed()
        var lines = [
            "id,date,checked_in_at,tag,student,condition,notes,rt_asset_id,rt_ticket_id,rt_status,checked_in_by"
        ]
        for c in checkins {
            let cells = [
                String(c.id), c.checkedInOn, c.checkedInAt, c.tag, c.student, c.condition, c.notes,
                c.rtAssetID.map(String.init) ?? "", c.rtTicketID.map(String.init) ?? "", c.rtStatus, c.checkedInBy,
            ]
            lines.append(cells.map(CSVText.cell).joined(separator: ","))
        }
        var response = Response.bytes(
            Array((lines.joined(separator: "\r\n") + "\r\n").utf8), contentType: "text/csv; charset=utf-8")
        response.headers.add("Content-Disposition", "attachment; filename=\"checkins-\(from)-to-\(to).csv\"")
        return response
    }

    func list(_ request: Request) throws -> Response {
        let today = Timestamp.now().localDate
        let from = Self.validDate(request.queryItems["from"] ?? request.queryItems["date"]) ?? today
        let to = Self.validDate(request.queryItems["to"]) ?? from
        let checkins = try context.checkins.list(from: from, to: to)
        return .json(JSONText.object([("checkins", JSONText.array(checkins.map(json)))]) + "\n")
    }

    private func json(_ c: CheckinStore.Checkin) -> String {
        JSONText.object([
            ("id", String(c.id)), ("tag", JSONText.quote(c.tag)), ("student", JSONText.quote(c.student)),
            ("condition", JSONText.quote(c.condition)), ("notes", JSONText.quote(c.notes)),
            ("checked_in_on", JSONText.quote(c.checkedInOn)), ("checked_in_at", JSONText.quote(c.checkedInAt)),
            ("rt_asset_id", c.rtAssetID.map(String.init) ?? "null"),
            ("rt_ticket_id", c.rtTicketID.map(String.init) ?? "null"), ("rt_status", JSONText.quote(c.rtStatus)),
            ("checked_in_by", JSONText.quote(c.checkedInBy)),
        ])
    }

    /// `YYYY-MM-DD`, or nil.
    static func validDate(_ text: String?) -> String? {
        guard let text, text.utf8.count == 10 else { return nil }
        let bytes = Array(text.utf8)
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 7 {
                guard byte == UInt8(ascii: "-") else { return nil }
            } else if !(48...57).contains(byte) {
                return nil
            }
        }
        return text
    }
}

/// What telling Request Tracker about a check-in came to.
struct CheckinSyncResult: Sendable {
    var assetID: Int?
    var ticketID: Int?
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

/// One CSV cell (RFC 4180 quoting). Cells starting with = + - @ are prefixed with ' so a
/// spreadsheet does not run them as formulas (CSV injection).
enum CSVText {
    static func cell(_ text: String) -> String {
        var value = text
        if let first = value.first, "=+-@\t\r".contains(first) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences("\"", "\"\"") + "\""
    }
}

extension String {
    func trimmingSpaces() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return String(slice)
    }

    func replacingOccurrences(_ target: Character, _ replacement: String) -> String {
        var out = ""
        for character in self { if character == target { out += replacement } else { out.append(character) } }
        return out
    }
}
