"""Tags for a district whose tags already run: the counter set by command and page, the old
tool's sequence and confirmations carried over, numbers that outgrow PADDING, and the old
labels' `TAG*D` bar codes read wherever a tag is typed. On both backends."""
import json
import re
import urllib.parse
import uuid

import pytest

from conftest import run_cli, session_cookie
from test_app import cli, post_json, prepared, request

pytestmark = pytest.mark.usefixtures("backend")


def tags(tmp_path, *args, env=None):
    return cli(tmp_path, "tags", *args, env=env)


def issued(port, count=1):
    status, _, body = post_json(port, "/api/tags", {"count": count})
    assert status == 201, body
    return [t["tag"] for t in json.loads(body)["tags"]]


def test_set_next_by_command_refuses_going_back_without_force(tmp_path, server_factory):
    prepared(tmp_path)
    assert tags(tmp_path, "next").stdout.strip() == "W12-0001"
    done = tags(tmp_path, "set-next", "w12-0100")
    assert done.returncode == 0 and done.stdout.strip() == "the next tag is W12-0100 (it was W12-0001)", done.stderr
    srv = server_factory()
    assert issued(srv.port) == ["W12-0100"]
    back = tags(tmp_path, "set-next", "W12-0050")
    assert back.returncode == 1 and back.stderr.count("\n") == 1
    assert "W12-0050 is not above the last issued tag, W12-0100" in back.stderr and "--force" in back.stderr
    assert tags(tmp_path, "next").stdout.strip() == "W12-0101"          # unchanged
    # with --force the counter goes back, and issuing skips what the history already has
    assert tags(tmp_path, "set-next", "W12-0099", "--force").returncode == 0
    assert issued(srv.port, 2) == ["W12-0099", "W12-0101"]
    for bad in (["set-next", "LIB-0001"], ["set-next", "W12-"], ["set-next", "W12-00x1"]):
        refused = tags(tmp_path, *bad)
        assert refused.returncode == 1 and "is not a tag of this deployment" in refused.stderr, refused.stderr
    usage = tags(tmp_path, "next", "--force")
    assert usage.returncode == 2 and "tags set-next TAG [--force]" in usage.stderr


def test_numbers_past_the_padding_grow_a_digit(tmp_path, server_factory):
    prepared(tmp_path)
    assert tags(tmp_path, "set-next", "W12-99999", env={"PADDING": "5"}).returncode == 0
    srv = server_factory(env={"PADDING": "5"})
    assert issued(srv.port, 2) == ["W12-99999", "W12-100000"]


def test_set_next_from_the_tags_page(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory()
    cookie = session_cookie(srv.port)
    _, _, page = request(srv.port, "GET", "/tags", headers={"Cookie": cookie})
    token = re.search(rb'name="csrf_token" value="([0-9a-f]+)"', page).group(1).decode()
    assert b'action="/tags/next"' in page

    def post(fields):
        body = urllib.parse.urlencode({"csrf_token": token, **fields}).encode()
        return request(srv.port, "POST", "/tags/next", body,
                       {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    status, headers, _ = post({"next": "W12-0500"})
    assert status == 303
    _, _, page = request(srv.port, "GET", headers["location"], headers={"Cookie": cookie})
    assert b"The next tag is now W12-0500 (it was W12-0001)." in page
    issued(srv.port)
    status, _, page = post({"next": "W12-0010"})
    assert status == 409 and b"W12-0010 is not above the last issued tag, W12-0500" in page
    assert post({"next": "W12-0010", "force": "1"})[0] == 303
    assert "next tag set to W12-0010 (was W12-0501)" in srv.log()


def old_tool_dir(tmp_path, sequence="123", log_lines=None):
    old = tmp_path / "old"
    old.mkdir()
    if sequence is not None:
        (old / "asset_tag_sequence.txt").write_text(sequence)
    lines = log_lines if log_lines is not None else [
        "2025-10-08T14:23:45.123456 - Asset Tag: W12-00042, Request Tracker ID: 45678",
        "2025-10-09T08:00:01 - Asset Tag: W12-00043, Request Tracker ID: 45679",
        "2025-10-09T08:05:00.5 - Asset Tag: LIB-00001, Request Tracker ID: 5",
    ]
    (old / "asset_tag_confirmations.log").write_text("\n".join(lines) + "\n")
    return old


def test_import_legacy_carries_history_and_counter_over(tmp_path, server_factory, backend):
    prepared(tmp_path)
    old = old_tool_dir(tmp_path)
    env = {"PADDING": "5", "TZ": "UTC"}
    done = tags(tmp_path, "import-legacy", str(old), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        f"imported 2 tag(s) from {old}, 1 skipped (not W12- and a number); the next tag is W12-00123")
    rows = backend.query("SELECT tag, issued_at, rt_asset_id, note FROM asset_tags ORDER BY number")
    assert rows == [("W12-00042", "2025-10-08T14:23:45Z", 45678, "from the old tool (RT asset 45678)"),
                    ("W12-00043", "2025-10-09T08:00:01Z", 45679, "from the old tool (RT asset 45679)")]
    again = tags(tmp_path, "import-legacy", str(old), env=env)
    assert again.returncode == 0 and "imported 0 tag(s)" in again.stdout and "2 already here" in again.stdout
    srv = server_factory(env={"PADDING": "5"})
    assert issued(srv.port) == ["W12-00123"]
    # the padding note when the old tags are wider than PADDING
    note = tags(tmp_path, "import-legacy", str(old))
    assert "set PADDING=5" in note.stdout


def test_import_legacy_refuses_a_bad_file_and_changes_nothing(tmp_path, backend):
    prepared(tmp_path)
    old = old_tool_dir(tmp_path, log_lines=[
        "2025-10-08T14:23:45 - Asset Tag: W12-00042, Request Tracker ID: 45678",
        "2025-10-08T14:24:00 - Asset Tag: W12-00044 Request Tracker 99",
    ])
    done = tags(tmp_path, "import-legacy", str(old))
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    assert "asset_tag_confirmations.log line 2: expected" in done.stderr and "nothing was imported" in done.stderr
    assert backend.query("SELECT count(*) FROM asset_tags") == [(0,)]
    assert backend.query("SELECT next_number FROM tag_counter") == [(1,)]
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = tags(tmp_path, "import-legacy", str(empty))
    assert missing.returncode == 1 and "give the old tool's WORKING_DIR" in missing.stderr
    bad_sequence = tmp_path / "badseq"
    bad_sequence.mkdir()
    (bad_sequence / "asset_tag_sequence.txt").write_text("twelve")
    refused = tags(tmp_path, "import-legacy", str(bad_sequence))
    assert refused.returncode == 1 and "expected one whole number" in refused.stderr


def test_old_labels_scanned_with_their_check_digit(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory(env={"RT_URL": None})
    status, _, body = post_json(srv.port, "/api/checkins", {"tag": "W12-00042*7", "student": "Ann", "condition": "good"})
    assert status == 201 and json.loads(body)["checkin"]["tag"] == "W12-00042", body
    status, _, body = post_json(srv.port, "/api/checkins", {"tag": "W12-00043*1", "student": "Bo", "condition": "good"})
    assert status == 400
    assert json.loads(body)["error"] == ("W12-00043*1 was misread: the check digit of W12-00043 is 8, not 1; "
                                         "scan it again")
    status, _, body = request(srv.port, "GET", "/assets?tag=W12-00043*1")
    assert status == 400 and b"was misread" in body
    assert request(srv.port, "GET", "/api/assets/W12-00043*1")[0] == 400
    assert run_cli("tags", "next", env={"WORKING_DIR": str(tmp_path / "var")}).stdout.strip() == "W12-0001"


# --- tags for RT assets (the real RT 5) ---------------------------------------------------------

from test_app_rt import new_asset  # noqa: E402


def rt_prefix():
    """RT is shared by the whole run and every test's counter starts at 1: a prefix of the
    test's own keeps the tags it writes to RT unique."""
    return f"T{uuid.uuid4().hex[:5].upper()}-"


def test_a_tag_for_an_rt_asset_renames_it_and_is_kept(tmp_path, server_factory, rt, backend):
    prepared(tmp_path)
    srv = server_factory(env=rt.env(PREFIX=rt_prefix()))
    _, serial, asset_id = new_asset(rt)
    status, _, body = post_json(srv.port, "/api/tags/asset", {"serial": serial})
    assert status == 201, body
    answer = json.loads(body)
    assert answer["asset_id"] == asset_id and answer["new"] is True
    assert rt.get_asset(asset_id)["Name"] == answer["tag"]
    assert backend.query(f"SELECT tag FROM asset_tags WHERE rt_asset_id = {asset_id}") == [(answer["tag"],)]
    # again, by id: the same tag, no second one
    status, _, body = post_json(srv.port, "/api/tags/asset", {"id": asset_id})
    assert status == 200 and json.loads(body) == {**answer, "new": False}
    # the form on /tags
    _, _, other_id = new_asset(rt)
    cookie = session_cookie(srv.port)
    _, _, page = request(srv.port, "GET", "/tags", headers={"Cookie": cookie})
    token = re.search(rb'name="csrf_token" value="([0-9a-f]+)"', page).group(1).decode()
    form = urllib.parse.urlencode({"csrf_token": token, "by": "id", "asset": str(other_id)}).encode()
    status, headers, _ = request(srv.port, "POST", "/tags/asset", form,
                                 {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 303, headers
    _, _, page = request(srv.port, "GET", headers["location"], headers={"Cookie": cookie})
    assert f"RT asset #{other_id} is now".encode() in page
    missing = post_json(srv.port, "/api/tags/asset", {"id": 999999})
    assert missing[0] == 404


def test_the_asset_created_webhook_uses_one_tag_per_asset(tmp_path, server_factory, rt, backend):
    prepared(tmp_path)
    srv = server_factory(env=rt.env(PREFIX=rt_prefix()))
    _, _, asset_id = new_asset(rt)
    first = post_json(srv.port, "/webhook/asset-created", {"asset_id": asset_id})
    second = post_json(srv.port, "/webhook/asset-created", {"asset_id": asset_id})
    assert first[0] == 201 and second[0] == 200, (first, second)
    assert json.loads(first[2])["tag"] == json.loads(second[2])["tag"]
    assert backend.query(f"SELECT count(*) FROM asset_tags WHERE rt_asset_id = {asset_id}") == [(1,)]
    assert backend.query("SELECT count(*) FROM asset_tags") == [(1,)]
    # a token is needed (RT's scrip sends one); without it, 401
    assert request(srv.port, "POST", "/webhook/asset-created", json.dumps({"asset_id": asset_id}).encode(),
                   {"Content-Type": "application/json"}, auth=None)[0] == 401
    assert post_json(srv.port, "/webhook/asset-created", {"serial": "x"})[0] == 400


def test_labels_for_an_rt_query_and_old_bar_codes_on_labels(tmp_path, server_factory, rt):
    prepared(tmp_path)
    srv = server_factory(env=rt.env())
    model = f"Query Model {uuid.uuid4().hex[:6]}"
    tags = [new_asset(rt)[0] for _ in range(2)]
    for tag in tags:
        asset_id = json.loads(request(srv.port, "GET", f"/api/assets/{tag}")[2])["id"]
        status, answer = rt.api("PUT", f"/asset/{asset_id}", {"CustomFields": {"Model": model}})
        assert status == 200, answer
    query = urllib.parse.quote(f"CF.{{Model}} = '{model}'")
    status, _, page = request(srv.port, "GET", f"/labels?query={query}")
    assert status == 200, page
    assert page.count(b'class="print-label') == 2 and all(t.encode() in page for t in tags)
    # a query RT refuses (a field assets do not have) is a 502 page saying so
    status, _, page = request(srv.port, "GET", f"/labels?query={urllib.parse.quote('NoSuchField = 1')}")
    assert status == 502, page
    # an old label scanned into the label form's URL
    status, _, page = request(srv.port, "GET", "/labels/W12-00042*7")
    assert status == 200 and b"W12-00042" in page and b"W12-00042*7" not in page
    status, _, page = request(srv.port, "GET", "/labels?tags=W12-00042*3")
    assert status == 400 and b"was misread" in page
