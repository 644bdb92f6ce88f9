"""Signals to the master, as an operator sends them: TERM (graceful), INT/QUIT (fast), HUP (reload,
also of the config file), TTIN/TTOU (scale), USR1 (reopen logs)."""
import os
import socket
import signal
import subprocess
import time

import pytest

from conftest import (Conn, accepted_connections, build_request, finish_wrk, http, pid_alive, start_wrk,
                      wait_for)


def _sleep_requests(port, n, ms):
    """Opens n connections each with GET /sleep?ms=... in flight; returns them once the
    workers have accepted all n (the requests are already in their buffers then)."""
    conns = []
    for _ in range(n):
        c = Conn(port, timeout=30)
        c.send(build_request("GET", f"/sleep?ms={ms}"))
        conns.append(c)
    wait_for(lambda: accepted_connections(port) >= n, 10, what=f"{n} connections accepted by the workers")
    return conns


def _wait_exit(srv, timeout):
    try:
        return srv.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"master still running {timeout}s after the signal\n{srv.log()}")


def test_term_finishes_in_flight_requests(server_factory):
    srv = server_factory(workers=2)
    workers = srv.worker_pids()
    conns = _sleep_requests(srv.port, 3, 1500)
    try:
        srv.signal(signal.SIGTERM)
        for c in conns:
            r = c.read_response()
            assert r.status == 200, r
        rc = _wait_exit(srv, 20)
    finally:
        for c in conns:
            c.close()
    assert rc == 0, srv.log()
    assert not any(pid_alive(p) for p in workers)


def test_term_idle_exits_zero(server_factory):
    srv = server_factory(workers=2)
    workers = srv.worker_pids()
    srv.signal(signal.SIGTERM)
    assert _wait_exit(srv, 15) == 0
    wait_for(lambda: not any(pid_alive(p) for p in workers), 5, what="workers gone")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGQUIT])
def test_int_quit_fast_exit(server_factory, sig):
    srv = server_factory(workers=2, args=["--graceful-timeout", "30"])
    workers = srv.worker_pids()
    conns = _sleep_requests(srv.port, 1, 20000)
    try:
        srv.signal(sig)
        # fast: does not wait for the 20 s request nor for the 30 s graceful timeout
        _wait_exit(srv, 12)
        data = conns[0].wait_eof(5)
        assert not data.startswith(b"HTTP/1.1 200"), "in-flight request completed on a fast exit"
    finally:
        for c in conns:
            c.close()
    assert srv.proc.returncode == 0
    wait_for(lambda: not any(pid_alive(p) for p in workers), 5, what="workers gone")


def test_hup_under_load_no_errors(server_factory):
    srv = server_factory(workers=2)
    before = srv.worker_pids()
    wrk = start_wrk(srv.url("/hello"), duration=4, connections=16)
    wait_for(lambda: srv.access_log().count("GET /hello") >= 100, 10, what="wrk's requests being served")
    srv.signal(signal.SIGHUP)
    result = finish_wrk(wrk, 4)
    assert result.requests > 0, result.output
    assert sum(result.socket_errors.values()) == 0, result.output
    assert result.non_2xx == 0, result.output
    assert "reloading configuration" in srv.log().lower()
    after = wait_for(lambda: (len(srv.worker_pids()) == 2 and srv.worker_pids()), 10, what="2 workers")
    assert not set(after) & set(before), f"old workers still there: before={before} after={after}"
    wait_for(lambda: not any(pid_alive(p) for p in before), 15, what="old workers gone")
    assert srv.proc.poll() is None


def test_hup_replaces_all_workers(server_factory):
    srv = server_factory(workers=2)
    before = srv.worker_pids()
    srv.signal(signal.SIGHUP)
    wait_for(lambda: len(srv.worker_pids()) == 2 and not set(srv.worker_pids()) & set(before),
             15, what="all workers replaced")
    assert http(srv.port, "GET", "/hello").status == 200
    assert srv.proc.poll() is None


def test_hup_reloads_config_file(server_factory, tmp_path):
    cfg = tmp_path / "f.toml"
    cfg.write_text("workers = 2\n")
    srv = server_factory(workers=2, workers_flag=False, args=["--config", str(cfg)])
    before = srv.worker_pids()
    cfg.write_text("workers = 3\n")
    srv.signal(signal.SIGHUP)
    wait_for(lambda: len(srv.worker_pids()) == 3 and not set(srv.worker_pids()) & set(before),
             15, what="3 new workers after the config change")
    assert "reloading configuration" in srv.log().lower()
    assert http(srv.port, "GET", "/hello").status == 200


def test_hup_bad_config_refused(server_factory, tmp_path):
    cfg = tmp_path / "f.toml"
    cfg.write_text("workers = 2\n")
    srv = server_factory(workers=2, workers_flag=False, args=["--config", str(cfg)])
    before = srv.worker_pids()
    cfg.write_text('workers = "abc"\n')
    srv.signal(signal.SIGHUP)
    line = wait_for(lambda: next((l for l in srv.log().splitlines()
                                  if "ERROR" in l and "reload refused" in l), None),
                    10, what="'reload refused' ERROR")
    assert "workers" in srv.log().split("reload refused", 1)[1], srv.log()
    # the refusal is the whole of the master's reaction to that HUP: nothing else follows it
    assert srv.worker_pids() == before
    assert http(srv.port, "GET", "/hello").status == 200
    assert srv.proc.poll() is None
    # a later valid change is still picked up
    cfg.write_text("workers = 1\n")
    srv.signal(signal.SIGHUP)
    wait_for(lambda: len(srv.worker_pids()) == 1 and not set(srv.worker_pids()) & set(before),
             15, what="1 new worker after fixing the config")


def test_hup_keeps_cli_over_file(server_factory, tmp_path):
    """On reload the command line still wins over the (changed) file."""
    cfg = tmp_path / "f.toml"
    cfg.write_text("workers = 3\n")
    srv = server_factory(workers=1, args=["--config", str(cfg)])
    before = srv.worker_pids()
    cfg.write_text("workers = 4\n")
    srv.signal(signal.SIGHUP)
    wait_for(lambda: "Reload complete: generation 2 is serving" in srv.log(), 15, what="reload complete")
    assert "starting 1 worker(s) of generation 2" in srv.log()
    wait_for(lambda: len(srv.worker_pids()) == 1 and not set(srv.worker_pids()) & set(before),
             15, what="1 new worker (the --workers 1 from the command line)")


def test_ttin_ttou(server_factory):
    srv = server_factory(workers=2)
    srv.signal(signal.SIGTTIN)
    wait_for(lambda: len(srv.worker_pids()) == 3, 10, what="3 workers after TTIN")
    srv.signal(signal.SIGTTIN)
    wait_for(lambda: len(srv.worker_pids()) == 4, 10, what="4 workers after 2nd TTIN")
    for expected in (3, 2, 1):
        srv.signal(signal.SIGTTOU)
        wait_for(lambda: len(srv.worker_pids()) == expected, 10, what=f"{expected} workers after TTOU")
    # never below 1: the master says so, each time
    srv.signal(signal.SIGTTOU)
    wait_for(lambda: srv.log().count("Handling signal: ttou; already at 1 worker") == 1, 10, what="1st refusal")
    srv.signal(signal.SIGTTOU)
    wait_for(lambda: srv.log().count("Handling signal: ttou; already at 1 worker") == 2, 10, what="2nd refusal")
    assert len(srv.worker_pids()) == 1
    assert http(srv.port, "GET", "/hello").status == 200
    assert srv.proc.poll() is None


def test_usr1_reopens_error_log(server_factory):
    srv = server_factory(workers=2)
    os.rename(srv.log_path, srv.log_path.with_name("error.log.1"))
    srv.signal(signal.SIGUSR1)
    wait_for(lambda: srv.log_path.exists(), 10, what="new error.log")
    # a master line (TTIN) and a worker line (/error) both land in the new file
    srv.signal(signal.SIGTTIN)
    wait_for(lambda: len(srv.worker_pids()) == 3, 10, what="3 workers")
    wait_for(lambda: "Booting worker" in srv.log(), 10, what="master line in new error.log")
    # make sure every worker has reopened: hit /error several times on fresh connections
    rids = []
    for _ in range(6):
        r = http(srv.port, "GET", "/error")
        assert r.status == 500
        rids.append(r.header("x-request-id"))
    wait_for(lambda: all(f"request_id={rid}" in srv.log() for rid in rids), 10,
             what="all /error lines in new error.log")
    old = srv.log_path.with_name("error.log.1").read_text()
    assert not any(f"request_id={rid}" in old for rid in rids)


def test_usr1_reopens_access_log(server_factory):
    srv = server_factory(workers=2)
    assert http(srv.port, "GET", "/hello").status == 200
    wait_for(lambda: "GET /hello" in srv.access_log(), 10, what="first access line")
    rotated = srv.access_path.with_name("access.log.1")
    os.rename(srv.access_path, rotated)
    srv.signal(signal.SIGUSR1)
    wait_for(lambda: srv.access_path.exists(), 10, what="new access.log")
    rids = [http(srv.port, "GET", "/healthz").header("x-request-id") for _ in range(6)]
    wait_for(lambda: all(rid in srv.access_log() for rid in rids), 10, what="lines in new access.log")
    assert not any(rid in rotated.read_text() for rid in rids)
    assert srv.proc.poll() is None and len(srv.worker_pids()) == 2


def test_term_closes_busy_keepalive_with_connection_close(server_factory):
    """During a graceful stop a kept-alive connection that keeps sending is not cut mid-request:
    every request gets an answer, one of them says Connection: close, then the server closes."""
    srv = server_factory(workers=1)
    with Conn(srv.port, timeout=15) as c:
        assert c.request("GET", "/hello").status == 200
        srv.signal(signal.SIGTERM)
        closing = None
        for i in range(40):                      # bounded: ~4 s of requests every 0.1 s
            r = c.request("GET", "/hello")
            assert r.status == 200 and r.body == b"Hello, World!", f"request {i} after TERM: {r}"
            if r.header("connection", "").lower() == "close":
                closing = i
                break
            time.sleep(0.1)   # the stimulus: a client that keeps sending, one request every 0.1 s
        assert closing is not None, "no response said Connection: close during the drain"
        assert c.wait_eof(5) == b""
    assert _wait_exit(srv, 20) == 0


def test_second_int_during_graceful_stop_is_fast(server_factory):
    srv = server_factory(workers=1, args=["--graceful-timeout", "30"])
    conns = _sleep_requests(srv.port, 1, 20000)
    try:
        srv.signal(signal.SIGTERM)
        wait_for(lambda: "Handling signal: term; shutting down gracefully" in srv.log(), 10, what="the TERM line")
        assert srv.proc.poll() is None   # still draining the 20 s request
        srv.signal(signal.SIGINT)
        assert _wait_exit(srv, 12) == 0
    finally:
        conns[0].close()


def test_hup_reload_with_unbootable_workers_keeps_old(server_factory, tmp_path):
    """A valid configuration whose workers cannot boot: the old workers keep serving."""
    cfg = tmp_path / "f.toml"
    cfg.write_text(f'workers = 2\nworking_dir = "{tmp_path / "var"}"\n')
    srv = server_factory(workers=2, workers_flag=False, args=["--config", str(cfg)],
                         env={"WORKING_DIR": None})
    before = srv.worker_pids()
    # several new workers, so more than one of them fails before the master reacts
    cfg.write_text('workers = 4\nworking_dir = "/proc/forbidden/x"\n')
    srv.signal(signal.SIGHUP)
    wait_for(lambda: "of the reloaded configuration failed to boot; keeping the previous" in srv.log(), 10,
             what="the reload abandoned")
    # the new generation's workers are killed and reaped; the old ones never stopped
    wait_for(lambda: srv.worker_pids() == before, 10, what="only the old workers left")
    assert srv.proc.poll() is None, srv.log()
    assert http(srv.port, "GET", "/hello").status == 200
    # fixing the file and reloading again works
    cfg.write_text(f'workers = 2\nworking_dir = "{tmp_path / "var"}"\n')
    srv.signal(signal.SIGHUP)
    wait_for(lambda: len(srv.worker_pids()) == 2 and not set(srv.worker_pids()) & set(before),
             15, what="new workers after fixing the config")
