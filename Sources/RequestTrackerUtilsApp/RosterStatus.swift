import Prefork
import PreforkCore

/// Who still owes a device: the active roster with each student's latest check-in, filtered,
/// searched and sorted, with the totals by grade (pure: the store reads, this decides).
struct RosterStatus: Sendable {
    struct Entry: Sendable, Equatable {
        var student: RosterCSV.Student
        /// The tag and local day of the student's latest check-in, if any.
        var returnedTag: String?
        var returnedOn: String?
        var returned: Bool { returnedTag != nil }
    }

    struct Filter: Sendable, Equatable {
        enum Sort: String, CaseIterable, Sendable { case name, grade, advisor, status }
        enum Show: String, CaseIterable, Sendable { case all, owed, returned }
        var grade = ""
        var advisor = ""
        var search = ""
        var show = Show.all
        var sort = Sort.name

        init() {}

        init(query: [String: String]) {
            grade = query["grade"]?.trimmingSpaces() ?? ""
            advisor = query["advisor"]?.trimmingSpaces() ?? ""
            search = query["q"]?.trimmingSpaces() ?? ""
            show = Show(rawValue: query["show"] ?? "") ?? .all
            sort = Sort(rawValue: query["sort"] ?? "") ?? .name
        }

        /// The filter as a query string (for links and the CSV export).
        var query: String {
            var pairs: [String] = []
            if !grade.isEmpty { pairs.append("grade=" + PercentEncoding.encode(grade)) }
            if !advisor.isEmpty { pairs.append("advisor=" + PercentEncoding.encode(advisor)) }
            if !search.isEmpty { pairs.append("q=" + PercentEncoding.encode(search)) }
            if show != .all { pairs.append("show=" + show.rawValue) }
            if sort != .name { pairs.append("sort=" + sort.rawValue) }
            return pairs.joined(separator: "&")
        }
    }

    struct Count: Sendable, Equatable {
        var total = 0
        var returned = 0
        var percent: Int { total == 0 ? 0 : returned * 100 / total }
    }

    /// Every active student (the figures do not depend on the filter).
    let entries: [Entry]

    var overall: Count {
        Count(total: entries.count, returned: entries.count { $0.returned })
    }

    /// Per grade, in grade order (numbers as numbers, `K` and other words first).
    var byGrade: [(grade: String, count: Count)] {
        var counts: [String: Count] = [:]
        for entry in entries {
            counts[entry.student.grade, default: Count()].total += 1
            if entry.returned { counts[entry.student.grade, default: Count()].returned += 1 }
        }
        return counts.keys.sorted(by: Self.gradeOrder).map { ($0, counts[$0]!) }
    }

    var grades: [String] { Set(entries.map(\.student.grade)).sorted(by: Self.gradeOrder) }
    var advisors: [String] { Set(entries.map(\.student.advisor)).filter { !$0.isEmpty }.sorted() }

    static func gradeOrder(_ a: String, _ b: String) -> Bool {
        switch (Int(a), Int(b)) {
        case (let x?, let y?): x < y
        case (nil, _?): true
        case (_?, nil): false
        case (nil, nil): a < b
        }
    }

    func matching(_ filter: Filter) -> [Entry] {
        let words = filter.search.lowercased().split(separator: " ").map(String.init)
        let chosen = entries.filter { entry in
            let student = entry.student
            if !filter.grade.isEmpty && student.grade != filter.grade { return false }
            if !filter.advisor.isEmpty && student.advisor != filter.advisor { return false }
            if filter.show == .owed && entry.returned { return false }
            if filter.show == .returned && !entry.returned { return false }
            guard !words.isEmpty else { return true }
            let text = [
                student.studentID, student.firstName, student.lastName, student.username, entry.returnedTag ?? "",
            ]
            .joined(separator: " ").lowercased()
            return words.allSatisfy { text.contains($0) }
        }
        // Each entry's name key is made once (lowercasing in the comparator made 5,000
        // students' sort allocate four strings per comparison), and the sort moves indices,
        // not entries (each a handful of strings to retain and release).
        let names = chosen.map { entry in
            (entry.student.lastName.lowercased(), entry.student.firstName.lowercased(), entry.student.studentID)
        }
        let order: [Int]
        switch filter.sort {
        case .name: order = chosen.indices.sorted { names[$0] < names[$1] }
        case .grade:
            order = chosen.indices.sorted { a, b in
                let (x, y) = (chosen[a].student.grade, chosen[b].student.grade)
                return x == y ? names[a] < names[b] : Self.gradeOrder(x, y)
            }
        case .advisor:
            order = chosen.indices.sorted { a, b in
                let (x, y) = (chosen[a].student.advisor, chosen[b].student.advisor)
                return x == y ? names[a] < names[b] : x < y
            }
        case .status:
            order = chosen.indices.sorted { a, b in
                let (x, y) = (chosen[a].returned, chosen[b].returned)
                return x == y ? names[a] < names[b] : !x
            }
        }
        return order.map { chosen[$0] }
    }

    /// The share returned per grade as an SVG bar chart: black outlines and fill on white,
    /// the figures written beside each bar, so it reads printed in black and white.
    static func chart(_ rows: [(grade: String, count: Count)], into page: inout HTMLWriter) {
        let (barHeight, gap, labelWidth, barWidth) = (22, 8, 80, 400)
        let height = max(1, rows.count) * (barHeight + gap) + gap
        page.append(
            """
            <svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(labelWidth + barWidth + 170) \(height)" \
            role="img" aria-label="Share of devices returned, by grade">
            """)
        for (index, row) in rows.enumerated() {
            let y = gap + index * (barHeight + gap)
            let filled = row.count.total == 0 ? 0 : barWidth * row.count.returned / row.count.total
            page.append(
                """
                <text x="0" y="\(y + 16)" font-size="14">\(row.grade.isEmpty ? "(no grade)" : "Grade \(row.grade)")</text>\
                <rect x="\(labelWidth)" y="\(y)" width="\(barWidth)" height="\(barHeight)" fill="#fff" stroke="#000"/>\
                <rect x="\(labelWidth)" y="\(y)" width="\(filled)" height="\(barHeight)" fill="#000"/>\
                <text x="\(labelWidth + barWidth + 8)" y="\(y + 16)" font-size="14">\(row.count.percent)% \
                (\(row.count.returned) of \(row.count.total))</text>
                """)
        }
        page.append("</svg>")
    }
}
