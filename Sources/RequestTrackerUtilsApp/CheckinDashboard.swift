import Prefork
import PreforkCore

/// The check-ins of a day: `GET /checkins` (the dashboard, with Retry and Edit per row),
/// `GET /checkins.csv`, `GET /api/checkins`.
extension CheckinRoutes {
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
                <table><thead><tr><th>Time</th><th>Tag</th><th>Student</th><th>Condition</th><th>Notes</th><th>By</th><th>Request Tracker</th><th></th></tr></thead>
                <tbody>
                """)
            for (index, checkin) in checkins.enumerated() {
                if index > 0 { page.append("\n") }
                page.append(
                    """
                    <tr><td>\(Timestamp.localTime(ofISO: checkin.checkedInAt))</td><td class="tag">\(checkin.tag)</td>\
                    <td>\(checkin.student)</td><td>\(checkin.condition)</td><td>\(checkin.notes)</td><td>\(checkin.checkedInBy)</td><td>\(Self.statusLabel(checkin.rtStatus))
                    """)
                if let ticket = checkin.rtTicketID { page.append(" (ticket #\(ticket))") }
                if requestTracker != nil && !checkin.rtStatus.hasPrefix("updated") {
                    page.append(
                        """
                        <form method="post" action="/checkins/\(checkin.id)/sync">\(context.csrf.field(cookie: cookie))\
                        <button type="submit">Retry</button></form>
                        """)
                }
                page.append("</td><td><a href=\"/checkins/\(String(checkin.id))/edit\">Edit</a></td></tr>")
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
            "id,date,checked_in_at,tag,student,condition,notes,rt_asset_id,rt_ticket_id,rt_status,checked_in_by,"
                + "previous_owner,device_type,serial,student_id"
        ]
        for c in checkins {
            let cells = [
                String(c.id), c.checkedInOn, c.checkedInAt, c.tag, c.student, c.condition, c.notes,
                c.rtAssetID.map(String.init) ?? "", c.rtTicketID.map(String.init) ?? "", c.rtStatus, c.checkedInBy,
                c.previousOwner, c.deviceType, c.serial, c.studentID ?? "",
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
        return JSONAnswer.response(["checkins": checkins])
    }

    /// How the dashboard names a check-in's RT state.
    static func statusLabel(_ status: String) -> String {
        status == "sending" ? "unknown: RT may have been changed" : status
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
