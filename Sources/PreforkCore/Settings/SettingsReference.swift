extension SettingsRegistry {
    /// The settings reference (docs/settings.md) in Markdown: one heading per section, and for
    /// each setting its doc line, flags, environment variables, config-file key, type and default.
    public func markdownReference(title: String) -> String {
        var out = "# \(title)\n\n"
        out += "Every setting can be given on the command line, in the environment or in the config file "
        out += "(`--config`). Precedence, highest first: command line, environment, config file, default. "
        out += "Unknown options, settings and `\(environmentPrefix)*` variables are errors. "
        out += "`print-config` shows the effective value of each setting and where it came from.\n\n"
        out += "This file is generated from the settings registry; edit the declarations, not this file.\n"
        for (section, settings) in sections {
            out += "\n## \(section)\n"
            for setting in settings {
                out += "\n### `\(setting.name)`\n\n\(setting.doc)\n\n"
                var flags = [setting.short.map { "`-\($0)`" }, "`\(setting.flag)`"].compactMap { $0 }
                if let negated = setting.negatedFlag { flags.append("`\(negated)`") }
                flags += setting.aliases.map { "`\($0)` (Gunicorn's spelling)" }
                out += "- Command line: \(flags.joined(separator: ", "))\n"
                if !setting.env.isEmpty {
                    out += "- Environment: \(setting.env.map { "`\($0)`" }.joined(separator: ", "))\n"
                }
                if !SettingsRegistry.commandLineOnly.contains(setting.name) {
                    out += "- Config file: `\(setting.name)`\n"
                }
                out += "- Type: \(setting.typeName)\n"
                let unset = setting.defaultRendered == "\"\""
                out += "- Default: \(unset ? "none (empty)" : "`\(setting.defaultRendered)`")\n"
            }
        }
        return out
    }
}
