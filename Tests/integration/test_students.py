"""The student roster: `students import` from the command line (1,000 rows, then 900: 100
made inactive; each kind of bad file refused with its line and nothing changed), the upload
form (multipart, preview, confirm) through curl, the dashboard's figures, CSV exports and the
status API. On both backends."""
import csv
import io
import json
import re
import subprocess

import pytest

from conftest import session_cookie
from test_app import cli, form_session, prepared, request

pytestmark = pytest.mark.usefixtures("backend")

HEADER = "student_id,first_name,last_name,username,grade,advisor\n"


def roster(count, start=0):
    rows = [f"S{n:05d},First{n},Last{n},user{n},{9 + n % 4},Advisor {n % 10}\n" for n in range(start, start + count)]
    return HEADER + "".join(rows)


def students(backend):
    return backend.query("SELECT count(*), coalesce(sum(active), 0) FROM students")[0]


def test_import_from_the_command_line_then_each_bad_file(tmp_path, backend):
    prepared(tmp_path)
    first = tmp_path / "roster.csv"
    first.write_text(roster(1000))
    done = cli(tmp_path, "students", "import", str(first))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"imported {first}: 1000 added, 0 updated, 0 made inactive, 0 unchanged"
    assert students(backend) == (1000, 1000)
    # 900 of them, one with a new grade: 100 inactive, nothing deleted
    second = tmp_path / "roster2.csv"
    second.write_text(roster(900).replace("S00005,First5,Last5,user5,10,", "S00005,First5,Last5,user5,11,"))
    dry = cli(tmp_path, "students", "import", str(second), "--dry-run")
    assert dry.returncode == 0 and "would import" in dry.stdout and "100 made inactive" in dry.stdout
    assert students(backend) == (1000, 1000)
    done = cli(tmp_path, "students", "import", str(second))
    assert done.returncode == 0, done.stderr
    assert "0 added, 1 updated, 100 made inactive, 899 unchanged" in done.stdout
    assert students(backend) == (1000, 900)
    assert backend.query("SELECT 'g' || grade FROM students WHERE student_id = 'S00005'") == [("g11",)]
    before = backend.query("SELECT * FROM students ORDER BY student_id")
    bad = {
        "missing column": ("student_id,first_name,last_name,username,grade\n1,a,b,c,9\n",
                           "line 1: the header lacks advisor"),
        "duplicate id": (HEADER + "S1,a,b,u1,9,x\nS1,c,d,u2,9,x\n", "line 3: student_id S1 is also on line 2"),
        "unparsable row": (HEADER + "S1,a,b,u1,9,x\nS2,\"c,d,u2,9,x\n", "line 3: a quoted field is never closed"),
        "short row": (HEADER + "S1,a,b,u1,9\n", "line 2: 5 fields, but the header has 6"),
        "not UTF-8": ((HEADER + "S1,J\xf6rg,b,u1,9,x\n").encode("latin-1"), "line 2: the file is not UTF-8 text"),
        "too large": (HEADER + "x" * (4 * 1024 * 1024), "bytes, over the limit of 4194304"),
        "too many rows": (roster(20001), "line 20002: more than 20000 students"),
    }
    for kind, (content, reason) in bad.items():
        path = tmp_path / "bad.csv"
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        done = cli(tmp_path, "students", "import", str(path))
        assert done.returncode == 1, kind
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: students import: {path} "), (kind, done.stderr)
        assert reason in lines[0] and lines[0].endswith("; nothing was changed"), (kind, lines)
        assert backend.query("SELECT * FROM students ORDER BY student_id") == before, kind
    assert cli(tmp_path, "students", "import").returncode == 2
    missing = cli(tmp_path, "students", "import", str(tmp_path / "nope.csv"))
    assert missing.returncode == 1 and "cannot read" in missing.stderr
    # the export reads back as the same roster
    exported = cli(tmp_path, "students", "export")
    assert exported.returncode == 0
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert len(rows) == 1000 and sum(r["active"] == "no" for r in rows) == 100
    again = tmp_path / "again.csv"
    again.write_text(exported.stdout)
    done = cli(tmp_path, "students", "import", str(again))
    assert "0 added, 0 updated, 0 made inactive, 1000 unchanged" in done.stdout, done.stdout


def upload(port, cookie, token, content, filename="roster.csv"):
    """POST /students/import as a browser's form does, sent by curl -F."""
    path = f"/tmp/upload-{port}.csv"
    with open(path, "wb") as f:
        f.write(content.encode() if isinstance(content, str) else content)
    out = subprocess.run(
        ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "-H", f"Cookie: {cookie}", "-F", f"csrf_token={token}",
         "-F", f"file=@{path};filename={filename};type=text/csv", f"http://127.0.0.1:{port}/students/import"],
        capture_output=True, timeout=30)
    body, _, code = out.stdout.rpartition(b"\n")
    return int(code), body


def test_upload_preview_confirm_dashboard_and_exports(tmp_path, server_factory, backend):
    prepared(tmp_path)
    srv = server_factory()
    cookie, token = form_session(srv.port, "/students/import")
    status, body = upload(srv.port, cookie, token, roster(40))
    assert status == 200, body
    assert b"40 students" in body and b"<b>40</b>added" in body
    assert students(backend) == (0, 0)          # a preview changes nothing
    action = re.search(rb'action="(/students/import/\d+)"', body).group(1).decode()
    confirm = f"csrf_token={token}".encode()
    status, headers, _ = request(srv.port, "POST", action, confirm, {
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 303 and headers["location"].startswith("/students?imported=40%20added"), headers
    assert students(backend) == (40, 40)
    again = request(srv.port, "POST", action, confirm, {"Cookie": cookie,
                                                          "Content-Type": "application/x-www-form-urlencoded"})
    assert again[0] == 404 and b"no longer here" in again[2]
    # a bad file: the reason with its line, nothing changed, the name escaped
    status, body = upload(srv.port, cookie, token, HEADER + "S1,a,b,u,9,x\nS1,a,b,v,9,x\n", filename="<b>.csv")
    assert status == 400 and b"line 3: student_id S1 is also on line 2" in body and b"&lt;b&gt;.csv" in body
    # a forged token
    status, body = upload(srv.port, cookie, "0" * 64, roster(3))
    assert status == 403
    # malformed multipart
    status, _, body = request(srv.port, "POST", "/students/import", b"--x\r\nno header\r\n\r\nv\r\n--x--",
                              {"Cookie": cookie, "Content-Type": "multipart/form-data; boundary=x"})
    assert status == 400 and b"not `Name: value`" in body
    # two students returned: one by check-in with their id
    backend.execute(
        "INSERT INTO checkins (tag, student, student_id, condition, notes, checked_in_on, checked_in_at) "
        "VALUES ('W12-0001', 'First0 Last0', 'S00000', 'good', '', '2026-06-01', '2026-06-01T10:00:00Z')",
        "INSERT INTO checkins (tag, student, student_id, condition, notes, checked_in_on, checked_in_at) "
        "VALUES ('W12-0002', 'First4 Last4', 'S00004', 'good', '', '2026-06-01', '2026-06-01T10:01:00Z')")
    status, _, body = request(srv.port, "GET", "/api/students/status")
    answer = json.loads(body)
    assert status == 200 and answer["total"] == 40 and answer["returned"] == 2 and answer["owed"] == 38
    assert answer["percent"] == 5
    assert answer["grades"][0] == {"grade": "9", "total": 10, "returned": 2}
    status, _, body = request(srv.port, "GET", "/students?grade=9&show=owed", headers={"Cookie": cookie})
    page = body.decode()
    assert status == 200 and "<b>40</b>active students" in page and "<b>5%</b>returned" in page
    assert "<svg class=\"chart\"" in page and "Grade 9" in page and "20% (2 of 10)" in page
    assert page.count("<b>owed</b>") == 8
    status, headers, body = request(srv.port, "GET", "/students.csv?show=returned")
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert headers["content-type"].startswith("text/csv")
    assert [(r["student_id"], r["tag"]) for r in rows] == [("S00000", "W12-0001"), ("S00004", "W12-0002")]
    status, _, body = request(srv.port, "GET", "/students/roster.csv")
    assert status == 200 and len(body.decode().strip().splitlines()) == 41


def test_teachers_cannot_reach_the_roster(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory()
    cookie = session_cookie(srv.port, role="teacher")
    for path in ("/students", "/students/import", "/students.csv", "/api/students/status"):
        status, _, _ = request(srv.port, "GET", path, headers={"Cookie": cookie})
        assert status == 403, path
