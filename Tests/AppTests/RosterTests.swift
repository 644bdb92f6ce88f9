import Prefork
import Testing

@testable import RequestTrackerUtilsApp

@Suite struct RosterCSVTests {
    static let header = "student_id,first_name,last_name,username,grade,advisor\n"

    static func read(_ text: String) throws(RosterCSV.Problem) -> RosterCSV.File {
        try RosterCSV.read(Array(text.utf8))
    }

    @Test func readsQuotedFieldsCRLFAndABOM() throws {
        let text =
            "\u{FEFF}Student ID,First Name,Last-Name,username,GRADE,advisor,rt_user_id,homeroom\r\n"
            + "1001,\"Ann, Jr.\",\"O\"\"Neil\",aoneil,9,Smith,42,12\r\n"
            + "1002,Bob,\"Lee\nSmith\", , 10 ,Jones,,\r\n\r\n"
        let file = try Self.read(text)
        #expect(file.ignoredColumns == ["homeroom"])
        #expect(
            file.students == [
                .init(
                    studentID: "1001", firstName: "Ann, Jr.", lastName: "O\"Neil", username: "aoneil", grade: "9",
                    advisor: "Smith", rtUserID: 42),
                .init(
                    studentID: "1002", firstName: "Bob", lastName: "Lee\nSmith", username: "", grade: "10",
                    advisor: "Jones", rtUserID: nil),
            ])
    }

    @Test func refusesWithLineAndReason() {
        let h = Self.header
        let cases: [(String, String)] = [
            ("", "the file is empty"),
            ("student_id,first_name,last_name\n1,a,b\n", "line 1: the header lacks username, grade, advisor"),
            (
                "student_id,first_name,last_name,username,grade,advisor,Student ID\n",
                "line 1: the column student_id appears twice"
            ),
            (h + "1,a,b,u,9,s\n2,c,d,v,9\n", "line 3: 5 fields, but the header has 6"),
            (h + "1,a,b,u,9,s\n1,c,d,v,9,s\n", "line 3: student_id 1 is also on line 2"),
            (h + "1,a,b,u,9,s\n2,c,d,U,9,s\n", "line 3: username U is also on line 2"),
            (h + ",a,b,u,9,s\n", "line 2: student_id is empty"),
            (h + "1,,b,u,9,s\n", "line 2: first_name is empty"),
            (h + "1,a\"x,b,u,9,s\n", "line 2: a quote inside a field"),
            (h + "1,\"a\"x,b,u,9,s\n", "line 2: text after a quoted field"),
            (h + "1,\"a,b,u,9,s\n", "line 2: a quoted field is never closed"),
            (h + "1,a,b,u,9,s\r2,c,d,v,9,s\n", "line 2: a carriage return"),
            (
                "student_id,first_name,last_name,username,grade,advisor,rt_user_id\n1,a,b,u,9,s,x\n",
                "line 2: rt_user_id \"x\" is not an RT user number"
            ),
            (h + "1,a,b,u,9," + String(repeating: "s", count: 201) + "\n", "line 2: advisor is longer than 200"),
        ]
        for (text, expected) in cases {
            do {
                _ = try Self.read(text)
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.description.hasPrefix(expected), "\(text.debugDescription) → \(error.description)")
            }
        }
    }

    @Test func refusesInvalidUTF8WithItsLine() {
        var bytes = Array((Self.header + "1,a,b,u,9,s\n2,c,").utf8)
        bytes += [0xFF, 0xFE] + Array(",v,9,s\n".utf8)
        #expect(throws: RosterCSV.Problem(line: 3, reason: "the file is not UTF-8 text (save it as \"CSV UTF-8\")")) {
            try RosterCSV.read(bytes)
        }
    }

    @Test func refusesOverTheLimits() {
        let big = [UInt8](repeating: 65, count: RosterCSV.maximumBytes + 1)
        #expect(throws: RosterCSV.Problem.self) { try RosterCSV.read(big) }
        var text = Self.header
        for n in 0...RosterCSV.maximumRows { text += "\(n),a,b,,9,s\n" }
        #expect(
            throws: RosterCSV.Problem(
                line: RosterCSV.maximumRows + 2, reason: "more than 20000 students, the most one file may hold")
        ) {
            try Self.read(text)
        }
    }

    @Test func exportReadsBackAsItWas() throws {
        let students: [RosterCSV.Student] = [
            .init(
                studentID: "-7", firstName: "=cmd", lastName: "O'Neil, \"Jr\"", username: "x", grade: "K", advisor: "",
                rtUserID: 5, active: false),
            .init(
                studentID: "8", firstName: "B", lastName: "C", username: "", grade: "12", advisor: "Ms. D",
                rtUserID: nil),
        ]
        let written = RosterCSV.write(students)
        #expect(String(decoding: written, as: UTF8.self).contains("'-7,'=cmd"))
        #expect(try RosterCSV.read(written).students == students)
    }
}

@Suite struct RosterPlanTests {
    static func student(_ id: String, grade: String = "9", active: Bool = true) -> RosterCSV.Student {
        .init(
            studentID: id, firstName: "F\(id)", lastName: "L\(id)", username: "u\(id)", grade: grade, advisor: "A",
            active: active)
    }

    @Test func addsUpdatesAndDeactivates() {
        let existing = Dictionary(
            uniqueKeysWithValues: ["1", "2", "3", "4"].map { ($0, Self.student($0)) } + [
                ("5", Self.student("5", active: false))
            ])
        let file = [Self.student("1"), Self.student("2", grade: "10"), Self.student("5"), Self.student("6")]
        let plan = StudentStore.Plan(file: file, existing: existing)
        #expect(plan.added.map(\.studentID) == ["6"])
        #expect(plan.updated.map(\.studentID) == ["2", "5"])
        #expect(plan.deactivated == ["3", "4"])
        #expect(plan.unchanged == 1)
        #expect(plan.summary == "1 added, 2 updated, 2 made inactive, 1 unchanged")
    }
}

@Suite struct RosterStatusTests {
    static let status = RosterStatus(entries: [
        .init(student: RosterPlanTests.student("1", grade: "10"), returnedTag: "W12-0001", returnedOn: "2026-06-01"),
        .init(student: RosterPlanTests.student("2", grade: "9"), returnedTag: nil, returnedOn: nil),
        .init(student: RosterPlanTests.student("3", grade: "K"), returnedTag: nil, returnedOn: nil),
        .init(student: RosterPlanTests.student("4", grade: "9"), returnedTag: "W12-0002", returnedOn: "2026-06-02"),
    ])

    @Test func figuresByGrade() {
        #expect(Self.status.overall == .init(total: 4, returned: 2))
        #expect(Self.status.overall.percent == 50)
        #expect(Self.status.byGrade.map(\.grade) == ["K", "9", "10"])
        #expect(Self.status.byGrade[1].count == .init(total: 2, returned: 1))
    }

    @Test func filtersSearchesAndSorts() {
        var filter = RosterStatus.Filter()
        filter.show = .owed
        #expect(Self.status.matching(filter).map(\.student.studentID) == ["2", "3"])
        filter = RosterStatus.Filter(query: ["grade": "9", "sort": "status"])
        #expect(Self.status.matching(filter).map(\.student.studentID) == ["2", "4"])
        filter = RosterStatus.Filter(query: ["q": "w12-0002"])
        #expect(Self.status.matching(filter).map(\.student.studentID) == ["4"])
        filter = RosterStatus.Filter(query: ["sort": "grade"])
        #expect(Self.status.matching(filter).map(\.student.studentID) == ["3", "2", "4", "1"])
        #expect(
            RosterStatus.Filter(query: ["grade": "9 & 10", "show": "owed"]).query == "grade=9%20%26%2010&show=owed")
    }

    @Test func chartEscapesAndScales() {
        var page = HTMLWriter()
        RosterStatus.chart([("<b>", .init(total: 4, returned: 1))], into: &page)
        #expect(page.text.contains("Grade &lt;b&gt;"))
        #expect(page.text.contains("width=\"100\" height=\"22\" fill=\"#000\""))
        #expect(page.text.contains("25% (1 of 4)"))
    }
}
