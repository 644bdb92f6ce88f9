"""The application on PostgreSQL beyond one machine: several hosts (network namespaces of the
project's own, Tests/integration/netns.py) with 2 workers each on one PostgreSQL, nginx with the
shipped several-hosts site in front; tags gapless and unique across all of them, a host
SIGKILLed or HUPed under load, PostgreSQL restarted under load, bad connection settings, and
`backup` on PostgreSQL."""
import http.client
import json
import os
import signal
import threading
import time

import pytest

import netns
from conftest import APP_ENV, Server, assert_stays, create_token, create_user, free_port, pid_alive, run_cli, wait_for
from pg_harness import make_pg_cluster, stop_pg_cluster
from test_deploy import run_hosts_site, stop_nginx_proc

TAG_PREFIX = "W12-"


# --- fixtures: a network, a cluster on it, a database per test -------------------------------

@pytest.fixture(scope="module")
def network():
    ok, reason = netns.permitted()
    if not ok:
        pytest.skip(reason)
    with netns.Network() as net:
        yield net


@pytest.fixture(scope="module")
def cluster(request):
    """A cluster of this module's own (the tests here stop and restart it), listening on
    loopback and, when there are namespaces, on the bridge's address the hosts reach."""
    listen = ["127.0.0.1"]
    if netns.permitted()[0]:
        listen.append(request.getfixturevalue("network").gateway)
    made = make_pg_cluster(",".join(listen))
    yield made
    stop_pg_cluster(made)


def cli(tmp_path, *args, env):
    """The CLI with `env` (WORKING_DIR in the test's directory, though the data is not there)."""
    return run_cli(*args, env={"WORKING_DIR": str(tmp_path / "var"), **env}, cwd=tmp_path)


@pytest.fixture
def database(cluster, tmp_path):
    """A fresh database, migrated."""
    name = cluster.create_database()
    done = cli(tmp_path, "migrate", env=cluster.env(name))
    assert done.returncode == 0, done.stderr
    yield name
    cluster.drop_database(name)


def token_headers(tmp_path, env) -> dict:
    """A technology-staff user and its API token in the database `env` names."""
    full = {**APP_ENV, "WORKING_DIR": str(tmp_path / "var"), **env}
    create_user(full, "loadtester", "tech")
    return {"Authorization": f"Bearer {create_token(full, 'loadtester')}"}


@pytest.fixture
def auth(cluster, database, tmp_path):
    """Authorization headers for the test's database (made once it is migrated)."""
    return token_headers(tmp_path, cluster.env(database))


def prepared_dir(path):
    """A WORKING_DIR with the static files (readiness wants them); the data is in PostgreSQL."""
    path.mkdir(parents=True, exist_ok=True)
    done = run_cli("collectstatic", env={"WORKING_DIR": str(path / "var")}, cwd=path)
    assert done.returncode == 0, done.stderr
    return path


@pytest.fixture
def hosts(network, cluster, database, tmp_path):
    """make(n): n hosts, each a namespace with a server of 2 workers on the shared database."""
    made = []

    def make(count):
        for index in range(count):
            host = network.add_host()
            server = Server(prepared_dir(tmp_path / f"host{index + 1}"), env=cluster.env(database, network.gateway),
                            host=host.address, prefix=host.prefix, new_session=True, wait=False)
            made.append((host, server))
            server.wait_ready(2)
        return [server for _, server in made]
    yield make
    for host, server in made:
        server.stop()
        network.remove_host(host)


class Nginx:
    """Real nginx in the root namespace with the shipped several-hosts site
    (config/nginx/request-tracker-utils-hosts.conf, as test_deploy.py runs it), its upstream
    pointed at the hosts: keep-alive connections to them, retries for idempotent requests only,
    and a POST passed on to another host only when it never reached the first (connection
    refused by a dead host)."""

    def __init__(self, directory, servers):
        self.directory = directory
        self.proc, self.port = run_hosts_site(directory, [f"{s.host}:{s.port}" for s in servers])

    def stop(self):
        stop_nginx_proc(self.proc)


@pytest.fixture
def nginx(tmp_path):
    made = []

    def make(servers):
        proxy = Nginx(tmp_path / "nginx", servers)
        made.append(proxy)
        return proxy
    yield make
    for proxy in made:
        proxy.stop()


# --- clients -----------------------------------------------------------------------------------

class TagClients:
    """`count` clients, each on its own keep-alive connection, issuing one tag per POST /api/tags
    until each has sent `each` requests or stop() is called. Every answer is recorded: the tags
    of a 201, anything else (status or exception) as a failure, with the time it came."""

    def __init__(self, port, auth, count=8, each=None):
        self.port = port
        self.auth = auth
        self.each = each
        self.tags = []          # every tag a client was told it got
        self.answers = []       # (monotonic time, status or exception text)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(count)]
        for thread in self._threads:
            thread.start()

    def _run(self):
        conn = None
        sent = 0
        while not self._stop.is_set() and (self.each is None or sent < self.each):
            sent += 1
            try:
                conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                conn.request("POST", "/api/tags", body=b"{}",
                             headers={"Host": "127.0.0.1", "Content-Type": "application/json", **self.auth})
                response = conn.getresponse()
                body = response.read()
                outcome = response.status
                issued = [t["tag"] for t in json.loads(body)["tags"]] if outcome == 201 else []
                if response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as error:
                outcome, issued = f"{type(error).__name__}: {error}", []
                if conn:
                    conn.close()
                conn = None
            with self._lock:
                self.answers.append((time.monotonic(), outcome))
                self.tags += issued
        if conn:
            conn.close()

    @property
    def issued(self) -> int:
        with self._lock:
            return len(self.tags)

    def failures(self, since=0.0) -> list:
        with self._lock:
            return [(t, o) for t, o in self.answers if o != 201 and t >= since]

    def wait_issued(self, count, timeout=60):
        """Waits until `count` tags were issued; fails at once on a failed request."""
        def reached():
            assert not self.failures(), f"requests failed: {self.failures()[:5]}"
            return self.issued >= count
        wait_for(reached, timeout, what=f"{count} tags issued")

    def successes_since(self, since) -> int:
        with self._lock:
            return sum(1 for t, o in self.answers if o == 201 and t >= since)

    def stop(self):
        self._stop.set()
        return self.join()

    def join(self, timeout=120):
        for thread in self._threads:
            thread.join(timeout)
            assert not thread.is_alive(), "a client is stuck"
        return self


def numbers(tags) -> list[int]:
    assert all(t.startswith(TAG_PREFIX) for t in tags), tags[:5]
    return sorted(int(t[len(TAG_PREFIX):]) for t in tags)


def assert_database_gapless(cluster, database):
    """The tags in the database are 1..N, each once, and the counter is at N + 1; returns them."""
    rows = cluster.query("SELECT tag, number FROM asset_tags", database)
    tags = [tag for tag, _ in rows]
    assert len(set(tags)) == len(tags)
    assert numbers(tags) == sorted(n for _, n in rows) == list(range(1, len(rows) + 1))
    assert cluster.query("SELECT next_number FROM tag_counter", database) == [(len(rows) + 1,)]
    return set(tags)


def served_tags(server) -> int:
    return server.access_log().count("POST /api/tags")


def worker_crashes(server) -> list[str]:
    return [line for line in server.log().splitlines() if "exited with" in line or "was killed" in line]


# --- several hosts -----------------------------------------------------------------------------

def test_three_hosts_issue_6000_gapless_unique_tags(hosts, nginx, cluster, database, auth):
    servers = hosts(3)
    proxy = nginx(servers)
    clients = TagClients(proxy.port, auth, count=8, each=750).join()
    assert clients.failures() == []
    assert sorted(clients.tags) == [f"{TAG_PREFIX}{n:04d}" for n in range(1, 6001)]
    assert assert_database_gapless(cluster, database) == set(clients.tags)
    for server in servers:  # every host took its share through nginx
        assert served_tags(server) > 500, (server.host, served_tags(server))
        assert worker_crashes(server) == [], server.log()


def test_a_host_killed_mid_run_loses_no_tag_a_client_was_given(hosts, nginx, cluster, database, auth):
    servers = hosts(3)
    proxy = nginx(servers)
    victim = servers[1]
    doomed = [victim.pid, *victim.worker_pids()]
    clients = TagClients(proxy.port, auth, count=8, each=750)
    clients.wait_issued(2000)
    os.killpg(victim.pid, signal.SIGKILL)   # master and workers at once (own process group)
    killed_at = time.monotonic()
    wait_for(lambda: not any(pid_alive(pid) for pid in doomed), 10, what="the killed host's processes gone")
    clients.join()
    # nginx carried on with the other two: all but the requests in flight at the kill succeeded
    failures = clients.failures()
    assert len(failures) <= 8, failures
    assert all(outcome == 502 for _, outcome in failures), failures
    assert clients.successes_since(killed_at) > 2000
    # every tag a client was told it got exists exactly once; the database has no gap
    assert len(set(clients.tags)) == len(clients.tags)
    in_database = assert_database_gapless(cluster, database)
    assert set(clients.tags) <= in_database
    assert len(in_database) - len(clients.tags) <= len(failures)  # committed, answer lost at the kill
    for survivor in (servers[0], servers[2]):
        assert survivor.proc.poll() is None and worker_crashes(survivor) == [], survivor.log()


def test_hup_of_one_host_under_load_fails_no_request(hosts, nginx, cluster, database, auth):
    servers = hosts(3)
    proxy = nginx(servers)
    reloaded = servers[0]
    before = reloaded.worker_pids()
    clients = TagClients(proxy.port, auth, count=8)
    try:
        clients.wait_issued(1000)
        reloaded.signal(signal.SIGHUP)
        wait_for(lambda: len(reloaded.worker_pids()) == 2 and not set(reloaded.worker_pids()) & set(before),
                 20, what="the HUPed host's workers replaced")
        after_reload = clients.issued
        served = served_tags(reloaded)
        wait_for(lambda: clients.issued >= after_reload + 1000 and served_tags(reloaded) > served, 60,
                 what="tags issued after the reload, some by the reloaded host")
    finally:
        clients.stop()
    assert clients.failures() == []
    assert "reloading configuration" in reloaded.log().lower()
    assert sorted(numbers(clients.tags)) == list(range(1, len(clients.tags) + 1))
    assert assert_database_gapless(cluster, database) == set(clients.tags)


# --- PostgreSQL restarted under load -----------------------------------------------------------

def readyz(server):
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        conn.request("GET", "/readyz", headers={"Host": "127.0.0.1"})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def get(server, path, headers=None):
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": "127.0.0.1", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_postgresql_restarted_under_load_workers_live_and_recover(server_factory, tmp_path, cluster, database,
                                                                   auth):
    prepared_dir(tmp_path)
    srv = server_factory(workers=2, env=cluster.env(database))
    assert readyz(srv)[0] == 200
    workers = srv.worker_pids()
    clients = TagClients(srv.port, auth, count=4)
    try:
        clients.wait_issued(200)
        # a quick restart: requests succeed again within seconds, no server restart
        cluster.restart()
        restarted = time.monotonic()
        wait_for(lambda: clients.successes_since(restarted) >= 50, 10, what="tags issued after the restart")
        # down for a while: /readyz says so, requests get a 503, then it comes back
        cluster.stop()
        stopped = time.monotonic()
        status, state = wait_for(lambda: (lambda s: s if s[0] == 503 else None)(readyz(srv)), 10,
                                 what="/readyz 503 with PostgreSQL down")
        assert state["status"] == "not ready" and state["database"]["detail"], state
        wait_for(lambda: any(o == 503 for _, o in clients.failures(stopped)), 10, what="a 503 for a tag")
        cluster.start()
        started = time.monotonic()
        wait_for(lambda: readyz(srv)[0] == 200, 10, what="/readyz 200 with PostgreSQL back")
        wait_for(lambda: clients.successes_since(started) >= 50, 10, what="tags issued after PostgreSQL came back")
    finally:
        clients.stop()
    assert srv.worker_pids() == workers and srv.proc.poll() is None
    assert srv.log().count("Booting worker") == 2 and worker_crashes(srv) == [], srv.log()
    # a tag request either got its tag or a 503 page: no 500, no dropped connection
    assert {outcome for _, outcome in clients.failures()} <= {503}, clients.failures()[:5]
    assert len(set(clients.tags)) == len(clients.tags)
    assert set(clients.tags) <= assert_database_gapless(cluster, database)


# --- bad connection settings -------------------------------------------------------------------

BAD_SETTINGS = {
    "wrong password": (lambda c: {**c.env(), "PGPASSWORD": "not-the-password"}, "password authentication failed"),
    "unknown database": (lambda c: c.env("no_such_database"), 'database "no_such_database" does not exist'),
    "unreachable host": (lambda c: {"DATABASE_URL": c.url(port=free_port()), "PGPASSWORD": c.password},
                         "Connection refused"),
}


@pytest.mark.parametrize("case", BAD_SETTINGS, ids=lambda case: case.replace(" ", "_"))
def test_bad_connection_settings_one_line_at_migrate_and_503_at_readyz(case, server_factory, tmp_path, cluster):
    make_env, reason = BAD_SETTINGS[case]
    env = make_env(cluster)
    migrate = cli(tmp_path, "migrate", env=env)
    assert migrate.returncode == 1, (migrate.stdout, migrate.stderr)
    lines = migrate.stderr.strip().splitlines()
    assert len(lines) == 1 and reason in lines[0], migrate.stderr
    assert cluster.password not in migrate.stderr + migrate.stdout
    prepared_dir(tmp_path)
    srv = server_factory(workers=2, env=env)
    status, state = readyz(srv)
    assert status == 503 and reason in state["database"]["detail"], state
    assert cluster.password not in json.dumps(state)
    workers = srv.worker_pids()
    # pages that need the database keep getting a 503 and the same workers keep serving them
    # (a token, so the request reaches the database: checking it is the first thing that does)
    token = {"Authorization": "Bearer rtu_" + "0" * 48}
    assert_stays(lambda: get(srv, "/tags", token)[0] == 503 and readyz(srv)[0] == 503
                 and srv.worker_pids() == workers and srv.proc.poll() is None,
                 3, what="503s from the same workers")
    assert worker_crashes(srv) == [], srv.log()


def test_backup_on_postgresql_points_at_pg_dump(cluster, database, tmp_path):
    done = cli(tmp_path, "backup", env=cluster.env(database))
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "pg_dump" in lines[0], done.stderr


# --- the setting -------------------------------------------------------------------------------

def test_unix_socket_url_serves_tags(cluster, tmp_path, server_factory):
    """The `host=/dir` form: libpq over the cluster's unix socket, password from PGPASSWORD."""
    name = cluster.create_database()
    try:
        env = {"DATABASE_URL": f"postgresql://rtutils@/{name}?host={cluster.directory}&port={cluster.port}",
               "PGPASSWORD": cluster.password}
        done = cli(tmp_path, "migrate", env=env)
        assert done.returncode == 0, done.stderr
        prepared_dir(tmp_path)
        srv = server_factory(workers=2, env=env)
        assert readyz(srv)[0] == 200
        clients = TagClients(srv.port, token_headers(tmp_path, env), count=2, each=5).join()
        assert clients.failures() == [] and clients.issued == 10
        assert cluster.query("SELECT count(*) FROM asset_tags", name) == [(10,)]
    finally:
        cluster.drop_database(name)


def test_malformed_url_refused_and_password_never_shown(tmp_path):
    bad = cli(tmp_path, "check-config", env={"DATABASE_URL": "postgresql://rtutils@host:notaport/db"})
    assert bad.returncode != 0
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1 and "database_url" in lines[0] and "DATABASE_URL" in lines[0], bad.stderr
    secret = "s3cret-in-the-url"
    url = f"postgresql://rtutils:{secret}@127.0.0.1:5432/rtutils"
    for command in ("print-config", "check-config"):
        done = cli(tmp_path, command, env={"DATABASE_URL": url})
        assert secret not in done.stdout + done.stderr, (command, done.stdout, done.stderr)
