"""The master supervises its workers: crashed, killed and hung workers are replaced and the
reason logged; a worker that cannot boot stops the master."""
import os
import re
import signal
import socket
import subprocess
import time

import pytest

from conftest import (Conn, Server, accepted_connections, assert_stays, build_request, http, pid_alive,
                      wait_for)


def wait_replaced(srv, old_pid, count, timeout=15):
    def ok():
        pids = srv.worker_pids()
        return len(pids) == count and old_pid not in pids and pids
    return wait_for(ok, timeout, what=f"worker {old_pid} replaced, {count} workers")


def test_kill9_worker_replaced(server_factory):
    srv = server_factory(workers=2)
    before = srv.worker_pids()
    victim = before[0]
    os.kill(victim, signal.SIGKILL)
    after = wait_replaced(srv, victim, 2)
    assert before[1] in after
    new = [p for p in after if p not in before]
    assert len(new) == 1
    line = wait_for(lambda: next((l for l in srv.log().splitlines()
                                  if "ERROR" in l and "perhaps out of memory" in l), None),
                    10, what="'perhaps out of memory' ERROR")
    assert str(victim) in line
    wait_for(lambda: srv.log().count("Booting worker") >= 3, 10, what="booting log of replacement")
    assert http(srv.port, "GET", "/hello").status == 200


def test_crash_route_worker_replaced(server_factory):
    srv = server_factory(workers=2)
    before = srv.worker_pids()
    with Conn(srv.port) as c:
        c.send(build_request("GET", "/crash"))
        c.wait_eof(10)   # worker dies: EOF or reset, no response
    wait_for(lambda: "crashed with SIGILL" in srv.log(), 10, what="'crashed with SIGILL' in log")
    wait_for(lambda: len(srv.worker_pids()) == 2 and set(srv.worker_pids()) != set(before), 15,
             what="a replacement worker")
    assert len(set(srv.worker_pids()) - set(before)) == 1
    assert http(srv.port, "GET", "/hello").status == 200


def test_crash_gives_no_response(server_factory):
    srv = server_factory(workers=1)
    with Conn(srv.port) as c:
        c.send(build_request("GET", "/crash"))
        assert c.wait_eof(10) == b""
    srv.wait_ready(1)


def test_repeated_kills_survive(server_factory):
    srv = server_factory(workers=2)
    for _ in range(4):
        victim = srv.worker_pids()[0]
        os.kill(victim, signal.SIGKILL)
        wait_replaced(srv, victim, 2)
    assert srv.proc.poll() is None
    wait_for(lambda: http(srv.port, "GET", "/healthz").status == 200, 10, what="serving")


def test_worker_timeout_killed_and_replaced(server_factory):
    srv = server_factory(args=["--timeout", "1"], workers=2)
    before = srv.worker_pids()
    with Conn(srv.port, timeout=20) as c:
        c.send(build_request("GET", "/sleep?ms=5000"))
        got = c.wait_eof(15)
        assert got == b"", f"expected no response from the killed worker, got {got!r}"
    line = wait_for(lambda: next((l for l in srv.log().splitlines() if "WORKER TIMEOUT" in l), None),
                    10, what="WORKER TIMEOUT line")
    assert "GET /sleep" in line, line
    assert "request_id=" in line, line
    wait_for(lambda: len(srv.worker_pids()) == 2 and set(srv.worker_pids()) != set(before), 15,
             what="replacement after timeout")
    # idle workers are not killed by the timeout (they are not silent, they are idle)
    after = srv.worker_pids()
    assert_stays(lambda: srv.log().count("WORKER TIMEOUT") == 1 and srv.worker_pids() == after, 2.5,
                 what="no further WORKER TIMEOUT while the workers are idle")
    assert http(srv.port, "GET", "/hello").status == 200


def test_idle_workers_survive_timeout(server_factory):
    srv = server_factory(args=["--timeout", "1"], workers=2)
    pids = srv.worker_pids()
    # a request every 0.3 s (the stimulus) for over 3 timeouts: the same workers answer each
    assert_stays(lambda: http(srv.port, "GET", "/healthz").status == 200 and srv.worker_pids() == pids
                 and "WORKER TIMEOUT" not in srv.log(), 3.5, interval=0.3,
                 what="the same workers serving, no WORKER TIMEOUT")


def test_worker_boot_failure_stops_master(tmp_path):
    srv = Server(tmp_path, env={"WORKING_DIR": "/proc/forbidden/x"}, workers=2, wait=False)
    try:
        rc = srv.proc.wait(20)
    except subprocess.TimeoutExpired:
        srv.stop()
        pytest.fail("master did not exit after its workers failed to boot")
    finally:
        srv.stop()
    assert rc == 3, f"exit code {rc}\n{srv.log()}"
    assert "failed to boot" in srv.log()
    # no worker is left behind and the port is free again
    booted = [int(m) for m in re.findall(r"Booting worker with pid: (\d+)", srv.log())]
    assert booted
    wait_for(lambda: not any(pid_alive(p) for p in booted), 10, what="all workers gone")
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", srv.port))


def test_boot_timeout_setting_accepted(server_factory):
    srv = server_factory(args=["--boot-timeout", "5"], workers=1)
    assert http(srv.port, "GET", "/hello").status == 200


def _log_line(srv, pattern, timeout=10):
    """The first error-log line matching the regex `pattern`, waited for."""
    regex = re.compile(pattern)
    return wait_for(lambda: next((l for l in srv.log().splitlines() if regex.search(l)), None),
                    timeout, what=f"a log line matching {pattern!r}")


def _seconds_in(line, pattern):
    return float(re.search(pattern, line).group(1))


# --- boot_timeout --------------------------------------------------------------------------

def test_worker_hanging_at_boot_is_killed_at_boot_timeout_and_replaced(server_factory, tmp_path):
    """TEST_HANG_AT_BOOT (test routes only) makes the first worker hang in its boot, as an app
    waiting on a lock would. The master kills it once boot_timeout has passed, says so, and
    starts a replacement, which boots and serves (docs/operations.md: 'did not boot within')."""
    marker = tmp_path / "hang-at-boot"
    srv = server_factory(workers=1, args=["--boot-timeout", "1"], wait=False,
                         env={"TEST_HANG_AT_BOOT": str(marker)})
    hung = wait_for(lambda: marker.exists() and srv.worker_pids(), 10, what="a worker hanging in its boot")[0]
    killed = _log_line(srv, rf"\[ERROR\] worker {hung} did not boot within [\d.]+s \(boot_timeout\); sending SIGKILL")
    assert 1.0 <= _seconds_in(killed, r"within ([\d.]+)s") < 1.5, killed   # the master looks every 0.2 s
    _log_line(srv, rf"\[WARNING\] worker {hung} was killed by SIGKILL after a timeout; replacing it")
    wait_for(lambda: not pid_alive(hung), 5, what=f"hung worker {hung} gone")
    srv.wait_ready(1)                                   # the replacement boots and serves
    assert hung not in srv.worker_pids()
    assert srv.proc.poll() is None, "a worker killed at boot_timeout is replaced, the master keeps running"
    assert "failed to boot" not in srv.log()
    assert http(srv.port, "GET", "/hello").status == 200


# --- timeout: SIGABRT, then SIGKILL --------------------------------------------------------

def _stuck_request(srv, target, wait):
    """Sends GET `target` and waits for the connection to end: (what came back, seconds taken)."""
    with Conn(srv.port, timeout=20) as c:
        started = time.monotonic()
        c.send(build_request("GET", target))
        got = c.wait_eof(wait)
        return got, time.monotonic() - started


def test_stuck_worker_ends_at_sigabrt_without_answering(server_factory):
    """A request over `timeout` gets the worker SIGABRT, which ends it at once: the kill lands
    within timeout + 1 s and the stuck request never gets its response (the Swift runtime's
    backtracer used to keep an aborted worker running long enough to finish it)."""
    srv = server_factory(workers=1, args=["--timeout", "1"])
    (worker,) = srv.worker_pids()
    got, took = _stuck_request(srv, "/sleep?ms=2000", wait=10)
    assert got == b"", f"the stuck request was answered: {got!r}"
    assert took < 1 + 1.0, f"the worker ended {took:.2f}s after the request started (timeout 1 s)"
    timeout_line = _log_line(srv, rf"\[ERROR\] WORKER TIMEOUT: worker {worker} spent [\d.]+s on GET /sleep "
                                  r"\(request_id=\w+\), over the 1.0s timeout; sending SIGABRT")
    assert 1.0 <= _seconds_in(timeout_line, r"spent ([\d.]+)s") < 1.5, timeout_line
    _log_line(srv, rf"\[WARNING\] worker {worker} was killed by SIGABRT after a timeout; replacing it")
    assert "still alive after SIGABRT" not in srv.log()
    assert not pid_alive(worker)
    wait_for(lambda: len(srv.worker_pids()) == 1 and worker not in srv.worker_pids(), 10, what="a replacement")
    assert http(srv.port, "GET", "/hello").status == 200


def test_worker_surviving_sigabrt_gets_sigkill(server_factory):
    """A handler that SIGABRT cannot end (here: it blocks the signal) gets SIGKILL 2 s later."""
    srv = server_factory(workers=1, args=["--timeout", "1"])
    (worker,) = srv.worker_pids()
    got, took = _stuck_request(srv, "/sleep?ms=10000&mask_abort=1", wait=15)
    assert got == b"", f"the stuck request was answered: {got!r}"
    assert 1 + 2 <= took < 1 + 2 + 1.0, f"SIGKILL landed {took:.2f}s after the request started"
    _log_line(srv, rf"\[ERROR\] WORKER TIMEOUT: worker {worker} spent .* sending SIGABRT")
    _log_line(srv, rf"\[ERROR\] worker {worker} still alive after SIGABRT; sending SIGKILL")
    _log_line(srv, rf"\[WARNING\] worker {worker} was killed by SIGKILL after a timeout; replacing it")
    wait_for(lambda: len(srv.worker_pids()) == 1 and worker not in srv.worker_pids(), 10, what="a replacement")
    assert http(srv.port, "GET", "/hello").status == 200


# --- graceful_timeout ----------------------------------------------------------------------

def test_graceful_timeout_expiry_on_stop_kills_the_busy_worker_and_exits(server_factory):
    """TERM while a request runs longer than graceful_timeout: the worker is killed at the
    deadline, the master says so and exits 0 (docs/operations.md, TERM)."""
    srv = server_factory(workers=1, args=["--graceful-timeout", "1"])
    (worker,) = srv.worker_pids()
    with Conn(srv.port, timeout=20) as c:
        c.send(build_request("GET", "/sleep?ms=10000"))
        wait_for(lambda: accepted_connections(srv.port) == 1, 5, what="the request accepted")
        started = time.monotonic()
        srv.signal(signal.SIGTERM)
        try:
            rc = srv.proc.wait(10)
        except subprocess.TimeoutExpired:
            pytest.fail(f"master still running 10 s after TERM with graceful_timeout 1\n{srv.log()}")
        took = time.monotonic() - started
        assert c.wait_eof(5) == b"", "the request cut off at graceful_timeout was answered"
    assert rc == 0, srv.log()
    # the worker gets graceful_timeout; the master's deadline is 1 s later
    assert 1.0 <= took < 1 + 1 + 1.0, f"stopped {took:.2f}s after TERM"
    log = srv.log()
    assert "Handling signal: term; shutting down gracefully" in log
    killed = re.search(rf"\[WARNING\] worker {worker} did not stop in time \(graceful_timeout\); sending SIGKILL",
                       log)
    assert killed, log
    assert "Shutting down: master" in log[killed.end():], log[-500:]
    assert not pid_alive(worker)


def test_graceful_timeout_expiry_on_reload_kills_the_old_worker(server_factory):
    """HUP while an old worker serves a request longer than graceful_timeout: the new worker
    serves at once; the old one is killed once its drain outlives graceful_timeout."""
    srv = server_factory(workers=1, args=["--graceful-timeout", "1"])
    (old,) = srv.worker_pids()
    with Conn(srv.port, timeout=20) as c:
        c.send(build_request("GET", "/sleep?ms=10000"))
        wait_for(lambda: accepted_connections(srv.port) == 1, 5, what="the request accepted")
        srv.signal(signal.SIGHUP)
        _log_line(srv, rf"Stopping worker {old} gracefully: replaced by generation 2")
        assert http(srv.port, "GET", "/hello").status == 200      # the new generation serves
        killed = _log_line(srv, rf"\[WARNING\] worker {old} still draining after [\d.]+s \(graceful_timeout\); "
                                r"sending SIGKILL")
        assert c.wait_eof(5) == b"", "the request cut off at graceful_timeout was answered"
    # killed after graceful_timeout, by the master's backstop 2 s later at the latest
    assert 1.0 <= _seconds_in(killed, r"after ([\d.]+)s") < 1 + 2 + 0.5, killed
    wait_for(lambda: not pid_alive(old), 5, what=f"old worker {old} gone")
    assert srv.proc.poll() is None
    assert len(srv.worker_pids()) == 1
    assert http(srv.port, "GET", "/hello").status == 200
