/// The signal tables of README.md and docs/operations.md, rendered from `SignalTable.all`.
/// Each table sits between two markers in the markdown:
///
///     <!-- BEGIN GENERATED signals:readme (make docs) -->
///     …
///     <!-- END GENERATED signals -->
///
/// `regenerate(_:)` replaces what lies between them; a test fails when a file differs from it.
extension SignalTable {
    /// The tables a marker can ask for.
    public enum MarkdownTable: String, Sendable, CaseIterable {
        /// The short table of the README: what an operator sends.
        case readme
        /// The full table of docs/operations.md: master, workers, log lines.
        case operations
    }

    static let endMarker = "<!-- END GENERATED signals -->"

    static func beginMarker(_ table: MarkdownTable) -> String {
        "<!-- BEGIN GENERATED signals:\(table.rawValue) (make docs) -->"
    }

    /// The table's markdown, ending with a newline.
    public static func markdown(_ table: MarkdownTable) -> String {
        var lines: [String]
        switch table {
        case .readme:
            lines = ["| Signal | Meaning (as in Gunicorn) |", "|---|---|"]
            for entry in all where entry.audience == .operatorCommand {
                lines.append("| `\(entry.name)` | \(entry.summary) |")
            }
        case .operations:
            lines = [
                "| Signal | What happens | What a worker does | What you see in the error log |",
                "|---|---|---|---|",
            ]
            for entry in all where entry.audience != .logOnly {
                lines.append(
                    "| `\(entry.name)` | \(entry.meaning) | \(workerDescription(entry)) | \(entry.logLine) |")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func workerDescription(_ entry: SignalEntry) -> String {
        if let note = entry.workerNote { return note }
        switch entry.worker {
        case .drain:
            return "Drains: stops accepting, answers the next request on each connection with "
                + "`Connection: close`, exits when none is left or at `graceful_timeout`."
        case .exitNow: return "Exits at once, closing its connections."
        case .reopenLogs: return "Reopens the access and error logs."
        case .ignored: return "Ignored."
        case .notHandled: return "Default action."
        case .defaultAction: return "Default action (reset after fork)."
        }
    }

    /// `document` with every marked signal table replaced by the current one. Text outside the
    /// markers is kept byte for byte; a document without markers comes back unchanged.
    public static func regenerate(_ document: String) -> String {
        var lines = document.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var index = 0
        while index < lines.count {
            guard let table = MarkdownTable.allCases.first(where: { lines[index] == beginMarker($0) }),
                let end = lines[(index + 1)...].firstIndex(of: endMarker)
            else {
                index += 1
                continue
            }
            var generated = markdown(table).split(separator: "\n").map(String.init)
            generated.append(endMarker)
            lines.replaceSubrange((index + 1)...end, with: generated)
            index += generated.count + 1
        }
        return lines.joined(separator: "\n")
    }
}
