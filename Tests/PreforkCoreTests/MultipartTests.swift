import Testing

@testable import PreforkCore

@Suite struct MultipartTests {
    static let boundary = "----form7MA4YWxkTrZu0gW"

    static func body(_ text: String) -> [UInt8] { Array(text.replacingCRLF().utf8) }

    @Test func boundaryFromTheContentType() {
        #expect(Multipart.boundary(contentType: "multipart/form-data; boundary=abc") == "abc")
        #expect(Multipart.boundary(contentType: "Multipart/Form-Data;boundary=\"a b:c\"") == "a b:c")
        #expect(Multipart.boundary(contentType: "multipart/form-data") == nil)
        #expect(Multipart.boundary(contentType: "multipart/mixed; boundary=abc") == nil)
        #expect(
            Multipart.boundary(contentType: "multipart/form-data; boundary=" + String(repeating: "x", count: 71)) == nil
        )
        #expect(Multipart.boundary(contentType: "multipart/form-data; boundary=a{b") == nil)
    }

    @Test func fieldsAndAFile() throws {
        let body = Self.body(
            """
            --\(Self.boundary)
            Content-Disposition: form-data; name="csrf_token"

            abc123
            --\(Self.boundary)
            Content-Disposition: form-data; name="file"; filename="roster; 2026.csv"
            Content-Type: text/csv

            student_id,first_name
            1,Ann

            --\(Self.boundary)--
            epilogue ignored
            """)
        let parts = try Multipart.parse(body, boundary: Self.boundary)
        #expect(parts.count == 2)
        #expect(parts[0] == Multipart.Part(name: "csrf_token", body: Array("abc123".utf8)))
        #expect(parts[1].name == "file")
        #expect(parts[1].filename == "roster; 2026.csv")
        #expect(parts[1].contentType == "text/csv")
        #expect(parts[1].text == "student_id,first_name\r\n1,Ann\r\n")
    }

    @Test func emptyFormAndEmptyPart() throws {
        #expect(try Multipart.parse(Self.body("--\(Self.boundary)--\n"), boundary: Self.boundary).isEmpty)
        let parts = try Multipart.parse(
            Self.body("--\(Self.boundary)\nContent-Disposition: form-data; name=\"a\"\n\n\n--\(Self.boundary)--"),
            boundary: Self.boundary)
        #expect(parts == [Multipart.Part(name: "a", body: [])])
    }

    @Test func refusals() {
        let b = Self.boundary
        let cases: [(String, MultipartError)] = [
            ("preamble\n--\(b)--", .noFirstBoundary),
            ("--\(b)x\nContent-Disposition: form-data; name=\"a\"\n\nv\n--\(b)--", .badBoundaryLine),
            ("--\(b)\nContent-Disposition: form-data; name=\"a\"\n\nv", .unterminated),
            ("--\(b)\nContent-Disposition: form-data; name=\"a\"\n\nv\n--\(b)", .unterminated),
            ("--\(b)\nContent-Type: text/plain\n\nv\n--\(b)--", .noDisposition),
            ("--\(b)\nContent-Disposition: attachment; name=\"a\"\n\nv\n--\(b)--", .noDisposition),
            ("--\(b)\nContent-Disposition: form-data; name=\"\"\n\nv\n--\(b)--", .noDisposition),
            ("--\(b)\nContent-Disposition: form-data; name=\"a\"\n folded\n\nv\n--\(b)--", .badHeader(" folded")),
            ("--\(b)\nno colon here\n\nv\n--\(b)--", .badHeader("no colon here")),
        ]
        for (text, expected) in cases {
            #expect(throws: expected, "\(text)") { try Multipart.parse(Self.body(text), boundary: b) }
        }
    }

    @Test func limits() {
        let b = Self.boundary
        let part = "--\(b)\nContent-Disposition: form-data; name=\"a\"\n\nv\n"
        let three = Self.body(String(repeating: part, count: 3) + "--\(b)--")
        #expect(throws: MultipartError.tooManyParts(2)) {
            try Multipart.parse(three, boundary: b, limits: .init(parts: 2))
        }
        let long = Self.body(
            "--\(b)\nContent-Disposition: form-data; name=\"\(String(repeating: "n", count: 300))\"\n\nv\n--\(b)--")
        #expect(throws: MultipartError.headersTooLarge(100)) {
            try Multipart.parse(long, boundary: b, limits: .init(headerBytes: 100))
        }
    }

    @Test func dispositionParameters() {
        let (type, parameters) = Multipart.dispositionParameters(#"form-data; name="a\"b"; filename=plain.csv"#)
        #expect(type == "form-data")
        #expect(parameters == ["name": "a\"b", "filename": "plain.csv"])
    }
}

extension String {
    /// Test bodies are written with LF; the wire has CRLF.
    fileprivate func replacingCRLF() -> String {
        var out = ""
        for character in self {
            if character == "\n" { out += "\r\n" } else { out.append(character) }
        }
        return out
    }
}
