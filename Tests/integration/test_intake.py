"""Device intake against the real RT 5: N serials become N assets in RT, each with the next tag
as its Name, a unique "Adjective Animal" Internal Name and the batch's custom fields; a serial
RT already has stops the batch before anything is made; RT refusing the batch leaves no tag
used without an asset. On both backends."""
import json
import re
import urllib.parse
import uuid

import pytest

from conftest import session_cookie
from test_app import post_json, prepared, request

pytestmark = pytest.mark.usefixtures("backend")


def unique_prefix():
    """RT is shared by the whole run and every test's counter starts at 1: tags in RT stay
    unique with a prefix of the test's own."""
    return f"I{uuid.uuid4().hex[:5].upper()}-"


def serials(count):
    stamp = uuid.uuid4().hex[:6].upper()
    return [f"IN{stamp}{n:03d}" for n in range(count)]


def test_twenty_devices_with_tags_and_unique_internal_names(tmp_path, server_factory, rt, backend):
    prepared(tmp_path)
    prefix = unique_prefix()
    srv = server_factory(env=rt.env(PREFIX=prefix))
    batch = serials(20)
    status, _, body = post_json(srv.port, "/api/intake", {
        "serials": "\n".join(s.lower() for s in batch), "type": "Chromebook", "model": "Chromebook 3100",
        "funding_source": "Title I"})
    assert status == 201, body
    answer = json.loads(body)
    made = answer["created"]
    assert [d["serial"] for d in made] == batch and answer["not_created"] == []
    assert [d["tag"] for d in made] == [f"{prefix}{n:04d}" for n in range(1, 21)]
    names = [d["internal_name"] for d in made]
    assert len(set(names)) == 20 and all(re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+", n) for n in names)
    for device in made[:3]:
        asset = rt.get_asset(device["asset_id"])
        fields = {cf["name"]: cf["values"] for cf in asset["CustomFields"]}
        assert asset["Name"] == device["tag"]
        assert fields["Serial Number"] == [device["serial"]] and fields["Internal Name"] == [device["internal_name"]]
        assert fields["Model"] == ["Chromebook 3100"] and fields["Type"] == ["Chromebook"]
        assert fields["Funding Source"] == ["Title I"]
    assert backend.query("SELECT count(*) FROM asset_tags WHERE rt_asset_id IS NOT NULL") == [(20,)]
    # the same serials again: RT has them, nothing is made
    status, _, body = post_json(srv.port, "/api/intake", {"serials": batch[5]})
    assert status == 409
    assert json.loads(body)["error"].startswith(f"RT already has serial {batch[5]} (asset #")
    assert backend.query("SELECT count(*) FROM asset_tags") == [(20,)]


def test_the_form_opens_the_labels_and_a_refusal_uses_no_tag(tmp_path, server_factory, rt, backend):
    prepared(tmp_path)
    prefix = unique_prefix()
    srv = server_factory(env=rt.env(PREFIX=prefix))
    cookie = session_cookie(srv.port)
    _, _, page = request(srv.port, "GET", "/intake", headers={"Cookie": cookie})
    token = re.search(rb'name="csrf_token" value="([0-9a-f]+)"', page).group(1).decode()
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    two = serials(2)
    form = urllib.parse.urlencode({"csrf_token": token, "serials": "\n".join(two), "type": "Laptop"}).encode()
    status, answer, _ = request(srv.port, "POST", "/intake", form, headers)
    assert status == 303 and answer["location"] == f"/labels?tags={prefix}0001,{prefix}0002"
    status, _, labels = request(srv.port, "GET", answer["location"], headers={"Cookie": cookie})
    assert status == 200 and labels.count(b'class="print-label') == 2
    # RT refuses the batch (a catalog it does not have): nothing made, no tag used
    refused = serials(3)
    status, _, body = post_json(srv.port, "/api/intake", {"serials": "\n".join(refused), "catalog": "No Such Catalog"})
    assert status == 502, body
    error = json.loads(body)
    assert error["created"] == [] and error["not_created"] == refused
    assert "Nothing was created" in error["error"] and refused[0] in error["error"]
    assert backend.query("SELECT count(*) FROM asset_tags") == [(2,)]
    # bad input, one sentence each, and nothing asked of RT
    for fields, text in [({"serials": ""}, "serials are required"), ({"serials": "A A"}, "A is listed twice")]:
        status, _, body = post_json(srv.port, "/api/intake", fields)
        assert status == 400 and text in json.loads(body)["error"]


def test_a_refusal_in_the_middle_of_a_batch_says_what_was_made(tmp_path, server_factory, rt, backend):
    """RT refuses the third asset's creation: two devices are made (with tags), the page and the
    JSON say which serials were not, and no tag is used without an asset."""
    from test_checkin_rt import SlowRT
    prepared(tmp_path)
    created = []

    def third_create(method, path):
        if method == "POST" and path.split("?")[0].endswith("/REST/2.0/asset"):
            created.append(path)
            return len(created) == 3
        return False
    faulty = SlowRT(rt.url, 0, refuse=third_create)
    try:
        prefix = unique_prefix()
        srv = server_factory(env=rt.env(RT_URL=faulty.url, PREFIX=prefix))
        batch = serials(5)
        status, _, body = post_json(srv.port, "/api/intake", {"serials": "\n".join(batch), "type": "Tablet"})
    finally:
        faulty.close()
    assert status == 502, body
    answer = json.loads(body)
    assert [d["serial"] for d in answer["created"]] == batch[:2]
    assert answer["not_created"] == batch[2:]
    assert answer["error"].startswith(f"2 device(s) were created; RT stopped the batch at {batch[2]}")
    assert backend.query("SELECT tag FROM asset_tags ORDER BY number") == [(f"{prefix}0001",), (f"{prefix}0002",)]
    for device in answer["created"]:
        assert rt.get_asset(device["asset_id"])["Name"] == device["tag"]
