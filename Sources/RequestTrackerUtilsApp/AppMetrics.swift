import CoreMetrics

/// The application's own metrics, through swift-metrics: with `metrics_bind` set, Prefork's
/// shared backend adds them to /metrics beside the server's; otherwise they cost nothing.
enum AppMetrics {
    /// `rtu_sign_ins_total{outcome}`: signed_in, refused, throttled, directory_unavailable.
    static func signIn(_ outcome: String) {
        Counter(label: "rtu_sign_ins_total", dimensions: [("outcome", outcome)]).increment()
    }

    /// `rtu_checkins_total{condition}`: device check-ins recorded.
    static func checkIn(condition: String) {
        Counter(label: "rtu_checkins_total", dimensions: [("condition", condition)]).increment()
    }
}
