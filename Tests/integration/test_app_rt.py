"""The application against a real Request Tracker 5 (Tests/rt/rt-server.sh): asset look-up by
tag and serial, check-in changing the owner in RT, a repair ticket for a damaged device, label
QR codes linking to the asset, and RT down or silent turning into a clear page, not a hung
worker."""
import base64
import json
import socket
import time
import urllib.parse
import uuid

import pytest

from conftest import wait_for
from test_app import form_session, post_json, prepared, request
from test_labels import decode

pytestmark = pytest.mark.usefixtures("backend")   # each test on SQLite and on PostgreSQL


def owner_of(asset):
    owner = asset["Owner"]
    return owner["id"] if isinstance(owner, dict) else owner


def new_asset(rt, description="ThinkPad T14", owner=None):
    tag = f"W12-{uuid.uuid4().int % 10**8:08d}"
    serial = f"SN-{uuid.uuid4().hex[:10]}"
    asset_id = rt.create_asset(tag, serial=serial, description=description)
    if owner:
        status, answer = rt.api("PUT", f"/asset/{asset_id}", {"Owner": owner})
        assert status == 200, answer
        assert owner_of(rt.get_asset(asset_id)) == owner
    return tag, serial, asset_id


def test_look_up_by_tag_and_serial(tmp_path, server_factory, rt):
    prepared(tmp_path)
    srv = server_factory(env=rt.env())
    tag, serial, asset_id = new_asset(rt, owner="alice")
    status, _, body = request(srv.port, "GET", f"/assets?tag={tag.lower()}")
    assert status == 200, body
    page = body.decode()
    assert "ThinkPad T14" in page and serial in page and "alice" in page
    assert f"{rt.url}/Asset/Display.html?id={asset_id}" in page
    status, _, body = request(srv.port, "GET", f"/api/assets?serial={serial}")
    assert status == 200
    found = json.loads(body)
    assert found["id"] == asset_id and found["tag"] == tag and found["owner"] == "alice"
    status, _, body = request(srv.port, "GET", f"/api/assets/{tag}")
    assert status == 200 and json.loads(body)["serial"] == serial
    status, _, body = request(srv.port, "GET", "/assets?tag=W12-NO-SUCH")
    assert status == 404 and b"has no asset with tag W12-NO-SUCH" in body
    assert request(srv.port, "GET", "/api/assets/W12-NO-SUCH")[0] == 404


def test_checkin_changes_the_owner_in_rt(tmp_path, server_factory, rt):
    prepared(tmp_path)
    srv = server_factory(env=rt.env())
    tag, _, asset_id = new_asset(rt, owner="alice")
    status, _, body = post_json(srv.port, "/api/checkins", {"tag": tag, "student": "Alice", "condition": "good"})
    assert status == 201, body
    answer = json.loads(body)
    assert answer["checkin"]["rt_asset_id"] == asset_id and answer["checkin"]["rt_status"] == "updated"
    assert owner_of(rt.get_asset(asset_id)) == "Nobody"
    assert post_json(srv.port, "/api/checkins", {"tag": tag, "student": "Alice", "condition": "good"})[0] == 409


def test_damaged_checkin_opens_a_repair_ticket_linked_to_the_asset(tmp_path, server_factory, rt):
    prepared(tmp_path)
    srv = server_factory(env=rt.env())
    tag, _, asset_id = new_asset(rt, description="Dell 3100", owner="alice")
    cookie, token = form_session(srv.port, "/checkin")
    form = {"csrf_token": token, "tag": tag, "student": "Alice", "condition": "damaged", "notes": "cracked screen"}
    status, answer, body = request(srv.port, "POST", "/checkins", urllib.parse.urlencode(form).encode(),
                                   {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    assert status == 303, body
    status, _, body = request(srv.port, "GET", answer["location"], headers={"Cookie": cookie})
    assert status == 200 and b"repair ticket #" in body, body
    checkin = json.loads(request(srv.port, "GET", "/api/checkins")[2])["checkins"][0]
    ticket_id = checkin["rt_ticket_id"]
    assert ticket_id and checkin["rt_status"] == f"updated, repair ticket #{ticket_id}"
    status, ticket = rt.api("GET", f"/ticket/{ticket_id}")
    assert status == 200 and tag in ticket["Subject"]
    links = [link for link in ticket["_hyperlinks"] if link.get("ref") == "refers-to"]
    assert any(link.get("type") == "asset" and str(link.get("id")) == str(asset_id) for link in links), links
    assert owner_of(rt.get_asset(asset_id)) == "Nobody"
    # the ticket's text says who recorded the check-in
    text = ticket_text(rt, ticket_id)
    assert "cracked screen" in text and f"(check-in #{checkin['id']}, recorded by tester-tech)" in text, text


def ticket_text(rt, ticket_id) -> str:
    """Every attachment's content of a ticket's transactions, as RT stored it."""
    contents = []
    status, history = rt.api("GET", f"/ticket/{ticket_id}/history")
    assert status == 200, history
    for transaction in history["items"]:
        status, attachments = rt.api("GET", f"/transaction/{transaction['id']}/attachments")
        for attachment in attachments.get("items", []) if status == 200 else []:
            status, found = rt.api("GET", f"/attachment/{attachment['id']}")
            if status == 200 and found.get("Content"):
                contents.append(base64.b64decode(found["Content"]).decode("utf-8", "replace"))
    return "\n".join(contents)


def test_label_qr_links_to_the_asset_in_rt(tmp_path, server_factory, rt):
    prepared(tmp_path)
    srv = server_factory(env=rt.env())
    tag, serial, asset_id = new_asset(rt, description="iPad 9", owner="alice")
    status, _, svg = request(srv.port, "GET", f"/labels/{tag}.svg")
    assert status == 200
    text = svg.decode()
    # the district's fields: the serial upper-cased; RT's owner (it changes at check-in) not printed
    assert "iPad 9" in text and serial.upper() in text and "alice" not in text
    symbols = decode(svg, tmp_path)
    assert f"QR-Code:{rt.url}/Asset/Display.html?id={asset_id}" in symbols, symbols
    assert f"CODE-128:{tag}" in symbols


def test_rt_stopped_is_a_clear_page_and_the_checkin_is_kept(tmp_path, server_factory, rt):
    prepared(tmp_path)
    srv = server_factory(env=rt.env(RT_TIMEOUT="3"))
    tag, _, asset_id = new_asset(rt, owner="alice")
    workers = srv.worker_pids()
    with rt.stopped():
        started = time.monotonic()
        status, _, body = request(srv.port, "GET", f"/assets?tag={tag}")
        assert time.monotonic() - started < 3
        assert status == 502 and b"Request Tracker could not answer" in body and b"connection refused" in body
        status, _, body = post_json(srv.port, "/api/checkins", {"tag": tag, "student": "Alice", "condition": "good"})
        assert status == 502
        answer = json.loads(body)
        assert "saved here" in answer["error"] and answer["checkin"]["rt_status"].startswith("failed")
        assert request(srv.port, "GET", "/healthz")[0] == 200
        assert srv.worker_pids() == workers
    # RT is back: the retry from the dashboard updates RT
    cookie, token = form_session(srv.port, "/checkins")
    checkin_id = answer["checkin"]["id"]
    status, headers, _ = request(srv.port, "POST", f"/checkins/{checkin_id}/sync",
                                 urllib.parse.urlencode({"csrf_token": token}).encode(),
                                 {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    assert status == 303, headers
    assert owner_of(rt.get_asset(asset_id)) == "Nobody"
    checkin = json.loads(request(srv.port, "GET", "/api/checkins")[2])["checkins"][0]
    assert checkin["rt_status"] == "updated"
    assert "Request Tracker not updated" in srv.log()


def test_silent_rt_times_out_with_504_and_the_worker_lives(tmp_path, server_factory):
    prepared(tmp_path)
    with socket.socket() as black_hole:   # accepts connections (backlog) and never answers
        black_hole.bind(("127.0.0.1", 0))
        black_hole.listen(16)
        port = black_hole.getsockname()[1]
        srv = server_factory(env={"RT_URL": f"http://127.0.0.1:{port}", "RT_TOKEN": "x", "RT_TIMEOUT": "2"})
        workers = srv.worker_pids()
        started = time.monotonic()
        status, _, body = request(srv.port, "GET", "/assets?tag=W12-0001")
        elapsed = time.monotonic() - started
        assert status == 504, body
        assert 1.9 <= elapsed < 4, elapsed
        assert b"timed out after 2s" in body
        assert srv.worker_pids() == workers
        assert request(srv.port, "GET", "/healthz")[0] == 200


def test_rt_url_without_credentials_stops_startup(tmp_path):
    from conftest import run_cli
    done = run_cli("check-config", env={"RT_URL": "https://tickets.example.org", "RT_TOKEN": None})
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "RT has no credentials: set RT_TOKEN" in lines[0], done.stderr


def test_rt_timeout_must_be_below_the_worker_timeout(tmp_path):
    from conftest import run_cli
    # DATABASE_TIMEOUT below 8 s too: on PostgreSQL its default (10 s) would be a second problem
    done = run_cli("check-config", "--timeout", "8",
                   env={"RT_URL": "https://tickets.example.org", "RT_TOKEN": "t", "RT_TIMEOUT": "10",
                        "DATABASE_TIMEOUT": "5"})
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: setting 'rt_timeout' from environment RT_TIMEOUT is 10s, not below 'timeout' (8s, from command "
        "line --timeout): a slow RT would get workers killed; lower RT_TIMEOUT or raise timeout")
    assert run_cli("check-config", env={"RT_URL": "https://tickets.example.org", "RT_TOKEN": "t"}).returncode == 0
