"""A device audit in a real browser (headless Chromium over WebDriver) against the real RT 5:
technology staff create a session and watch its progress bar follow the prefetch to the end
(app.js polling /api/jobs/ID); a teacher signs in, opens their student, marks the device RT
lists and the student audited, by clicks and key presses."""
import sqlite3
import uuid

from browser_harness import browser  # noqa: F401  (the fixture)
from conftest import auth_headers
from test_app import cli, prepared
from test_app_rt import new_asset
from test_browser import assert_no_errors, sign_in, table_rows
from test_checkin_owner_rt import rt_user


def test_a_teacher_audits_one_student(tmp_path, server_factory, browser, rt):
    stamp = uuid.uuid4().hex[:6]
    username = f"audit{stamp}"
    rt_user(rt, username)
    tag, _, _ = new_asset(rt, owner=username)
    roster = tmp_path / "roster.csv"
    rows = [f"S{n},Pupil{n},Family{n},{username if n == 1 else f'nobody{stamp}{n}'},10,tester-teacher"
            for n in range(1, 31)]
    roster.write_text("student_id,first_name,last_name,username,grade,advisor\n" + "\n".join(rows) + "\n")
    prepared(tmp_path)
    assert cli(tmp_path, "students", "import", str(roster)).returncode == 0
    srv = server_factory(env=rt.env(), job_workers=1)
    auth_headers(srv.port, "tech")
    auth_headers(srv.port, "teacher")
    # technology staff: create the session, watch the bar fill, the page reloads when done
    sign_in(browser, srv, "/audits")
    browser.type(browser.find("#name"), "Homeroom audit")
    browser.submit(browser.find("#name"))
    browser.wait_for(lambda b: b.title.startswith("Audit: Homeroom audit"))
    assert browser.find_all("[data-job] progress")
    # app.js updates the bar from /api/jobs/ID, then reloads the page (no element kept across it)
    browser.wait_for(lambda b: "Done: 30 of 30 students' devices read from RT." in b.execute(
        "var t = document.querySelector('[data-job-text]'); return t ? t.textContent : '';"), timeout=60)
    browser.wait_for(lambda b: all(row[4] != "not read yet" for row in table_rows(b)), timeout=10)
    assert len(table_rows(browser)) == 30
    assert_no_errors(browser)
    browser.delete_cookies()
    # the teacher: their student, the device marked correct with a note, the student audited
    sign_in(browser, srv, "/audits", name="tester-teacher")
    browser.click(browser.find("main table a"))
    browser.wait_for(lambda b: b.title.startswith("Audit: Homeroom audit"))
    browser.click(next(a for a in browser.find_all("main table a") if browser.text(a) == "Family1, Pupil1"))
    browser.wait_for(lambda b: b.title.startswith("Pupil1 Family1 (S1)"))
    assert browser.text(browser.find("main table .tag")) == tag
    browser.click(browser.find("input[name=status][value=correct]"))
    browser.type(browser.find(f"input[aria-label='note for {tag}']"), "case cracked")
    browser.click(next(b for b in browser.find_all("main table button") if browser.text(b) == "Save"))
    browser.wait_for(lambda b: b.find_all(".message.ok"))
    assert browser.property(browser.find("input[name=status][value=correct]"), "checked") is True
    browser.click(browser.find("input[name=audited]"))
    browser.click(next(b for b in browser.find_all("button") if browser.text(b) == "Save the student"))
    browser.wait_for(lambda b: b.find_all(".message.ok") and b.property(b.find("input[name=audited]"), "checked"))
    assert_no_errors(browser)
    with sqlite3.connect(tmp_path / "var" / "database.sqlite") as db:
        assert db.execute("SELECT tag, status, note, updated_by FROM audit_devices").fetchall() == \
            [(tag, "correct", "case cracked", "tester-teacher")]
        assert db.execute("SELECT student_id, audited_by FROM audit_students WHERE audited = 1").fetchall() == \
            [("S1", "tester-teacher")]
