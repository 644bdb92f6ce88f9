"""Access and error logs: formats, escaping, proxy trust, no interleaving under load, and
worker recycling by max_requests under load."""
import re
import time

import pytest

from conftest import HEX16, Conn, http, run_wrk, wait_for

Q = r'"((?:[^"\\]|\\.)*)"'   # a quoted field with backslash escapes
DEFAULT_LINE = re.compile(
    r'^(\S+) (\S+) (\S+) \[(\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] ' + Q +
    r' (\d{3}) (\d+|-) ' + Q + ' ' + Q + r' (\S+)$')
ERROR_LINE = re.compile(r'^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}\] \[\d+\] '
                        r'\[(DEBUG|INFO|WARNING|ERROR|CRITICAL)\] \S.*$')


def access_line(srv, rid):
    return wait_for(lambda: next((l for l in srv.access_log().splitlines() if rid in l), None),
                    10, what=f"access line with {rid}")


def test_default_access_line_fields(server):
    r = http(server.port, "GET", "/hello?x=1", {"Referer": "http://ref.example/page",
                                               "User-Agent": "pytest-agent/1.0"})
    rid = r.header("x-request-id")
    line = access_line(server, rid)
    m = DEFAULT_LINE.match(line)
    assert m, f"line does not match the default format: {line!r}"
    h, l, u, t, req, status, size, ref, ua, lrid = m.groups()
    assert h == "127.0.0.1"
    assert l == "-" and u == "-"
    assert req == "GET /hello?x=1 HTTP/1.1"
    assert status == "200" and size == "13"
    assert ref == "http://ref.example/page"
    assert ua == "pytest-agent/1.0"
    assert lrid == rid
    # time is now-ish: same day
    assert time.strftime("%Y", time.gmtime()) in t


def test_access_line_for_404_post_and_missing_headers(server):
    r = http(server.port, "POST", "/echo", {"Content-Type": "text/plain"}, b"12345")
    m = DEFAULT_LINE.match(access_line(server, r.header("x-request-id")))
    assert m and m.group(5) == "POST /echo HTTP/1.1" and m.group(6) == "200" and m.group(7) == "5"
    assert m.group(8) == "-" and m.group(9) == "-"
    r = http(server.port, "GET", "/missing")
    m = DEFAULT_LINE.match(access_line(server, r.header("x-request-id")))
    assert m and m.group(6) == "404"


def test_custom_access_log_format(server_factory):
    srv = server_factory(workers=1, args=["--access-log-format", "%(h)s %({x-test}i)s"])
    http(srv.port, "GET", "/hello", {"X-Test": "marker-123"})
    wait_for(lambda: "marker-123" in srv.access_log(), 10, what="the marker line")
    lines = srv.access_log().splitlines()
    # the marker request, and the harness's readiness probes without the header
    assert lines.count("127.0.0.1 marker-123") == 1
    assert all(l in ("127.0.0.1 marker-123", "127.0.0.1 -") for l in lines), lines


def test_quote_in_header_is_escaped(server):
    ua = 'evil" 200 999 "-" "forged'
    r = http(server.port, "GET", "/hello", {"User-Agent": ua, "Referer": 'a"b\\c'})
    line = access_line(server, r.header("x-request-id"))
    assert 'evil\\" 200 999 \\"-\\" \\"forged' in line, line
    m = DEFAULT_LINE.match(line)
    assert m, line
    assert m.group(6) == "200" and m.group(7) == "13"
    assert m.group(9) == 'evil\\" 200 999 \\"-\\" \\"forged'
    assert m.group(8) == 'a\\"b\\\\c'
    assert m.group(10) == r.header("x-request-id")


def test_newline_cannot_reach_log(server):
    """A raw LF/CR inside a header value is rejected by the parser, so it never forges a line."""
    for bad in (b"a\rb", b"a\nb", b"a\r\n 1.2.3.4 - - [x] \"GET /forged HTTP/1.1\" 200 1 \"-\" \"-\" x"):
        with Conn(server.port) as c:
            c.send(b'GET /hello HTTP/1.1\r\nHost: t\r\nUser-Agent: ' + bad + b'\r\n\r\n')
            r = c.read_response()
        assert r.status == 400, bad
    r = http(server.port, "GET", "/healthz")
    access_line(server, r.header("x-request-id"))
    for line in server.access_log().splitlines():
        assert DEFAULT_LINE.match(line), line
    assert "/forged" not in server.access_log()


def test_request_target_with_quote_is_escaped(server):
    with Conn(server.port) as c:
        c.send(b'GET /hello?q=a"b HTTP/1.1\r\nHost: t\r\n\r\n')
        r = c.read_response()
    line = access_line(server, r.header("x-request-id"))
    m = DEFAULT_LINE.match(line)
    assert m, line
    assert m.group(5) in ('GET /hello?q=a\\"b HTTP/1.1', 'GET /hello?q=a%22b HTTP/1.1')


def test_forwarded_for_trusted_by_default(server):
    r = http(server.port, "GET", "/hello", {"X-Forwarded-For": "203.0.113.7",
                                           "X-Request-ID": "proxy-rid-0001"})
    assert r.header("x-request-id") == "proxy-rid-0001"
    line = access_line(server, "proxy-rid-0001")
    assert line.startswith("203.0.113.7 "), line


def test_forwarded_for_untrusted_peer(server_factory):
    srv = server_factory(workers=1, args=["--forwarded-allow-ips", "10.9.9.9"])
    r = http(srv.port, "GET", "/hello", {"X-Forwarded-For": "203.0.113.7",
                                        "X-Request-ID": "spoofed-rid-0001"})
    rid = r.header("x-request-id")
    assert rid != "spoofed-rid-0001"
    assert HEX16.match(rid)
    line = access_line(srv, rid)
    assert line.startswith("127.0.0.1 "), line
    assert "spoofed-rid-0001" not in srv.access_log()


def test_error_log_lines_well_formed(server):
    http(server.port, "GET", "/error")
    wait_for(lambda: "ERROR" in server.log(), 10, what="an ERROR line")
    lines = server.log().splitlines()
    assert lines
    for line in lines:
        assert ERROR_LINE.match(line), f"malformed error-log line: {line!r}"
    assert any("[INFO] Listening at: 127.0.0.1:" in l for l in lines)


def test_log_level_warning_hides_info(server_factory):
    srv = server_factory(workers=1, args=["--log-level", "warning"], wait=False)
    wait_for(lambda: len(srv.worker_pids()) == 1 and srv.try_get("/healthz"), 15, what="serving")
    http(srv.port, "GET", "/error")
    wait_for(lambda: "[ERROR]" in srv.log(), 10, what="ERROR line")
    assert "[INFO]" not in srv.log(), srv.log()


def test_access_lines_never_interleave_under_load(server_factory):
    srv = server_factory(workers=2)
    long_ua = "User-Agent: " + "loadtest-" * 60
    result = run_wrk(srv.url("/hello?" + "p=1&" * 100), duration=3, connections=16,
                     headers=[long_ua, 'Referer: "quoted" \\ referer'], max_requests=20000)
    assert result.requests > 0, result.output
    assert sum(result.socket_errors.values()) == 0, result.output

    def settled():
        text = srv.access_log()
        return text if text.count("\n") >= result.requests else None
    text = wait_for(settled, 15, what="all access lines written")
    assert text.endswith("\n")
    lines = text.splitlines()
    bad = [l for l in lines if not DEFAULT_LINE.match(l)]
    assert not bad, f"{len(bad)} malformed lines, e.g. {bad[:2]!r}"
    load_lines = [l for l in lines if "/hello?p=1" in l]
    assert len(load_lines) >= result.requests
    assert all(DEFAULT_LINE.match(l).group(9) == "loadtest-" * 60 for l in load_lines)
    assert all(DEFAULT_LINE.match(l).group(8) == '\\"quoted\\" \\\\ referer' for l in load_lines)
    rids = [DEFAULT_LINE.match(l).group(10) for l in lines]
    assert len(set(rids)) == len(rids), "duplicate request ids in the access log"


def test_max_requests_recycles_under_load(server_factory):
    srv = server_factory(workers=2, args=["--max-requests", "50", "--max-requests-jitter", "10"])
    before = srv.worker_pids()
    result = run_wrk(srv.url("/hello"), duration=3, connections=8)
    assert result.requests > 200, result.output
    assert sum(result.socket_errors.values()) == 0, result.output
    assert result.non_2xx == 0, result.output
    assert "max_requests" in srv.log()
    wait_for(lambda: len(srv.worker_pids()) == 2, 10, what="2 workers")
    # (a worker the kernel gave no connections may never reach max_requests: not all need be new)
    assert set(srv.worker_pids()) - set(before), "no new worker pid after max_requests recycling"
    # several generations of recycling happened (a retiring worker serves on until its
    # replacement is ready, by design, so the count is not requests / max_requests)
    booted = srv.log().count("Booting worker")
    assert booted >= 4, srv.log()
    for m in re.finditer(r"worker reached max_requests \((\d+)\)", srv.log()):
        assert 50 <= int(m.group(1)) <= 60, m.group(0)
    assert http(srv.port, "GET", "/hello").status == 200


def test_control_and_non_ascii_bytes_escaped(server):
    """Design: values are escaped with \\xHH for control and non-ASCII bytes. Header values are
    decoded as UTF-8 first: valid UTF-8 shows as the bytes the client sent, an invalid sequence
    as the escaped replacement character (U+FFFD, \\xef\\xbf\\xbd), never as a raw byte."""
    with Conn(server.port) as c:
        c.send(b"GET /hello HTTP/1.1\r\nHost: t\r\nUser-Agent: caf\xc3\xa9\r\n\r\n")
        r = c.read_response()
    assert r.status == 200
    line = access_line(server, r.header("x-request-id"))
    assert DEFAULT_LINE.match(line).group(9).lower() == "caf\\xc3\\xa9", line
    with Conn(server.port) as c:
        c.send(b"GET /hello HTTP/1.1\r\nHost: t\r\nUser-Agent: caf\xe9\ttab\r\n\r\n")
        r = c.read_response()
    assert r.status == 200
    rid = r.header("x-request-id")
    # The access line is written after the response (at the end of the worker's loop turn):
    # wait for it, as access_line does, but read the file's raw bytes.
    line = wait_for(lambda: next((l for l in server.access_path.read_bytes().decode("latin-1").splitlines()
                                  if rid in l), None), 10, what=f"access line with {rid}")
    assert all(0x20 <= ord(ch) < 0x7f for ch in line), f"raw control/non-ASCII byte in {line!r}"
    m = DEFAULT_LINE.match(line)
    assert m, line
    assert m.group(9).lower() == "caf\\xef\\xbf\\xbd\\x09tab", m.group(9)


def test_forwarded_for_rightmost_untrusted_entry(server):
    cases = {
        "198.51.100.1, 203.0.113.7": "203.0.113.7",
        "203.0.113.7, 127.0.0.1": "203.0.113.7",
        "198.51.100.1,203.0.113.9": "203.0.113.9",
    }
    for xff, expected in cases.items():
        r = http(server.port, "GET", "/hello", {"X-Forwarded-For": xff})
        line = access_line(server, r.header("x-request-id"))
        assert line.split(" ", 1)[0] == expected, (xff, line)


def test_request_id_from_proxy_validated(server):
    ok = "A" * 128
    assert http(server.port, "GET", "/hello", {"X-Request-ID": ok}).header("x-request-id") == ok
    too_long = "B" * 129
    rid = http(server.port, "GET", "/hello", {"X-Request-ID": too_long}).header("x-request-id")
    assert HEX16.match(rid), rid
    rid = http(server.port, "GET", "/hello", {"X-Request-ID": "has space"}).header("x-request-id")
    assert HEX16.match(rid), rid


def test_every_error_line_about_a_request_names_it(server):
    r = http(server.port, "GET", "/error", {"X-Request-ID": "trace-me-42"})
    assert r.status == 500
    assert r.header("x-request-id") == "trace-me-42"
    assert b"trace" not in r.body and b"failure" not in r.body
    line = wait_for(lambda: next((l for l in server.log().splitlines() if "request_id=trace-me-42" in l),
                                 None), 10, what="error line with the client's request id")
    assert "[ERROR]" in line
    assert "trace-me-42" in access_line(server, "trace-me-42")


def test_time_is_local_as_gunicorn_writes_it(server_factory):
    """%(t)s in the server's local time zone (TZ), with its offset, as Gunicorn does."""
    srv = server_factory(workers=1, env={"TZ": "MST7"})
    rid = http(srv.port, "GET", "/hello").header("x-request-id")
    m = DEFAULT_LINE.match(access_line(srv, rid))
    assert m and m.group(4).endswith(" -0700"), m.group(4) if m else None
    utc = time.gmtime(time.time() - 7 * 3600)
    assert m.group(4).startswith(time.strftime("%d/%b/%Y:", utc))


def test_json_access_log_lines_are_valid_json_whatever_the_request_held(server_factory):
    import json
    srv = server_factory(workers=1, args=["--access-log-format", "json"])
    r = http(srv.port, "GET", '/hello?q="x"', {"User-Agent": 'evil"agent\\\xe9', "Referer": "{}\""})
    line = access_line(srv, r.header("x-request-id"))
    entry = json.loads(line)
    assert entry["path"] == "/hello" and entry["query"] == 'q="x"'
    assert entry["status"] == "200" and entry["bytes"] == "13" and entry["method"] == "GET"
    # the lone Latin-1 byte reached the header as U+FFFD; each of its UTF-8 bytes is \u00HH
    assert entry["user_agent"] == 'evil"agent\\\xef\xbf\xbd'
    assert entry["referer"] == '{}"' and entry["request_id"] == r.header("x-request-id")
    assert all(json.loads(l) for l in srv.access_log().splitlines())
