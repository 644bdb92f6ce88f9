"""Nothing a client sends comes back raw: `<b>"'&` fed into every query and form parameter and
every path capture of every route (GET and POST, pages and JSON) of the real binary, then every
page read again with the values stored by the first pass. The routes come from the router
itself (GET /test/routes, on with --enable-test-routes), so a new route cannot be forgotten;
the parameter names come from the application's sources (every `["name"]` it looks up)."""
import http.client
import json
import re
import urllib.parse
from pathlib import Path

import pytest

from conftest import Server, run_cli, session_cookie

pytestmark = pytest.mark.usefixtures("backend")   # each test on SQLite and on PostgreSQL

PAYLOAD = "<b>\"'&"
SOURCES = Path(__file__).resolve().parents[2] / "Sources" / "RequestTrackerUtilsApp"

# Test-only routes that answer with what they were sent (/echo) or on purpose fail or wait.
# Not checked: the server's test routes, and signing out (it would end the test's session).
NOT_PAGES = {"POST /echo", "GET /sleep", "GET /crash", "GET /error", "POST /logout"}


def parameter_names():
    """Every name the application looks up in a query, form or JSON body: `["tag"]` and such."""
    names = set()
    for source in SOURCES.glob("*.swift"):
        names |= set(re.findall(r'\["([a-z_]+)"\]', source.read_text()))
    names.discard("csrf_token")
    assert {"tag", "student", "note", "tags", "from", "serial"} <= names, names
    return sorted(names)


def request(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers={"Host": "127.0.0.1", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.getheader("content-type") or "", response.read()
    finally:
        conn.close()


def assert_escaped(what, status, content_type, body):
    assert status < 500 or status == 503, f"{what}: {status} {body[:300]!r}"
    if content_type.startswith("text/csv"):
        return  # a CSV download is data, not a page (it is an attachment: see test_app)
    # Pages have <b> of their own: look for the payload's own sequences (tags are upper-cased).
    for raw in (b"<b>\"", b"<B>\""):
        assert raw not in body, f"{what} ({content_type}) has {raw!r} raw: {body[:2000]!r}"
    if content_type.startswith(("text/html", "image/svg+xml")):
        for raw in (b"\"'&", b"'&"):
            assert raw not in body, f"{what} ({content_type}) has {raw!r} raw: {body[:2000]!r}"


def fill(pattern):
    """The pattern with every capture (`:tag`, `*`) replaced by the payload, percent-encoded."""
    quoted = urllib.parse.quote(PAYLOAD, safe="")
    segments = [quoted if part.startswith(":") or part == "*" else part for part in pattern.split("/")]
    return "/".join(segments)


def test_nothing_sent_comes_back_raw(tmp_path):
    for step in ("migrate", "collectstatic"):
        done = run_cli(step, env={"WORKING_DIR": str(tmp_path / "var")}, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    server = Server(tmp_path, workers=1)
    try:
        port = server.port
        status, _, listing = request(port, "GET", "/test/routes")
        assert status == 200
        routes = [tuple(line.split(" ", 1)) for line in listing.decode().splitlines()]
        assert ("GET", "/labels/:tag") in routes and ("GET", "/test/routes") in routes
        names = parameter_names()

        # Signed in, with the session's CSRF token, so that forms get past both checks to
        # their fields.
        cookie = session_cookie(port)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/checkin", headers={"Host": "127.0.0.1", "Cookie": cookie})
        answer = conn.getresponse()
        token = re.search(rb'name="csrf_token" value="([0-9a-f]+)"', answer.read()).group(1).decode()
        conn.close()

        variants = [{name: PAYLOAD} for name in names] + [{name: PAYLOAD for name in names}]
        # A valid check-in whose fields are the payload, so pages list stored payloads too.
        variants.append({"tag": PAYLOAD, "student": PAYLOAD, "condition": "damaged", "notes": PAYLOAD})
        variants.append({"note": PAYLOAD, "count": "1"})
        checked = 0
        for pass_ in (1, 2):
            for method, pattern in routes:
                if f"{method} {pattern}" in NOT_PAGES:
                    continue
                methods = ["GET", "POST"] if method == "*" else [method]
                paths = [fill(pattern)]
                if pattern == "/labels/:tag":
                    paths.append(fill(pattern) + ".svg")
                for verb in methods:
                    if pass_ == 2 and verb != "GET":
                        continue
                    for path in paths:
                        for fields in variants:
                            query = urllib.parse.urlencode(fields)
                            if verb == "GET":
                                result = request(port, "GET", f"{path}?{query}", headers={"Cookie": cookie})
                                assert_escaped(f"GET {path}?{query}", *result)
                            else:
                                form = urllib.parse.urlencode({**fields, "csrf_token": token}).encode()
                                result = request(port, "POST", f"{path}?{query}", form, {
                                    "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
                                assert_escaped(f"POST {path} form {fields}", *result)
                                result = request(port, "POST", path, json.dumps(fields).encode(),
                                                 {"Content-Type": "application/json", "Cookie": cookie})
                                assert_escaped(f"POST {path} JSON {fields}", *result)
                            checked += 1
        # The stored payloads are on the pages, escaped.
        status, _, tags_page = request(port, "GET", "/tags", headers={"Cookie": cookie})
        assert status == 200 and b"&lt;b&gt;&quot;&#39;&amp;" in tags_page
        status, _, dashboard = request(port, "GET", "/checkins", headers={"Cookie": cookie})
        assert status == 200 and b"&lt;b&gt;&quot;&#39;&amp;" in dashboard
        status, _, batch = request(port, "GET", "/labels?tags=W12-0001,%3CPLAINTEXT%3E", headers={"Cookie": cookie})
        assert status == 200 and b"<PLAINTEXT>" not in batch and b"&lt;PLAINTEXT&gt;" in batch
        assert checked > 500, checked
    finally:
        server.stop()
