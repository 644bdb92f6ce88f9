"""Request Tracker Utils on the real binary with real databases: migrate, collectstatic, asset
tags from many workers at once, check-in, CSV, /readyz, settings in production mode. Every test
runs on both backends (the `backend` parameter: an SQLite file, a PostgreSQL database), except
the few about the SQLite file itself."""
import concurrent.futures
import hashlib
import http.client
import json
import os
import re
import sqlite3
import subprocess
import urllib.parse

import pytest

from conftest import BIN, APP_ENV, Server, auth_headers, run_cli, session_cookie, wait_for

# The newest migration this release ships: the one line to change when a migration is added.
LATEST = 7

pytestmark = pytest.mark.usefixtures("backend")
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def cli(workdir, *args, env=None):
    return run_cli(*args, env={"WORKING_DIR": str(workdir / "var"), **(env or {})}, cwd=workdir)


def prepared(tmp_path):
    """A working directory after the preStart steps."""
    for step in ("migrate", "collectstatic"):
        done = cli(tmp_path, step)
        assert done.returncode == 0, done.stderr
    return tmp_path


def request(port, method, path, body=None, headers=None, host="127.0.0.1", auth="tech"):
    """One request; to a page that needs sign-in, with a `tech` (or `auth`) user's API token
    unless `auth` is None or the headers carry a session cookie."""
    headers = dict(headers or {})
    public = path.split("?")[0] in ("/readyz", "/healthz", "/hello", "/login") or path.startswith("/static/")
    if auth and not public and "Cookie" not in headers and "Authorization" not in headers:
        headers.update(auth_headers(port, auth))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers={"Host": host, **headers})
        response = conn.getresponse()
        return response.status, dict((k.lower(), v) for k, v in response.getheaders()), response.read()
    finally:
        conn.close()


def post_json(port, path, payload):
    return request(port, "POST", path, json.dumps(payload).encode(), {"Content-Type": "application/json"})


def versions(backend):
    return [row[0] for row in backend.query("SELECT version FROM schema_migrations ORDER BY version")]


# --- migrate -------------------------------------------------------------------------------

def test_migrate_from_empty_then_idempotent(tmp_path, backend):
    first = cli(tmp_path, "migrate")
    assert first.returncode == 0, first.stderr
    assert "applied 0001 asset tags" in first.stdout and f"now at version {LATEST}" in first.stdout
    second = cli(tmp_path, "migrate")
    assert second.returncode == 0
    assert "no migrations to apply" in second.stdout and f"at version {LATEST}" in second.stdout
    assert versions(backend) == list(range(1, LATEST + 1))
    if not backend.is_postgresql:
        assert backend.query("PRAGMA journal_mode") == [("wal",)]
    status = cli(tmp_path, "migrate", "status")
    assert status.returncode == 0 and "[X] 0003 request tracker links" in status.stdout


@pytest.mark.parametrize("start", [1, 2, 3, 4, 5])
def test_migrate_from_each_earlier_version_keeps_data(tmp_path, backend, start):
    done = cli(tmp_path, "migrate", str(start))
    assert done.returncode == 0, done.stderr
    assert versions(backend) == list(range(1, start + 1))
    pending = cli(tmp_path, "migrate", "status")
    assert pending.returncode == 1 and "pending" in pending.stdout
    # data written by the older release
    backend.execute("UPDATE tag_counter SET next_number = 8",
                    "INSERT INTO asset_tags (number, tag, issued_at, note) VALUES (7, 'W12-0007', '2026-01-01T00:00:00Z', 'old')")
    if start >= 2:
        backend.execute("INSERT INTO checkins (tag, student, condition, notes, checked_in_on, checked_in_at) "
                        "VALUES ('W12-0007', 'Ann', 'good', '', '2026-01-01', '2026-01-01T00:00:00Z')")
    done = cli(tmp_path, "migrate")
    assert done.returncode == 0, done.stderr
    assert f"applied 000{start + 1}" in done.stdout
    assert versions(backend) == list(range(1, LATEST + 1))
    assert backend.query("SELECT tag, note, issued_by FROM asset_tags") == [("W12-0007", "old", "")]
    if start >= 2:
        assert backend.query("SELECT rt_status FROM checkins") == [("not sent",)]


def test_migrate_refuses_a_newer_database(tmp_path, backend):
    assert cli(tmp_path, "migrate").returncode == 0
    backend.execute("INSERT INTO schema_migrations VALUES (99, 'from the future', '2030-01-01T00:00:00Z')")
    refused = cli(tmp_path, "migrate")
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and f"schema version 99, newer than this release knows ({LATEST})" in lines[0], refused.stderr
    assert versions(backend) == list(range(1, LATEST + 1)) + [99]


def test_migrate_backwards_and_unknown_target_are_refused(tmp_path):
    assert cli(tmp_path, "migrate").returncode == 0
    back = cli(tmp_path, "migrate", "1")
    assert back.returncode == 1 and "migrations only go forward" in back.stderr
    unknown = cli(tmp_path, "migrate", "70")
    assert unknown.returncode == 1 and "there is no migration 70" in unknown.stderr


def test_concurrent_migrates_apply_each_migration_once(tmp_path, backend):
    for round_ in range(5):
        workdir = tmp_path / f"round{round_}"
        workdir.mkdir()
        database = backend.another(workdir)   # on PostgreSQL the advisory lock serializes them
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFORK_")}
        env.update(APP_ENV, WORKING_DIR=str(workdir / "var"), **database.env())
        env = {k: v for k, v in env.items() if v is not None}
        (workdir / "var").mkdir()
        procs = [subprocess.Popen([BIN, "migrate"], env=env, cwd=workdir, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(4)]
        results = [(p.wait(30), *p.communicate()) for p in procs]
        assert all(code == 0 for code, _, _ in results), results
        applied = sum(out.count("applied ") for _, out, _ in results)
        assert applied == LATEST, results
        assert versions(database) == list(range(1, LATEST + 1))


@sqlite_only  # the SQLite file lives in WORKING_DIR
def test_migrate_fails_with_one_line_when_working_dir_is_unusable(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    for step in ("migrate", "collectstatic"):
        failed = run_cli(step, env={"WORKING_DIR": str(blocker)})
        assert failed.returncode == 1
        lines = failed.stderr.strip().splitlines()
        assert len(lines) == 1 and "exists and is not a directory" in lines[0], failed.stderr


# --- collectstatic -------------------------------------------------------------------------

def test_collectstatic_hashes_and_is_idempotent(tmp_path):
    first = cli(tmp_path, "collectstatic")
    assert first.returncode == 0, first.stderr
    static = tmp_path / "var" / "static"
    manifest = json.loads((static / "staticfiles.json").read_text())
    assert set(manifest["paths"]) >= {"app.css", "app.js", "labels.css"}
    for name, hashed in manifest["paths"].items():
        content = (static / hashed).read_bytes()
        assert (static / name).read_bytes() == content
        stem, dot, ext = name.rpartition(".")
        assert hashed == f"{stem}.{hashlib.sha256(content).hexdigest()[:12]}.{ext}"
    before = {p.name: p.stat().st_mtime_ns for p in static.iterdir()}
    second = cli(tmp_path, "collectstatic")
    assert second.returncode == 0 and "no changes" in second.stdout
    assert {p.name: p.stat().st_mtime_ns for p in static.iterdir()} == before
    assert not [p for p in static.iterdir() if ".tmp-" in p.name]


def test_collectstatic_rewrites_a_damaged_file_and_keeps_old_hashed_files(tmp_path):
    assert cli(tmp_path, "collectstatic").returncode == 0
    static = tmp_path / "var" / "static"
    old = static / "app.000000000000.css"
    old.write_text("/* from an earlier release */")
    (static / "app.css").write_text("damaged")
    again = cli(tmp_path, "collectstatic")
    assert again.returncode == 0 and "app.css" in again.stdout
    assert (static / "app.css").read_text() != "damaged"
    assert old.exists()   # pages served before may still link it


# --- serving -------------------------------------------------------------------------------

def test_pages_link_only_static_files_that_exist(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory()
    for path in ("/", "/tags", "/checkin", "/checkins"):
        status, _, body = request(srv.port, "GET", path)
        assert status == 200, (path, body)
        links = re.findall(r'(?:href|src)="/static/([^"]+)"', body.decode())
        assert links, path
        for link in links:
            assert (tmp_path / "var" / "static" / link).is_file(), link


def test_readyz_before_and_after_the_prestart_steps(tmp_path, server_factory):
    srv = server_factory()
    status, headers, body = request(srv.port, "GET", "/readyz")
    assert status == 503 and headers["content-type"] == "application/json"
    state = json.loads(body)
    assert state["status"] == "not ready"
    assert "run `request-tracker-utils migrate`" in state["database"]["detail"]
    assert "collectstatic" in state["static"]["detail"]
    assert request(srv.port, "GET", "/healthz")[0] == 200
    # a page that needs the database (signing in needs it too)
    status, _, body = request(srv.port, "GET", "/tags", headers={"Authorization": "Bearer rtu_" + "0" * 48})
    assert status == 503 and b"migrate" in body
    prepared(tmp_path)
    status, _, body = request(srv.port, "GET", "/readyz")
    assert status == 200 and json.loads(body)["status"] == "ready", body


def test_eight_workers_issue_4000_distinct_consecutive_tags(tmp_path, server_factory, backend):
    prepared(tmp_path)
    srv = server_factory(workers=8)
    auth = auth_headers(srv.port)

    def issue(_):
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
        tags = []
        try:
            for _ in range(10):
                conn.request("POST", "/api/tags", body=b"{}",
                             headers={"Host": "127.0.0.1", "Content-Type": "application/json", **auth})
                response = conn.getresponse()
                body = response.read()
                assert response.status == 201, body
                tags += [t["tag"] for t in json.loads(body)["tags"]]
        finally:
            conn.close()
        return tags

    with concurrent.futures.ThreadPoolExecutor(max_workers=200) as pool:
        issued = [tag for tags in pool.map(issue, range(400)) for tag in tags]
    assert len(issued) == 4000
    assert sorted(issued) == [f"W12-{n:04d}" for n in range(1, 4001)]
    assert "database is locked" not in srv.log()
    assert backend.query("SELECT count(*), min(number), max(number) FROM asset_tags") == [(4000, 1, 4000)]
    assert backend.query("SELECT next_number FROM tag_counter") == [(4001,)]


def test_tag_prefix_and_padding_come_from_settings(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory(env={"PREFIX": "LIB-", "PADDING": "6"})
    status, _, body = post_json(srv.port, "/api/tags", {"count": 2, "note": "library"})
    assert status == 201
    assert [t["tag"] for t in json.loads(body)["tags"]] == ["LIB-000001", "LIB-000002"]
    status, _, body = post_json(srv.port, "/api/tags", {"count": 0})
    assert status == 400 and b"count must be" in body
    status, _, body = request(srv.port, "POST", "/api/tags", b"count=1",
                              {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 415


def test_checkin_twice_the_same_day_is_409(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory()
    payload = {"tag": "w12-0042", "student": "Ann Example", "condition": "good", "notes": ""}
    status, _, body = post_json(srv.port, "/api/checkins", payload)
    assert status == 201, body
    checkin = json.loads(body)["checkin"]
    assert checkin["tag"] == "W12-0042" and checkin["student"] == "Ann Example"
    status, _, body = post_json(srv.port, "/api/checkins", {**payload, "student": "Someone Else"})
    assert status == 409
    assert "already checked in today" in json.loads(body)["error"]
    status, _, body = post_json(srv.port, "/api/checkins", {"tag": "W12-0043", "student": "B", "condition": "broken"})
    assert status == 400 and b"condition must be good, fair or damaged" in body
    status, _, body = post_json(srv.port, "/api/checkins", {"tag": "W12-0043", "student": "B", "condition": "damaged"})
    assert status == 400 and b"notes are required" in body


def form_session(port, path, host="127.0.0.1"):
    """Signs in through the form and GETs a form page; returns (session cookie, csrf token)."""
    cookie = session_cookie(port, host=host)
    status, headers, body = request(port, "GET", path, headers={"Cookie": cookie}, host=host)
    assert status == 200
    assert "set-cookie" not in headers     # the form is bound to the session: no csrftoken
    token = re.search(rb'name="csrf_token" value="([0-9a-f]+)"', body).group(1).decode()
    return cookie, token


def test_checkin_form_with_csrf_and_dashboard_and_csv(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory()
    cookie, token = form_session(srv.port, "/checkin")
    form = {"csrf_token": token, "tag": "W12-0100", "student": "=cmd|' /C calc'!A0", "condition": "fair",
            "notes": 'scratched, "lid"'}
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    status, answer, body = request(srv.port, "POST", "/checkins", urllib.parse.urlencode(form).encode(), headers)
    # POST/redirect/GET: reloading the page that says "checked in" sends nothing again
    assert status == 303 and answer["location"].startswith("/checkin?recorded="), body
    status, _, body = request(srv.port, "GET", answer["location"], headers={"Cookie": cookie})
    assert status == 200 and b"Checked in W12-0100" in body and b"recorded here only" in body
    assert b"by tester-tech" in body
    status, _, body = request(srv.port, "POST", "/checkins", urllib.parse.urlencode(form).encode(), headers)
    assert status == 409 and b"already checked in today" in body
    # no token, or a token for another cookie: refused, nothing recorded
    forged = {**form, "tag": "W12-0101", "csrf_token": "0" * 64}
    status, _, body = request(srv.port, "POST", "/checkins", urllib.parse.urlencode(forged).encode(), headers)
    assert status == 403 and b"CSRF" in body
    # a token is bound to its session: one from another session of the same user is refused
    other_cookie, other_token = form_session(srv.port, "/checkin")
    stolen = {**form, "tag": "W12-0101", "csrf_token": other_token}
    status, _, body = request(srv.port, "POST", "/checkins", urllib.parse.urlencode(stolen).encode(), headers)
    assert status == 403 and b"CSRF" in body
    status, _, body = request(srv.port, "GET", "/checkins")
    assert status == 200 and b"W12-0100" in body and b"W12-0101" not in body
    status, headers, body = request(srv.port, "GET", "/checkins.csv")
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert "attachment" in headers["content-disposition"]
    lines = body.decode().splitlines()
    assert lines[0].startswith("id,date,checked_in_at,tag,student,condition,notes")
    assert lines[0].endswith(",checked_in_by,previous_owner,device_type,serial,student_id")
    assert "W12-0100,'=cmd|' /C calc'!A0,fair,\"scratched, \"\"lid\"\"\"" in lines[1]
    assert lines[1].endswith(",tester-tech,,,,")


def test_tag_form_issues_and_redirects(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory()
    cookie, token = form_session(srv.port, "/tags")
    body = urllib.parse.urlencode({"csrf_token": token, "count": "3", "note": "cart 4"}).encode()
    status, headers, _ = request(srv.port, "POST", "/tags", body,
                                 {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    assert status == 303 and headers["location"].startswith("/tags?issued=W12-0001&last=W12-0003&count=3")
    status, _, page = request(srv.port, "GET", headers["location"])
    assert status == 200 and b"Issued 3 tags: W12-0001 to W12-0003." in page and b"cart 4" in page
    assert page.count(b"<td>tester-tech</td>") == 3    # who issued them


def test_tags_page_shows_a_tag_issued_through_any_worker(tmp_path, server_factory):
    """Each worker keeps the page's history table while the database is unchanged: a tag issued
    through one worker must appear on every page served afterwards, by any worker."""
    prepared(tmp_path)
    srv = server_factory(workers=2)
    for _ in range(20):  # both workers render and keep the (empty) table
        assert request(srv.port, "GET", "/tags")[0] == 200
    status, _, body = request(srv.port, "POST", "/api/tags", b'{"count": 1, "note": "<i>new</i>"}',
                              {"Content-Type": "application/json"})
    assert status == 201 and b"W12-0001" in body
    for _ in range(20):  # new connections, spread over both workers
        status, _, page = request(srv.port, "GET", "/tags")
        assert status == 200 and b'<td class="tag">W12-0001</td>' in page and b"&lt;i&gt;new&lt;/i&gt;" in page
        assert b'The next tag is <span class="tag">W12-0002</span>' in page


def test_master_stays_single_threaded_after_preload_and_workers_sign_alike(tmp_path, server_factory):
    """The master warms OpenSSL before it forks (the application's preload): it must still have
    one thread, and every worker must sign CSRF tokens with the real key and draw its own
    random cookies."""
    prepared(tmp_path)
    srv = server_factory(workers=2)
    assert len(os.listdir(f"/proc/{srv.pid}/task")) == 1
    sessions = [form_session(srv.port, "/tags") for _ in range(8)]
    assert len({cookie for cookie, _ in sessions}) == len(sessions)
    assert len({token for _, token in sessions}) == len(sessions)
    for cookie, token in sessions:
        body = urllib.parse.urlencode({"csrf_token": token, "count": "1", "note": "preload"}).encode()
        status, _, _ = request(srv.port, "POST", "/tags", body,
                               {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
        assert status == 303
    assert len(os.listdir(f"/proc/{srv.pid}/task")) == 1


# --- production settings -------------------------------------------------------------------

def test_allowed_hosts_rejects_other_hosts(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory(env={"ALLOWED_HOSTS": "rtutils.example.org,.school.example"})
    assert request(srv.port, "GET", "/", host="rtutils.example.org:8000")[0] == 200
    assert request(srv.port, "GET", "/", host="labs.school.example")[0] == 200
    status, _, body = request(srv.port, "GET", "/", host="evil.example")
    assert status == 400 and b"Host header" in body
    wait_for(lambda: 'invalid Host header "evil.example"' in srv.log(), what="the Host warning")


def test_missing_or_weak_secret_key_stops_startup_with_one_line(tmp_path):
    missing = cli(tmp_path, "serve", "--bind", "127.0.0.1:0", env={"SECRET_KEY": None})
    assert missing.returncode == 2
    lines = missing.stderr.strip().splitlines()
    assert len(lines) == 1, missing.stderr
    assert "setting 'secret_key' (SECRET_KEY) is not set" in lines[0]
    assert "generate-secret-key" in lines[0]
    weak = cli(tmp_path, "check-config", env={"SECRET_KEY": "short"})
    assert weak.returncode == 2
    assert "from environment SECRET_KEY is too short (5 characters" in weak.stderr
    assert "short" not in weak.stderr.replace("too short", "")   # never echo the secret
    no_hosts = cli(tmp_path, "check-config", env={"ALLOWED_HOSTS": None})
    assert no_hosts.returncode == 2 and "allowed_hosts" in no_hosts.stderr


def test_debug_mode_runs_without_a_secret_key(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory(env={"SECRET_KEY": None, "ALLOWED_HOSTS": None, "DEBUG": "true"})
    assert request(srv.port, "GET", "/tags", host="localhost:8000")[0] == 200
    assert request(srv.port, "GET", "/tags", host="example.org")[0] == 400
    # every worker signs with the same kept key: a token from one is good at the other
    cookie, token = form_session(srv.port, "/checkin", host="localhost:8000")
    for n in range(6):
        form = urllib.parse.urlencode({"csrf_token": token, "tag": f"D-{n}", "student": "x", "condition": "good"})
        status, _, _ = request(srv.port, "POST", "/checkins", form.encode(),
                               {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
                               host="localhost:8000")
        assert status == 303


def test_secrets_file_supplies_settings_below_the_environment(tmp_path, server_factory):
    prepared(tmp_path)
    secrets = tmp_path / "secrets.env"
    secrets.write_text("# secrets\nexport SECRET_KEY=\"" + "k" * 10 + "3f9a1c7e5b2d8f4a6c0e9b7d5f3a1c8e6b4d2f0a9c7e\"\n"
                       "ALLOWED_HOSTS='rtutils.example.org'\nPREFIX=SF-\n")
    env = {"SECRET_KEY": None, "ALLOWED_HOSTS": None, "SECRETS_FILE": str(secrets)}
    shown = cli(tmp_path, "print-config", env=env)
    assert shown.returncode == 0, shown.stderr
    assert f"# secret_key = (secret, not shown)  # secrets file {secrets} line 2 (SECRET_KEY)" in shown.stdout
    assert f'prefix = "SF-"  # secrets file {secrets} line 4 (PREFIX)' in shown.stdout
    overridden = cli(tmp_path, "print-config", env={**env, "PREFIX": "ENV-"})
    assert 'prefix = "ENV-"  # environment PREFIX' in overridden.stdout
    srv = server_factory(env=env)
    assert request(srv.port, "GET", "/", host="rtutils.example.org")[0] == 200
    secrets.write_text("SECRET_KEY='unterminated\n")
    bad = cli(tmp_path, "check-config", env=env)
    assert bad.returncode == 2
    assert bad.stderr.strip() == f"error: secrets file {secrets} line 1: the value's opening ' is never closed"
    missing = cli(tmp_path, "check-config", "--secrets-file", str(tmp_path / "nope.env"), env=env)
    assert missing.returncode == 2 and "cannot open: No such file or directory" in missing.stderr


@sqlite_only  # on PostgreSQL `backup` refers to pg_dump: test_postgresql.py
def test_backup_while_the_server_writes(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory(workers=2)
    stop = False
    answered = []     # one entry per write the server has answered, from either writer

    def writer():
        issued = 0
        while not stop:
            assert post_json(srv.port, "/api/tags", {"count": 5})[0] == 201
            issued += 5
            answered.append(5)
        return issued

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        writers = [pool.submit(writer) for _ in range(2)]
        # the backup starts while both writers are at it: each has had writes answered
        wait_for(lambda: len(answered) >= 4 or any(w.done() for w in writers), 10, what="writes under way")
        target = tmp_path / "backups" / "copy.sqlite"
        done = cli(tmp_path, "backup", str(target))
        stop = True
        total = sum(w.result() for w in writers)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"backed up {tmp_path}/var/database.sqlite to {target} (schema version {LATEST}, integrity ok)"
    with sqlite3.connect(target) as copy:
        count, top = copy.execute("SELECT count(*), max(number) FROM asset_tags").fetchone()
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        # a consistent snapshot: the counter matches the rows it had handed out at that moment
        assert count > 0 and top == count and copy.execute("SELECT next_number FROM tag_counter").fetchone() == (count + 1,)
    assert count <= total
    again = cli(tmp_path, "backup", str(target))
    assert again.returncode == 1 and "already exists" in again.stderr and len(again.stderr.strip().splitlines()) == 1
    default = cli(tmp_path, "backup")
    assert default.returncode == 0 and "/backups/database-" in default.stdout
    missing = run_cli("backup", env={"WORKING_DIR": str(tmp_path / "nowhere")})
    assert missing.returncode == 1 and "no readable database" in missing.stderr


def test_pages_follow_a_new_manifest_without_a_reload(tmp_path, server_factory):
    """collectstatic on a running server: workers pick the new manifest up within a second or
    two (it is renamed into place, so its inode changes)."""
    prepared(tmp_path)
    srv = server_factory()
    static = tmp_path / "var" / "static"
    (static / "app.0123456789ab.css").write_text("/* a newer release */")
    manifest = json.loads((static / "staticfiles.json").read_text())
    manifest["paths"]["app.css"] = "app.0123456789ab.css"
    fresh = static / ".staticfiles.json.test"
    fresh.write_text(json.dumps(manifest, indent=2))
    os.replace(fresh, static / "staticfiles.json")
    wait_for(lambda: all(b"/static/app.0123456789ab.css" in request(srv.port, "GET", "/tags")[2] for _ in range(4)),
             timeout=5, what="pages to link the new app.css")
    assert request(srv.port, "GET", "/readyz")[0] == 200


def test_asset_look_up_without_request_tracker_says_what_the_operator_sets(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory(env={"RT_URL": None})
    status, _, body = request(srv.port, "GET", "/assets?tag=W12-0001")
    assert status == 503, body
    assert b"not set up here: the operator sets RT_URL and RT_TOKEN" in body, body
    assert b"Try again in a moment" not in body
