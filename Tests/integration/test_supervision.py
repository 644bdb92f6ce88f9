"""The master supervises its workers: crashed, killed and hung workers are replaced and the
reason logged; a worker that cannot boot stops the master."""
import os
import re
import signal
import socket
import subprocess
import time

import pytest

from conftest import Conn, Server, build_request, http, pid_alive, wait_for


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
    time.sleep(2.5)
    assert srv.log().count("WORKER TIMEOUT") == 1, srv.log()
    assert http(srv.port, "GET", "/hello").status == 200


def test_idle_workers_survive_timeout(server_factory):
    srv = server_factory(args=["--timeout", "1"], workers=2)
    pids = srv.worker_pids()
    deadline = time.monotonic() + 3.5
    while time.monotonic() < deadline:
        assert http(srv.port, "GET", "/healthz").status == 200
        time.sleep(0.3)
    assert srv.worker_pids() == pids
    assert "WORKER TIMEOUT" not in srv.log()


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
