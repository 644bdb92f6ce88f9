import Testing

@testable import PreforkCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct MetricsExpositionTests {
    @Test func histogramBucketsAreCumulativeAndCountEveryRequest() {
        var snapshot = MetricsSnapshot()
        snapshot.durationBuckets[0] = 3  // ≤ 5 ms
        snapshot.durationBuckets[7] = 2  // ≤ 1 s
        snapshot.durationBuckets[11] = 1  // > 10 s
        snapshot.durationSumMicros = 12_500_000
        let text = MetricsExposition.render(snapshot)
        #expect(text.contains("prefork_request_duration_seconds_bucket{le=\"0.005\"} 3\n"))
        #expect(text.contains("prefork_request_duration_seconds_bucket{le=\"0.5\"} 3\n"))
        #expect(text.contains("prefork_request_duration_seconds_bucket{le=\"1\"} 5\n"))
        #expect(text.contains("prefork_request_duration_seconds_bucket{le=\"10\"} 5\n"))
        #expect(text.contains("prefork_request_duration_seconds_bucket{le=\"+Inf\"} 6\n"))
        #expect(text.contains("prefork_request_duration_seconds_count 6\n"))
        #expect(text.contains("prefork_request_duration_seconds_sum 12.5\n"))
    }

    @Test func everyFamilyHasHelpAndTypeAndTheFixedLabels() {
        var snapshot = MetricsSnapshot()
        snapshot.workers = ["idle": 3, "job": 1]
        snapshot.statusClasses = [0, 7, 1, 2, 0]
        snapshot.exits[ExitCause.killed.rawValue] = 1
        snapshot.listeners = [.init(address: "127.0.0.1:8000", queued: 4, backlog: 2048)]
        let text = MetricsExposition.render(snapshot)
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let name = line.prefix { $0 != "{" && $0 != " " }
            let family = ["_bucket", "_sum", "_count"].reduce(String(name)) { name, suffix in
                name.hasSuffix(suffix) && name.hasPrefix("prefork_request_duration")
                    ? String(name.dropLast(suffix.count)) : name
            }
            #expect(text.contains("# HELP \(family) ") && text.contains("# TYPE \(family) "), "\(line)")
        }
        #expect(text.contains("prefork_workers{state=\"idle\"} 3\n"))
        #expect(text.contains("prefork_workers{state=\"busy\"} 0\n"))
        #expect(text.contains("prefork_workers{state=\"job\"} 1\n"))
        #expect(text.contains("prefork_responses_total{code=\"2xx\"} 7\n"))
        #expect(text.contains("prefork_worker_exits_total{cause=\"killed\"} 1\n"))
        #expect(text.contains("prefork_worker_exits_total{cause=\"boot_failed\"} 0\n"))
        #expect(text.contains("prefork_listen_queue{listener=\"127.0.0.1:8000\"} 4\n"))
        #expect(text.contains("prefork_listen_backlog{listener=\"127.0.0.1:8000\"} 2048\n"))
    }

    @Test func applicationMetricsAreGroupedNamedAndEscaped() {
        var snapshot = MetricsSnapshot()
        snapshot.application = [
            AppMetric(name: "rtu_sign_ins_total", labels: "outcome=\"refused\"", kind: .counter, value: 2),
            AppMetric(name: "rtu_sign_ins_total", labels: "outcome=\"signed_in\"", kind: .counter, value: 5),
            AppMetric(name: "rtu_sign_ins_total", labels: "x=\"1\"", kind: .gauge, value: 9),  // another kind: dropped
            AppMetric(name: "rt_call", labels: "", kind: .summary, value: 1.25, count: 4),
        ]
        let text = MetricsExposition.render(snapshot)
        #expect(text.components(separatedBy: "# TYPE rtu_sign_ins_total counter").count == 2)
        #expect(text.contains("rtu_sign_ins_total{outcome=\"signed_in\"} 5\n"))
        #expect(!text.contains("x=\"1\""))
        #expect(text.contains("# TYPE rt_call summary\nrt_call_sum 1.25\nrt_call_count 4\n"))
        #expect(MetricsExposition.metricName("rt.calls-total") == "rt_calls_total")
        #expect(MetricsExposition.metricName("9lives") == "_9lives")
        #expect(
            MetricsExposition.labels([("path", "a\"b\\c\nd"), ("a:b", "x")]) == "path=\"a\\\"b\\\\c\\nd\",a_b=\"x\"")
        #expect(MetricsExposition.number(.nan) == "NaN" && MetricsExposition.number(-.infinity) == "-Inf")
    }

    @Test func exitCausesFollowTheVerdicts() {
        #expect(ExitCause.of(.exited(code: 0), sent: .term, wasReady: true, bootFailureCode: 3) == .graceful)
        #expect(ExitCause.of(.exited(code: 0), sent: .none, wasReady: true, bootFailureCode: 3) == .unexpected)
        #expect(ExitCause.of(.exited(code: 3), sent: .none, wasReady: false, bootFailureCode: 3) == .bootFailed)
        #expect(ExitCause.of(.exited(code: 3), sent: .none, wasReady: true, bootFailureCode: 3) == .error)
        let killed = SupervisionPolicy.Termination.signaled(signal: SIGKILL, coreDumped: false)
        #expect(ExitCause.of(killed, sent: .none, wasReady: true, bootFailureCode: 3) == .killed)
        #expect(ExitCause.of(killed, sent: .kill, wasReady: true, bootFailureCode: 3) == .timeout)
        let aborted = SupervisionPolicy.Termination.signaled(signal: SIGABRT, coreDumped: true)
        #expect(ExitCause.of(aborted, sent: .abort, wasReady: true, bootFailureCode: 3) == .timeout)
        #expect(ExitCause.of(aborted, sent: .none, wasReady: true, bootFailureCode: 3) == .crashed)
        let termed = SupervisionPolicy.Termination.signaled(signal: SIGTERM, coreDumped: false)
        #expect(ExitCause.of(termed, sent: .term, wasReady: true, bootFailureCode: 3) == .graceful)
        #expect(Set(ExitCause.allCases.map(\.label)).count == ExitCause.allCases.count)
        #expect(ExitCause.allCases.count <= 8)  // PREFORK_EXIT_CAUSES
    }
}
