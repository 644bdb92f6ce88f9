import Prefork
import PreforkCore

/// The roster and who still owes a device: `GET /students` (totals, the share returned per
/// grade, the filtered list), `GET /students.csv` (that list), `GET /students/roster.csv` (the
/// roster in the import's columns), `GET /api/students/status`, and the import:
/// `GET /students/import` (the upload form), `POST /students/import` (the file read and a
/// preview of what it changes; nothing changed yet) and `POST /students/import/ID` (confirm).
struct StudentRoutes: Sendable {
    let context: AppContext
    var store: StudentStore { StudentStore(database: context.database) }

    func add(to router: inout Router) {
        router.get("/students") { request in try dashboard(request) }
        router.get("/students.csv") { request in try statusCSV(request) }
        router.get("/students/roster.csv") { _ in
            var response = Response.bytes(RosterCSV.write(try store.all()), contentType: "text/csv; charset=utf-8")
            response.headers.add("Content-Disposition", "attachment; filename=\"roster.csv\"")
            return response
        }
        router.get("/api/students/status") { _ in try statusAPI() }
        router.get("/students/import") { request in importForm(request) }
        router.post("/students/import") { request in try upload(request) }
        router.post("/students/import/:id") { request in try confirm(request) }
    }

    // MARK: Who still owes a device

    func dashboard(_ request: Request) throws -> Response {
        let status = try store.status()
        let filter = RosterStatus.Filter(query: request.queryItems)
        let shown = status.matching(filter)
        let overall = status.overall
        // About 130 bytes a row.
        let capacity = 32 * 1024 + 160 * shown.count
        return context.page("Students: who still owes a device", user: request.user, capacity: capacity) { page in
            if let imported = request.queryItems["imported"] {
                page.append(Layout.message("Imported: \(imported).", ok: true))
            }
            page.append(
                """
                <div class="stats"><div><b>\(overall.total)</b>active students</div><div><b>\(overall.returned)</b>returned</div>\
                <div><b>\(overall.total - overall.returned)</b>still owed</div><div><b>\(overall.percent)%</b>returned</div></div>
                """)
            if !status.entries.isEmpty { RosterStatus.chart(status.byGrade, into: &page) }
            filterForm(filter, status, into: &page)
            page.append(
                """
                <p class="no-print">\(shown.count) shown · <a href="/students.csv?\(raw: filter.query)">Download CSV</a> · \
                <a href="/students/roster.csv">Roster CSV</a> · <a href="/students/import">Import a roster</a></p>
                <table><thead><tr><th>Student</th><th>ID</th><th>Username</th><th>Grade</th><th>Advisor</th><th>Returned</th></tr></thead>
                <tbody>
                """)
            for entry in shown {
                let student = entry.student
                page.append(
                    """
                    <tr><td>\(student.lastName), \(student.firstName)</td><td>\(student.studentID)</td><td>\(student.username)</td>\
                    <td>\(student.grade)</td><td>\(student.advisor)</td><td>
                    """)
                if let tag = entry.returnedTag {
                    page.append("<span class=\"tag\">\(tag)</span> \(entry.returnedOn ?? "")</td></tr>\n")
                } else {
                    page.append("<b>owed</b></td></tr>\n")
                }
            }
            page.append("</tbody></table>\n")
            if status.entries.isEmpty {
                page.append(
                    "<p class=\"muted\">No students yet: <a href=\"/students/import\">import the roster</a> (a CSV file).</p>"
                )
            }
        }
    }

    private func filterForm(_ filter: RosterStatus.Filter, _ status: RosterStatus, into page: inout HTMLWriter) {
        page.append(
            """
            <form class="no-print filters" method="get" action="/students">
            <label for="q">Search</label><input id="q" name="q" type="search" value="\(filter.search)">
            <label for="grade">Grade</label><select id="grade" name="grade"><option value="">all</option>
            """)
        for grade in status.grades {
            page.append("<option\(raw: grade == filter.grade ? " selected" : "")>\(grade)</option>")
        }
        page.append(
            "</select><label for=\"advisor\">Advisor</label><select id=\"advisor\" name=\"advisor\"><option value=\"\">all</option>"
        )
        for advisor in status.advisors {
            page.append("<option\(raw: advisor == filter.advisor ? " selected" : "")>\(advisor)</option>")
        }
        page.append("</select><label for=\"show\">Show</label><select id=\"show\" name=\"show\">")
        for show in RosterStatus.Filter.Show.allCases {
            page.append("<option\(raw: show == filter.show ? " selected" : "")>\(show.rawValue)</option>")
        }
        page.append("</select><label for=\"sort\">Sort by</label><select id=\"sort\" name=\"sort\">")
        for sort in RosterStatus.Filter.Sort.allCases {
            page.append("<option\(raw: sort == filter.sort ? " selected" : "")>\(sort.rawValue)</option>")
        }
        page.append("</select> <button type=\"submit\">Show</button></form>\n")
    }

    func statusCSV(_ request: Request) throws -> Response {
        let shown = try store.status().matching(RosterStatus.Filter(query: request.queryItems))
        var lines = ["student_id,last_name,first_name,username,grade,advisor,returned,tag,returned_on"]
        for entry in shown {
            let s = entry.student
            let cells = [
                s.studentID, s.lastName, s.firstName, s.username, s.grade, s.advisor, entry.returned ? "yes" : "no",
                entry.returnedTag ?? "", entry.returnedOn ?? "",
            ]
            lines.append(cells.map(CSVText.cell).joined(separator: ","))
        }
        var response = Response.bytes(
            Array((lines.joined(separator: "\r\n") + "\r\n").utf8), contentType: "text/csv; charset=utf-8")
        response.headers.add("Content-Disposition", "attachment; filename=\"students.csv\"")
        return response
    }

    func statusAPI() throws -> Response {
        let status = try store.status()
        let overall = status.overall
        return JSONAnswer.response(
            StatusAnswer(
                total: overall.total, returned: overall.returned, owed: overall.total - overall.returned,
                percent: overall.percent,
                grades: status.byGrade.map {
                    .init(grade: $0.grade, total: $0.count.total, returned: $0.count.returned)
                }))
    }

    struct StatusAnswer: Encodable {
        struct Grade: Encodable {
            var grade: String
            var total: Int
            var returned: Int
        }
        var total: Int
        var returned: Int
        var owed: Int
        var percent: Int
        var grades: [Grade]
    }

    // MARK: Import

    func importForm(_ request: Request, message: String? = nil, status: HTTPStatus = .ok) -> Response {
        context.formPage(request, status: status, title: "Import the student roster") { page, csrfField in
            if let message { page.append(Layout.message(message, ok: false)) }
            page.append(
                """
                <form class="card" method="post" action="/students/import" enctype="multipart/form-data">
                \(csrfField)
                <p>A CSV file with the columns \(RosterCSV.requiredColumns.joined(separator: ", ")) (and optionally \
                rt_user_id, active), one student per line, at most \(RosterCSV.maximumRows) students. \
                Students not in the file become inactive; nothing is deleted. You will see what changes before anything does.</p>
                <label for="file">Roster file</label><input id="file" name="file" type="file" accept=".csv,text/csv" required>
                <p><button type="submit">Preview the import</button></p>
                </form>
                """)
        }
    }

    func upload(_ request: Request) throws -> Response {
        guard let result = request.multipartParts() else {
            return importForm(
                request, message: "Send the file from the form (multipart/form-data).", status: .unsupportedMediaType)
        }
        let parts: [Multipart.Part]
        switch result {
        case .success(let read): parts = read
        case .failure(let error):
            return importForm(request, message: "The upload was refused: \(error).", status: .badRequest)
        }
        var fields: [String: String] = [:]
        for part in parts where part.filename == nil { fields[part.name] = part.text }
        guard context.csrf.verify(request, form: fields) else {
            return importForm(request, message: CSRFMessage.text, status: .forbidden)
        }
        guard let file = parts.first(where: { $0.name == "file" }), !file.body.isEmpty else {
            return importForm(request, message: "Choose a CSV file to import.", status: .badRequest)
        }
        let name = file.filename ?? "roster.csv"
        let roster: RosterCSV.File
        do {
            roster = try RosterCSV.read(file.body)
        } catch {
            return importForm(
                request, message: "\(name): \(error.description). Nothing was changed.", status: .badRequest)
        }
        let plan = try store.plan(roster)
        let id = try store.saveUpload(
            String(decoding: file.body, as: UTF8.self), filename: name, by: request.user ?? "")
        return preview(request, id: id, name: name, roster: roster, plan: plan)
    }

    private func preview(_ request: Request, id: Int, name: String, roster: RosterCSV.File, plan: StudentStore.Plan)
        -> Response
    {
        context.formPage(request, title: "Import the student roster: preview") { page, csrfField in
            page.append(
                """
                <p>\(name): \(roster.students.count) students. Importing it would make these changes:</p>
                <div class="stats"><div><b>\(plan.added.count)</b>added</div><div><b>\(plan.updated.count)</b>updated</div>\
                <div><b>\(plan.deactivated.count)</b>made inactive</div><div><b>\(plan.unchanged)</b>unchanged</div></div>
                """)
            if !roster.ignoredColumns.isEmpty {
                page.append("<p class=\"muted\">Columns ignored: \(roster.ignoredColumns.joined(separator: ", ")).</p>")
            }
            let sample = plan.added.prefix(10).map { ("added", $0) } + plan.updated.prefix(10).map { ("updated", $0) }
            if !sample.isEmpty {
                page.append(
                    "<table><thead><tr><th>Change</th><th>ID</th><th>Name</th><th>Grade</th><th>Advisor</th></tr></thead><tbody>"
                )
                for (change, student) in sample {
                    page.append(
                        """
                        <tr><td>\(change)</td><td>\(student.studentID)</td><td>\(student.lastName), \(student.firstName)</td>\
                        <td>\(student.grade)</td><td>\(student.advisor)</td></tr>
                        """)
                }
                page.append("</tbody></table>")
            }
            if !plan.deactivated.isEmpty {
                page.append(
                    "<p>Made inactive (not in the file): \(plan.deactivated.prefix(20).joined(separator: ", "))\(raw: plan.deactivated.count > 20 ? " …" : "")</p>"
                )
            }
            page.append(
                """
                <form class="card" method="post" action="/students/import/\(id)">\(csrfField)
                <p><button type="submit">Import these changes</button> <a href="/students/import">Choose another file</a></p></form>
                """)
        }
    }

    func confirm(_ request: Request) throws -> Response {
        let form = FormDecoding.decode(request.bodyText)
        guard context.csrf.verify(request, form: form) else {
            return importForm(request, message: CSRFMessage.text, status: .forbidden)
        }
        guard let id = Int(request.parameters["id"] ?? ""), let upload = try store.upload(id: id) else {
            return importForm(
                request,
                message: "That upload is no longer here (it was imported or is over a day old): choose the file again.",
                status: .notFound)
        }
        let roster: RosterCSV.File
        do {
            roster = try RosterCSV.read(Array(upload.content.utf8))
        } catch {
            return importForm(request, message: "\(upload.filename): \(error.description).", status: .badRequest)
        }
        let plan = try store.importRoster(roster)
        try store.deleteUpload(id: id)
        context.logger.info(
            "roster imported from \(upload.filename.debugDescription) by \(request.user ?? "-"): \(plan.summary)")
        return AppContext.redirect("/students?imported=" + PercentEncoding.encode(plan.summary))
    }
}
