import PreforkCore
import RequestTracker

/// The settings that connect the app to Request Tracker (section "Request Tracker").
enum RTSettings {
    static let url = SettingKey<String>(
        "rt_url", section: "Request Tracker", env: ["RT_URL"], default: "",
        doc: "RT's web address, such as https://tickets.example.org; empty turns the RT features off.",
        validate: { url in
            url.isEmpty || url.lowercased().hasPrefix("https://") || url.lowercased().hasPrefix("http://")
                ? nil : "RT_URL must start with https:// (or http://)"
        })
    static let apiEndpoint = SettingKey<String>(
        "rt_api_endpoint", section: "Request Tracker", env: ["RT_API_ENDPOINT"], default: "/REST/2.0",
        doc: "Path of RT's REST 2.0 API below RT_URL.")
    static let token = SettingKey<String>(
        "rt_token", section: "Request Tracker", env: ["RT_TOKEN"], default: "",
        doc:
            "RT auth token (RT: Logged in as > Settings > Auth Tokens); used instead of RT_USERNAME/RT_PASSWORD when set.",
        secret: true)
    static let username = SettingKey<String>(
        "rt_username", section: "Request Tracker", env: ["RT_USERNAME"], default: "",
        doc: "RT user name for basic authentication, when there is no RT_TOKEN.")
    static let password = SettingKey<String>(
        "rt_password", section: "Request Tracker", env: ["RT_PASSWORD"], default: "",
        doc: "Password of RT_USERNAME.", secret: true)
    static let timeout = SettingKey<Seconds>(
        "rt_timeout", section: "Request Tracker", env: ["RT_TIMEOUT"], default: 10,
        doc:
            "Seconds one call to RT may take in all (name resolution, connect, TLS and each of its HTTP requests) "
            + "before the page reports RT as too slow.",
        validate: { $0.value > 0 ? nil : "RT_TIMEOUT must be more than 0 seconds" })
    static let caFile = SettingKey<String>(
        "rt_ca_file", section: "Request Tracker", env: ["RT_CA_FILE"], default: "",
        doc:
            "PEM file of CA certificates to trust for RT (an RT behind a private CA): libcurl's CAINFO, in place of its "
            + "default bundle; Debian's libcurl still trusts /etc/ssl/certs too.")
    static let repairQueue = SettingKey<String>(
        "rt_repair_queue", section: "Request Tracker", env: ["RT_REPAIR_QUEUE"], default: "General",
        doc: "RT queue that repair tickets for damaged devices are opened in.")
    static let checkinOwner = SettingKey<String>(
        "rt_checkin_owner", section: "Request Tracker", env: ["RT_CHECKIN_OWNER"], default: "Nobody",
        doc: "RT user who owns a device once it is checked in (RT's unassigned user Nobody, or the IT team's user).")

    static let all: [AnySetting] = [
        url.any, apiEndpoint.any, token.any, username.any, password.any, timeout.any, caFile.any,
        repairQueue.any, checkinOwner.any,
    ]

    static let missingCredentials = "no credentials: set RT_TOKEN (or RT_USERNAME and RT_PASSWORD)"

    /// Whether RT is on (RT_URL set) without a token or user name: the one rule both the
    /// master's check and ``client(from:)`` apply (the master makes no client: no libcurl
    /// before the fork).
    static func lacksCredentials(_ configuration: Configuration) -> Bool {
        !configuration[url].isEmpty && configuration[token].isEmpty && configuration[username].isEmpty
    }

    /// The RT client the settings describe; nil when RT_URL is empty (RT features off).
    static func client(from configuration: Configuration) throws(RTError) -> RTClient? {
        let address = configuration[url]
        guard !address.isEmpty else { return nil }
        guard !lacksCredentials(configuration) else { throw RTError(.configuration, url: address, missingCredentials) }
        let authentication: RTClient.Authentication
        if !configuration[token].isEmpty {
            authentication = .token(configuration[token])
        } else {
            authentication = .basic(user: configuration[username], password: configuration[password])
        }
        let caPath = configuration[caFile]
        return try RTClient(
            .init(
                url: address, apiPath: configuration[apiEndpoint], authentication: authentication,
                timeout: configuration[timeout].value, caFile: caPath.isEmpty ? nil : caPath))
    }
}
