/// Splits option arguments into (setting, text) occurrences and positional arguments.
///
/// Accepts `--flag value`, `--flag=value`, `-w 4`, `-w4`, switches `--reuse-port` and
/// `--no-reuse-port`, and `--` to end options. A value that starts with `-` must be attached
/// (`--flag=-x`), so a forgotten value is reported instead of swallowing the next option.
struct CommandLineParser {
    struct Occurrence {
        var setting: AnySetting
        /// The flag as typed, for messages: `-w`, `--workers`, `--no-reuse-port`.
        var flag: String
        var text: String
    }

    var occurrences: [Occurrence] = []
    var positional: [String] = []
    var errors: [ConfigurationError] = []

    init(arguments: [String], settings: [AnySetting]) {
        var byFlag: [String: (setting: AnySetting, negated: Bool)] = [:]
        var byShort: [Character: AnySetting] = [:]
        for setting in settings {
            byFlag[setting.flag] = (setting, false)
            if let negated = setting.negatedFlag { byFlag[negated] = (setting, true) }
            if let short = setting.short { byShort[short] = setting }
            for alias in setting.aliases { byFlag[alias] = (setting, false) }
        }
        let knownFlags = settings.flatMap { [$0.flag] + $0.aliases + ($0.negatedFlag.map { [$0] } ?? []) }

        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            if argument == "--" {
                positional += remaining
                return
            }
            if argument.hasPrefix("--") {
                let parts = argument.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let flag = String(parts[0])
                let attached = parts.count > 1 ? String(parts[1]) : nil
                guard let (setting, negated) = byFlag[flag] else {
                    var problem = "unknown option \(flag)"
                    if let guess = Suggestion.closest(to: flag, among: knownFlags) {
                        problem += " (did you mean \(guess)?)"
                    } else {
                        problem += " (check the spelling against the settings reference)"
                    }
                    errors.append(.commandLine(problem))
                    continue
                }
                if negated {
                    if attached != nil {
                        errors.append(.commandLine("\(flag) takes no value (use \(setting.flag)=VALUE to set one)"))
                    } else {
                        occurrences.append(Occurrence(setting: setting, flag: flag, text: "false"))
                    }
                    continue
                }
                take(setting, flag: flag, attached: attached, remaining: &remaining)
            } else if argument.hasPrefix("-") && argument.count > 1 {
                let letter = argument.dropFirst().first!
                let flag = "-" + String(letter)
                guard let setting = byShort[letter] else {
                    errors.append(
                        .commandLine("unknown option \(flag) (check the spelling against the settings reference)"))
                    continue
                }
                let rest = argument.dropFirst(2)
                take(setting, flag: flag, attached: rest.isEmpty ? nil : String(rest), remaining: &remaining)
            } else {
                positional.append(argument)
            }
        }
    }

    private mutating func take(
        _ setting: AnySetting, flag: String, attached: String?, remaining: inout ArraySlice<String>
    ) {
        if let attached {
            occurrences.append(Occurrence(setting: setting, flag: flag, text: attached))
        } else if setting.isSwitch {
            occurrences.append(Occurrence(setting: setting, flag: flag, text: "true"))
        } else if let next = remaining.first, !(next.hasPrefix("-") && next.count > 1) {
            remaining.removeFirst()
            occurrences.append(Occurrence(setting: setting, flag: flag, text: next))
        } else {
            errors.append(.commandLine("\(flag) needs a value"))
        }
    }
}
