"""Device audits against the real RT 5 (issue 13): a session of 200 students whose devices are
prefetched by 2 job workers while its status is polled through 4 HTTP workers (every poll
answers); a teacher sees only their advisory, marks devices and the student, and cannot reach
the tech pages; technology staff lock, unlock, rename, close, export and delete, and every
change is in the change log. On both backends."""
import concurrent.futures
import csv
import io
import json
import re
import uuid

import pytest

from conftest import session_cookie, wait_for
from test_app import cli, prepared, request
from test_app_rt import new_asset
from test_checkin_owner_rt import rt_user

pytestmark = pytest.mark.usefixtures("backend")

TEACHER = "tester-teacher"     # the name session_cookie(port, "teacher") signs in as


def roster_with_devices(tmp_path, rt, count, with_rt=5):
    """`count` students; the first `with_rt` are RT users with one device each, the first 10
    are the teacher's advisory. Returns {student_id: (username, tag)} of those with a device."""
    stamp = uuid.uuid4().hex[:6]
    rows = ["student_id,first_name,last_name,username,grade,advisor"]
    owned = {}
    for n in range(count):
        username = f"st{stamp}{n:04d}"
        if n < with_rt:
            rt_user(rt, username)
            tag, _, _ = new_asset(rt, owner=username)
            owned[f"S{n:04d}"] = (username, tag)
        advisor = TEACHER if n < 10 else "someone.else@school.example"
        rows.append(f"S{n:04d},First{n},Last{n:04d},{username},{9 + n % 4},{advisor}")
    roster = tmp_path / "roster.csv"
    roster.write_text("\n".join(rows) + "\n")
    assert cli(tmp_path, "students", "import", str(roster)).returncode == 0
    return owned


def form(port, cookie, path, fields, page):
    """POSTs a form with the CSRF token of `page` (a form page the cookie's user opened)."""
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)
    body = "&".join(f"{k}={v}" for k, v in {"csrf_token": token, **fields}.items()).encode()
    return request(port, "POST", path, body, {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})


def page(port, cookie, path):
    status, _, body = request(port, "GET", path, headers={"Cookie": cookie})
    return status, body.decode()


def create_session(port, cookie, name):
    _, audits = page(port, cookie, "/audits")
    status, headers, _ = form(port, cookie, "/audits", {"name": name}, audits)
    assert status == 303, status
    return int(headers["location"].rsplit("/", 1)[1])


def test_two_hundred_students_prefetched_by_two_job_workers_polled_through_four(tmp_path, server_factory, rt,
                                                                                backend):
    prepared(tmp_path)
    owned = roster_with_devices(tmp_path, rt, 200)
    srv = server_factory(env=rt.env(), workers=4, job_workers=2)
    tech = session_cookie(srv.port)
    session = create_session(srv.port, tech, "Spring audit")
    status, body = page(srv.port, tech, f"/audits/{session}")
    assert status == 200 and "<progress" in body
    group = int(re.search(r'data-job="(\d+)"', body).group(1))

    def poll(_):
        status, _, answer = request(srv.port, "GET", f"/api/jobs/{group}")   # a new connection each time
        return status, json.loads(answer)

    answers = []
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        while not answers or answers[-1][1]["state"] not in ("done", "failed"):
            answers += list(pool.map(poll, range(4)))
    assert all(status == 200 for status, _ in answers), [a for a in answers if a[0] != 200]
    final = answers[-1][1]
    assert final["state"] == "done", final
    assert (final["done"], final["total"], final["parts"]) == (200, 200, 8)
    assert any(answer["state"] == "running" and 0 < answer["done"] < 200 for _, answer in answers)
    assert len(set(re.findall(r"\[(\d+)\] \[INFO\] job \d+ \(audit-prefetch-part\) started", srv.log()))) == 2
    devices = backend.query(f"SELECT student_id, tag FROM audit_devices WHERE session_id = {session} ORDER BY 1")
    assert devices == sorted((sid, tag) for sid, (_, tag) in owned.items())
    assert backend.query(f"SELECT count(*) FROM audit_students WHERE session_id = {session} AND prefetched = 1") \
        == [(200,)]
    status, body = page(srv.port, tech, f"/audits/{session}")
    assert body.count("/students/S") == 200 and "RT has no user named" in body


def test_a_teacher_audits_their_advisory_and_tech_staff_manage_the_session(tmp_path, server_factory, rt, backend):
    prepared(tmp_path)
    owned = roster_with_devices(tmp_path, rt, 12, with_rt=2)
    srv = server_factory(env=rt.env(), job_workers=1)
    tech, teacher = session_cookie(srv.port), session_cookie(srv.port, "teacher")
    session = create_session(srv.port, tech, "Advisory check")
    group = int(re.search(r'data-job="(\d+)"', page(srv.port, tech, f"/audits/{session}")[1]).group(1))
    wait_for(lambda: json.loads(request(srv.port, "GET", f"/api/jobs/{group}")[2])["state"] == "done", 60,
             interval=0.2, what="the prefetch done")
    # the teacher: their 10 students, none of the others, no tech pages or controls
    status, body = page(srv.port, teacher, "/")
    assert status == 200 and 'href="/audits"' in body
    status, body = page(srv.port, teacher, "/audits")
    assert status == 200 and "Advisory check" in body and "<td>10</td>" in body and "New session" not in body
    status, body = page(srv.port, teacher, f"/audits/{session}")
    assert status == 200 and body.count(f"/audits/{session}/students/S") == 10
    assert "/students/S0010" not in body and "Lock</button>" not in body and "export.csv" not in body
    assert page(srv.port, teacher, f"/audits/{session}/students/S0011")[0] == 404
    for path in (f"/audits/{session}/export.csv", f"/audits/{session}/changes", "/tags", "/students", "/checkin"):
        assert page(srv.port, teacher, path)[0] == 403, path
    _, student_page = page(srv.port, teacher, f"/audits/{session}/students/S0000")
    assert form(srv.port, teacher, f"/audits/{session}/state", {"state": "locked"}, student_page)[0] == 403
    # marks: the RT device correct with a note, a device found, the student audited
    username, tag = owned["S0000"]
    assert f'<span class="tag">{tag}</span>' in student_page
    device = re.search(r'name="device_id" value="(\d+)"', student_page).group(1)
    status, headers, _ = form(srv.port, teacher, f"/audits/{session}/students/S0000",
                              {"action": "device", "device_id": device, "status": "correct", "note": "sticker+worn"},
                              student_page)
    assert status == 303 and headers["location"].endswith("/students/S0000?saved=1")
    form(srv.port, teacher, f"/audits/{session}/students/S0000", {"action": "found", "tag": "W12-LOANER", "note": ""},
         student_page)
    form(srv.port, teacher, f"/audits/{session}/students/S0000", {"action": "student", "audited": "yes", "note": "ok"},
         student_page)
    assert backend.query(f"SELECT tag, status, note, updated_by FROM audit_devices WHERE session_id = {session} "
                         "AND student_id = 'S0000' ORDER BY id") == [(tag, "correct", "sticker worn", TEACHER),
                                                                      ("W12-LOANER", "extra", "", TEACHER)]
    assert backend.query(f"SELECT audited, audited_by FROM audit_students WHERE session_id = {session} "
                         "AND student_id = 'S0000'") == [(1, TEACHER)]
    # tech staff: lock (marks refused), unlock, rename, change log, CSV, close, delete
    _, session_page = page(srv.port, tech, f"/audits/{session}")
    assert form(srv.port, tech, f"/audits/{session}/state", {"state": "locked"}, session_page)[0] == 303
    status, _, body = form(srv.port, teacher, f"/audits/{session}/students/S0001",
                           {"action": "student", "audited": "yes"}, student_page)
    assert status == 409 and b"marks can no longer be changed" in body
    assert form(srv.port, tech, f"/audits/{session}/state", {"state": "open"}, session_page)[0] == 303
    assert form(srv.port, tech, f"/audits/{session}/rename", {"name": "Fall check"}, session_page)[0] == 303
    status, log = page(srv.port, tech, f"/audits/{session}/changes")
    for line in (f"marked {tag} correct (sticker worn)", "added W12-LOANER, which RT does not list, as extra",
                 "marked audited", "locked the session", "unlocked the session",
                 "renamed the session from &quot;Advisory check&quot; to &quot;Fall check&quot;"):
        assert line in log, line
    assert log.count(f"<td>{TEACHER}</td>") == 3
    status, headers, body = request(srv.port, "GET", f"/audits/{session}/export.csv", headers={"Cookie": tech})
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert status == 200 and "attachment" in headers["content-disposition"]
    assert len(rows) == 12 + 1     # a row per student, and S0000 has two devices
    first = next(r for r in rows if r["student_id"] == "S0000" and r["tag"] == tag)
    assert (first["session"], first["audited"], first["mark"], first["device_note"], first["marked_by"]) == \
        ("Fall check", "yes", "correct", "sticker worn", TEACHER)
    assert form(srv.port, tech, f"/audits/{session}/state", {"state": "closed"}, session_page)[0] == 303
    assert form(srv.port, tech, f"/audits/{session}/state", {"state": "open"}, session_page)[0] == 409
    assert form(srv.port, tech, f"/audits/{session}/delete", {}, session_page)[0] == 400
    assert form(srv.port, tech, f"/audits/{session}/delete", {"confirm": "yes"}, session_page)[0] == 303
    assert page(srv.port, tech, f"/audits/{session}")[0] == 404
    for table in ("audit_students", "audit_devices", "audit_changes"):
        assert backend.query(f"SELECT count(*) FROM {table} WHERE session_id = {session}") == [(0,)], table
    assert backend.query(f"SELECT count(*) FROM jobs WHERE id = {group} OR parent_id = {group}") == [(0,)]
