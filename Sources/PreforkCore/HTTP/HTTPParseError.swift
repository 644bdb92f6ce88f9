/// A request the server refuses. Its `kind` names what was wrong; the response status (400,
/// 413, 414, 431, 501 or 505) and the phrase for the error log follow from the kind, so the
/// parser, the chunked decoder and their tests speak in kinds, never in strings.
public struct HTTPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What made the request unacceptable: one case per distinct reason.
    public enum Kind: Sendable, Hashable, CaseIterable {
        // Line endings (anywhere in the head or a chunked body).
        /// A CR not followed by LF.
        case bareCR
        /// An LF without its CR.
        case bareLF

        // The request line.
        /// More than `HTTPRequestHeadParser.maxLeadingEmptyLines` CRLFs before the request line.
        case tooManyEmptyLines
        /// The request line starts with a byte that cannot start a method.
        case invalidMethod
        /// A method token with a byte that is not a tchar.
        case invalidCharacterInMethod
        /// The request line ends (CR) before method, target and version are all there.
        case incompleteRequestLine
        /// The request line ends after the target.
        case missingHTTPVersion
        /// Two spaces after the method.
        case emptyRequestTarget
        /// A byte that may not appear in a request target.
        case invalidCharacterInTarget
        /// A target that is neither origin-, absolute-, authority- nor asterisk-form.
        case invalidRequestTarget
        /// `*` with a method other than OPTIONS.
        case asteriskFormNotOptions
        /// `http://` with nothing before the path.
        case absoluteFormWithoutAuthority
        /// CONNECT with a target other than host:port.
        case invalidConnectTarget
        /// Not `HTTP/` DIGIT `.` DIGIT.
        case invalidHTTPVersion
        /// A well-formed version other than HTTP/1.0 and HTTP/1.1 (505).
        case versionNotSupported
        /// Longer than the `limit_request_line` setting (414).
        case requestLineTooLong

        // Header fields.
        /// More fields than the `limit_request_fields` setting (431).
        case tooManyFields
        /// A field line longer than the `limit_request_field_size` setting (431).
        case fieldTooLarge
        /// The whole head is larger than the worker's buffer for it (431).
        case headTooLarge
        /// The first field line starts with whitespace.
        case whitespaceBeforeFirstField
        /// A field line starts with whitespace (obs-fold).
        case obsoleteLineFolding
        /// A field line starting with a colon.
        case emptyFieldName
        /// Whitespace between a field name and its colon (also in trailers).
        case whitespaceBeforeColon
        /// A field line with no colon.
        case fieldLineWithoutColon
        /// A byte in a field name that is not a tchar.
        case invalidCharacterInFieldName
        /// A control byte in a field value.
        case invalidCharacterInFieldValue

        // Header field semantics.
        /// An HTTP/1.1 request without Host.
        case missingHost
        case duplicateHost
        /// A Host with whitespace or bytes outside visible ASCII.
        case invalidHost
        case duplicateContentLength
        case emptyContentLength
        /// A Content-Length that is not a single run of digits.
        case invalidContentLength
        /// A Content-Length beyond what an Int holds.
        case contentLengthOutOfRange
        /// Both Content-Length and Transfer-Encoding: a smuggling attempt.
        case contentLengthAndTransferEncoding
        case transferEncodingInHTTP10
        case emptyTransferEncoding
        /// A second Transfer-Encoding field (501).
        case duplicateTransferEncoding
        /// A transfer coding other than a lone `chunked` (501).
        case unsupportedTransferCoding
        /// A body over the `limit_request_body` setting, declared or decoded (413).
        case bodyTooLarge

        // Chunked bodies.
        case invalidChunkSize
        /// More than 16 hex digits, or more than an Int holds.
        case chunkSizeOutOfRange
        /// Whitespace after a chunk size that no extension follows.
        case whitespaceAfterChunkSize
        case invalidChunkExtension
        /// A chunk-size line longer than `ChunkedDecoder.maxChunkLine`.
        case chunkLineTooLong
        /// Chunk data longer than its size says.
        case missingCRLFAfterChunkData
        case obsoleteLineFoldingInTrailer
        case invalidCharacterInTrailerName
        case invalidCharacterInTrailerValue
        /// More trailer fields than `ChunkedDecoder.maxTrailerFields` (431).
        case tooManyTrailerFields
        /// A trailer field longer than `ChunkedDecoder.maxTrailerLine` (431).
        case trailerFieldTooLarge
    }

    public var kind: Kind

    public init(_ kind: Kind) {
        self.kind = kind
    }

    /// The response status sent before the connection closes.
    public var status: Int {
        switch kind {
        case .bodyTooLarge: 413
        case .requestLineTooLong: 414
        case .tooManyFields, .fieldTooLarge, .headTooLarge, .tooManyTrailerFields, .trailerFieldTooLarge: 431
        case .duplicateTransferEncoding, .unsupportedTransferCoding: 501
        case .versionNotSupported: 505
        default: 400
        }
    }

    /// The phrase the error log gives after the status (operators and tests read these words).
    public var reason: String {
        switch kind {
        case .bareCR: "bare CR"
        case .bareLF: "bare LF"
        case .tooManyEmptyLines: "too many empty lines before the request line"
        case .invalidMethod: "invalid or empty method"
        case .invalidCharacterInMethod: "invalid character in method"
        case .incompleteRequestLine: "incomplete request line"
        case .missingHTTPVersion: "missing HTTP version"
        case .emptyRequestTarget: "empty request target"
        case .invalidCharacterInTarget: "invalid character in request target"
        case .invalidRequestTarget: "invalid request target"
        case .asteriskFormNotOptions: "asterisk-form target is only allowed for OPTIONS"
        case .absoluteFormWithoutAuthority: "absolute-form target without authority"
        case .invalidConnectTarget: "CONNECT target must be host:port"
        case .invalidHTTPVersion: "invalid HTTP version"
        case .versionNotSupported: "HTTP version not supported"
        case .requestLineTooLong: "request line too long"
        case .tooManyFields: "too many header fields"
        case .fieldTooLarge: "header field too large"
        case .headTooLarge: "request head larger than the limits allow"
        case .whitespaceBeforeFirstField: "whitespace before the first field line"
        case .obsoleteLineFolding: "obsolete line folding"
        case .emptyFieldName: "empty field name"
        case .whitespaceBeforeColon: "whitespace between field name and colon"
        case .fieldLineWithoutColon: "field line without colon"
        case .invalidCharacterInFieldName: "invalid character in field name"
        case .invalidCharacterInFieldValue: "invalid character in field value"
        case .missingHost: "missing Host"
        case .duplicateHost: "duplicate Host"
        case .invalidHost: "invalid Host"
        case .duplicateContentLength: "duplicate Content-Length"
        case .emptyContentLength: "empty Content-Length"
        case .invalidContentLength: "invalid Content-Length"
        case .contentLengthOutOfRange: "Content-Length out of range"
        case .contentLengthAndTransferEncoding: "both Content-Length and Transfer-Encoding"
        case .transferEncodingInHTTP10: "Transfer-Encoding in an HTTP/1.0 request"
        case .emptyTransferEncoding: "empty Transfer-Encoding"
        case .duplicateTransferEncoding: "duplicate Transfer-Encoding"
        case .unsupportedTransferCoding: "unsupported transfer coding"
        case .bodyTooLarge: "body too large"
        case .invalidChunkSize: "invalid chunk size"
        case .chunkSizeOutOfRange: "chunk size out of range"
        case .whitespaceAfterChunkSize: "whitespace after chunk size"
        case .invalidChunkExtension: "invalid chunk extension"
        case .chunkLineTooLong: "chunk size line too long"
        case .missingCRLFAfterChunkData: "missing CRLF after chunk data"
        case .obsoleteLineFoldingInTrailer: "obsolete line folding in trailer"
        case .invalidCharacterInTrailerName: "invalid character in trailer field name"
        case .invalidCharacterInTrailerValue: "invalid character in trailer field value"
        case .tooManyTrailerFields: "too many trailer fields"
        case .trailerFieldTooLarge: "trailer field too large"
        }
    }

    public var description: String { "\(status) \(reason)" }
}
