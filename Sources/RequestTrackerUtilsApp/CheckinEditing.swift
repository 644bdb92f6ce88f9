import Prefork
import PreforkCore

/// After a check-in: retrying what RT was not told, correcting or deleting a mistaken one.
extension CheckinRoutes {
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
        let input = Input(
            tag: checkin.tag, student: checkin.student, condition: condition, notes: checkin.notes,
            ticket: checkin.ticketRequested)
        let outcome = sync(checkin, input)
        if let failure = outcome.failure {
            return context.errorPage(failure, "Check-in \(checkin.tag)", outcome.summary)
        }
        return AppContext.redirect("/checkins?date=\(checkin.checkedInOn)")
    }

    /// `GET /checkins/ID/edit`: correct the student, condition or notes, or delete it.
    func editPage(
        _ request: Request, fields: [String: String]? = nil, message: String? = nil,
        status: HTTPStatus = .ok
    ) throws -> Response {
        guard let id = Int64(request.parameters["id"] ?? ""), let checkin = try context.checkins.find(id: id) else {
            return context.errorPage(.notFound, "Check-in", "There is no such check-in.", user: request.user)
        }
        let values = fields ?? ["student": checkin.student, "condition": checkin.condition, "notes": checkin.notes]
        return context.formPage(request, status: status, title: "Check-in #\(String(checkin.id)) of \(checkin.tag)") {
            page, csrfField in
            page.append(
                """
                \(message.map { Layout.message($0, ok: false) } ?? .empty)
                <p>Checked in \(checkin.checkedInOn) at \(Timestamp.localTime(ofISO: checkin.checkedInAt)) by \(checkin.checkedInBy). \
                A correction changes only this record: what Request Tracker was told stays as it is.</p>
                <form class="card" method="post" action="/checkins/\(String(checkin.id))/edit">\(csrfField)
                <label for="student">Student</label><input id="student" name="student" type="text" required value="\(values["student"] ?? "")">
                <label for="condition">Condition</label><select id="condition" name="condition">
                """)
            Self.conditionOptions(&page, selected: values["condition"] ?? "")
            page.append(
                """
                </select>
                <label for="notes">Notes</label><textarea id="notes" name="notes" rows="3">\(values["notes"] ?? "")</textarea>
                <p><button type="submit">Save</button></p></form>
                <form class="card" method="post" action="/checkins/\(String(checkin.id))/delete">\(csrfField)
                <p><button type="submit" id="delete">Delete this check-in</button> (it was a mistake: the device was not returned)</p></form>
                """)
        }
    }

    /// `POST /checkins/ID/edit`.
    func saveEdit(_ request: Request) throws -> Response {
        let fields = FormDecoding.decode(request.bodyText)
        guard context.csrf.verify(request, form: fields) else {
            return try editPage(request, fields: fields, message: CSRFMessage.text, status: .forbidden)
        }
        guard let id = Int64(request.parameters["id"] ?? ""), let checkin = try context.checkins.find(id: id) else {
            return context.errorPage(.notFound, "Check-in", "There is no such check-in.", user: request.user)
        }
        var merged = fields
        merged["tag"] = checkin.tag
        let input: Input
        switch Self.input(merged) {
        case .success(let value): input = value
        case .failure(let problem):
            return try editPage(request, fields: fields, message: problem.text, status: .badRequest)
        }
        _ = try context.checkins.correct(
            id: id, student: input.student, condition: input.condition, notes: input.notes, by: request.user ?? "")
        context.logger.info(
            "check-in #\(id) of \(checkin.tag) corrected", metadata: ["REMOTE_USER": "\(request.user ?? "")"])
        return AppContext.redirect("/checkins?date=\(checkin.checkedInOn)")
    }

    /// `POST /checkins/ID/delete`.
    func delete(_ request: Request) throws -> Response {
        let fields = FormDecoding.decode(request.bodyText)
        guard context.csrf.verify(request, form: fields) else {
            return try editPage(request, message: CSRFMessage.text, status: .forbidden)
        }
        guard let id = Int64(request.parameters["id"] ?? ""), let checkin = try context.checkins.find(id: id),
            try context.checkins.delete(id: id)
        else {
            return context.errorPage(.notFound, "Check-in", "There is no such check-in.", user: request.user)
        }
        context.logger.info(
            "check-in #\(id) of \(checkin.tag) from \(checkin.student) deleted",
            metadata: ["REMOTE_USER": "\(request.user ?? "")"])
        return AppContext.redirect("/checkins?date=\(checkin.checkedInOn)")
    }
}
