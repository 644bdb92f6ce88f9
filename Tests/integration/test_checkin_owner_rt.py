"""Check-in by owner, against the real RT 5: scanning a tag shows the RT owner matched to the
roster student (by username, or by RT user number) and their other devices; the check-in
records the student and the previous owner and marks them returned; a second device of the
same student is a 409 until confirmed; a name typed for a device is matched afterwards from
the owner RT had. On both backends."""
import json
import re
import uuid

import pytest

from conftest import session_cookie
from test_app import cli, post_json, prepared, request
from test_app_rt import new_asset

pytestmark = pytest.mark.usefixtures("backend")


def rt_user(rt, name):
    status, answer = rt.api("POST", "/user", {"Name": name, "EmailAddress": f"{name}@students.example"})
    assert status == 201, answer
    status, user = rt.api("GET", f"/user/{name}")
    assert status == 200, user
    return int(user["id"])


def test_scan_shows_the_student_and_checkin_marks_them_returned(tmp_path, server_factory, rt, backend):
    prepared(tmp_path)
    stamp = uuid.uuid4().hex[:6]
    ann, bob, cy = f"ann{stamp}", f"bob{stamp}", f"cy{stamp}"
    rt_user(rt, ann)
    bob_number = rt_user(rt, bob)
    rt_user(rt, cy)
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "student_id,first_name,last_name,username,grade,advisor,rt_user_id\n"
        f"S1,Ann,Lee,{ann},9,Smith,\n"
        f"S2,Bob,Ray,bob.sis.{stamp},10,Jones,{bob_number}\n"
        f"S3,Cy,Day,{cy},11,Jones,\n")
    assert cli(tmp_path, "students", "import", str(roster)).returncode == 0
    srv = server_factory(env=rt.env())
    first, _, _ = new_asset(rt, owner=ann)
    second, second_serial, _ = new_asset(rt, owner=ann)
    bobs, _, _ = new_asset(rt, owner=bob)
    cys, _, _ = new_asset(rt, owner=cy)
    cookie = session_cookie(srv.port)
    # the scan: owner matched by username, the other device listed, the form filled in
    status, _, body = request(srv.port, "GET", f"/checkin?tag={first}", headers={"Cookie": cookie})
    page = body.decode()
    assert status == 200 and f"Owner in RT: {ann}, that is <b>Ann Lee</b> (S1, grade 9, advisor Smith)" in page
    assert f'<span class="tag">{second}</span>' in page and second_serial in page
    assert 'name="student_id" value="S1"' in page and 'name="student" type="text" value="Ann Lee"' in page
    # by RT user number when the username differs
    status, _, body = request(srv.port, "GET", f"/checkin?tag={bobs}", headers={"Cookie": cookie})
    assert f"Owner in RT: {bob}, that is <b>Bob Ray</b>" in body.decode()
    # the check-in: student and previous owner recorded, the student returned
    status, _, body = post_json(srv.port, "/api/checkins", {"tag": first, "student_id": "S1", "condition": "good"})
    assert status == 201, body
    checkin = json.loads(body)["checkin"]
    assert (checkin["student"], checkin["student_id"], checkin["previous_owner"]) == ("Ann Lee", "S1", ann)
    answer = json.loads(request(srv.port, "GET", "/api/students/status")[2])
    assert (answer["total"], answer["returned"]) == (3, 1)
    # her second device: 409 until confirmed
    status, _, body = post_json(srv.port, "/api/checkins", {"tag": second, "student_id": "S1", "condition": "good"})
    assert status == 409 and f"Ann Lee (S1) already returned {first} on".encode() in body, body
    assert 'send it again with "second_device": true' in json.loads(body)["error"]
    form_page = request(srv.port, "GET", f"/checkin?tag={second}", headers={"Cookie": cookie})[2].decode()
    assert f"Already returned {first} on" in form_page
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', form_page).group(1)
    form = f"csrf_token={token}&tag={second}&student_id=S1&student=&condition=good".encode()
    status, _, body = request(srv.port, "POST", "/checkins", form, {
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 409 and b'id="second-device"' in body and b'name="second_device" value="1"' in body
    status, _, body = post_json(srv.port, "/api/checkins", {"tag": second, "student_id": "S1", "condition": "good",
                                                            "second_device": True})
    assert status == 201, body
    # an unknown student id
    status, _, body = post_json(srv.port, "/api/checkins", {"tag": bobs, "student_id": "S99", "condition": "good"})
    assert status == 400 and b"S99 is not on the roster" in body
    # a typed name: matched afterwards from the owner RT had
    status, _, body = post_json(srv.port, "/api/checkins", {"tag": cys, "student": "typed by hand", "condition": "fair"})
    assert status == 201, body
    rows = backend.query(f"SELECT student, student_id, previous_owner FROM checkins WHERE tag = '{cys}'")
    assert rows == [("typed by hand", "S3", cy)]
    answer = json.loads(request(srv.port, "GET", "/api/students/status")[2])
    assert (answer["total"], answer["returned"]) == (3, 2)
    # a tag RT does not know: the name is typed
    status, _, body = request(srv.port, "GET", "/checkin?tag=W12-99999999", headers={"Cookie": cookie})
    assert status == 200 and b"Request Tracker has no asset named W12-99999999" in body
