"""Sign-in on the real binary: the guard in front of every route, sessions in the database,
cookies, expiry, CSRF bound to the session, roles, API tokens, local accounts through the
`user` command, and the throttle on failed sign-ins across eight workers. Every test runs on
both backends (the `backend` parameter)."""
import concurrent.futures
import http.client
import re
import socket
import time
import urllib.parse

import pytest

from conftest import (TEST_PASSWORD, auth_headers, create_token, create_user, run_cli, session_cookie, sign_in,
                      user_cli, wait_for)
from test_app import prepared, request

pytestmark = pytest.mark.usefixtures("backend")
PUBLIC = {"/login", "/healthz", "/readyz", "/hello"}
TEST_ROUTES = {"/echo", "/sleep", "/crash", "/error", "/test/routes", "/test/jobs", "/grow"}


def routes(port):
    status, _, listing = request(port, "GET", "/test/routes", auth=None)
    assert status == 200
    return [tuple(line.split(" ", 1)) for line in listing.decode().splitlines()]


def concrete(pattern):
    return "/".join("W12-0001" if part.startswith(":") else ("app.css" if part == "*" else part)
                    for part in pattern.split("/"))


def test_without_sign_in_pages_redirect_and_the_api_answers_401(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory()
    # a new installation's sign-in page says how the first account is made
    status, _, page = request(srv.port, "GET", "/login")
    assert status == 200 and b"No account exists yet" in page and b"user add NAME --role tech" in page
    checked = 0
    for method, pattern in routes(srv.port):
        path = concrete(pattern)
        if path in PUBLIC or path in TEST_ROUTES or path.startswith("/static/"):
            continue
        for verb in (["GET", "POST"] if method == "*" else [method]):
            status, headers, body = request(srv.port, verb, path + "?a=1", b"x=1", auth=None,
                                            headers={"Content-Type": "application/x-www-form-urlencoded"})
            if path.startswith(("/api/", "/webhook/")):
                assert status == 401, (verb, path, status)
                assert headers["www-authenticate"] == "Bearer" and b"sign in first" in body
            else:
                assert status == 303, (verb, path, status)
                assert headers["location"] == "/login?next=" + urllib.parse.quote(path + "?a=1", safe=""), headers
            checked += 1
    assert checked >= 15, checked
    # the public ones answer without it
    for path in ("/login", "/healthz", "/readyz", "/hello", "/static/staticfiles.json"):
        assert request(srv.port, "GET", path, auth=None)[0] == 200, path
    # nothing was written without a user
    assert request(srv.port, "GET", "/api/tags")[2].count(b'"tag"') == 0


def test_a_teacher_gets_403_saying_which_role_the_page_needs(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory()
    cookie = session_cookie(srv.port, "teacher")
    status, _, body = request(srv.port, "GET", "/", headers={"Cookie": cookie})
    assert status == 200 and b"signed in as tester-teacher, a teacher" in body
    assert b"No account exists yet" not in request(srv.port, "GET", "/login")[2]
    for path in ("/tags", "/checkin", "/checkins", "/checkins.csv", "/labels", "/assets"):
        status, _, body = request(srv.port, "GET", path, headers={"Cookie": cookie})
        assert status == 403, path
        assert b"This page is for technology staff; you are signed in as tester-teacher (teacher)." in body
    status, _, body = request(srv.port, "POST", "/api/tags", b"{}", {"Content-Type": "application/json"},
                              auth="teacher")
    assert status == 403 and b"for technology staff" in body
    assert request(srv.port, "GET", "/api/checkins", auth="teacher")[0] == 403
    assert request(srv.port, "GET", "/tags", auth="tech")[0] == 200


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example",
                                    "evil.example", "/%0d%0aSet-Cookie:x=1", "javascript:alert(1)"])
def test_next_never_leaves_the_site(tmp_path, server_factory, target):
    prepared(tmp_path)
    srv = server_factory()
    status, headers, session = sign_in(srv.port, next_path=target)
    assert status == 303 and session
    location = headers["location"]
    assert location.startswith("/") and not location.startswith("//") and "\\" not in location
    assert "evil" not in location and "\r" not in location and "\n" not in location
    # and a local one is followed
    status, headers, _ = sign_in(srv.port, next_path="/checkins?date=2026-01-02")
    assert status == 303 and headers["location"] == "/checkins?date=2026-01-02"


def test_a_new_session_id_at_sign_in_and_sign_out_ends_it(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory()
    first = session_cookie(srv.port)
    # signing in again from the same browser: a new id, and the old one no longer works
    status, headers, body = request(srv.port, "GET", "/login", headers={"Cookie": first})
    token = re.search(rb'name="csrf_token" value="([0-9a-f]+)"', body).group(1).decode()
    form = urllib.parse.urlencode({"csrf_token": token, "name": "tester-tech", "password": TEST_PASSWORD})
    status, headers, _ = request(srv.port, "POST", "/login", form.encode(),
                                 {"Cookie": first, "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 303
    second = headers["set-cookie"].split(";")[0]
    assert second.startswith("rtu_session=") and second != first
    assert request(srv.port, "GET", "/tags", headers={"Cookie": first})[0] == 303
    assert request(srv.port, "GET", "/tags", headers={"Cookie": second})[0] == 200
    # sign-out needs the session's CSRF token; without it nothing happens
    status, _, body = request(srv.port, "POST", "/logout", b"", {"Cookie": second,
                                                               "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 403 and b"CSRF" in body
    assert request(srv.port, "GET", "/tags", headers={"Cookie": second})[0] == 200
    _, _, page = request(srv.port, "GET", "/logout", headers={"Cookie": second})
    token = re.search(rb'name="csrf_token" value="([0-9a-f]+)"', page).group(1).decode()
    status, headers, _ = request(srv.port, "POST", "/logout", f"csrf_token={token}".encode(),
                                 {"Cookie": second, "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 303 and headers["location"] == "/login"
    assert "Max-Age=0" in headers["set-cookie"]
    assert request(srv.port, "GET", "/tags", headers={"Cookie": second})[0] == 303


def raw_sign_in(port, source, forwarded_proto=None):
    """Signs in over a socket bound to `source` (a loopback address), optionally claiming HTTPS
    with X-Forwarded-Proto; returns the Set-Cookie header of the session."""
    auth_headers(port)        # makes tester-tech

    def call(method, path, headers, body=b""):
        s = socket.socket()
        s.settimeout(30)
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        extra = {"X-Forwarded-Proto": forwarded_proto} if forwarded_proto else {}
        head = {"Host": "127.0.0.1", "Connection": "close", "Content-Length": str(len(body)), **extra, **headers}
        s.sendall((f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in head.items())
                   + "\r\n").encode() + body)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        s.close()
        head_text, _, rest = data.partition(b"\r\n\r\n")
        return head_text.decode("latin-1"), rest
    head, body = call("GET", "/login", {})
    csrf_cookie = re.search(r"Set-Cookie: (csrftoken=[0-9a-f]+)", head).group(1)
    token = re.search(rb'name="csrf_token" value="([0-9a-f]+)"', body).group(1).decode()
    form = urllib.parse.urlencode({"csrf_token": token, "name": "tester-tech", "password": TEST_PASSWORD}).encode()
    head, _ = call("POST", "/login", {"Cookie": csrf_cookie, "Content-Type": "application/x-www-form-urlencoded"},
                   form)
    assert head.startswith("HTTP/1.1 303"), head
    return re.search(r"Set-Cookie: (rtu_session=.*)", head).group(1).strip()


def test_cookie_flags_with_and_without_https_from_a_trusted_proxy(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory(env={"FORWARDED_ALLOW_IPS": "127.0.0.1"})
    plain = raw_sign_in(srv.port, "127.0.0.1")
    assert "; HttpOnly" in plain and "; SameSite=Lax" in plain and "Secure" not in plain
    # HTTPS said by the trusted proxy: Secure
    proxied = raw_sign_in(srv.port, "127.0.0.1", "https")
    assert "; HttpOnly" in proxied and "; SameSite=Lax" in proxied and proxied.endswith("; Secure")
    # the same header from an address that is not a trusted proxy is not believed
    forged = raw_sign_in(srv.port, "127.0.0.2", "https")
    assert "Secure" not in forged


def test_sessions_expire_when_idle_and_at_their_maximum_age(tmp_path, server_factory):
    prepared(tmp_path)
    # whole seconds are stored: a limit of N ends a session between N - 1 and N seconds after
    srv = server_factory(env={"SESSION_IDLE_TIMEOUT": "2", "SESSION_MAX_AGE": "6"})
    idle = session_cookie(srv.port)
    used = session_cookie(srv.port)
    started = time.monotonic()
    # `used` is used every half second: it lives past the idle timeout, until its maximum age
    while time.monotonic() - started < 3:
        assert request(srv.port, "GET", "/tags", headers={"Cookie": used})[0] == 200
        time.sleep(0.5)     # the stimulus: use at intervals below the idle timeout
    status, headers, _ = request(srv.port, "GET", "/tags", headers={"Cookie": idle})
    assert status == 303 and headers["location"].startswith("/login?next=")
    wait_for(lambda: request(srv.port, "GET", "/tags", headers={"Cookie": used})[0] == 303, 6,
             what="the used session to reach its maximum age")
    assert time.monotonic() - started >= 4.5


def test_tokens_and_local_accounts_through_the_commands(tmp_path, server_factory, backend):
    prepared(tmp_path)
    srv = server_factory()
    env = srv.env
    create_user(env, "Carol", "tech", "carol's long password")
    listed = user_cli(env, "list")
    assert re.search(r"^carol\ttech\tlocal\tenabled\tnever signed in$", listed, re.M), listed
    first, second = create_token(env, "carol"), create_token(env, "carol")
    assert first != second and first.startswith("rtu_")
    bearer = {"Authorization": f"Bearer {first}"}
    status, _, body = request(srv.port, "POST", "/api/tags", b'{"note": "by token"}',
                              {"Content-Type": "application/json", **bearer})
    assert status == 201 and b'"issued_by":"carol"' in body
    # a token works on pages too, and its form posts need no CSRF field (no cookie is involved)
    assert request(srv.port, "GET", "/tags", headers=bearer)[0] == 200
    status, _, _ = request(srv.port, "POST", "/tags", b"count=1",
                           {"Content-Type": "application/x-www-form-urlencoded", **bearer})
    assert status == 303
    # only the hashes are stored
    stored = backend.query("SELECT token_hash FROM api_tokens")
    assert len(stored) == 2 and all(first not in row[0] and second not in row[0] for row in stored)
    # revoke one: refused with 401, the other still works
    assert "revoked 1 token(s) of carol" in user_cli(env, "token", "revoke", "carol", first)
    status, headers, body = request(srv.port, "GET", "/api/tags", headers=bearer)
    assert status == 401 and 'error="invalid_token"' in headers["www-authenticate"]
    assert request(srv.port, "GET", "/tags", headers=bearer)[0] == 401
    assert request(srv.port, "GET", "/api/tags", headers={"Authorization": f"Bearer {second}"})[0] == 200
    # a password change ends the sessions; disabling ends tokens and sign-in too
    status, _, session = sign_in(srv.port, name="carol", password="carol's long password")
    assert status == 303 and session
    user_cli(env, "passwd", "carol", input="carol's newer password\n")
    assert request(srv.port, "GET", "/tags", headers={"Cookie": session})[0] == 303
    assert sign_in(srv.port, name="carol", password="carol's long password")[0] == 401
    assert sign_in(srv.port, name="carol", password="carol's newer password")[0] == 303
    user_cli(env, "disable", "carol")
    assert request(srv.port, "GET", "/api/tags", headers={"Authorization": f"Bearer {second}"})[0] == 401
    assert sign_in(srv.port, name="carol", password="carol's newer password")[0] == 401
    # bad input to the command: one line, nothing changed
    done = run_cli("user", "add", "dave", env=env, input="whatever password\n")
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "--role tech" in done.stderr
    short = run_cli("user", "add", "dave", "--role", "tech", env=env, input="short\n")
    assert short.returncode == 1 and short.stderr.count("\n") == 1
    assert "dave" not in user_cli(env, "list")
    # and no password ever reached a log or the settings shown
    shown = run_cli("print-config", env=env)
    assert shown.returncode == 0, shown.stderr
    for text in (srv.log(), srv.access_log(), shown.stdout + shown.stderr):
        assert "carol's" not in text and TEST_PASSWORD not in text


def test_user_command_before_migrate_says_what_to_run(tmp_path):
    (tmp_path / "var").mkdir()
    done = run_cli("user", "list", env={"WORKING_DIR": str(tmp_path / "var")})
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    assert "run `request-tracker-utils migrate` first" in done.stderr


def test_fifty_wrong_passwords_over_eight_workers_throttle_the_account(tmp_path, server_factory):
    prepared(tmp_path)
    window = 12
    srv = server_factory(workers=8, env={"SIGN_IN_FAILURE_LIMIT": "10", "SIGN_IN_FAILURE_WINDOW": str(window),
                                        "FORWARDED_ALLOW_IPS": "127.0.0.1"})
    auth_headers(srv.port)
    status, headers, body = request(srv.port, "GET", "/login")
    csrf_cookie = headers["set-cookie"].split(";")[0]
    token = re.search(rb'name="csrf_token" value="([0-9a-f]+)"', body).group(1).decode()

    def attempt(n, password, address):
        form = urllib.parse.urlencode({"csrf_token": token, "name": "tester-tech", "password": password})
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
        try:
            conn.request("POST", "/login", form.encode(), {
                "Host": "127.0.0.1", "Cookie": csrf_cookie, "Content-Type": "application/x-www-form-urlencoded",
                "X-Forwarded-For": address})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()
    started = time.monotonic()
    # 50 wrong passwords, each on its own connection, from 50 different client addresses (as
    # nginx reports them): only the per-account count can stop them
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda n: attempt(n, f"wrong password {n}", f"198.51.100.{n + 1}"), range(50)))
    statuses = [status for status, _ in answers]
    assert set(statuses) <= {401, 429}, statuses
    assert statuses.count(429) >= 50 - 10 - 8, statuses       # at most one racing try per worker past it
    assert all(b"Too many failed sign-ins" in body for status, body in answers if status == 429)
    # the right password is refused too while the account waits
    assert attempt(99, TEST_PASSWORD, "198.51.100.200")[0] == 429
    # each counted failure is one log line, with the name and the client address, never the password
    failures = [line for line in srv.log().splitlines() if "failed sign-in" in line]
    assert len(failures) == statuses.count(401)
    assert all('"tester-tech"' in line for line in failures)
    assert {re.search(r"from (\S+)", line).group(1) for line in failures} <= {f"198.51.100.{n + 1}" for n in range(50)}
    assert "wrong password" not in srv.log() + srv.access_log()
    # after the window the right password works again
    wait_for(lambda: attempt(100, TEST_PASSWORD, "198.51.100.201")[0] == 303, window + 5,
             what="the account to be let in after the window")
    assert time.monotonic() - started >= window - 1


def test_one_address_is_throttled_whatever_names_it_tries(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory(env={"SIGN_IN_FAILURE_LIMIT": "3", "SIGN_IN_FAILURE_WINDOW": "600"})
    auth_headers(srv.port)
    for n in range(3):
        assert sign_in(srv.port, name=f"guess{n}", password="nope nope nope")[0] == 401
    # a fourth name from the same address, even the right password of a real user: wait
    assert sign_in(srv.port)[0] == 429
