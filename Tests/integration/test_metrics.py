"""Metrics (issue 14): Prometheus text on `--metrics-bind`, off by default, with the true
totals of every process read from the shared memory: what was sent is what is counted, after a
worker is SIGKILLed and after a reload; any worker answering a scrape gives the same figures;
the application's own swift-metrics counters sit beside the server's. Every scrape is checked
by `promtool check metrics`, and one test has a real Prometheus scrape the server."""
import json
import os
import shutil
import signal
import subprocess
import threading
import urllib.parse
import urllib.request

import pytest

from conftest import free_port, http, run_cli, sign_in, wait_for
from test_app import prepared

PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))   # loopback, never a proxy


def scrape(port, path="/metrics"):
    """GET /metrics on a new connection; returns (text, {name{labels}: value})."""
    answer = http(port, "GET", path, headers={"Connection": "close"})
    assert answer.status == 200, answer.body[:300]
    assert answer.header("content-type", "").startswith("text/plain; version=0.0.4")
    text = answer.body.decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            samples[key] = float(value)
    return text, samples


def promtool_ok(text):
    assert PROMTOOL, "promtool (Debian prometheus) is not installed; .ci/run installs it"
    result = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(), capture_output=True, timeout=30)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()


def send(port, path, count, status):
    for _ in range(count):
        assert http(port, "GET", path).status == status


def metrics_server(server_factory, workers=2, args=()):
    port = free_port()
    srv = server_factory(workers=workers, args=("--metrics-bind", f"127.0.0.1:{port}", *args))
    wait_for(lambda: "Serving metrics at: 127.0.0.1:" in srv.log(), 5, what="the metrics line")
    return srv, port


def test_counts_match_what_was_sent_across_a_worker_kill_and_a_reload(server_factory):
    srv, mport = metrics_server(server_factory)
    text, base = scrape(mport)
    promtool_ok(text)
    assert base['prefork_workers{state="idle"}'] == 2 and base["prefork_requests_in_flight"] == 0
    assert base[f'prefork_listen_backlog{{listener="127.0.0.1:{srv.port}"}}'] == 2048
    assert base["prefork_uptime_seconds"] > 0

    def delta(samples, key):
        return samples[key] - base.get(key, 0)

    send(srv.port, "/hello", 30, 200)
    send(srv.port, "/no-such-page", 10, 404)
    _, now = scrape(mport)
    assert delta(now, "prefork_requests_total") == 40
    assert delta(now, 'prefork_responses_total{code="2xx"}') == 30
    assert delta(now, 'prefork_responses_total{code="4xx"}') == 10

    victim = srv.worker_pids()[0]
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: len(srv.worker_pids()) == 2 and victim not in srv.worker_pids(), 10, what="a replacement")
    text, now = scrape(mport)
    promtool_ok(text)
    assert delta(now, "prefork_requests_total") == 40, "the killed worker's requests are kept"
    assert delta(now, 'prefork_worker_exits_total{cause="killed"}') == 1

    send(srv.port, "/hello", 10, 200)
    before = set(srv.worker_pids())
    srv.signal(signal.SIGHUP)
    wait_for(lambda: "Reload complete" in srv.log() and len(srv.worker_pids()) == 2
             and not set(srv.worker_pids()) & before, 15, what="the reload")
    wait_for(lambda: scrape(mport)[1]['prefork_worker_exits_total{cause="graceful"}'] - base[
        'prefork_worker_exits_total{cause="graceful"}'] == 2, 10, what="2 graceful exits")
    send(srv.port, "/hello", 5, 200)
    # Several scrapes on new connections (any worker may answer): the same true totals each time.
    for _ in range(6):
        text, now = scrape(mport)
        promtool_ok(text)
        assert delta(now, "prefork_requests_total") == 55
        assert delta(now, 'prefork_responses_total{code="2xx"}') == 45
        assert delta(now, 'prefork_responses_total{code="4xx"}') == 10
        assert now["prefork_request_duration_seconds_count"] == now["prefork_requests_total"]
        assert now['prefork_request_duration_seconds_bucket{le="+Inf"}'] == now["prefork_requests_total"]
        assert now['prefork_workers{state="idle"}'] == 2 and now['prefork_workers{state="draining"}'] == 0
        assert delta(now, 'prefork_worker_exits_total{cause="killed"}') == 1


def test_busy_workers_in_flight_and_the_duration_histogram(server_factory):
    srv, mport = metrics_server(server_factory)
    _, base = scrape(mport)
    slow = threading.Thread(target=lambda: http(srv.port, "GET", "/sleep?ms=1500", timeout=10))
    slow.start()
    # Scrapes from several threads: one that the sleeping worker took in the same batch waits for
    # it (a worker runs one handler at a time), the others are answered by the idle worker.
    seen = []
    scrapers = []
    for _ in range(10):
        scrapers.append(threading.Thread(target=lambda: seen.append(scrape(mport)[1])))
        scrapers[-1].start()
        threading.Event().wait(0.1)
    for thread in [slow, *scrapers]:
        thread.join()
    during = [s for s in seen if s["prefork_requests_in_flight"] == 1]
    assert during, seen
    assert all(s['prefork_workers{state="busy"}'] == 1 and s['prefork_workers{state="idle"}'] == 1 for s in during)
    _, after = scrape(mport)
    assert after["prefork_requests_in_flight"] == 0
    # the 1.5 s request is above 1 s and within 2.5 s
    le1 = after['prefork_request_duration_seconds_bucket{le="1"}'] - base['prefork_request_duration_seconds_bucket{le="1"}']
    le25 = after['prefork_request_duration_seconds_bucket{le="2.5"}'] - base[
        'prefork_request_duration_seconds_bucket{le="2.5"}']
    assert (le1, le25) == (0, 1)
    assert after["prefork_request_duration_seconds_sum"] - base["prefork_request_duration_seconds_sum"] >= 1.5


def test_job_workers_and_application_counters(server_factory, tmp_path):
    prepared(tmp_path)
    port = free_port()
    srv = server_factory(workers=2, job_workers=1, args=("--metrics-bind", f"127.0.0.1:{port}"))
    wait_for(lambda: scrape(port)[1]['prefork_workers{state="job"}'] == 1, 10, what="the job worker counted")
    status, _, session = sign_in(srv.port, "tech")
    assert status == 303 and session
    status, _, _ = sign_in(srv.port, "tech", password="not the password")
    assert status == 401
    text, samples = scrape(port)
    promtool_ok(text)
    assert samples['rtu_sign_ins_total{outcome="signed_in"}'] == 1
    assert samples['rtu_sign_ins_total{outcome="refused"}'] == 1
    assert "# TYPE rtu_sign_ins_total counter" in text
    assert samples['prefork_workers{state="idle"}'] == 2


def test_off_by_default(server_factory):
    srv = server_factory(workers=1)
    assert "Serving metrics" not in srv.log()
    assert b"prefork_" not in http(srv.port, "GET", "/metrics").body   # the application's 404, not ours


def test_only_metrics_on_the_metrics_listener(server_factory):
    srv2, mport = metrics_server(server_factory, workers=1)
    assert http(mport, "GET", "/hello").status == 404
    assert http(mport, "POST", "/metrics").status == 405
    # scrapes are not requests of the application: they neither count nor reach the access log
    _, first = scrape(mport)
    _, second = scrape(mport)
    assert first["prefork_requests_total"] == second["prefork_requests_total"]
    assert "/metrics" not in srv2.access_path.read_text()


def test_a_bad_metrics_bind_is_one_clear_line(tmp_path):
    result = run_cli("check-config", "--metrics-bind", "nowhere:port")
    assert result.returncode != 0
    assert "metrics_bind" in result.stderr and "HOST:PORT" in result.stderr


@pytest.mark.skipif(not PROMETHEUS, reason="prometheus is not installed (.ci/run installs it)")
def test_a_real_prometheus_scrapes_the_totals(server_factory, tmp_path):
    srv, mport = metrics_server(server_factory)
    send(srv.port, "/hello", 25, 200)
    web = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        f"scrape_configs:\n  - job_name: prefork\n    static_configs:\n      - targets: ['127.0.0.1:{mport}']\n")
    prometheus = subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{web}"],
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "prometheus.log", "wb"), cwd=tmp_path)
    try:
        def query(expression):
            url = f"http://127.0.0.1:{web}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
            try:
                with DIRECT.open(url, timeout=2) as answer:
                    result = json.load(answer)["data"]["result"]
            except OSError:
                return None
            return float(result[0]["value"][1]) if result else None

        _, samples = scrape(mport)
        expected = samples["prefork_requests_total"]
        assert wait_for(lambda: query('up{job="prefork"}') == 1, 60, what="Prometheus scraping the target") == True
        wait_for(lambda: query('prefork_requests_total{job="prefork"}') == expected, 30,
                 what=f"Prometheus seeing {expected} requests")
        assert query('prefork_workers{job="prefork",state="idle"}') == 2
        assert query('scrape_samples_scraped{job="prefork"}') == len(samples)
    finally:
        prometheus.terminate()
        prometheus.wait(15)
