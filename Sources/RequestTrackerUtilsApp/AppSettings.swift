import PreforkCore

/// The application's settings, declared once like the server's.
enum AppSettings {
    static let workingDir = SettingKey<String>(
        "working_dir", section: "Application", env: ["WORKING_DIR"], default: "var",
        doc: "Directory for the SQLite database, collected static files, uploads and logs; created if missing.")

    static let all: [AnySetting] = [workingDir.any] + RTSettings.all
}
