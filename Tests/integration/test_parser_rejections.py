"""The strict request parser: malformed or oversized requests get the right status and the
connection is closed; a slowloris client is cut off after header_timeout."""
import socket
import time

import pytest

from conftest import Conn, build_request, http, parse_responses, raw_request

H = b"Host: t\r\n"

REJECTIONS = {
    "cl_and_te": (b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"0\r\n\r\n", 400),
    "duplicate_cl": (b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400),
    "duplicate_cl_different": (b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400),
    "cl_list": (b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: 3, 3\r\n\r\nabc", 400),
    "non_numeric_cl": (b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: abc\r\n\r\n", 400),
    "negative_cl": (b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: -1\r\n\r\n", 400),
    "plus_cl": (b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: +3\r\n\r\nabc", 400),
    "te_gzip": (b"POST /echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip\r\n\r\n", 501),
    "te_gzip_chunked": (b"POST /echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
    "bad_chunk_size": (b"POST /echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400),
    "obs_fold": (b"GET /hello HTTP/1.1\r\n" + H + b"X-A: one\r\n  folded\r\n\r\n", 400),
    "space_before_colon": (b"GET /hello HTTP/1.1\r\n" + H + b"X-A : one\r\n\r\n", 400),
    "bare_cr_in_value": (b"GET /hello HTTP/1.1\r\n" + H + b"X-A: one\rtwo\r\n\r\n", 400),
    "bare_cr_line_end": (b"GET /hello HTTP/1.1\r\n" + H + b"X-A: one\r\r\n\r\n", 400),
    "ctl_in_value": (b"GET /hello HTTP/1.1\r\n" + H + b"X-A: one\x01two\r\n\r\n", 400),
    "nul_in_value": (b"GET /hello HTTP/1.1\r\n" + H + b"X-A: one\x00two\r\n\r\n", 400),
    "bad_method_chars": (b"G(E)T /hello HTTP/1.1\r\n" + H + b"\r\n", 400),
    "http2_version": (b"GET /hello HTTP/2.0\r\n" + H + b"\r\n", 505),
    "garbage_version": (b"GET /hello HTTP/x.y\r\n" + H + b"\r\n", 400),
    "garbage_version2": (b"GET /hello FOO\r\n" + H + b"\r\n", 400),
    "no_host_11": (b"GET /hello HTTP/1.1\r\nX-A: b\r\n\r\n", 400),
    "duplicate_host": (b"GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    "header_without_colon": (b"GET /hello HTTP/1.1\r\n" + H + b"NoColonHere\r\n\r\n", 400),
}


@pytest.mark.parametrize("name", sorted(REJECTIONS))
def test_rejected_and_closed(shared_server, name):
    data, status = REJECTIONS[name]
    with Conn(shared_server.port, timeout=10) as c:
        c.send(data)
        r = c.read_response()
        assert r.status == status, f"{name}: got {r.status} {r.reason}"
        assert r.header("server") == "request-tracker-utils"
        assert r.header("x-request-id")
        # connection is closed afterwards: nothing more, then EOF
        rest = c.wait_eof(5)
        assert rest == b"", f"{name}: unexpected bytes after the error response: {rest!r}"


def test_rejection_not_followed_by_pipelined_request(shared_server):
    """A smuggling attempt: after a rejected request, the bytes that follow must not be served."""
    data = (b"POST /echo HTTP/1.1\r\n" + H + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"0\r\n\r\nGET /hello HTTP/1.1\r\n" + H + b"\r\n")
    out = raw_request(shared_server.port, data)
    rs = parse_responses(out)
    assert [r.status for r in rs] == [400], out


def test_http10_without_host_is_fine(shared_server):
    r = http(shared_server.port, "GET", "/hello", version="HTTP/1.0")
    assert r.status == 200


def test_valid_request_still_served_after_rejections(shared_server):
    raw_request(shared_server.port, b"GET /hello HTTP/2.0\r\n\r\n")
    assert http(shared_server.port, "GET", "/hello").body == b"Hello, World!"


# ----------------------------------------------------------------------------- limits

LIMIT_ARGS = ["--limit-request-line", "200", "--limit-request-fields", "6",
              "--limit-request-field-size", "200", "--limit-request-body", "1000"]


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    from conftest import Server
    srv = Server(tmp_path_factory.mktemp("limits"), args=LIMIT_ARGS, workers=1)
    yield srv
    srv.stop()


def _status_and_closed(port, data):
    with Conn(port, timeout=10) as c:
        c.send(data)
        r = c.read_response()
        c.wait_eof(5)
        return r.status


def test_request_line_limit(limited):
    # "GET " + target + " HTTP/1.1" == 200 bytes exactly is allowed
    target = "/hello?" + "a" * (200 - len("GET ") - len(" HTTP/1.1") - len("/hello?"))
    line = f"GET {target} HTTP/1.1"
    assert len(line) == 200
    r = http(limited.port, "GET", target)
    assert r.status == 200 and r.body == b"Hello, World!"
    assert _status_and_closed(limited.port, build_request("GET", target + "a")) == 414
    assert _status_and_closed(limited.port, build_request("GET", "/" + "a" * 5000)) == 414


def test_request_fields_limit(limited):
    # Host + 5 more = 6 fields: allowed
    ok = {f"X-F{i}": "v" for i in range(5)}
    assert http(limited.port, "GET", "/hello", ok).status == 200
    too_many = {f"X-F{i}": "v" for i in range(6)}
    assert _status_and_closed(limited.port, build_request("GET", "/hello", too_many)) == 431
    assert _status_and_closed(limited.port, build_request("GET", "/hello",
                                                          {f"X-F{i}": "v" for i in range(200)})) == 431


def test_request_field_size_limit(limited):
    assert http(limited.port, "GET", "/hello", {"X-Long": "v" * 150}).status == 200
    assert _status_and_closed(limited.port, build_request("GET", "/hello", {"X-Long": "v" * 250})) == 431
    assert _status_and_closed(limited.port, build_request("GET", "/hello", {"X-Long": "v" * 20000})) == 431


def test_request_body_limit(limited):
    r = http(limited.port, "POST", "/echo", {"Content-Type": "text/plain"}, b"b" * 1000)
    assert r.status == 200 and len(r.body) == 1000
    assert _status_and_closed(limited.port, build_request("POST", "/echo", {}, b"b" * 1001)) == 413


def test_request_body_limit_answered_before_body_is_sent(limited):
    """413 comes from the declared Content-Length alone, without waiting for the body."""
    with Conn(limited.port, timeout=10) as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\n")
        r = c.read_response()
        assert r.status == 413
        c.wait_eof(5)


def test_request_body_limit_chunked(limited):
    chunk = b"a" * 600
    body = b"258\r\n" + chunk + b"\r\n" + b"258\r\n" + chunk + b"\r\n0\r\n\r\n"
    data = build_request("POST", "/echo", {"Transfer-Encoding": "chunked"}, body)
    assert _status_and_closed(limited.port, data) == 413


# ----------------------------------------------------------------------------- slowloris

def test_slowloris_disconnected_after_header_timeout(server_factory):
    srv = server_factory(args=["--header-timeout", "1"], workers=1)
    slow = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    try:
        slow.sendall(b"GET /hello HTTP/1.1\r\nHost: t\r\nX-Slow: ")
        started = time.monotonic()
        # meanwhile, a normal client on another connection is served (single worker)
        r = http(srv.port, "GET", "/hello", timeout=10)
        assert r.status == 200 and r.body == b"Hello, World!"
        slow.settimeout(8)
        data = b""
        try:
            while True:
                chunk = slow.recv(65536)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
        except socket.timeout:
            pytest.fail(f"slow connection still open {time.monotonic() - started:.1f}s later")
        # if anything was sent it must be a 408
        if data:
            assert data.startswith(b"HTTP/1.1 408"), data
    finally:
        slow.close()
    assert http(srv.port, "GET", "/healthz").status == 200


def test_several_slow_heads_all_cut_off(server_factory):
    """Two stalled partial heads on a single worker: both are cut off, neither blocks others."""
    srv = server_factory(args=["--header-timeout", "1", "--timeout", "30"], workers=1)
    with Conn(srv.port, timeout=10) as slow:
        slow.send(b"GET /hello HTTP/1.1\r\nHost: t\r\n")   # head never completed
        with Conn(srv.port, timeout=10) as slow2:
            slow2.send(b"GET /hel")
            assert http(srv.port, "GET", "/hello").status == 200
            slow.wait_eof(8)
            slow2.wait_eof(8)


def test_stalled_body_cut_off(server_factory):
    """header_timeout also bounds how long a body may stall."""
    srv = server_factory(args=["--header-timeout", "1"], workers=1)
    with Conn(srv.port, timeout=10) as slow:
        slow.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
        assert http(srv.port, "GET", "/hello").status == 200
        data = slow.wait_eof(8)
        assert not data.startswith(b"HTTP/1.1 200"), data


def _trickle(port, pieces, pause=0.01):
    """Sends each piece as its own write (TCP_NODELAY, a pause between), then reads the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for piece in pieces:
            try:
                s.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            time.sleep(pause)   # the stimulus: each piece arrives in a read of its own
        return parse_responses(s.recv(65536))


def test_trickled_head_gets_the_same_answers(shared_server):
    """A head arriving in many small reads is parsed again only when a line ends (or outgrows
    the line limit): the answers are those of the head sent whole."""
    head = b"GET /hello HTTP/1.1\r\nHost: t\r\nX-Long: " + b"v" * 3000 + b"\r\nConnection: close\r\n\r\n"
    ok = _trickle(shared_server.port, [head[i:i + 50] for i in range(0, len(head), 50)], pause=0.001)
    assert ok[0].status == 200 and ok[0].body == b"Hello, World!"
    bad = b"GET /hel\x01lo HTTP/1.1\r\nHost: t\r\n\r\n"
    assert _trickle(shared_server.port, [bad[i:i + 3] for i in range(0, len(bad), 3)])[0].status == 400


def test_line_over_the_limit_is_refused_before_it_ends(limited):
    """No LF ever comes: the line outgrowing the limit is enough to answer 414."""
    pieces = [b"GET /"] + [b"a" * 200] * 40   # 8 KB of target, no CRLF, past limit_request_line
    responses = _trickle(limited.port, pieces, pause=0.005)
    assert responses and responses[0].status == 414
