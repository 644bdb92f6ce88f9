"""Integration harness: starts the real request-tracker-utils binary on loopback and talks to
it with real clients (raw sockets, curl, wrk). No mocks."""
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

BIN = os.environ.get("PREFORK_BIN") or str(
    Path(__file__).resolve().parents[2] / ".build" / "release" / "request-tracker-utils")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return sorted(int(p) for p in f.read().split())
    except FileNotFoundError:
        return []


class Server:
    """One server process. `log` is the error log file; `access` the access log file."""

    def __init__(self, workdir: Path, args=(), env=None, workers=2, bind=None, wait=True):
        self.workdir = workdir
        self.port = free_port()
        self.bind = bind or f"127.0.0.1:{self.port}"
        self.log_path = workdir / "error.log"
        self.access_path = workdir / "access.log"
        self.args = [BIN, "serve", "--bind", self.bind, "--workers", str(workers),
                     "--error-logfile", str(self.log_path), "--access-logfile", str(self.access_path),
                     "--enable-test-routes", *args]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("PREFORK_")}
        full_env.update({"WORKING_DIR": str(workdir / "var")})
        full_env.update(env or {})
        self.proc = subprocess.Popen(self.args, env=full_env, cwd=workdir,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.workers = workers
        if wait:
            self.wait_ready(workers)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def url(self, path="/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def worker_pids(self) -> list[int]:
        return children(self.pid)

    def wait_ready(self, count=None, timeout=15.0):
        count = count or self.workers

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            return len(self.worker_pids()) == count and self.log().count("Booting worker") >= count \
                and self.try_get("/healthz")
        wait_for(ready, timeout, what=f"{count} workers serving")

    def try_get(self, path):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
                return s.recv(65536).startswith(b"HTTP/1.1 200")
        except OSError:
            return False

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def access_log(self) -> str:
        try:
            return self.access_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def signal(self, sig):
        os.kill(self.pid, sig)

    def stop(self, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()
        return self.proc.returncode


def raw_request(port: int, data: bytes, timeout=5.0) -> bytes:
    """Sends raw bytes and reads until the server closes (or the timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except socket.timeout:
            pass
        return b"".join(chunks)


@pytest.fixture
def server_factory(tmp_path):
    servers = []

    def make(*args, **kwargs):
        srv = Server(tmp_path, *args, **kwargs)
        servers.append(srv)
        return srv
    yield make
    for srv in servers:
        srv.stop()


@pytest.fixture
def server(server_factory):
    return server_factory()
