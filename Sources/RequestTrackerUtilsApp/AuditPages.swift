import Prefork
import PreforkCore

/// The audit pages (see ``AuditRoutes``).
struct AuditPages: Sendable {
    let context: AppContext
    typealias Viewer = AuditRoutes.Viewer

    func list(
        _ request: Request, viewer: Viewer, _ rows: [(AuditStore.Session, Int)], message: String?
    ) -> Response {
        context.formPage(request, title: "Device audits") { page, csrfField in
            if let message { page.append(Layout.message(message, ok: true)) }
            if viewer.isTech {
                page.append(
                    """
                    <form class="card no-print" method="post" action="/audits">\(csrfField)
                    <label for="name">New session from the active roster</label>
                    <input id="name" name="name" required maxlength="200" placeholder="Spring 2027 audit">
                    <p><button type="submit">Create the session</button></p>
                    <p class="muted">Each student's devices are read from Request Tracker in the background by the job workers.</p></form>
                    """)
            } else {
                page.append("<p>The sessions with students of your advisory, \(viewer.name).</p>")
            }
            guard !rows.isEmpty else {
                page.append("<p class=\"muted\">No audit sessions yet.</p>")
                return
            }
            page.append(
                "<table><thead><tr><th>Session</th><th>State</th><th>Students</th><th>Created</th></tr></thead><tbody>\n"
            )
            for (session, students) in rows {
                page.append(
                    """
                    <tr><td><a href="/audits/\(session.id)">\(session.name)</a></td><td>\(session.state.rawValue)</td>\
                    <td>\(students)</td><td>\(session.createdAt) by \(session.createdBy)</td></tr>

                    """)
            }
            page.append("</tbody></table>\n")
        }
    }

    func session(
        _ request: Request, viewer: Viewer, _ session: AuditStore.Session, students: [AuditStore.Student]
    ) throws -> Response {
        let job = try session.prefetchJobID.flatMap { try JobStore(database: context.database).status($0) }
        return context.formPage(request, title: "Audit: \(session.name)") { page, csrfField in
            let audited = students.filter(\.audited).count
            page.append(
                """
                <div class="stats"><div><b>\(students.count)</b>\(viewer.isTech ? "students" : "of your students")</div>\
                <div><b>\(audited)</b>audited</div><div><b>\(session.state.rawValue)</b>session</div></div>

                """)
            if let job { JobPages.progress(job, what: "students' devices read from RT", into: &page) }
            if viewer.isTech { controls(session, csrfField, into: &page) }
            page.append(
                """
                <table><thead><tr><th>Student</th><th>ID</th><th>Grade</th><th>Advisor</th><th>Devices in RT</th><th>Audited</th></tr></thead>
                <tbody>

                """)
            for student in students {
                let devices =
                    student.prefetched ? (student.prefetchNote.isEmpty ? "read" : student.prefetchNote) : "not read yet"
                page.append(
                    """
                    <tr><td><a href="/audits/\(session.id)/students/\(PercentEncoding.encode(student.studentID))">\
                    \(student.lastName), \(student.firstName)</a></td><td>\(student.studentID)</td><td>\(student.grade)</td>\
                    <td>\(student.advisor)</td><td>\(devices)</td><td>\(student.audited ? "yes, by \(student.auditedBy)" : "no")</td></tr>

                    """)
            }
            page.append("</tbody></table>\n")
        }
    }

    private func controls(_ session: AuditStore.Session, _ csrfField: HTML, into page: inout HTMLWriter) {
        page.append(
            """
            <p class="no-print"><a href="/audits/\(session.id)/export.csv">Download CSV</a> · \
            <a href="/audits/\(session.id)/changes">Change log</a></p>
            <div class="card no-print">
            """)
        for state in AuditRules.transitions(from: session.state) {
            let label = state == .open ? "Unlock" : state == .locked ? "Lock" : "Close for good"
            page.append(
                """
                <form method="post" action="/audits/\(session.id)/state" style="display:inline">\(csrfField)\
                <input type="hidden" name="state" value="\(state.rawValue)"><button type="submit">\(label)</button></form>

                """)
        }
        page.append(
            """
            <form method="post" action="/audits/\(session.id)/rename">\(csrfField)
            <label for="rename">Name</label><input id="rename" name="name" value="\(session.name)" maxlength="200" required>
            <button type="submit">Rename</button></form>
            <form method="post" action="/audits/\(session.id)/delete">\(csrfField)
            <label><input type="checkbox" name="confirm" value="yes" style="width:auto"> Delete this session, its marks and its change log</label>
            <button type="submit">Delete</button></form></div>

            """)
    }

    func student(
        _ request: Request, viewer: Viewer, _ session: AuditStore.Session, _ student: AuditStore.Student,
        devices: [AuditStore.Device]
    ) -> Response {
        context.formPage(request, title: "\(student.name) (\(student.studentID))") { page, csrfField in
            if request.queryItems["saved"] != nil { page.append(Layout.message("Saved.", ok: true)) }
            let open = AuditRules.acceptsMarks(session.state)
            page.append(
                """
                <p><a href="/audits/\(session.id)">\(session.name)</a> · grade \(student.grade) · advisor \(student.advisor)\
                \(open ? "" : " · this session is \(session.state.rawValue): marks are read-only")</p>

                """)
            if !student.prefetched {
                page.append("<p class=\"muted\">This student's devices have not been read from RT yet.</p>\n")
            } else if !student.prefetchNote.isEmpty {
                page.append("<p class=\"muted\">\(student.prefetchNote)</p>\n")
            }
            let base = "/audits/\(session.id)/students/\(PercentEncoding.encode(student.studentID))"
            page.append(
                "<table><thead><tr><th>Device</th><th>Serial</th><th>Mark</th><th>Note</th><th></th></tr></thead><tbody>\n"
            )
            for device in devices {
                page.append(
                    """
                    <tr><td><span class="tag">\(device.tag)</span> \(device.description)\
                    \(device.assetID == nil ? " (found, not in RT)" : "")</td><td>\(device.serial)</td>
                    <td colspan="3"><form method="post" action="\(base)">\(csrfField)\
                    <input type="hidden" name="action" value="device"><input type="hidden" name="device_id" value="\(device.id)">
                    """)
                for status in AuditRules.DeviceStatus.allCases {
                    let checked = device.status == status.rawValue ? " checked" : ""
                    page.append(
                        """
                        <label style="display:inline;font-weight:normal"><input type="radio" style="width:auto" \
                        name="status" value="\(status.rawValue)"\(raw: checked)> \(status.rawValue)</label>
                        """)
                }
                page.append(
                    """
                     <input name="note" value="\(device.note)" placeholder="note" aria-label="note for \(device.tag)" style="max-width:14rem">
                    \(open ? HTML(unescaped: "<button type=\"submit\">Save</button>") : .empty)\
                    \(device.updatedBy.isEmpty ? "" : " by \(device.updatedBy)")</form></td></tr>

                    """)
            }
            page.append("</tbody></table>\n")
            guard open else { return }
            page.append(
                """
                <form class="card" method="post" action="\(base)">\(csrfField)<input type="hidden" name="action" value="found">
                <label for="found">A device the student has that is not listed</label>
                <input id="found" name="tag" maxlength="100" placeholder="W12-0042"><input name="note" placeholder="note" aria-label="note">
                <button type="submit">Add as extra</button></form>
                <form class="card" method="post" action="\(base)">\(csrfField)<input type="hidden" name="action" value="student">
                <label><input type="checkbox" name="audited" value="yes" style="width:auto"\(raw: student.audited ? " checked" : "")> \
                \(student.name) is audited</label>
                <input name="note" value="\(student.note)" placeholder="note about the student" aria-label="note about the student">
                <button type="submit">Save the student</button></form>

                """)
        }
    }

    func changes(_ request: Request, _ session: AuditStore.Session, _ changes: [AuditStore.Change]) -> Response {
        context.page("Change log: \(session.name)", user: request.user) { page in
            page.append(
                "<p><a href=\"/audits/\(session.id)\">Back to the session</a> · the latest 200 changes, newest first</p>\n"
            )
            page.append(
                "<table><thead><tr><th>When</th><th>Who</th><th>Student</th><th>What</th></tr></thead><tbody>\n")
            for change in changes {
                page.append(
                    "<tr><td>\(change.at)</td><td>\(change.actor)</td><td>\(change.studentID)</td><td>\(change.what)</td></tr>\n"
                )
            }
            page.append("</tbody></table>\n")
        }
    }

    /// One row per device, and one per student without any, so every student is in the file.
    static func csv(
        _ session: AuditStore.Session, students: [AuditStore.Student], devices: [AuditStore.Device]
    ) -> Response {
        var byStudent: [String: [AuditStore.Device]] = [:]
        for device in devices { byStudent[device.studentID, default: []].append(device) }
        var text =
            "session,student_id,last_name,first_name,grade,advisor,audited,audited_by,audited_at,student_note,"
            + "tag,rt_asset_id,description,serial,mark,device_note,marked_by\r\n"
        for student in students {
            let head = [
                session.name, student.studentID, student.lastName, student.firstName, student.grade, student.advisor,
                student.audited ? "yes" : "no", student.auditedBy, student.auditedAt ?? "", student.note,
            ]
            let rows = byStudent[student.studentID] ?? []
            for device in rows.isEmpty ? [nil] : rows.map(Optional.some) {
                let tail = [
                    device?.tag ?? "", device?.assetID.map { "\($0)" } ?? "", device?.description ?? "",
                    device?.serial ?? "", device?.status ?? "", device?.note ?? "", device?.updatedBy ?? "",
                ]
                text += (head + tail).map(CSVText.cell).joined(separator: ",") + "\r\n"
            }
        }
        var response = Response.bytes(Array(text.utf8), contentType: "text/csv; charset=utf-8")
        response.headers.add("Content-Disposition", "attachment; filename=\"audit-\(session.id).csv\"")
        return response
    }
}
