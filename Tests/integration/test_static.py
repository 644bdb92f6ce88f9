"""Static files (StaticFiles mounted at /static/ over $WORKING_DIR/static), through the real
binary: validators, conditional requests, ranges, HEAD, traversal attempts, and sendfile bodies
that a slow reader takes in many partial writes."""
import hashlib
import os
import socket
import subprocess
import time

import pytest

from conftest import (CURL, Conn, Server, build_request, children, http, parse_responses, raw_request, run_cli,
                      wait_for)

HASHED = "app.3f2a9c1b7d4e.css"
BIG = 8 * 1024 * 1024


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One worker (so a slow reader and a quick request share it), and a tree:
    var/database.sqlite and var/static -> var/collected-1 (the root is itself a symlink)."""
    base = tmp_path_factory.mktemp("static")
    var = base / "var"
    collected = var / "collected-1"
    (collected / "css").mkdir(parents=True)
    migrated = run_cli("migrate", env={"WORKING_DIR": str(var)})   # a real database beside static/
    assert migrated.returncode == 0, migrated.stderr
    (collected / "hello.txt").write_bytes(b"Hello, static!\n")
    (collected / "css" / HASHED).write_bytes(b"body { color: red }\n")
    (collected / "empty.txt").write_bytes(b"")
    (collected / ".env").write_bytes(b"SECRET_KEY=x\n")
    (collected / "big.bin").write_bytes(os.urandom(BIG))
    os.symlink("/etc/passwd", collected / "passwd")
    os.symlink(var / "database.sqlite", collected / "db.txt")
    os.symlink("collected-1", var / "static")
    srv = Server(base, workers=1)
    srv.big = (collected / "big.bin").read_bytes()
    yield srv
    srv.stop()


def get(srv, path, headers=None, method="GET"):
    return http(srv.port, method, path, headers)


# ----------------------------------------------------------------------------- 200 and headers

def test_file_with_headers_via_curl(site):
    out = subprocess.run([CURL, "-s", "-D", "-", "-o", "-", site.url("/static/hello.txt")],
                         capture_output=True, timeout=20)
    head, _, body = out.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert body == b"Hello, static!\n"
    headers = {k.strip().lower(): v.strip() for k, _, v in
               (line.partition(":") for line in head.decode().split("\r\n")[1:])}
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert headers["content-length"] == "15"
    assert headers["accept-ranges"] == "bytes"
    assert headers["cache-control"] == "no-cache"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["etag"].startswith('"') and headers["etag"].endswith('"')
    assert headers["last-modified"].endswith(" GMT")


def test_hashed_name_is_immutable(site):
    r = get(site, f"/static/css/{HASHED}")
    assert r.status == 200
    assert r.body == b"body { color: red }\n"
    assert r.header("cache-control") == "public, max-age=31536000, immutable"
    assert r.header("content-type") == "text/css; charset=utf-8"


def test_empty_file(site):
    r = get(site, "/static/empty.txt")
    assert r.status == 200 and r.body == b"" and r.header("content-length") == "0"


def test_post_is_405_with_allow(site):
    r = get(site, "/static/hello.txt", method="POST")
    assert r.status == 405
    assert r.header("allow") == "GET, HEAD"


# ----------------------------------------------------------------------------- conditional requests

def test_if_none_match_gives_304(site):
    first = get(site, "/static/hello.txt")
    etag = first.header("etag")
    for value in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        r = get(site, "/static/hello.txt", {"If-None-Match": value})
        assert r.status == 304, value
        assert r.body == b""
        assert r.header("etag") == etag
        assert r.header("cache-control") == "no-cache"
        assert r.header("content-length") is None
    assert get(site, "/static/hello.txt", {"If-None-Match": '"nope"'}).status == 200


def test_if_modified_since(site):
    last_modified = get(site, "/static/hello.txt").header("last-modified")
    assert get(site, "/static/hello.txt", {"If-Modified-Since": last_modified}).status == 304
    assert get(site, "/static/hello.txt", {"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"}).status == 200
    # If-None-Match, when present, decides alone
    assert get(site, "/static/hello.txt", {"If-None-Match": '"nope"', "If-Modified-Since": last_modified}).status == 200


def test_304_keeps_the_connection_framed(site):
    etag = get(site, "/static/hello.txt").header("etag")
    with Conn(site.port) as c:
        assert c.request("GET", "/static/hello.txt", {"If-None-Match": etag}).status == 304
        assert c.request("GET", "/hello").body == b"Hello, World!"


# ----------------------------------------------------------------------------- ranges

def test_range_206(site):
    r = get(site, "/static/big.bin", {"Range": "bytes=1000000-1999999"})
    assert r.status == 206
    assert r.header("content-range") == f"bytes 1000000-1999999/{BIG}"
    assert r.header("content-length") == "1000000"
    assert r.body == site.big[1000000:2000000]
    r = get(site, "/static/big.bin", {"Range": "bytes=-10"})
    assert r.status == 206 and r.body == site.big[-10:]
    r = get(site, "/static/big.bin", {"Range": f"bytes={BIG - 5}-{BIG + 100}"})
    assert r.status == 206 and r.body == site.big[-5:]
    assert r.header("content-range") == f"bytes {BIG - 5}-{BIG - 1}/{BIG}"


def test_range_with_curl(site):
    out = subprocess.run([CURL, "-s", "-r", "7-12", site.url("/static/hello.txt")], capture_output=True, timeout=20)
    assert out.stdout == b"static"


def test_range_416(site):
    r = get(site, "/static/hello.txt", {"Range": "bytes=15-"})
    assert r.status == 416
    assert r.header("content-range") == "bytes */15"


def test_invalid_or_multiple_ranges_give_the_whole_file(site):
    for value in ("bytes=0-1,5-6", "bytes=x-y", "lines=1-2"):
        r = get(site, "/static/hello.txt", {"Range": value})
        assert r.status == 200, value
        assert r.body == b"Hello, static!\n"


def test_if_range(site):
    etag = get(site, "/static/hello.txt").header("etag")
    assert get(site, "/static/hello.txt", {"Range": "bytes=0-4", "If-Range": etag}).body == b"Hello"
    r = get(site, "/static/hello.txt", {"Range": "bytes=0-4", "If-Range": '"old"'})
    assert r.status == 200 and r.body == b"Hello, static!\n"


# ----------------------------------------------------------------------------- HEAD

def test_head_sends_no_body(site):
    with Conn(site.port) as c:
        r = c.request("HEAD", "/static/big.bin")
        assert r.status == 200
        assert r.header("content-length") == str(BIG)
        # the next response on the same connection starts right after the head
        assert c.request("GET", "/static/hello.txt").body == b"Hello, static!\n"


# ----------------------------------------------------------------------------- traversal

@pytest.mark.parametrize("path", [
    "/static/../database.sqlite", "/static/%2e%2e/database.sqlite", "/static/%2E%2E/database.sqlite",
    "/static/..%2fdatabase.sqlite", "/static/..%2Fdatabase.sqlite", "/static/css/..%2f..%2fdatabase.sqlite",
    "/static/passwd", "/static/db.txt", "/static/.env", "/static/hello.txt%00.css", "/static/css\\" + HASHED,
    "/static/css", "/static/css/", "/static/", "/static//hello.txt", "/static/./hello.txt", "/static/missing",
])
def test_refused_paths_are_404(site, path):
    data = raw_request(site.port, build_request("GET", path, {"Connection": "close"}))
    (resp,) = parse_responses(data)
    assert resp.status == 404, (path, data[:200])
    assert b"root:" not in data and b"SQLite" not in data


def test_curl_path_as_is_traversal(site):
    out = subprocess.run([CURL, "-s", "--path-as-is", "-o", "-", "-w", "\n%{http_code}",
                          site.url("/static/../database.sqlite")], capture_output=True, timeout=20)
    assert out.stdout.endswith(b"\n404") and b"SQLite" not in out.stdout


# ----------------------------------------------------------------------------- sendfile bodies

def test_big_file_with_curl(site):
    out = subprocess.run([CURL, "-s", "-o", "-", site.url("/static/big.bin")], capture_output=True, timeout=60)
    assert hashlib.sha256(out.stdout).hexdigest() == hashlib.sha256(site.big).hexdigest()


def test_slow_reader_gets_every_byte_while_the_worker_serves_others(site):
    """A small receive buffer and a reader that sleeps between reads: the worker's sendfile hits
    EAGAIN again and again and must resume at the right offset; meanwhile the one worker keeps
    answering other clients."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(30)
    s.connect(("127.0.0.1", site.port))
    s.sendall(build_request("GET", "/static/big.bin"))
    received = b""
    quick = []
    started = time.monotonic()
    while b"\r\n\r\n" not in received or len(received.split(b"\r\n\r\n", 1)[1]) < BIG:
        chunk = s.recv(65536)
        assert chunk, "server closed early"
        received += chunk
        if len(received) < BIG // 2:
            time.sleep(0.002)   # the stimulus: a slow reader, so the server's sendfile meets EAGAIN
        if len(quick) < 3 and len(received) > (len(quick) + 1) * 256 * 1024:
            t0 = time.monotonic()
            assert http(site.port, "GET", "/hello").body == b"Hello, World!"
            quick.append(time.monotonic() - t0)
    s.close()
    head, body = received.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200")
    assert body == site.big
    assert len(quick) == 3 and max(quick) < 1.0, quick
    assert time.monotonic() - started > 0.1  # it really was slow


def test_pipelined_requests_behind_a_file_are_answered_in_order(site):
    with Conn(site.port, timeout=30) as c:
        c.send(build_request("GET", "/static/big.bin") + build_request("GET", "/hello")
               + build_request("GET", "/static/hello.txt", {"Range": "bytes=0-4"}))
        first = c.read_response()
        assert first.status == 200 and first.body == site.big
        assert c.read_response().body == b"Hello, World!"
        third = c.read_response()
        assert third.status == 206 and third.body == b"Hello"


def test_connection_close_after_a_file(site):
    data = raw_request(site.port, build_request("GET", "/static/big.bin", {"Connection": "close"}), timeout=30)
    head, body = data.split(b"\r\n\r\n", 1)
    assert b"Connection: close" in head
    assert body == site.big


def test_clients_that_leave_mid_file_leak_no_descriptors(site):
    (worker,) = children(site.pid)

    def open_fds():
        return len(os.listdir(f"/proc/{worker}/fd"))

    get(site, "/hello")
    before = open_fds()
    for _ in range(20):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", site.port))
        s.sendall(build_request("GET", "/static/big.bin"))
        s.recv(1000)
        s.close()

    def released():
        get(site, "/hello")  # gives the worker a turn to notice the resets
        return open_fds() <= before
    wait_for(released, 10, interval=0.1, what=f"the worker back to {before} open descriptors")
    assert children(site.pid) == [worker]
    assert get(site, "/static/hello.txt").body == b"Hello, static!\n"
