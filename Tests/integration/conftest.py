"""Integration harness: starts the real request-tracker-utils binary on loopback and talks to
it with real clients (raw sockets, curl, wrk). No mocks."""
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

BIN = os.environ.get("PREFORK_BIN") or str(
    Path(__file__).resolve().parents[2] / ".build" / "release" / "request-tracker-utils")


# Production mode needs these; tests that check their absence remove them (env value None).
TEST_SECRET_KEY = "test-only-3f9a1c7e5b2d8f4a6c0e9b7d5f3a1c8e6b4d2f0a9c7e5b3d"
APP_ENV = {"SECRET_KEY": TEST_SECRET_KEY, "ALLOWED_HOSTS": "*"}


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


def assert_stays(predicate, duration, interval=0.05, what="condition"):
    """For properties that are about nothing happening (a worker not killed, a connection not
    accepted): checks `predicate` until `duration` has passed and fails as soon as it is false.
    The duration is the test's stimulus (longer than the timeout in question), not a guess at
    how long something takes."""
    deadline = time.monotonic() + duration
    while True:
        assert predicate(), f"no longer true: {what}"
        if time.monotonic() >= deadline:
            return
        time.sleep(interval)


def _tcp_sockets(port: int):
    """(state, inode) of each TCP socket on this machine whose local port is `port`, from
    /proc/net/tcp{,6}. States: 01 ESTABLISHED, 0A LISTEN."""
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if int(fields[1].rsplit(":", 1)[1], 16) == port:
                        out.append((fields[3], int(fields[9])))
        except FileNotFoundError:
            pass
    return out


def accepted_connections(port: int) -> int:
    """Server-side connections on `port` that a process has accepted. A connection the kernel
    has completed but nobody accepted yet sits in the listener's queue without an inode."""
    return sum(1 for state, inode in _tcp_sockets(port) if state == "01" and inode != 0)


def queued_connections(port: int) -> int:
    """Connections on `port` completed by the kernel but not accepted by any process yet."""
    return sum(1 for state, inode in _tcp_sockets(port) if state == "01" and inode == 0)


def listening_sockets(port: int) -> int:
    """Listening sockets bound to `port` (one shared, plus one per worker with reuse_port)."""
    return sum(1 for state, _ in _tcp_sockets(port) if state == "0A")


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return sorted(int(p) for p in f.read().split())
    except FileNotFoundError:
        return []


def is_job_worker(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"job worker" in f.read()
    except (FileNotFoundError, ProcessLookupError):
        return False


class Server:
    """One server process. `log` is the error log file; `access` the access log file."""

    def __init__(self, workdir: Path, args=(), env=None, workers=2, bind=None, wait=True,
                 test_routes=True, workers_flag=True, host="127.0.0.1", prefix=(), new_session=False,
                 job_workers=0, binary=None):
        """workers_flag=False leaves --workers off the command line (so a config file or the
        environment decides); `workers` is then only the count wait_ready expects. `host` is
        the address it binds and is reached at, `prefix` a command it runs under (`ip netns exec
        NS`, which execs it in place), `new_session` puts the master and its workers in their own
        process group (for one SIGKILL to all of them). `job_workers` is 0 unless a test is
        about them, so that the children are the HTTP workers it counts."""
        self.workdir = workdir
        self.host = host
        self.port = free_port()
        self.bind = bind or f"{host}:{self.port}"
        self.log_path = workdir / "error.log"
        self.access_path = workdir / "access.log"
        self.args = [binary or BIN, "serve", "--bind", self.bind,
                     *(["--workers", str(workers)] if workers_flag else []),
                     *(["--job-workers", str(job_workers)] if job_workers is not None else []),
                     "--error-logfile", str(self.log_path), "--access-logfile", str(self.access_path),
                     *(["--enable-test-routes"] if test_routes else []), *args]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("PREFORK_")}
        full_env.update({"WORKING_DIR": str(workdir / "var"), **APP_ENV})
        full_env.update(env or {})
        full_env = {k: v for k, v in full_env.items() if v is not None}   # None removes a variable
        self.env = full_env
        self.tokens = {}      # role -> API token (auth_headers)
        SERVERS[self.port] = self
        self.proc = subprocess.Popen([*prefix, *self.args], env=full_env, cwd=workdir,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=new_session)
        self.workers = workers
        if wait:
            try:
                self.wait_ready(workers)
            except BaseException:
                self.kill()      # never leak a server whose start failed
                raise

    @property
    def pid(self) -> int:
        return self.proc.pid

    def url(self, path="/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def worker_pids(self) -> list[int]:
        """The HTTP workers (the job workers' process titles say "job worker")."""
        return [pid for pid in children(self.pid) if not is_job_worker(pid)]

    def job_worker_pids(self) -> list[int]:
        return [pid for pid in children(self.pid) if is_job_worker(pid)]

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
            with socket.create_connection((self.host, self.port), timeout=2) as s:
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

    def kill(self):
        """SIGKILL the master and its workers (for a server that failed to start)."""
        for pid in self.worker_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()

    def stop(self, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                for pid in self.worker_pids():
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()
        return self.proc.returncode


# ---------------------------------------------------------------------------------------------
# Signing in. Every application page and API route needs a signed-in user (issue 11); the
# tests make real accounts and tokens with the binary's own `user` command, in the database
# of the server they talk to, and send `Authorization: Bearer TOKEN` as a script would.
# ---------------------------------------------------------------------------------------------
SERVERS: dict = {}          # port -> the Server listening there (the latest one)
_TOKEN_LOCK = threading.Lock()
TEST_PASSWORD = "correct horse battery staple"


def user_cli(env, *args, input=None):
    """`request-tracker-utils user ...` with exactly `env` (a server's environment)."""
    done = subprocess.run([BIN, "user", *args], env=env, capture_output=True, text=True, timeout=60, input=input)
    assert done.returncode == 0, f"user {' '.join(args)} failed: {done.stderr}"
    return done.stdout


def create_user(env, name, role="tech", password=TEST_PASSWORD):
    user_cli(env, "add", name, "--role", role, input=password + "\n")


def create_token(env, name) -> str:
    return user_cli(env, "token", "create", name).strip().splitlines()[-1]


def auth_headers(port, role="tech") -> dict:
    """`Authorization: Bearer ...` for a user of `role` (`tester-tech`, `tester-teacher`) in the
    database of the server on `port`, made on first use (the database must be migrated)."""
    server = SERVERS[port]
    with _TOKEN_LOCK:       # test threads may ask at once; make the user once
        return _auth_headers(server, role)


def _auth_headers(server, role):
    if role not in server.tokens:
        name = f"tester-{role}"
        if name not in user_cli(server.env, "list"):      # a second server on the same database
            create_user(server.env, name, role)
        server.tokens[role] = create_token(server.env, name)
    return {"Authorization": f"Bearer {server.tokens[role]}"}


def sign_in(port, role="tech", host="127.0.0.1", name=None, password=TEST_PASSWORD, next_path="/"):
    """Signs in through the form as a browser does (GET /login for the CSRF cookie and field,
    POST /login); returns (status, headers, session cookie `rtu_session=...` or None). Without
    `name`, as `tester-ROLE`, made on first use."""
    import http.client
    import urllib.parse
    if name is None:
        auth_headers(port, role)
        name = f"tester-{role}"

    def call(method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request(method, path, body=body, headers={"Host": host, **(headers or {})})
            response = conn.getresponse()
            return response.status, [(k.lower(), v) for k, v in response.getheaders()], response.read()
        finally:
            conn.close()
    status, headers, body = call("GET", "/login")
    assert status == 200, body
    csrf_cookie = next(v for k, v in headers if k == "set-cookie").split(";")[0]
    token = re.search(rb'name="csrf_token" value="([0-9a-f]+)"', body).group(1).decode()
    form = urllib.parse.urlencode({"csrf_token": token, "name": name, "password": password, "next": next_path})
    status, headers, body = call("POST", "/login", form.encode(),
                                 {"Content-Type": "application/x-www-form-urlencoded", "Cookie": csrf_cookie})
    session = next((v.split(";")[0] for k, v in headers if k == "set-cookie" and v.startswith("rtu_session=")), None)
    return status, dict(headers), session


def session_cookie(port, role="tech", host="127.0.0.1") -> str:
    """A signed-in session's cookie (`rtu_session=...`) for `tester-ROLE`."""
    status, headers, session = sign_in(port, role, host)
    assert status == 303 and session, (status, headers)
    return session


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


# ---------------------------------------------------------------------------------------------
# Shared helpers for the test modules.
# ---------------------------------------------------------------------------------------------
import re
import shutil
from dataclasses import dataclass, field

HEX16 = re.compile(r"^[0-9a-f]{16}$")
WRK = shutil.which("wrk")
CURL = shutil.which("curl")


@dataclass
class Response:
    status: int
    reason: str
    version: str
    headers: list = field(default_factory=list)   # [(name_lower, value)] in order
    body: bytes = b""
    raw_head: bytes = b""

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return default

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k == name]


class Conn:
    """A raw HTTP/1.x client connection with its own read buffer, for keep-alive and pipelining."""

    def __init__(self, port, timeout=10.0, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data: bytes):
        self.sock.sendall(data)

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def read_head(self) -> Response:
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                raise EOFError(f"connection closed before a complete response head; got {self.buf!r}")
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        version, status, *reason = lines[0].decode("latin-1").split(" ", 2)
        headers = []
        for line in lines[1:]:
            name, _, value = line.decode("latin-1").partition(":")
            headers.append((name.strip().lower(), value.strip()))
        return Response(int(status), reason[0] if reason else "", version, headers, b"", head)

    def read_response(self, head_request=False) -> Response:
        resp = self.read_head()
        if head_request or resp.status in (204, 304) or 100 <= resp.status < 200:
            return resp
        te = resp.header("transfer-encoding")
        if te and "chunked" in te.lower():
            body = b""
            while True:
                while b"\r\n" not in self.buf:
                    if not self._fill():
                        raise EOFError("EOF in chunked body")
                size_line, self.buf = self.buf.split(b"\r\n", 1)
                size = int(size_line.split(b";")[0], 16)
                while len(self.buf) < size + 2:
                    if not self._fill():
                        raise EOFError("EOF in chunk")
                body += self.buf[:size]
                self.buf = self.buf[size + 2:]
                if size == 0:
                    break
            resp.body = body
            return resp
        length = resp.header("content-length")
        if length is None:
            while self._fill():
                pass
            resp.body, self.buf = self.buf, b""
            return resp
        n = int(length)
        while len(self.buf) < n:
            if not self._fill():
                raise EOFError(f"EOF after {len(self.buf)} of {n} body bytes")
        resp.body, self.buf = self.buf[:n], self.buf[n:]
        return resp

    def request(self, method="GET", path="/", headers=None, body=b"", version="HTTP/1.1") -> Response:
        self.send(build_request(method, path, headers, body, version))
        return self.read_response(head_request=(method == "HEAD"))

    def wait_eof(self, timeout=5.0) -> bytes:
        """Reads until the peer closes; returns what arrived. Raises if still open after timeout.
        A connection reset counts as closed."""
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        data = b""
        try:
            while time.monotonic() < deadline:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return self.buf + data
                data += chunk
        except ConnectionResetError:
            return self.buf + data
        except socket.timeout:
            pass
        raise AssertionError(f"connection still open after {timeout}s (received {data!r})")


def build_request(method="GET", path="/", headers=None, body=b"", version="HTTP/1.1") -> bytes:
    hdrs = {"Host": "test"} if version == "HTTP/1.1" else {}
    hdrs.update(headers or {})
    if body and not any(k.lower() in ("content-length", "transfer-encoding") for k in hdrs):
        hdrs["Content-Length"] = str(len(body))
    lines = [f"{method} {path} {version}"] + [f"{k}: {v}" for k, v in hdrs.items() if v is not None]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def http(port, method="GET", path="/", headers=None, body=b"", version="HTTP/1.1", timeout=10.0) -> Response:
    """One request on a fresh connection."""
    with Conn(port, timeout) as c:
        return c.request(method, path, headers, body, version)


def parse_responses(data: bytes) -> list:
    """Parses every complete response in a byte string (Content-Length framed)."""
    out = []
    while data:
        if b"\r\n\r\n" not in data:
            break
        head, rest = data.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        version, status, *reason = lines[0].decode("latin-1").split(" ", 2)
        headers = [(n.strip().lower(), v.strip()) for n, _, v in
                   (ln.decode("latin-1").partition(":") for ln in lines[1:])]
        resp = Response(int(status), reason[0] if reason else "", version, headers, b"", head)
        n = int(resp.header("content-length", "0")) if not (100 <= resp.status < 200) else 0
        resp.body, data = rest[:n], rest[n:]
        out.append(resp)
    return out


def run_cli(*args, env=None, cwd=None, timeout=20, input=None):
    """Runs the binary as a one-shot command with a clean PREFORK_* environment."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PREFORK_") and k != "PORT"}
    full_env.update(APP_ENV)
    full_env.update(env or {})
    full_env = {k: v for k, v in full_env.items() if v is not None}   # None removes a variable
    return subprocess.run([BIN, *args], env=full_env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, input=input)


@dataclass
class WrkResult:
    requests: int
    socket_errors: dict
    non_2xx: int
    output: str


def run_wrk(url, duration=3, connections=16, threads=1, timeout_s=5, headers=(),
            max_requests=None) -> WrkResult:
    return finish_wrk(start_wrk(url, duration, connections, threads, timeout_s, headers,
                                max_requests), duration)


_WRK_LIMIT_SCRIPT = """
local done = 0
function response(status, headers, body)
  done = done + 1
  if done >= %d then wrk.thread:stop() end
end
"""


def start_wrk(url, duration=3, connections=16, threads=1, timeout_s=5, headers=(),
              max_requests=None):
    """Starts wrk in the background; finish with finish_wrk(proc). max_requests (per thread)
    stops wrk early, to bound the volume (e.g. of access-log lines) on a fast machine."""
    assert WRK, "wrk is not installed"
    hdr_args = [a for h in headers for a in ("-H", h)]
    script_args = []
    if max_requests:
        import tempfile
        fd, script = tempfile.mkstemp(suffix=".lua", prefix="wrk-limit-")
        with os.fdopen(fd, "w") as f:
            f.write(_WRK_LIMIT_SCRIPT % max_requests)
        script_args = ["-s", script]
    return subprocess.Popen([WRK, f"-t{threads}", f"-c{connections}", f"-d{duration}s",
                             "--timeout", f"{timeout_s}s", *hdr_args, *script_args, url],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish_wrk(proc, duration=3) -> WrkResult:
    out, _ = proc.communicate(timeout=duration + 30)
    m = re.search(r"(\d+) requests in", out)
    assert m, f"could not parse wrk output:\n{out}"
    errors = {}
    m2 = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m2:
        errors = dict(zip(("connect", "read", "write", "timeout"), map(int, m2.groups())))
    m3 = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return WrkResult(int(m.group(1)), errors, int(m3.group(1)) if m3 else 0, out)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is not alive for our purposes
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    """One server for a whole module, for tests that do not change or break server state."""
    srv = Server(tmp_path_factory.mktemp("shared"), workers=2)
    yield srv
    srv.stop()


# PostgreSQL: the session's cluster and the `backend` parameter (pg_harness.py).
from pg_harness import backend, pg_cluster  # noqa: E402,F401  (fixtures)

# Request Tracker 5: one instance for the whole run (rt_harness.py). Defined here, once: a
# session fixture imported into several modules would be one instance per module.
from rt_harness import rt  # noqa: E402,F401  (fixture)
