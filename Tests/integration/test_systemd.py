"""The server under a REAL systemd 252 and journald, checked as an operator would: systemctl
start/restart/reload/stop/status and journalctl -u.

Tests/systemd/harness.sh boots systemd as PID 1 of private namespaces (this machine's PID 1 is
not systemd); unit files are written to /etc/systemd/system on the host (the root fs is
shared) and every systemctl/journalctl runs inside through `harness.sh exec`. Needs root;
skipped otherwise. Each test installs its own rtu-test-<port>... units; the module removes
them and powers the inner systemd off at the end."""
import json
import os
import re
import shutil
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from conftest import (TEST_SECRET_KEY, accepted_connections, assert_stays, finish_wrk, free_port, http, start_wrk,
                      wait_for)

# How the access log is sent to the journal (one place, should the flag change).
ACCESS_LOG_JOURNAL = ("--access-logfile", "journal")

HARNESS = Path(__file__).resolve().parents[1] / "systemd" / "harness.sh"
STATE = os.environ.get("RTU_SYSTEMD_STATE", "/tmp/rtu-systemd-test-harness")
SOURCE_BIN = os.environ.get("PREFORK_BIN") or str(
    Path(__file__).resolve().parents[2] / ".build" / "release" / "request-tracker-utils")
# a stable copy outside the repo, which the inner systemd executes (the root fs is shared)
BIN_DIR = Path("/usr/local/lib/rtu-test")
BIN = BIN_DIR / "request-tracker-utils"
UNIT_DIR = Path("/etc/systemd/system")
PREFIX = "rtu-test-"
START_TIMEOUT = 6        # TimeoutStartSec: 2 workers serve well within it when READY=1 is sent

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="the systemd harness needs root"),
    pytest.mark.skipif(not os.access("/lib/systemd/systemd", os.X_OK),
                       reason="systemd is not installed (apt-get install systemd)"),
    pytest.mark.skipif(not shutil.which("nsenter") or not shutil.which("unshare"),
                       reason="util-linux nsenter/unshare missing"),
]


def harness(*args, timeout=60, check=True):
    env = dict(os.environ, HARNESS_STATE=STATE)
    r = subprocess.run([str(HARNESS), *args], env=env, capture_output=True, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    if check and r.returncode != 0:
        raise AssertionError(f"harness {' '.join(args)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return r


class Systemd:
    """The inner systemd: runs commands in it and installs units for it."""

    def __init__(self, workroot: Path):
        self.workroot = workroot
        self.units = []

    def run(self, *cmd, timeout=30, check=False):
        return harness("exec", *cmd, timeout=timeout, check=check)

    def systemctl(self, *args, timeout=30, check=True):
        r = self.run("systemctl", "--no-pager", *args, timeout=timeout)
        if check and r.returncode != 0:
            unit = next((a for a in args if a.startswith(PREFIX)), None)
            raise AssertionError(f"systemctl {' '.join(args)} exited {r.returncode}: {r.stderr}"
                                 + (self.diagnose(unit) if unit else ""))
        return r

    def show(self, unit, prop) -> str:
        return self.systemctl("show", "-p", prop, "--value", unit).stdout.strip()

    def status(self, unit, lines=10) -> str:
        return self.systemctl("status", "-n", str(lines), unit, check=False).stdout

    def journal(self, unit, *matches) -> list:
        r = self.run("journalctl", "--no-pager", "-u", unit, "-o", "json", *matches)
        return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]

    def journal_text(self, unit, n=40) -> str:
        return self.run("journalctl", "--no-pager", "-u", unit, "-n", str(n)).stdout

    def diagnose(self, unit) -> str:
        return f"\n--- systemctl status\n{self.status(unit, 0)}\n--- journal\n{self.journal_text(unit)}"

    def procs(self, unit) -> list:
        """PIDs (as seen inside) of the unit's cgroup: the master and its workers."""
        cg = self.show(unit, "ControlGroup")
        r = self.run("cat", f"/sys/fs/cgroup{cg}/cgroup.procs")
        return sorted(int(p) for p in r.stdout.split())

    def job_workers(self, unit) -> set:
        """The unit's job workers (their process titles say "job worker")."""
        return {pid for pid in self.procs(unit)
                if "job worker" in self.run("cat", f"/proc/{pid}/cmdline").stdout.replace("\0", " ")}

    def install(self, name, text):
        path = UNIT_DIR / name
        path.write_text(text)
        self.units.append(name)
        self.systemctl("daemon-reload")
        return name

    def server(self, *, socket=False, type_="notify", args=(), service=(), bind=True, job_workers=0):
        """Installs rtu-test-<port>.service (and .socket when socket=True); returns
        (service name, port)."""
        port = free_port()
        base = f"{PREFIX}{port}"
        workdir = self.workroot / base
        (workdir / "var").mkdir(parents=True, exist_ok=True)
        unit = [
            "[Unit]",
            f"Description=request-tracker-utils integration test on port {port}",
        ]
        if socket:
            self.install(f"{base}.socket", "\n".join([
                "[Unit]", f"Description=request-tracker-utils test socket {port}",
                "[Socket]", f"ListenStream=127.0.0.1:{port}", "FileDescriptorName=http",
                "NoDelay=true", "Backlog=1024", ""]))
            unit += [f"Requires={base}.socket", f"After={base}.socket"]
        bind_args = f" --bind 127.0.0.1:{port}" if bind and not socket else ""
        unit += [
            "[Service]",
            f"Type={type_}",
            *(["NotifyAccess=main"] if type_ == "notify" else []),
            f"WorkingDirectory={workdir}",
            f"Environment=WORKING_DIR={workdir / 'var'}",
            f"Environment=SECRET_KEY={TEST_SECRET_KEY} ALLOWED_HOSTS=*",
            f"ExecStart={BIN} serve{bind_args} --workers 2 --job-workers {job_workers} --enable-test-routes"
            + "".join(f" {a}" for a in args),
            "ExecReload=/bin/kill -HUP $MAINPID",
            "KillMode=mixed",
            f"TimeoutStartSec={START_TIMEOUT}",
            "TimeoutStopSec=20",
            *service,
            "",
        ]
        self.install(f"{base}.service", "\n".join(unit))
        return f"{base}.service", port

    def cleanup(self):
        for name in reversed(self.units):
            self.systemctl("stop", name, check=False)
        for name in self.units:
            (UNIT_DIR / name).unlink(missing_ok=True)
        self.units.clear()
        self.systemctl("daemon-reload", check=False)
        self.systemctl("reset-failed", check=False)


def remove_leftover_units():
    for path in UNIT_DIR.glob(f"{PREFIX}*"):
        path.unlink()


SENTINEL = Path("/tmp/rtu-systemd-harness-sentinel")


@pytest.fixture(scope="module")
def sd(tmp_path_factory):
    if not Path(SOURCE_BIN).is_file():
        pytest.fail(f"server binary not found: {SOURCE_BIN} (build it or set PREFORK_BIN)")
    BIN_DIR.mkdir(parents=True, exist_ok=True)
    tmp = BIN.with_suffix(".new")
    shutil.copy2(SOURCE_BIN, tmp)
    os.replace(tmp, BIN)            # atomic: a leftover server may still run the old copy
    remove_leftover_units()
    SENTINEL.write_text("must survive the boot\n")
    harness("start")                # also stops and cleans up a leftover instance
    s = Systemd(tmp_path_factory.mktemp("systemd"))
    try:
        yield s
    finally:
        try:
            s.cleanup()
        finally:
            remove_leftover_units()
            harness("stop", check=False)
            SENTINEL.unlink(missing_ok=True)


@pytest.fixture
def units(sd):
    """Per test: the units it installs are stopped and removed after it."""
    yield sd
    sd.cleanup()


def get(port, path="/hello", timeout=10.0):
    return http(port, "GET", path, timeout=timeout)


# ---------------------------------------------------------------------------------------------
# The harness itself (independent of the server's systemd features).
# ---------------------------------------------------------------------------------------------

def test_harness_boots_systemd_and_journald_without_touching_the_host(sd):
    # Judged by its own units only: a host package whose boot unit fails inside (nvme-cli's, say)
    # makes the system "degraded" but must not fail the tests.
    state = sd.run("systemctl", "is-system-running").stdout.strip()
    assert state in ("running", "degraded"), state
    failed = sd.run("systemctl", "list-units", "--failed", "--plain", "--no-legend").stdout.split()
    ours = [u for u in failed if u.startswith(("systemd-journald", "rtu-", "request-tracker-utils"))]
    assert not ours, sd.run("systemctl", "--failed", "--no-pager").stdout
    assert sd.run("cat", "/proc/1/comm").stdout.strip() == "systemd"
    assert sd.systemctl("is-active", "systemd-journald.service").stdout.strip() == "active"
    # tmpfiles (Debian's tmp.conf: "D /tmp") is masked, and the host's /tmp survived the boot
    r = sd.systemctl("is-enabled", "systemd-tmpfiles-setup.service", check=False)
    assert r.stdout.strip() == "masked-runtime"
    assert SENTINEL.read_text() == "must survive the boot\n"
    # and the host's multi-user services are not started
    assert sd.systemctl("is-active", "multi-user.target", check=False).stdout.strip() == "inactive"


def test_harness_type_notify_start_waits_for_ready(units):
    """A shell Type=notify unit: `systemctl start` returns only after READY=1 (sent 1 s in)."""
    script = units.workroot / "notify-probe.sh"
    script.write_text("#!/bin/sh\nsleep 1\nsystemd-notify --ready --status='probe ready'\n"
                      "exec sleep infinity\n")
    script.chmod(0o755)
    name = units.install(f"{PREFIX}notify-probe.service", "\n".join([
        "[Service]", "Type=notify", "NotifyAccess=all", "TimeoutStartSec=10",
        f"ExecStart={script}", ""]))
    t0 = time.monotonic()
    units.systemctl("start", name)
    assert time.monotonic() - t0 >= 0.9
    assert units.show(name, "ActiveState") == "active"
    assert 'Status: "probe ready"' in units.status(name)


def test_type_simple_server_status_and_journal(units):
    """Works without any systemd support in the server: the unit runs, `systemctl status`
    shows it with its processes, and `journalctl -u` has the server's log lines."""
    name, port = units.server(type_="simple")
    units.systemctl("start", name)
    wait_for(lambda: _try_hello(port), 10, what="the server to serve /hello")
    status = units.status(name)
    assert "active (running)" in status, status
    assert "Main PID:" in status and "request-tracker-utils" in status, status
    wait_for(lambda: len(units.procs(name)) == 3, 10, what="master + 2 workers in the cgroup")
    wait_for(lambda: "Booting worker" in units.journal_text(name, 200), 5,
             what="'Booting worker' in journalctl -u")
    units.systemctl("stop", name)
    assert units.show(name, "ActiveState") == "inactive"


def _try_hello(port):
    try:
        return get(port, timeout=2).status == 200
    except OSError:
        return False


def test_systemd_analyze_verify_generated_units_is_clean(units):
    """`systemd-analyze verify` exits 0 even on warnings (unknown keys...): require empty
    stderr too. Verifies the richest pair the tests generate (socket + notify + watchdog)."""
    name, _ = units.server(socket=True, service=("WatchdogSec=30", "Restart=on-failure",
                                                 "RestartPreventExitStatus=2 3"))
    sock = name.replace(".service", ".socket")
    r = units.run("systemd-analyze", "verify", str(UNIT_DIR / name), str(UNIT_DIR / sock))
    assert r.returncode == 0 and r.stderr == "", f"rc={r.returncode}\n{r.stderr}"


# ---------------------------------------------------------------------------------------------
# The server's systemd integration.
# ---------------------------------------------------------------------------------------------

def test_start_returns_only_when_workers_serve(units):
    name, port = units.server()
    units.systemctl("start", name, timeout=START_TIMEOUT + 20)
    # no retry: READY=1 means every worker of the first generation accepts
    assert get(port).status == 200
    assert len(units.procs(name)) == 3, units.diagnose(name)
    main = int(units.show(name, "MainPID"))
    assert main in units.procs(name)
    assert "request-tracker-utils" in units.run("cat", f"/proc/{main}/cmdline").stdout


def test_status_line_shows_workers_and_requests(units):
    name, port = units.server(job_workers=1)
    units.systemctl("start", name, timeout=START_TIMEOUT + 20)
    assert len(units.procs(name)) == 4, units.diagnose(name)
    wait_for(lambda: re.search(r'Status: "2 workers \(\d busy, \d idle\), 1 job worker \(idle\), ', units.status(name)),
             8, interval=0.3, what=f"the job worker in the Status: line\n{units.status(name)}")
    for _ in range(20):
        assert get(port).status == 200

    def served():
        m = re.search(r'Status: ".*?(\d+) requests served', units.status(name))
        return m and int(m.group(1)) >= 20
    wait_for(served, 8, interval=0.3,
             what=f"'>= 20 requests served' in the Status: line\n{units.status(name)}")


def _steady_load_during(units, name, port, action):
    """wrk -t1 -c8 for 4 s on the port; `action` runs once the workers have accepted wrk's 8
    connections. Returns the wrk result."""
    assert get(port).status == 200
    w = start_wrk(f"http://127.0.0.1:{port}/hello", duration=4, connections=8, threads=1)
    wait_for(lambda: accepted_connections(port) >= 8, 10, what="wrk's 8 connections accepted")
    try:
        action()
    finally:
        res = finish_wrk(w, 4)
    return res


def _assert_no_failed_request(res):
    assert res.requests > 100, res.output
    assert not any(res.socket_errors.values()), res.output
    assert res.non_2xx == 0, res.output


def test_restart_under_load_with_socket_activation_refuses_nothing(units):
    name, port = units.server(socket=True)
    units.systemctl("start", name.replace(".service", ".socket"))
    units.systemctl("start", name, timeout=START_TIMEOUT + 20)
    before = units.show(name, "MainPID")
    res = _steady_load_during(units, name, port,
                              lambda: units.systemctl("restart", name, timeout=60))
    after = units.show(name, "MainPID")
    assert units.show(name, "ActiveState") == "active", units.diagnose(name)
    assert after not in ("0", before), f"MainPID {before} -> {after}: no restart happened"
    _assert_no_failed_request(res)


def test_reload_under_load_refuses_nothing_and_replaces_workers(units):
    name, port = units.server(socket=True)
    units.systemctl("start", name.replace(".service", ".socket"))
    units.systemctl("start", name, timeout=START_TIMEOUT + 20)
    main = units.show(name, "MainPID")
    workers_before = set(units.procs(name)) - {int(main)}
    res = _steady_load_during(units, name, port,
                              lambda: units.systemctl("reload", name, timeout=60))
    # `systemctl reload` returned: RELOADING=1 ... READY=1 done; same master, new workers
    assert units.show(name, "ActiveState") == "active", units.diagnose(name)
    assert units.show(name, "MainPID") == main
    wait_for(lambda: len(units.procs(name)) == 3, 10, what="2 workers after the reload")
    workers_after = set(units.procs(name)) - {int(main)}
    assert not workers_after & workers_before, (workers_before, workers_after)
    _assert_no_failed_request(res)


def test_usr2_upgrades_in_place_under_load_keeping_main_pid(units):
    """USR2 to the master only (systemctl kill --kill-whom=main): the binary at its path (a new
    copy renamed over it) is re-executed with the same PID and the socket-activated socket; the
    unit stays active, every worker is new, and no request fails."""
    name, port = units.server(socket=True)
    units.systemctl("start", name.replace(".service", ".socket"))
    units.systemctl("start", name, timeout=START_TIMEOUT + 20)
    main = units.show(name, "MainPID")
    workers_before = set(units.procs(name)) - {int(main)}
    fresh = BIN.with_suffix(".upgrade")
    shutil.copy2(SOURCE_BIN, fresh)
    os.replace(fresh, BIN)

    def upgrade():
        units.systemctl("kill", "-s", "USR2", "--kill-whom=main", name)
        wait_for(lambda: "Upgrade complete: generation 2 is serving" in units.journal_text(name, 80), 20,
                 what="the upgrade in the journal")
    res = _steady_load_during(units, name, port, upgrade)
    assert units.show(name, "ActiveState") == "active", units.diagnose(name)
    assert units.show(name, "MainPID") == main
    wait_for(lambda: len(units.procs(name)) == 3, 10, what="2 workers after the upgrade")
    assert not (set(units.procs(name)) - {int(main)}) & workers_before
    assert "Upgraded in place: adopted 2 worker(s) of generation 1" in units.journal_text(name, 80)
    _assert_no_failed_request(res)


def test_watchdog_never_fires_on_a_healthy_server(units):
    name, port = units.server(service=("WatchdogSec=2", "Restart=on-failure"))
    units.systemctl("start", name, timeout=START_TIMEOUT + 20)
    main = units.show(name, "MainPID")
    ping1 = wait_for(lambda: units.show(name, "WatchdogTimestampMonotonic") not in ("", "0") and
                     units.show(name, "WatchdogTimestampMonotonic"), 5, interval=0.2, what="a first WATCHDOG=1")
    # over twice WatchdogSec (the stimulus: time for a missed ping to show), nothing restarts
    assert_stays(lambda: units.show(name, "ActiveState") == "active" and units.show(name, "NRestarts") == "0"
                 and units.show(name, "MainPID") == main, 4.5, interval=0.5,
                 what=f"the service active, never restarted{units.diagnose(name)}")
    # WatchdogTimestamp is the last WATCHDOG=1 received: it moves while the server is healthy
    assert units.show(name, "WatchdogTimestampMonotonic") != ping1
    assert get(port).status == 200


def _wait_journal(units, name, what, pick, *matches, timeout=8):
    def find():
        return next((e for e in units.journal(name, *matches) if pick(e)), None)
    try:
        return wait_for(find, timeout, interval=0.2, what=what)
    except AssertionError as e:
        raise AssertionError(f"{e}{units.diagnose(name)}") from None


def test_access_log_entries_in_the_journal_with_http_fields(units):
    name, port = units.server(args=ACCESS_LOG_JOURNAL)
    units.systemctl("start", name, timeout=START_TIMEOUT + 20)
    path = f"/no-such-page-{uuid.uuid4().hex[:8]}"
    assert get(port, path).status == 404
    e = _wait_journal(units, name, f"an HTTP_STATUS=404 entry for {path}",
                      lambda e: e.get("HTTP_PATH") == path, "HTTP_STATUS=404")
    assert e["HTTP_METHOD"] == "GET"
    assert e["HTTP_STATUS"] == "404"
    assert e["REMOTE_ADDR"] == "127.0.0.1"
    assert e["SYSLOG_IDENTIFIER"] == "request-tracker-utils"
    assert e["_TRANSPORT"] == "journal"                  # native, not a parsed stdout line
    assert e["PRIORITY"] == "6"
    assert re.fullmatch(r"\d+", e["DURATION_USEC"]), e
    assert re.fullmatch(r"\d+", e["WORKER_PID"]), e
    assert e.get("REQUEST_ID"), e
    assert path in e["MESSAGE"]


def test_journal_entries_name_the_signed_in_user_and_failed_sign_ins(units):
    """Who did what, in the journal: an access entry of a signed-in request carries
    REMOTE_USER; a failed sign-in is one warning entry with the name tried and the client
    address as fields, and no password."""
    name, port = units.server(args=ACCESS_LOG_JOURNAL, service=(f"ExecStartPre={BIN} migrate",))
    units.systemctl("start", name, timeout=START_TIMEOUT + 20)
    workdir = units.workroot / name.removesuffix(".service") / "var"
    env = f"-i PATH=/usr/bin:/bin WORKING_DIR={workdir}"    # nothing else: no PREFORK_* of the test run
    made = units.run("sh", "-c", f"printf 'journal test password\\n' | env {env} {BIN} user add jo --role tech"
                     f" && env {env} {BIN} user token create jo")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    path = f"/tags?m={uuid.uuid4().hex[:8]}"
    assert http(port, "GET", path, headers={"Host": "t", "Authorization": f"Bearer {token}"}).status == 200
    e = _wait_journal(units, name, f"the access entry of {path}", lambda e: e.get("HTTP_PATH") == "/tags",
                      "REMOTE_USER=jo")
    assert e["REMOTE_USER"] == "jo" and " jo [" in e["MESSAGE"], e
    # a failed sign-in through the form
    page = http(port, "GET", "/login", headers={"Host": "t"})
    cookie = page.header("set-cookie").split(";")[0]
    csrf = re.search(rb'name="csrf_token" value="([0-9a-f]+)"', page.body).group(1).decode()
    form = f"csrf_token={csrf}&name=jo&password=not+the+journal+password".encode()
    assert http(port, "POST", "/login", body=form, headers={
        "Host": "t", "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}).status == 401
    e = _wait_journal(units, name, "the failed sign-in entry", lambda e: "failed sign-in" in str(e.get("MESSAGE")),
                      "SIGN_IN_USER=jo")
    assert e["REMOTE_ADDR"] == "127.0.0.1" and e["PRIORITY"] == "4", e
    text = units.run("journalctl", "--no-pager", "-o", "export", "-u", name).stdout
    assert "not the journal password" not in text and "not+the+journal+password" not in text
    assert "journal test password" not in text


def test_error_log_entries_are_native_journal_entries(units):
    name, _ = units.server()
    units.systemctl("start", name, timeout=START_TIMEOUT + 20)
    e = _wait_journal(units, name, "a native 'Booting worker' entry",
                      lambda e: "Booting worker" in str(e.get("MESSAGE"))
                      and e.get("_TRANSPORT") == "journal")
    assert e["SYSLOG_IDENTIFIER"] == "request-tracker-utils"
    assert e["PRIORITY"] == "6"                          # info
    assert e.get("CODE_FILE") and e.get("CODE_FUNC"), e
    assert re.fullmatch(r"\d+", e.get("CODE_LINE", "")), e


def test_worker_timeout_is_a_priority_3_journal_entry(units):
    name, port = units.server(args=("--timeout", "1"))
    units.systemctl("start", name, timeout=START_TIMEOUT + 20)
    try:
        get(port, "/sleep?ms=4000", timeout=8)           # the worker is killed under it
    except (OSError, EOFError):
        pass
    e = _wait_journal(units, name, "a PRIORITY=3 'WORKER TIMEOUT' entry",
                      lambda e: "WORKER TIMEOUT" in str(e.get("MESSAGE")), "PRIORITY=3")
    assert "GET" in e["MESSAGE"] and "/sleep" in e["MESSAGE"], e["MESSAGE"]
    assert e["SYSLOG_IDENTIFIER"] == "request-tracker-utils"
    assert e["_TRANSPORT"] == "journal"
    # the entry's metadata as fields
    assert e.get("HTTP_METHOD") == "GET", e
    assert str(e.get("HTTP_PATH")).startswith("/sleep"), e
    assert re.fullmatch(r"\d+", e.get("WORKER_PID", "")), e
    assert e.get("REQUEST_ID"), e
    assert e.get("CODE_FILE") and e.get("CODE_FUNC") and e.get("CODE_LINE"), e
    # the operator's query, verbatim
    text = units.run("journalctl", "--no-pager", "-u", name, "PRIORITY=3").stdout
    assert "WORKER TIMEOUT" in text


def test_stop_drains_in_flight_requests(units):
    name, port = units.server()
    units.systemctl("start", name, timeout=START_TIMEOUT + 20)
    results = []

    def slow():
        try:
            results.append(get(port, "/sleep?ms=1500", timeout=15).status)
        except Exception as e:  # noqa: BLE001 - recorded and asserted below
            results.append(repr(e))
    threads = [threading.Thread(target=slow) for _ in range(2)]
    for t in threads:
        t.start()
    wait_for(lambda: accepted_connections(port) >= 2, 10, what="both requests in flight")
    t0 = time.monotonic()
    units.systemctl("stop", name, timeout=40)
    stop_took = time.monotonic() - t0
    for t in threads:
        t.join(20)
    assert results == [200, 200], f"{results}{units.diagnose(name)}"
    assert stop_took >= 0.8, f"stop returned after {stop_took:.2f}s: did it wait for the drain?"
    assert units.show(name, "ActiveState") == "inactive"
    assert units.show(name, "Result") == "success", units.diagnose(name)
