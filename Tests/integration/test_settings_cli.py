"""The command line as an operator uses it: check-config, print-config and precedence,
errors naming their source, version, bind failures, unix sockets, pid file."""
import os
import re
import signal
import socket
import subprocess
from pathlib import Path


from conftest import CURL, Server, free_port, http, run_cli, wait_for


def config_line(output, key):
    for line in output.splitlines():
        if line.startswith(f"{key} = "):
            return line
    raise AssertionError(f"no '{key} = ' line in:\n{output}")


def test_check_config_ok():
    r = run_cli("check-config")
    assert r.returncode == 0, r.stderr
    assert "configuration OK" in r.stdout + r.stderr


def test_check_config_bad_env():
    r = run_cli("check-config", env={"PREFORK_WORKERS": "abc"})
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "workers" in lines[0] and "environment PREFORK_WORKERS" in lines[0]
    assert "abc" in lines[0]


def test_check_config_bad_cli():
    r = run_cli("check-config", "--workers", "0")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "workers" in lines[0] and "command line" in lines[0]


def test_check_config_unknown_key_in_file(tmp_path):
    cfg = tmp_path / "app.toml"
    cfg.write_text("workers = 3\n# comment\nworkrs = 2\n")
    r = run_cli("check-config", "--config", str(cfg))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "app.toml" in lines[0]
    assert re.search(r"line 3\b", lines[0]), lines[0]
    assert "did you mean" in lines[0] and "workers" in lines[0]


def test_check_config_reports_every_problem(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('timeout = "soon"\n')
    r = run_cli("check-config", "--config", str(cfg), "--keepalive", "x",
                env={"PREFORK_WORKERS": "abc"})
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 3, r.stderr
    joined = "\n".join(lines)
    assert re.search(r"workers.*environment PREFORK_WORKERS", joined)
    assert re.search(r"keepalive.*command line", joined)
    assert re.search(r"timeout.*c\.toml", joined)


def test_bad_config_serve_exits_2_without_binding():
    port = free_port()
    r = run_cli("serve", "--bind", f"127.0.0.1:{port}", "--workers", "0")
    assert r.returncode == 2
    assert "workers" in r.stderr
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_unknown_option_suggests():
    r = run_cli("check-config", "--wokers", "2")
    assert r.returncode == 2
    assert "--wokers" in r.stderr and "did you mean --workers" in r.stderr


def test_missing_config_file(tmp_path):
    r = run_cli("check-config", "--config", str(tmp_path / "nope.toml"))
    assert r.returncode == 2
    assert "nope.toml" in r.stderr


def test_precedence_cli_env_file_default(tmp_path):
    cfg = tmp_path / "p.toml"
    cfg.write_text("workers = 3\nkeepalive = 7\ntimeout = 9\n")
    r = run_cli("print-config", "--config", str(cfg), "--workers", "5",
                env={"PREFORK_WORKERS": "4", "PREFORK_KEEPALIVE": "8"})
    assert r.returncode == 0, r.stderr
    out = r.stdout
    w = config_line(out, "workers")
    assert w.startswith("workers = 5") and "command line" in w, w
    k = config_line(out, "keepalive")
    assert k.startswith("keepalive = 8") and "environment PREFORK_KEEPALIVE" in k, k
    t = config_line(out, "timeout")
    assert t.startswith("timeout = 9") and "p.toml" in t and "line 3" in t, t
    g = config_line(out, "graceful_timeout")
    assert g.startswith("graceful_timeout = 30") and "default" in g, g
    # every setting line carries its source as a trailing comment
    for line in out.splitlines():
        if line and not line.startswith("#"):
            assert re.search(r"  # \S", line), line


def test_print_config_is_a_valid_config_file(tmp_path):
    """print-config's output can be fed back as --config and gives the same values."""
    r = run_cli("print-config", "--workers", "3", "--keepalive", "2")
    cfg = tmp_path / "round.toml"
    cfg.write_text(r.stdout)
    r2 = run_cli("print-config", "--config", str(cfg))
    assert r2.returncode == 0, r2.stderr
    assert config_line(r2.stdout, "workers").startswith("workers = 3")
    assert config_line(r2.stdout, "keepalive").startswith("keepalive = 2")
    assert run_cli("check-config", "--config", str(cfg)).returncode == 0


def test_port_env_sets_default_bind():
    r = run_cli("print-config", env={"PORT": "9123"})
    assert r.returncode == 0
    assert config_line(r.stdout, "bind") == 'bind = ["0.0.0.0:9123"]  # environment PORT'
    # an explicit bind still wins
    r = run_cli("print-config", "--bind", "127.0.0.1:7000", env={"PORT": "9123"})
    assert config_line(r.stdout, "bind").startswith('bind = ["127.0.0.1:7000"]')


def test_version():
    for args in (["--version"], ["version"]):
        r = run_cli(*args)
        assert r.returncode == 0
        assert re.search(r"\d+\.\d+\.\d+", r.stdout), r.stdout


def test_help():
    r = run_cli("help")
    assert r.returncode == 0
    for word in ("serve", "check-config", "print-config", "--workers", "--bind"):
        assert word in r.stdout


def test_unknown_command():
    r = run_cli("frobnicate")
    assert r.returncode == 2
    assert "frobnicate" in r.stderr


def test_env_and_file_reach_the_server(tmp_path):
    """Settings from the environment and a config file actually take effect in serve."""
    cfg = tmp_path / "s.toml"
    cfg.write_text("workers = 3\n")
    srv = Server(tmp_path, args=["--config", str(cfg)], workers=3, workers_flag=False)
    try:
        assert len(srv.worker_pids()) == 3
    finally:
        srv.stop()
    srv = Server(tmp_path, env={"PREFORK_WORKERS": "1"}, workers=1, workers_flag=False)
    try:
        assert len(srv.worker_pids()) == 1
    finally:
        srv.stop()


# ----------------------------------------------------------------------------- binding

def test_address_in_use_exits_1(tmp_path):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        r = run_cli("serve", "--bind", f"127.0.0.1:{port}", "--workers", "1", cwd=tmp_path,
                    env={"WORKING_DIR": str(tmp_path / "var")})
    assert r.returncode == 1
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, r.stderr
    assert f"127.0.0.1:{port}" in lines[0]
    assert "in use" in lines[0].lower()


def test_unix_socket_serves(tmp_path):
    sock = tmp_path / "x.sock"
    srv = Server(tmp_path, bind=f"unix:{sock}", workers=1, wait=False)
    try:
        wait_for(lambda: sock.exists() and len(srv.worker_pids()) == 1 and
                 _curl_unix(sock, "/healthz")[0] == "200", 15, what="unix socket serving")
        code, body = _curl_unix(sock, "/hello")
        assert (code, body) == ("200", "Hello, World!")
        assert oct(sock.stat().st_mode & 0o777) == oct(0o660)
    finally:
        assert srv.stop() == 0
    assert not sock.exists(), "socket file left behind after a clean stop"


def _curl_unix(sock, path):
    r = subprocess.run([CURL, "-s", "--unix-socket", str(sock), "-w", "\n%{http_code}",
                        f"http://localhost{path}"], capture_output=True, text=True, timeout=20)
    body, _, code = r.stdout.rpartition("\n")
    return code, body


def test_unix_socket_stale_file_replaced(tmp_path):
    sock = tmp_path / "stale.sock"
    srv = Server(tmp_path, bind=f"unix:{sock}", workers=1, wait=False)
    wait_for(lambda: sock.exists() and len(srv.worker_pids()) == 1 and
             _curl_unix(sock, "/healthz")[0] == "200", 15, what="first server serving")
    # the server dies hard: its socket file stays
    for pid in srv.worker_pids():
        os.kill(pid, signal.SIGKILL)
    srv.proc.kill()
    srv.stop()
    assert sock.exists()
    wait_for(lambda: _curl_unix(sock, "/healthz")[0] != "200", 10, what="old server gone")
    srv2 = Server(tmp_path, bind=f"unix:{sock}", workers=1, wait=False)
    try:
        wait_for(lambda: len(srv2.worker_pids()) == 1 and _curl_unix(sock, "/hello") ==
                 ("200", "Hello, World!"), 15, what="second server serving on the stale path")
    finally:
        srv2.stop()


def test_unix_socket_live_server_not_stolen(tmp_path):
    sock = tmp_path / "live.sock"
    srv = Server(tmp_path, bind=f"unix:{sock}", workers=1, wait=False)
    try:
        wait_for(lambda: len(srv.worker_pids()) == 1 and _curl_unix(sock, "/healthz")[0] == "200",
                 15, what="first server")
        r = run_cli("serve", "--bind", f"unix:{sock}", "--workers", "1", cwd=tmp_path,
                    env={"WORKING_DIR": str(tmp_path / "var")})
        assert r.returncode == 1
        assert str(sock) in r.stderr
        assert _curl_unix(sock, "/hello") == ("200", "Hello, World!")
    finally:
        srv.stop()


def test_unix_socket_regular_file_refused(tmp_path):
    path = tmp_path / "regular.sock"
    path.write_text("precious data\n")
    r = run_cli("serve", "--bind", f"unix:{path}", "--workers", "1", cwd=tmp_path,
                env={"WORKING_DIR": str(tmp_path / "var")})
    assert r.returncode == 1
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, r.stderr
    assert str(path) in lines[0] and "not a socket" in lines[0]
    assert path.read_text() == "precious data\n"


def test_pid_file_written_and_removed(tmp_path):
    pidfile = tmp_path / "app.pid"
    srv = Server(tmp_path, args=["--pid", str(pidfile)], workers=1)
    try:
        assert int(pidfile.read_text().strip()) == srv.pid
    finally:
        assert srv.stop() == 0
    assert not pidfile.exists()


def test_two_binds(tmp_path):
    other = free_port()
    srv = Server(tmp_path, args=["--bind", f"127.0.0.1:{other}"], workers=1)
    try:
        assert http(srv.port, "GET", "/hello").status == 200
        assert http(other, "GET", "/hello").status == 200
    finally:
        srv.stop()


def test_settings_doc_matches_docs():
    r = run_cli("settings-doc")
    assert r.returncode == 0
    doc = Path(__file__).resolve().parents[2] / "docs" / "settings.md"
    if doc.exists():
        assert r.stdout.strip() == doc.read_text().strip()


def test_gunicorn_spellings_are_accepted(tmp_path):
    """An operator coming from Gunicorn types its spellings: aliases of the same settings, and
    --check-config / --print-config as flags among the options."""
    spelled = ["--keep-alive", "7", "--access-logformat", "%(h)s %(r)s", "--log-file", str(tmp_path / "e.log"),
               "-n", "rtu-test", "--worker-connections", "50"]
    r = run_cli("check-config", *spelled)
    assert r.returncode == 0, r.stderr
    r = run_cli("-w", "3", "--check-config", *spelled)
    assert r.returncode == 0 and "configuration OK" in r.stdout + r.stderr, r.stderr
    r = run_cli("--print-config", *spelled)
    assert r.returncode == 0, r.stderr
    assert config_line(r.stdout, "keepalive").startswith("keepalive = 7")
    assert "--keep-alive" in config_line(r.stdout, "keepalive")
    assert config_line(r.stdout, "max_connections").startswith("max_connections = 50")
    assert config_line(r.stdout, "proc_name").startswith('proc_name = "rtu-test"')
    bad = run_cli("check-config", "--worker-connections", "0")
    assert bad.returncode == 2 and "--worker-connections" in bad.stderr, bad.stderr


def test_a_host_with_sub_delimiters_is_a_name(tmp_path):
    """RFC 3986 allows `=` (and the other sub-delims) in a reg-name: `Host: 0.0.0.0=5000` is
    served where ALLOWED_HOSTS allows any host, refused only where a list does not name it."""
    (tmp_path / "var").mkdir()
    srv = Server(tmp_path, env={"ALLOWED_HOSTS": "*"})
    try:
        assert http(srv.port, "GET", "/login", headers={"Host": "0.0.0.0=5000"}).status == 200
    finally:
        srv.stop()
    listed = Server(tmp_path, env={"ALLOWED_HOSTS": "rtutils.example.org"})
    try:
        assert http(listed.port, "GET", "/login", headers={"Host": "0.0.0.0=5000"}).status == 400
    finally:
        listed.stop()
