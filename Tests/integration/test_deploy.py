"""The Debian deployment as shipped in config/ and scripts/install.sh: the hardened unit and
its socket under a REAL systemd 252 (Tests/systemd/harness.sh, as in test_systemd.py), the
real nginx (Debian's nginx-light) in front with the shipped site config, and the real RT.

What is adapted, and only that (see `adapt_service()`): the unit's binary path (a copy in
/usr/local/lib, because PrivateTmp= hides /tmp), its StateDirectory= name and WORKING_DIR
(/var/lib/rtu-test-deploy-PORT, removed afterwards), the secrets file path, the port, the
socket unit's name, and --workers 2. nginx runs as its Debian `user www-data` from a temp
nginx.conf that includes the shipped site with its port, upstream port, static alias and log
paths substituted. Every substitution must match, so a change to the shipped files that
breaks one fails here instead of silently testing something else.

Needs root (skipped otherwise); creates the system user rtutils if missing, as
scripts/install.sh would."""
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import TEST_SECRET_KEY, finish_wrk, free_port, http, start_wrk, wait_for
from test_systemd import UNIT_DIR, Systemd, harness

REPO = Path(__file__).resolve().parents[2]
SERVICE = REPO / "config" / "systemd" / "request-tracker-utils.service"
SOCKET = REPO / "config" / "systemd" / "request-tracker-utils.socket"
BACKUP = REPO / "config" / "systemd" / "request-tracker-utils-backup.service"
BACKUP_TIMER = REPO / "config" / "systemd" / "request-tracker-utils-backup.timer"
NGINX_SITE = REPO / "config" / "nginx" / "request-tracker-utils.conf"
SECRETS_EXAMPLE = REPO / "config" / "secrets.env.example"
MANAGE = REPO / "config" / "bin" / "request-tracker-utils-manage"
INSTALL = REPO / "scripts" / "install.sh"
SOURCE_BIN = os.environ.get("PREFORK_BIN") or str(REPO / ".build" / "release" / "request-tracker-utils")
BIN_DIR = Path("/usr/local/lib/rtu-test-deploy")
BIN = BIN_DIR / "request-tracker-utils"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
HOST = "rtutils.example.org"
# systemd 252 takes --threshold on the internal 0..100 scale: 20 is the 2.0 that it prints.
SECURITY_THRESHOLD = 20

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="systemd harness, useradd and nginx need root"),
    pytest.mark.skipif(not os.access("/lib/systemd/systemd", os.X_OK), reason="systemd is not installed"),
    pytest.mark.skipif(not os.access(NGINX, os.X_OK), reason="nginx is not installed (nginx-light)"),
]


def replace_once(text, old, new):
    assert text.count(old) >= 1, f"the shipped file no longer contains {old!r}: update the test"
    return text.replace(old, new)


def adapt_service(text, base, secrets):
    """The shipped service's text with the test's binary, state directory, secrets file and
    socket unit, and two workers."""
    for old, new in [("/usr/local/bin/request-tracker-utils", str(BIN)),
                     ("/var/lib/request-tracker-utils", f"/var/lib/{base}"),
                     ("StateDirectory=request-tracker-utils request-tracker-utils/logs",
                      f"StateDirectory={base} {base}/logs"),
                     ("/etc/request-tracker-utils/secrets.env", str(secrets)),
                     ("request-tracker-utils.socket", f"{base}.socket"),
                     ("--workers 4", "--workers 2")]:
        text = replace_once(text, old, new)
    return text


def adapt_socket(text, port):
    return replace_once(text, "ListenStream=127.0.0.1:8000", f"ListenStream=127.0.0.1:{port}")


def ensure_service_user():
    try:
        pwd.getpwnam("rtutils")
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                        "--home-dir", "/var/lib/request-tracker-utils",
                        "--shell", "/usr/sbin/nologin", "rtutils"], check=True)


class Deployment:
    """The server under systemd (shipped units, adapted) and nginx in front of it."""

    def __init__(self, sd: Systemd, workroot: Path, rt_env: dict):
        self.sd = sd
        self.workroot = workroot
        self.port = free_port()                       # the server (socket unit)
        self.nginx_port = free_port()
        self.base = f"rtu-test-deploy-{self.port}"
        self.service = f"{self.base}.service"
        self.socket = f"{self.base}.socket"
        self.state = Path("/var/lib") / self.base
        self.secrets = workroot / "secrets.env"
        settings = {"SECRET_KEY": TEST_SECRET_KEY, "ALLOWED_HOSTS": f"{HOST},127.0.0.1", **rt_env}
        self.secrets.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
        self.secrets.chmod(0o400)
        self.nginx_proc = None
        self.auth = {}      # Authorization for a technology-staff user, once the service runs

    # --- the server
    def manage(self, *args, stdin_text=None):
        """A one-off command as docs/deployment.md tells operators to run it: the shipped
        request-tracker-utils-manage (adapted like the unit), as root."""
        script = self.workroot / "request-tracker-utils-manage"
        if not script.exists():
            text = MANAGE.read_text()
            for old, new in [("/usr/local/bin/request-tracker-utils", str(BIN)),
                             ("/var/lib/request-tracker-utils", str(self.state)),
                             ("/etc/request-tracker-utils/secrets.env", str(self.secrets))]:
                text = replace_once(text, old, new)
            script.write_text(text)
            script.chmod(0o755)
        shell = shlex.join([str(script), *args])
        if stdin_text is not None:
            shell = f"printf '%s\\n' {shlex.quote(stdin_text)} | {shell}"
        done = self.sd.run("sh", "-c", shell, timeout=60)
        assert done.returncode == 0, f"{args}: {done.stdout}{done.stderr}"
        return done.stdout

    def sign_in_as_tech(self):
        """The first administrator, made as docs/deployment.md says, and an API token."""
        self.manage("user", "add", "admin", "--role", "tech", stdin_text="deploy test password 1")
        token = self.manage("user", "token", "create", "admin").strip().splitlines()[-1]
        self.auth = {"Authorization": f"Bearer {token}"}

    def install_units(self):
        self.sd.install(self.socket, adapt_socket(SOCKET.read_text(), self.port))
        self.sd.install(self.service, adapt_service(SERVICE.read_text(), self.base, self.secrets))

    def access_log(self) -> str:
        path = self.state / "logs" / "access.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def error_log(self) -> str:
        path = self.state / "logs" / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def main_pid(self) -> int:
        return int(self.sd.show(self.service, "MainPID"))

    def workers(self) -> set:
        """The HTTP workers (the job worker is left out)."""
        return set(self.sd.procs(self.service)) - {self.main_pid()} - self.sd.job_workers(self.service)

    # --- nginx
    def start_nginx(self):
        d = self.workroot / "nginx"
        d.mkdir()
        site = NGINX_SITE.read_text()
        for old, new in [("    listen [::]:80;\n", ""),
                         ("listen 80;", f"listen 127.0.0.1:{self.nginx_port};"),
                         ("server 127.0.0.1:8000;", f"server 127.0.0.1:{self.port};"),
                         ("alias /var/lib/request-tracker-utils/static/;", f"alias {self.state}/static/;"),
                         ("/var/log/nginx/request-tracker-utils.", f"{d}/")]:
            site = replace_once(site, old, new)
        (d / "site.conf").write_text(site)
        temp = "\n".join(f"    {kind}_temp_path {d}/{kind};" for kind in
                         ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (d / "nginx.conf").write_text(f"""user www-data;
worker_processes 2;
pid {d}/nginx.pid;
error_log {d}/main-error.log;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
{temp}
    include {d}/site.conf;
}}
""")
        self.nginx_dir = d
        check = subprocess.run([NGINX, "-t", "-c", str(d / "nginx.conf")], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        self.nginx_proc = subprocess.Popen([NGINX, "-c", str(d / "nginx.conf"), "-g", "daemon off;"],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for(lambda: self._port_open(self.nginx_port), 10, what="nginx to listen")

    def nginx_access_log(self) -> str:
        path = self.nginx_dir / "access.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop_nginx(self):
        if self.nginx_proc and self.nginx_proc.poll() is None:
            self.nginx_proc.send_signal(signal.SIGQUIT)      # graceful; only the PID we started
            try:
                self.nginx_proc.wait(10)
            except subprocess.TimeoutExpired:
                self.nginx_proc.kill()
                self.nginx_proc.wait()

    @staticmethod
    def _port_open(port):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False


@pytest.fixture(scope="module")
def deployed(tmp_path_factory, rt):  # noqa: F811 (pytest fixture injection)
    if not Path(SOURCE_BIN).is_file():
        pytest.fail(f"server binary not found: {SOURCE_BIN} (build it or set PREFORK_BIN)")
    ensure_service_user()
    BIN_DIR.mkdir(parents=True, exist_ok=True)
    tmp = BIN.with_suffix(".new")
    shutil.copy2(SOURCE_BIN, tmp)
    os.replace(tmp, BIN)
    harness("start")
    sd = Systemd(tmp_path_factory.mktemp("deploy"))
    dep = Deployment(sd, sd.workroot, rt.env())
    try:
        dep.install_units()
        sd.systemctl("start", dep.socket)
        sd.systemctl("start", dep.service, timeout=60)
        dep.sign_in_as_tech()
        dep.start_nginx()
        yield dep
    finally:
        try:
            dep.stop_nginx()
            sd.cleanup()
        finally:
            harness("stop", check=False)
            shutil.rmtree(dep.state, ignore_errors=True)


def via_nginx(dep, path, headers=None, source=None, method="GET"):
    """One request to nginx (from the loopback address `source`, if given); (status, headers
    dict with lower-case names, body)."""
    return _request(dep.nginx_port, path, {**dep.auth, **(headers or {})}, source, method)


def _request(port, path, headers=None, source=None, method="GET"):
    hdrs = {"Host": HOST, "Connection": "close", **(headers or {})}
    s = socket.socket()
    s.settimeout(15)
    try:
        if source:
            s.bind((source, 0))          # any 127/8 address is ours on Linux loopback
        s.connect(("127.0.0.1", port))
        s.sendall((f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items())
                   + "\r\n").encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    found = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        found[name.strip().lower()] = value.strip()
    if found.get("transfer-encoding") == "chunked":
        body = _dechunk(body)
    return int(lines[0].split()[1]), found, body


def _dechunk(data):
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2:]
    return out


def access_line(dep, marker):
    """The app's access-log line that contains `marker` (waits for it: the log is buffered
    per request, but the worker writes after the response)."""
    return wait_for(lambda: next((ln for ln in dep.access_log().splitlines() if marker in ln), None),
                    5, what=f"an access-log line with {marker}")


# ---------------------------------------------------------------------------------------------
# The unit files as shipped.
# ---------------------------------------------------------------------------------------------

def test_shipped_units_verify_clean_and_pass_security_threshold(deployed, tmp_path):
    """A copy of config/systemd/ with only ExecStart='s binary path made one that exists
    (verify checks it is executable). `systemd-analyze verify` runs inside the harness, whose
    default.target is its own: on this host the default target pulls in units with warnings of
    their own (request-tracker5.service), which would fill stderr."""
    d = tmp_path / "units"
    d.mkdir()
    for unit in (SERVICE, SOCKET, BACKUP, BACKUP_TIMER):
        text = unit.read_text()
        if unit in (SERVICE, BACKUP):
            text = replace_once(text, "/usr/local/bin/request-tracker-utils", str(BIN))
        (d / unit.name).write_text(text)
    r = deployed.sd.run("systemd-analyze", "verify", *(str(d / u.name) for u in (SERVICE, SOCKET, BACKUP, BACKUP_TIMER)))
    assert r.returncode == 0 and r.stderr == "", f"rc={r.returncode}\n{r.stderr}"

    for unit in (SERVICE, BACKUP):
        r = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager",
                            f"--threshold={SECURITY_THRESHOLD}", str(d / unit.name)],
                           capture_output=True, text=True)
        level = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", r.stdout)
        assert r.returncode == 0 and level and float(level.group(1)) <= 2.0, r.stdout + r.stderr


def test_backup_unit_copies_the_live_database(deployed):
    """The shipped backup unit (adapted to the test's state directory), run by systemd while
    the service serves: a consistent, integrity-checked copy in backups/, as rtutils."""
    sd, base = deployed.sd, deployed.base
    text = BACKUP.read_text()
    for old, new in [("/usr/local/bin/request-tracker-utils", str(BIN)),
                     ("StateDirectory=request-tracker-utils request-tracker-utils/backups",
                      f"StateDirectory={base} {base}/backups")]:
        text = replace_once(text, old, new)
    text = text.replace("/var/lib/request-tracker-utils", str(deployed.state))
    name = f"{base}-backup.service"
    sd.install(name, text)
    assert http(deployed.nginx_port, "POST", "/api/tags", body=b"{}",
                headers={"Host": HOST, "Content-Type": "application/json", **deployed.auth}).status == 201
    sd.systemctl("start", name, timeout=60)
    assert sd.show(name, "Result") == "success", sd.diagnose(name)
    copies = sorted((deployed.state / "backups").glob("database-*.sqlite"))
    assert copies, sd.diagnose(name)
    assert copies[-1].stat().st_uid == pwd.getpwnam("rtutils").pw_uid
    import sqlite3
    with sqlite3.connect(copies[-1]) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM asset_tags").fetchone()[0] >= 1
    assert "integrity ok" in sd.journal_text(name, 20)


def test_started_by_systemd_with_prestart_and_notify(deployed):
    sd, name = deployed.sd, deployed.service
    assert sd.show(name, "ActiveState") == "active", sd.diagnose(name)
    assert re.search(r'Status: ".*workers', sd.status(name)), sd.status(name)   # sd_notify
    # one worker OOM-killed is the master's to replace, not a reason to stop the service
    assert sd.show(name, "OOMPolicy") == "continue"
    # the preStart steps ran, as rtutils, and said so in the journal
    journal = sd.journal_text(name, 200)
    assert "is now at version" in journal and "files written" in journal, journal
    # nothing the sandbox refused on the way: a filtered call fails with EPERM (libdispatch
    # says "Failed to set thread priority ... errno=1" if setpriority is filtered). EACCES
    # (errno=13) from setpriority is the kernel's own rule for raising priority unprivileged,
    # with or without the sandbox, and libdispatch only sometimes asks for that.
    assert not re.search(r"errno=1\b|Operation not permitted|Permission denied", journal), journal
    # the sandbox is real in the harness, not silently skipped
    main = deployed.main_pid()
    status = sd.run("cat", f"/proc/{main}/status").stdout
    for line in ("NoNewPrivs:\t1", "Seccomp:\t2", "CapBnd:\t0000000000000000", "Umask:\t0027"):
        assert line in status, status
    mounts = sd.run("cat", f"/proc/{main}/mountinfo").stdout
    assert re.search(r" / / ro,", mounts), mounts                       # ProtectSystem=strict
    assert re.search(rf" {deployed.state} rw,", mounts), mounts          # but its StateDirectory=
    assert "hidepid=invisible,subset=pid" in mounts, mounts              # ProtectProc=, ProcSubset=
    assert len(sd.run("cat", f"/proc/{main}/uid_map").stdout.splitlines()) == 2   # PrivateUsers=
    # the state directory and its files: owner rtutils, the database private to the group,
    # static files world-readable for nginx (collectstatic's modes do not follow UMask=0027)
    uid = pwd.getpwnam("rtutils").pw_uid
    for path, mode in [(deployed.state, 0o751), (deployed.state / "logs", 0o751),
                       (deployed.state / "database.sqlite", 0o640),
                       (deployed.state / "logs" / "access.log", 0o640),
                       (deployed.state / "static", 0o755),
                       (deployed.state / "static" / "staticfiles.json", 0o644)]:
        st = path.stat()
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (uid, mode), f"{path}: {st}"
    # SQLite's WAL files live beside the database (the only writable place)
    assert (deployed.state / "database.sqlite-wal").exists()
    # the error log is a file in logs/ (as the seeds say) AND native journal entries with fields
    booting = [e for e in sd.journal(name, "SYSLOG_IDENTIFIER=request-tracker-utils")
               if e.get("MESSAGE", "").startswith("Booting worker")]
    assert booting and all("CODE_FUNC" in e and e.get("PRIORITY") == "6" for e in booting), booting
    assert "Booting worker" in (deployed.state / "logs" / "error.log").read_text()


def test_pages_through_nginx(deployed):
    for path in ("/", "/tags", "/readyz", "/healthz"):
        status, headers, body = via_nginx(deployed, path)
        assert status == 200, (path, status, body[:300])
    status, headers, _ = via_nginx(deployed, "/tags")
    assert headers.get("server") == "nginx"                  # server_tokens off
    # nginx's $request_id reached the server, which used it as the request's id
    rid = headers.get("x-request-id", "")
    assert re.fullmatch(r"[0-9a-f]{32}", rid), headers
    assert "/tags" in access_line(deployed, rid)


def test_rt_over_the_network_under_the_hardening(deployed, rt):  # noqa: F811
    """RestrictAddressFamilies=, the system call filter and PrivateUsers= leave the RT client
    working: the seeded asset, looked up through nginx."""
    status, _, body = via_nginx(deployed, "/api/assets/T-1001")
    assert status == 200, body
    assert json.loads(body)["tag"] == "T-1001"


def test_static_files_are_served_by_nginx_not_the_app(deployed):
    manifest = json.loads((deployed.state / "static" / "staticfiles.json").read_text())
    plain, hashed = next(iter(manifest["paths"].items())) if "paths" in manifest \
        else next(iter(manifest.items()))
    marker = uuid.uuid4().hex
    status, headers, body = via_nginx(deployed, f"/static/{hashed}?m={marker}")
    assert status == 200
    assert body == (deployed.state / "static" / hashed).read_bytes()
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    # nginx's ETag is "<mtime hex>-<size hex>"; the app's StaticFiles sends three parts
    assert re.fullmatch(r'"[0-9a-f]+-[0-9a-f]+"', headers["etag"]), headers
    assert headers.get("x-content-type-options") == "nosniff"
    status, headers, _ = via_nginx(deployed, f"/static/{plain}?m={marker}")
    assert status == 200 and headers["cache-control"] == "no-cache"
    assert via_nginx(deployed, "/static/.staticfiles.json.tmp-1")[0] == 404
    # the application never saw them (a later request's line proves the log is flushed)
    via_nginx(deployed, f"/tags?after={marker}")
    access_line(deployed, f"after={marker}")
    assert "/static/" not in deployed.access_log()


def test_client_address_is_the_one_nginx_saw(deployed):
    """From 127.0.0.2 through nginx, with a forged X-Forwarded-For: nginx replaces the header
    with $remote_addr, and the server believes nginx (127.0.0.1 is in forwarded_allow_ips)."""
    marker = uuid.uuid4().hex
    status, _, _ = via_nginx(deployed, f"/tags?m={marker}", {"X-Forwarded-For": "203.0.113.9"},
                             source="127.0.0.2")
    assert status == 200
    line = access_line(deployed, marker)
    assert line.split()[0] == "127.0.0.2", line


def test_forged_forwarded_for_straight_to_the_server_is_not_believed(deployed):
    """Straight to the server's socket: from 127.0.0.2 (not in forwarded_allow_ips) the header
    is ignored; from 127.0.0.1 (trusted) the same header is believed, which shows the first
    check tests the trust rule and not a header the server never reads."""
    forged, trusted = uuid.uuid4().hex, uuid.uuid4().hex
    assert _request(deployed.port, f"/tags?m={forged}", {"X-Forwarded-For": "203.0.113.9", **deployed.auth},
                    source="127.0.0.2")[0] == 200
    assert _request(deployed.port, f"/tags?m={trusted}", {"X-Forwarded-For": "198.51.100.7", **deployed.auth},
                    source="127.0.0.1")[0] == 200
    assert access_line(deployed, forged).split()[0] == "127.0.0.2"
    assert access_line(deployed, trusted).split()[0] == "198.51.100.7"


def _nginx_statuses_since(dep, offset):
    """HTTP statuses in nginx's access log after byte `offset`."""
    statuses = []
    for line in dep.nginx_access_log()[offset:].splitlines():
        m = re.search(r'" (\d{3}) ', line)
        if m:
            statuses.append(int(m.group(1)))
    return statuses


def test_reload_under_load_through_nginx_fails_nothing(deployed):
    sd, name = deployed.sd, deployed.service
    main, before = deployed.main_pid(), deployed.workers()
    offset = len(deployed.access_log())
    w = start_wrk(f"http://127.0.0.1:{deployed.nginx_port}/healthz", duration=4, connections=16,
                  headers=(f"Host: {HOST}",))
    wait_for(lambda: deployed.access_log()[offset:].count("/healthz") >= 50, 10,
             what="wrk's requests reaching the server")
    try:
        sd.systemctl("reload", name, timeout=60)
    finally:
        res = finish_wrk(w, 4)
    assert res.requests > 100, res.output
    assert not any(res.socket_errors.values()), res.output
    assert res.non_2xx == 0, res.output
    assert deployed.main_pid() == main
    wait_for(lambda: len(deployed.workers()) == 2, 10, what="2 workers after the reload")
    assert not deployed.workers() & before
    assert "Configuration reloaded" in deployed.error_log()


def test_worker_killed_mid_load_costs_at_most_its_in_flight_requests(deployed):
    """SIGKILL one of the two workers under wrk -c8 through nginx. The bound: wrk keeps at
    most one request outstanding per connection, so at most 8 requests are in flight in the
    whole system, and only those on the killed worker's connections can fail; nginx retries a
    GET that fails on a cached keep-alive connection once, so most do not even fail. nginx
    answers each that does with 502, which wrk counts as non-2xx, not as a socket error."""
    sd, name = deployed.sd, deployed.service
    connections = 8
    victim = min(deployed.workers())
    offset = len(deployed.nginx_access_log())
    w = start_wrk(f"http://127.0.0.1:{deployed.nginx_port}/tags", duration=4,
                  connections=connections,
                  headers=(f"Host: {HOST}", *(f"{k}: {v}" for k, v in deployed.auth.items())))
    wait_for(lambda: len(_nginx_statuses_since(deployed, offset)) >= 50, 10, what="wrk's requests being served")
    try:
        assert sd.run("kill", "-KILL", str(victim)).returncode == 0
    finally:
        res = finish_wrk(w, 4)
    assert res.requests > 100, res.output
    assert not any(res.socket_errors.values()), res.output
    assert res.non_2xx <= connections, res.output
    failed = [s for s in _nginx_statuses_since(deployed, offset) if s >= 500]
    assert set(failed) <= {502}, failed
    assert len(failed) == res.non_2xx, (failed, res.output)
    # the master noticed and replaced the worker
    wait_for(lambda: len(deployed.workers()) == 2 and victim not in deployed.workers(), 10,
             what="a replacement worker")
    assert re.search(rf"worker {victim} was killed by SIGKILL", deployed.error_log()) \
        or "SIGKILL" in deployed.error_log(), deployed.error_log()[-2000:]
    assert sd.show(name, "ActiveState") == "active"


def test_usr1_reopens_the_logs_as_logrotate_does(deployed):
    """What config/logrotate/request-tracker-utils does after moving the files: USR1 to the
    master (the snippet's `systemctl kill --signal=USR1 --kill-whom=main`)."""
    logs = deployed.state / "logs"
    os.rename(logs / "access.log", logs / "access.log.1")
    deployed.sd.systemctl("kill", "--signal=USR1", "--kill-whom=main", deployed.service)
    wait_for(lambda: "reopening log files" in deployed.error_log(), 5, what="the USR1 line")
    # the workers reopen when their loops next turn: requests until one lands in the new file
    def lands_in_new_file():
        marker = uuid.uuid4().hex
        via_nginx(deployed, f"/tags?m={marker}")

        def logged_in():   # the file the worker wrote the line to, once it has
            for name in ("access.log", "access.log.1"):
                if (logs / name).exists() and marker in (logs / name).read_text():
                    return name
        return wait_for(logged_in, 5, what=f"the access line of {marker}") == "access.log"
    wait_for(lambda: lands_in_new_file(), 5, what="an access line in the new access.log")
    # and then every request does, whichever worker serves it
    markers = [uuid.uuid4().hex for _ in range(6)]
    for marker in markers:
        via_nginx(deployed, f"/tags?m={marker}")
    for marker in markers:
        assert marker in access_line(deployed, marker)
        assert marker not in (logs / "access.log.1").read_text()
    assert stat.S_IMODE((logs / "access.log").stat().st_mode) == 0o640


# ---------------------------------------------------------------------------------------------
# scripts/install.sh, staged into a temporary root (no systemd or nginx touched).
# ---------------------------------------------------------------------------------------------

def _install(destdir, *args):
    r = subprocess.run([str(INSTALL), "--binary", SOURCE_BIN, "--destdir", str(destdir), *args],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_install_script_stages_every_file_and_is_idempotent(tmp_path):
    ensure_service_user()
    root = tmp_path / "root"
    out = _install(root, "--prefix", "/opt/rtu")
    assert "staged below" in out
    modes = {p.relative_to(root).as_posix(): stat.S_IMODE(p.lstat().st_mode)
             for p in root.rglob("*") if not p.is_dir()}
    expected = {
        "opt/rtu/bin/request-tracker-utils": 0o755,
        "opt/rtu/bin/request-tracker-utils-manage": 0o755,
        "etc/systemd/system/request-tracker-utils.service": 0o644,
        "etc/systemd/system/request-tracker-utils.socket": 0o644,
        "etc/systemd/system/request-tracker-utils-backup.service": 0o644,
        "etc/systemd/system/request-tracker-utils-backup.timer": 0o644,
        "etc/nginx/sites-available/request-tracker-utils.conf": 0o644,
        "etc/logrotate.d/request-tracker-utils": 0o644,
        "etc/request-tracker-utils/secrets.env": 0o400,
        "usr/share/doc/request-tracker-utils/systemd.md": 0o644,
    }
    for path, mode in expected.items():
        assert modes.get(path) == mode, (path, oct(modes.get(path, 0)), sorted(modes))
    link = root / "etc/nginx/sites-enabled/request-tracker-utils.conf"
    assert os.readlink(link) == "/etc/nginx/sites-available/request-tracker-utils.conf"
    # the unit follows --prefix, and nothing else of it changed
    unit = (root / "etc/systemd/system/request-tracker-utils.service").read_text()
    assert unit == SERVICE.read_text().replace("/usr/local/bin/", "/opt/rtu/bin/")
    manage = (root / "opt/rtu/bin/request-tracker-utils-manage").read_text()
    assert manage == MANAGE.read_text().replace("/usr/local/bin/", "/opt/rtu/bin/")
    backup = (root / "etc/systemd/system/request-tracker-utils-backup.service").read_text()
    assert backup == BACKUP.read_text().replace("/usr/local/bin/", "/opt/rtu/bin/")
    # secrets.env: the example with a generated key, owned by rtutils, accepted by the server
    secrets = root / "etc/request-tracker-utils/secrets.env"
    assert secrets.stat().st_uid == pwd.getpwnam("rtutils").pw_uid
    text = secrets.read_text()
    key = re.search(r"^SECRET_KEY=(\S+)$", text, re.M).group(1)
    assert len(key) >= 50
    assert text == SECRETS_EXAMPLE.read_text().replace("SECRET_KEY=\n", f"SECRET_KEY={key}\n")
    r = subprocess.run([SOURCE_BIN, "check-config", "--secrets-file", str(secrets)],
                       env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr

    # again: binary, units and logrotate replaced; the site and the secrets kept
    (root / "etc/nginx/sites-available/request-tracker-utils.conf").write_text("# edited\n")
    (root / "etc/systemd/system/request-tracker-utils.socket").write_text("stale\n")
    out = _install(root, "--prefix", "/opt/rtu")
    assert "kept /etc/request-tracker-utils/secrets.env" in out
    assert secrets.read_text() == text
    assert (root / "etc/nginx/sites-available/request-tracker-utils.conf").read_text() == "# edited\n"
    assert (root / "etc/systemd/system/request-tracker-utils.socket").read_text() == SOCKET.read_text()
    assert not list(root.rglob(".*.new")) and not list(root.rglob(".secrets.env.*"))


# ---------------------------------------------------------------------------------------------
# The several-hosts site (config/nginx/request-tracker-utils-hosts.conf): real nginx, stand-in
# hosts that answer what a failing host would, so that the retry policy itself is what is seen.
# ---------------------------------------------------------------------------------------------

NGINX_HOSTS_SITE = REPO / "config" / "nginx" / "request-tracker-utils-hosts.conf"
HOSTS_SERVER_LINES = [f"server 10.0.0.1{n}:8000 max_fails=3 fail_timeout=10s;" for n in (1, 2, 3)]


class StandInHost:
    """An application host on 127.0.0.1:PORT that answers every request with `status`, and
    records (method, X-Request-ID) of each request it received."""

    def __init__(self, status: int):
        import http.server
        import threading

        seen = self.seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def answer(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                seen.append((self.command, self.headers.get("X-Request-ID")))
                body = f"{status}\n".encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = answer

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def ids(self, method) -> list:
        return [rid for m, rid in self.seen if m == method]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def run_hosts_site(d: Path, upstreams: list):
    """nginx (one worker: one round robin) with the shipped several-hosts site, its three
    server lines pointed at `upstreams` (host:port strings; fewer than three drop the rest)."""
    d.mkdir()
    site = NGINX_HOSTS_SITE.read_text()
    port = free_port()
    for i, line in enumerate(HOSTS_SERVER_LINES):
        new = line.replace(line.split()[1], upstreams[i]) if i < len(upstreams) else ""
        site = replace_once(site, line, new)
    for old, new in [("    listen [::]:80;\n", ""), ("listen 80;", f"listen 127.0.0.1:{port};"),
                     ("/var/log/nginx/request-tracker-utils.", f"{d}/")]:
        site = replace_once(site, old, new)
    (d / "site.conf").write_text(site)
    (d / "nginx.conf").write_text(f"""worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/main-error.log;
events {{ worker_connections 256; }}
http {{
    include {d}/site.conf;
}}
""")
    check = subprocess.run([NGINX, "-t", "-c", str(d / "nginx.conf")], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen([NGINX, "-c", str(d / "nginx.conf"), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def listening():
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0
    wait_for(listening, 10, what="nginx to listen")
    return proc, port


def stop_nginx_proc(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGQUIT)                         # graceful; only the PID we started
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_several_hosts_site_retries_only_idempotent_requests(tmp_path):
    """One host answers 503 (it lost its database), the other 200. A GET that met the 503 is
    passed to the other host; a POST that reached the failing host is not replayed anywhere:
    the client gets the 503, and no host saw it twice."""
    failing, good = StandInHost(503), StandInHost(200)
    proc, port = run_hosts_site(tmp_path / "nginx", [f"127.0.0.1:{failing.port}", f"127.0.0.1:{good.port}"])
    try:
        got = []
        for i in range(12):
            method = "POST" if i % 3 == 0 else "GET"               # a POST first: the first host
            r = http(port, method, f"/r{i}", headers={"Host": "rtutils.example.org"},
                     body=b"{}" if method == "POST" else b"")
            got.append((method, r.status))
        assert all(status == 200 for method, status in got if method == "GET"), got
        # every GET the failing host saw was answered by the other one (same $request_id)
        assert failing.ids("GET"), "the failing host never got a GET: nothing was retried"
        assert set(failing.ids("GET")) <= set(good.ids("GET"))
        # every POST reached exactly one host; those that met the 503 were not replayed
        posts = failing.ids("POST") + good.ids("POST")
        assert len(posts) == len(set(posts)) == 4, (failing.seen, good.seen)
        assert failing.ids("POST"), "the failing host never got a POST"
        assert [s for m, s in got if m == "POST"].count(503) == len(failing.ids("POST")), got
    finally:
        stop_nginx_proc(proc)
        failing.close()
        good.close()


def test_several_hosts_site_sends_every_request_past_a_dead_host(tmp_path):
    """A host that is down (connection refused: killed, rebooting) never got the request, so
    even a POST is safely sent to the next host: no client sees an error."""
    good = StandInHost(200)
    dead = free_port()                                             # nothing listens there
    proc, port = run_hosts_site(tmp_path / "nginx", [f"127.0.0.1:{dead}", f"127.0.0.1:{good.port}"])
    try:
        for i in range(8):
            method = "POST" if i % 2 == 0 else "GET"
            r = http(port, method, f"/r{i}", headers={"Host": "rtutils.example.org"},
                     body=b"{}" if method == "POST" else b"")
            assert r.status == 200, (i, method, r.status)
        assert len(good.ids("POST")) == len(set(good.ids("POST"))) == 4
        assert "connect() failed" in (tmp_path / "nginx" / "error.log").read_text()
    finally:
        stop_nginx_proc(proc)
        good.close()
