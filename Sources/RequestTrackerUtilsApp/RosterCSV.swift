/// The student roster as a CSV file (RFC 4180: commas, fields quoted with `"` and quotes
/// doubled, CRLF or LF line ends), read strictly: the first problem refuses the whole file with
/// its line number and reason, so an import changes everything or nothing.
///
/// Columns (header names are matched without case; spaces and hyphens read as `_`, so
/// `Student ID` is `student_id`): `student_id`, `first_name`, `last_name`, `username`, `grade`,
/// `advisor`, and optionally `rt_user_id` (a number) and `active` (`no` keeps a student on the
/// roster as inactive: the export writes it, so an export imports as it was). Other columns are ignored and named in the
/// preview. A UTF-8 byte-order mark is skipped; a leading `'` before `=`, `+`, `-` or `@` (how
/// the exports guard against spreadsheet formulas) is dropped.
enum RosterCSV {
    static let maximumBytes = 4 * 1024 * 1024
    static let maximumRows = 20_000
    static let maximumFieldLength = 200
    static let requiredColumns = ["student_id", "first_name", "last_name", "username", "grade", "advisor"]
    static let optionalColumns = ["rt_user_id", "active"]

    struct Student: Sendable, Equatable {
        var studentID: String
        var firstName: String
        var lastName: String
        var username: String
        var grade: String
        var advisor: String
        var rtUserID: Int?
        var active = true
    }

    struct File: Sendable, Equatable {
        var students: [Student]
        var ignoredColumns: [String]
    }

    /// Why a file was refused: "line 12: …", or the whole file's problem without a line.
    struct Problem: Error, Equatable, CustomStringConvertible {
        var line: Int?
        var reason: String
        var description: String { line.map { "line \($0): \(reason)" } ?? reason }
    }

    static func read(_ data: [UInt8]) throws(Problem) -> File {
        guard data.count <= maximumBytes else {
            throw Problem(reason: "the file is \(data.count) bytes, over the limit of \(maximumBytes)")
        }
        var bytes = data[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        try checkUTF8(bytes)
        var records = try Records(bytes).all()
        while let last = records.last, last.fields == [""] { records.removeLast() }
        guard let header = records.first, header.fields != [""] else { throw Problem(reason: "the file is empty") }
        let columns = try columnIndexes(header.fields)
        var students: [Student] = []
        var lineOfID: [String: Int] = [:]
        var lineOfUsername: [String: Int] = [:]
        for record in records.dropFirst() where record.fields != [""] {
            guard students.count < maximumRows else {
                throw Problem(
                    line: record.line, reason: "more than \(maximumRows) students, the most one file may hold")
            }
            let student = try self.student(record, columns: columns, width: header.fields.count)
            if let earlier = lineOfID.updateValue(record.line, forKey: student.studentID) {
                throw Problem(line: record.line, reason: "student_id \(student.studentID) is also on line \(earlier)")
            }
            if !student.username.isEmpty,
                let earlier = lineOfUsername.updateValue(record.line, forKey: student.username.lowercased())
            {
                throw Problem(line: record.line, reason: "username \(student.username) is also on line \(earlier)")
            }
            students.append(student)
        }
        let known = Set(requiredColumns + optionalColumns)
        return File(students: students, ignoredColumns: header.fields.map(columnName).filter { !known.contains($0) })
    }

    static func columnName(_ field: String) -> String {
        String(field.trimmingSpaces().lowercased().map { $0 == " " || $0 == "-" ? "_" : $0 })
    }

    private static func columnIndexes(_ header: [String]) throws(Problem) -> [String: Int] {
        var indexes: [String: Int] = [:]
        for (index, field) in header.enumerated() {
            let name = columnName(field)
            if !name.isEmpty, indexes.updateValue(index, forKey: name) != nil {
                throw Problem(line: 1, reason: "the column \(name) appears twice in the header")
            }
        }
        let missing = requiredColumns.filter { indexes[$0] == nil }
        guard missing.isEmpty else {
            throw Problem(
                line: 1,
                reason: "the header lacks \(missing.joined(separator: ", ")) (it needs "
                    + "\(requiredColumns.joined(separator: ", ")), and may have rt_user_id)")
        }
        return indexes
    }

    private static func student(_ record: Record, columns: [String: Int], width: Int) throws(Problem) -> Student {
        guard record.fields.count == width else {
            throw Problem(line: record.line, reason: "\(record.fields.count) fields, but the header has \(width)")
        }
        var values: [String: String] = [:]
        for (name, index) in columns {
            var value = record.fields[index].trimmingSpaces()
            if value.hasPrefix("'"), let second = value.dropFirst().first, "=+-@".contains(second) {
                value.removeFirst()
            }
            guard value.count <= maximumFieldLength else {
                throw Problem(line: record.line, reason: "\(name) is longer than \(maximumFieldLength) characters")
            }
            values[name] = value
        }
        for name in ["student_id", "first_name", "last_name"] where values[name, default: ""].isEmpty {
            throw Problem(line: record.line, reason: "\(name) is empty")
        }
        var rtUserID: Int?
        if let text = values["rt_user_id"], !text.isEmpty {
            guard let number = Int(text), number > 0 else {
                throw Problem(line: record.line, reason: "rt_user_id \"\(text)\" is not an RT user number")
            }
            rtUserID = number
        }
        var active = true
        switch values["active", default: ""].lowercased() {
        case "", "yes", "true", "1": break
        case "no", "false", "0": active = false
        case let other: throw Problem(line: record.line, reason: "active \"\(other)\" is neither yes nor no")
        }
        return Student(
            studentID: values["student_id"]!, firstName: values["first_name"]!, lastName: values["last_name"]!,
            username: values["username"]!, grade: values["grade"]!, advisor: values["advisor"]!, rtUserID: rtUserID,
            active: active)
    }

    private static func checkUTF8(_ bytes: ArraySlice<UInt8>) throws(Problem) {
        guard String(validating: bytes, as: UTF8.self) == nil else { return }
        var line = 1
        var start = bytes.startIndex
        for index in bytes.indices where bytes[index] == 10 {
            if String(validating: bytes[start..<index], as: UTF8.self) == nil { break }
            line += 1
            start = index + 1
        }
        throw Problem(line: line, reason: "the file is not UTF-8 text (save it as \"CSV UTF-8\")")
    }

    struct Record: Equatable {
        var line: Int
        var fields: [String]
    }

    /// The tokenizer: records with the line each starts on.
    struct Records {
        let bytes: ArraySlice<UInt8>
        init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

        func all() throws(Problem) -> [Record] {
            var records: [Record] = []
            var fields: [String] = []
            var field: [UInt8] = []
            var line = 1
            var recordLine = 1
            var index = bytes.startIndex
            var quoted = false
            var afterQuote = false
            func endField() {
                fields.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
                afterQuote = false
            }
            while index < bytes.endIndex {
                let byte = bytes[index]
                index += 1
                if quoted {
                    if byte == 34 {
                        if index < bytes.endIndex, bytes[index] == 34 {
                            field.append(34)
                            index += 1
                        } else {
                            quoted = false
                            afterQuote = true
                        }
                    } else {
                        if byte == 10 { line += 1 }
                        field.append(byte)
                    }
                    continue
                }
                switch byte {
                case 44: endField()
                case 13:
                    guard index < bytes.endIndex, bytes[index] == 10 else {
                        throw Problem(line: line, reason: "a carriage return that does not end a line")
                    }
                case 10:
                    endField()
                    records.append(Record(line: recordLine, fields: fields))
                    fields.removeAll()
                    line += 1
                    recordLine = line
                case 34:
                    guard field.isEmpty, !afterQuote else {
                        throw Problem(
                            line: line,
                            reason: "a quote inside a field that does not start with one (quote the whole field)")
                    }
                    quoted = true
                default:
                    guard !afterQuote else {
                        throw Problem(line: line, reason: "text after a quoted field's closing quote")
                    }
                    field.append(byte)
                }
            }
            guard !quoted else { throw Problem(line: recordLine, reason: "a quoted field is never closed") }
            if !field.isEmpty || !fields.isEmpty || afterQuote {
                endField()
                records.append(Record(line: recordLine, fields: fields))
            }
            return records
        }
    }

    /// The roster as CSV, in the columns `read` takes.
    static func write(_ students: [Student]) -> [UInt8] {
        var lines = [(requiredColumns + optionalColumns).joined(separator: ",")]
        for student in students {
            let cells = [
                student.studentID, student.firstName, student.lastName, student.username, student.grade,
                student.advisor, student.rtUserID.map(String.init) ?? "", student.active ? "yes" : "no",
            ]
            lines.append(cells.map(CSVText.cell).joined(separator: ","))
        }
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }
}
