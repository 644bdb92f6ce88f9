"""HTTP behaviour as a client sees it: routes, standard headers, keep-alive, pipelining,
HTTP/1.0, chunked bodies, 100-continue, request IDs."""
import re
import socket
import subprocess
import threading
import time
from email.utils import parsedate_to_datetime

from conftest import (CURL, HEX16, Conn, build_request, http, parse_responses,
                      wait_for)


IMF_FIXDATE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                         r"\d{4} \d{2}:\d{2}:\d{2} GMT$")


def assert_standard_headers(resp, body_len=None):
    date = resp.header("date")
    assert date and IMF_FIXDATE.match(date), f"Date {date!r} is not an IMF-fixdate"
    assert abs(parsedate_to_datetime(date).timestamp() - time.time()) < 300, date
    assert resp.header("server") == "request-tracker-utils", resp.raw_head
    assert resp.header("content-length") is not None, resp.raw_head
    if body_len is not None:
        assert int(resp.header("content-length")) == body_len
    rid = resp.header("x-request-id")
    assert rid and HEX16.match(rid), f"X-Request-ID {rid!r} is not 16 hex chars"


# ----------------------------------------------------------------------------- routes

def test_sign_in_page_is_html(shared_server):
    r = http(shared_server.port, "GET", "/login")
    assert r.status == 200
    assert r.header("content-type").startswith("text/html")
    assert b"<html" in r.body.lower()
    assert_standard_headers(r, len(r.body))


def test_hello_exact_body(shared_server):
    r = http(shared_server.port, "GET", "/hello")
    assert r.status == 200
    assert r.body == b"Hello, World!"
    assert r.header("content-length") == "13"
    assert r.header("content-type").startswith("text/plain")
    assert_standard_headers(r, 13)


def test_hello_with_curl(shared_server):
    out = subprocess.run([CURL, "-s", "-o", "-", "-w", "\n%{http_code}", shared_server.url("/hello")],
                         capture_output=True, text=True, timeout=20)
    assert out.stdout == "Hello, World!\n200"


def test_healthz(shared_server):
    r = http(shared_server.port, "GET", "/healthz")
    assert r.status == 200
    assert r.body == b"ok\n"
    assert_standard_headers(r, 3)


def test_unknown_path_is_404(shared_server):
    r = http(shared_server.port, "GET", "/no/such/thing")
    assert r.status == 404
    assert_standard_headers(r, len(r.body))


def test_wrong_method_is_405_with_allow(shared_server):
    r = http(shared_server.port, "POST", "/hello", body=b"x")
    assert r.status == 405
    allow = r.header("allow")
    assert allow is not None and "GET" in [m.strip() for m in allow.split(",")]
    assert_standard_headers(r, len(r.body))
    r = http(shared_server.port, "DELETE", "/healthz")
    assert r.status == 405
    assert "GET" in r.header("allow", "")


def test_head_gives_headers_without_body(shared_server):
    with Conn(shared_server.port) as c:
        c.send(build_request("HEAD", "/hello"))
        r = c.read_response(head_request=True)
        assert r.status == 200
        assert r.header("content-length") == "13"
        assert_standard_headers(r, 13)
        # no body may follow: the next response on the connection must start right away
        c.send(build_request("GET", "/healthz"))
        r2 = c.read_response()
        assert r2.status == 200 and r2.body == b"ok\n", "bytes after HEAD response head"
    with Conn(shared_server.port) as c:
        r = c.request("HEAD", "/readyz")
        assert int(r.header("content-length")) == len(http(shared_server.port, "GET", "/readyz").body)


def test_echo_returns_body_and_content_type(shared_server):
    body = b"some \x00binary\xff payload" * 10
    r = http(shared_server.port, "POST", "/echo", {"Content-Type": "application/x-custom"}, body)
    assert r.status == 200
    assert r.body == body
    assert r.header("content-type") == "application/x-custom"
    assert_standard_headers(r, len(body))


def test_echo_with_curl(shared_server):
    out = subprocess.run([CURL, "-s", "-H", "Content-Type: text/x-y", "--data-binary", "hi there",
                          "-D", "-", shared_server.url("/echo")], capture_output=True, timeout=20)
    assert out.stdout.endswith(b"\r\n\r\nhi there")
    assert b"content-type: text/x-y" in out.stdout.lower()


def test_test_routes_off_by_default(server_factory):
    srv = server_factory(workers=1, test_routes=False)
    assert "--enable-test-routes" not in srv.args
    assert http(srv.port, "POST", "/echo", body=b"x").status == 404
    assert http(srv.port, "GET", "/sleep?ms=1").status == 404
    assert http(srv.port, "GET", "/crash").status == 404
    assert http(srv.port, "GET", "/error").status == 404
    assert http(srv.port, "GET", "/hello").status == 200
    assert len(srv.worker_pids()) == 1


def test_sleep_route(shared_server):
    r = http(shared_server.port, "GET", "/sleep?ms=50")
    assert r.status == 200


def test_error_route_is_generic_500(server):
    r = http(server.port, "GET", "/error")
    assert r.status == 500
    assert r.body.strip() == b"500 Internal Server Error"
    rid = r.header("x-request-id")
    assert HEX16.match(rid)
    line = wait_for(lambda: next((l for l in server.log().splitlines()
                                  if "ERROR" in l and f"request_id={rid}" in l), None),
                    10, what="ERROR line with the request id")
    assert "/error" in line


# ----------------------------------------------------------------------------- request IDs

def test_request_ids_are_unique(shared_server):
    ids = {http(shared_server.port, "GET", "/healthz").header("x-request-id") for _ in range(20)}
    assert len(ids) == 20
    assert all(HEX16.match(i) for i in ids)


def test_trusted_proxy_request_id_is_echoed(shared_server):
    r = http(shared_server.port, "GET", "/hello", {"X-Request-ID": "client-id-12345"})
    assert r.header("x-request-id") == "client-id-12345"


# ----------------------------------------------------------------------------- connections

def test_keepalive_many_requests_one_connection(shared_server):
    with Conn(shared_server.port) as c:
        for i in range(50):
            r = c.request("GET", "/hello" if i % 2 else "/healthz")
            assert r.status == 200
            assert r.body == (b"Hello, World!" if i % 2 else b"ok\n")
            assert (r.header("connection") or "").lower() != "close"


def test_pipelining_in_order(shared_server):
    reqs = (build_request("GET", "/hello") + build_request("GET", "/healthz")
            + build_request("POST", "/echo", {"Content-Type": "text/plain"}, b"third")
            + build_request("GET", "/nope") + build_request("HEAD", "/hello")
            + build_request("GET", "/hello", {"Connection": "close"}))
    with Conn(shared_server.port) as c:
        c.send(reqs)
        got = [c.read_response(), c.read_response(), c.read_response(), c.read_response(),
               c.read_response(head_request=True), c.read_response()]
        tail = c.wait_eof(5)
    assert [r.status for r in got] == [200, 200, 200, 404, 200, 200]
    assert got[0].body == b"Hello, World!"
    assert got[1].body == b"ok\n"
    assert got[2].body == b"third"
    assert got[4].body == b"" and got[4].header("content-length") == "13"
    assert got[5].body == b"Hello, World!"
    assert tail == b""
    assert len({r.header("x-request-id") for r in got}) == 6


def test_pipelining_byte_by_byte(shared_server):
    data = build_request("GET", "/hello") + build_request("GET", "/healthz", {"Connection": "close"})
    with socket.create_connection(("127.0.0.1", shared_server.port), timeout=10) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(0, len(data), 7):
            s.sendall(data[i:i + 7])
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    rs = parse_responses(out)
    assert [(r.status, r.body) for r in rs] == [(200, b"Hello, World!"), (200, b"ok\n")]


def test_http10_closes_by_default(shared_server):
    with Conn(shared_server.port) as c:
        r = c.request("GET", "/hello", version="HTTP/1.0")
        assert r.status == 200 and r.body == b"Hello, World!"
        assert (r.header("connection") or "close").lower() == "close"
        assert c.wait_eof(5) == b""


def test_http10_keepalive_on_request(shared_server):
    with Conn(shared_server.port) as c:
        for _ in range(3):
            r = c.request("GET", "/hello", {"Connection": "keep-alive"}, version="HTTP/1.0")
            assert r.status == 200 and r.body == b"Hello, World!"
            assert r.header("connection", "").lower() == "keep-alive"
        r = c.request("GET", "/healthz", version="HTTP/1.0")
        assert r.status == 200
        assert c.wait_eof(5) == b""


def test_connection_close_honoured(shared_server):
    with Conn(shared_server.port) as c:
        r = c.request("GET", "/hello", {"Connection": "close"})
        assert r.status == 200 and r.body == b"Hello, World!"
        assert r.header("connection", "").lower() == "close"
        assert c.wait_eof(5) == b""


def test_chunked_request_body_decoded(shared_server):
    body = b"5\r\nHello\r\n1;ext=1\r\n,\r\n7\r\n World!\r\n0\r\n\r\n"
    with Conn(shared_server.port) as c:
        c.send(build_request("POST", "/echo", {"Transfer-Encoding": "chunked",
                                               "Content-Type": "text/plain"}, body))
        r = c.read_response()
        assert r.status == 200
        assert r.body == b"Hello, World!"
        # connection still usable afterwards
        r2 = c.request("GET", "/healthz")
        assert r2.status == 200 and r2.body == b"ok\n"


def test_chunked_with_trailers(shared_server):
    body = b"3\r\nabc\r\n0\r\nX-Trailer: yes\r\n\r\n"
    with Conn(shared_server.port) as c:
        c.send(build_request("POST", "/echo", {"Transfer-Encoding": "chunked"}, body))
        r = c.read_response()
        assert r.status == 200 and r.body == b"abc"
        assert c.request("GET", "/healthz").status == 200


def test_expect_100_continue(shared_server):
    body = b"continued body"
    with Conn(shared_server.port) as c:
        c.send(build_request("POST", "/echo", {"Content-Length": str(len(body)),
                                               "Content-Type": "text/plain",
                                               "Expect": "100-continue"}))
        interim = c.read_head()
        assert interim.status == 100, interim.raw_head
        assert interim.raw_head.startswith(b"HTTP/1.1 100 Continue")
        c.send(body)
        r = c.read_response()
        assert r.status == 200 and r.body == body


def test_expect_100_continue_with_curl(shared_server):
    out = subprocess.run([CURL, "-sv", "-H", "Expect: 100-continue", "--expect100-timeout", "10",
                          "--data-binary", "x" * 2000, shared_server.url("/echo")],
                         capture_output=True, text=True, timeout=30)
    assert "HTTP/1.1 100 Continue" in out.stderr
    assert out.stdout == "x" * 2000


def test_large_echo_body(shared_server):
    body = bytes(range(256)) * 4096  # 1 MiB
    r = http(shared_server.port, "POST", "/echo", {"Content-Type": "application/octet-stream"}, body,
             timeout=30)
    assert r.status == 200 and r.body == body


def test_pipelined_large_bodies_to_a_slow_reader_arrive_whole_and_in_order(shared_server):
    """Large bodies go out beside their head (writev) instead of being copied behind it; when
    the client's window is full the rest waits in the connection's pending output. A reader
    with a small receive buffer that pipelines big and small answers gets every byte in order."""
    bodies = [bytes([n]) * size for n, size in enumerate((300_000, 5_000, 4_095, 700_000), start=1)]
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(30)
    s.connect(("127.0.0.1", shared_server.port))
    try:
        data = b"".join(build_request("POST", "/echo", {"Content-Type": "application/octet-stream"}, b)
                        for b in bodies) + build_request("GET", "/hello")
        # sent from a thread: the server stops reading while its answers wait for this reader
        sender = threading.Thread(target=s.sendall, args=(data,), daemon=True)
        sender.start()
        received = b""
        expected = sum(len(b) for b in bodies) + 13
        while sum(len(r.body) for r in parse_responses(received)) < expected:
            time.sleep(0.001)       # the stimulus: a reader slower than the server
            chunk = s.recv(8192)
            assert chunk, "closed early"
            received += chunk
        responses = parse_responses(received)
        assert [r.status for r in responses] == [200] * 5
        assert [r.body for r in responses] == [*bodies, b"Hello, World!"]
        sender.join(10)
    finally:
        s.close()


def test_concurrent_connections(shared_server):
    conns = [Conn(shared_server.port) for _ in range(20)]
    try:
        for c in conns:
            c.send(build_request("GET", "/hello"))
        for c in conns:
            r = c.read_response()
            assert r.status == 200 and r.body == b"Hello, World!"
    finally:
        for c in conns:
            c.close()


def test_idle_keepalive_closed_after_keepalive_timeout(server_factory):
    srv = server_factory(workers=1, args=["--keepalive", "1"])
    with Conn(srv.port) as c:
        r = c.request("GET", "/hello")
        assert r.status == 200
        assert c.wait_eof(8) == b""     # closed by the server after ~1 s idle, without a response
    # a busy connection (requests more often than every second) stays open
    with Conn(srv.port) as c:
        for _ in range(6):
            assert c.request("GET", "/healthz").status == 200
            time.sleep(0.3)   # the stimulus: a request every 0.3 s, more often than the 1 s keepalive


def test_keepalive_zero_disables_keepalive(server_factory):
    srv = server_factory(workers=1, args=["--keepalive", "0"])
    with Conn(srv.port) as c:
        r = c.request("GET", "/hello")
        assert r.status == 200 and r.body == b"Hello, World!"
        assert r.header("connection", "").lower() == "close"
        assert c.wait_eof(5) == b""
