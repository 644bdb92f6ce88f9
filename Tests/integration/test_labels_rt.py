"""Labels with their details from a real Request Tracker 5 (Tests/rt/rt-server.sh): by RT asset
id and by tag, the original tool's fields (Internal Name, serial upper-cased, Model, Funding
Source unless District Funds) and the footer, the small label by default for chargers, batches
of tags looked up in RT, and RT down or silent as a 502/504 page within RT_TIMEOUT."""
import re
import socket
import time
import uuid

from test_app import prepared, request
from test_labels import decode

FOOTER = "Western CUSD #12"


def new_asset(rt, **fields):
    tag = f"W12-{uuid.uuid4().int % 10**8:08d}"
    serial = f"sn-{uuid.uuid4().hex[:8]}"
    return tag, serial, rt.create_asset(tag, serial=serial, description="ThinkPad T14", fields=fields)


def svg_size(body: bytes):
    return re.search(rb'<svg [^>]*width="([\d.]+)mm" height="([\d.]+)mm"', body).groups()


def texts(svg: bytes, css_class: str) -> list:
    return [t.decode() for t in re.findall(rb'<text class="' + css_class.encode() + rb'"[^>]*>([^<]*)</text>', svg)]


def test_label_by_asset_id_prints_the_originals_fields(tmp_path, server_factory, rt):
    prepared(tmp_path)
    srv = server_factory(env=rt.env(LABEL_FOOTER=FOOTER))
    tag, serial, asset_id = new_asset(rt, **{"Internal Name": "Brave Otter", "Model": "20W0",
                                             "Funding Source": "Title I", "Type": "Laptop"})
    status, headers, svg = request(srv.port, "GET", f"/labels/asset/{asset_id}.svg")
    assert status == 200 and headers["content-type"] == "image/svg+xml", svg
    assert svg_size(svg) == (b"100", b"62")
    assert texts(svg, "tag") == [tag]
    assert texts(svg, "internal-name") == ["N: Brave Otter"]
    assert texts(svg, "serial") == [f"S: {serial.upper()}"]
    assert texts(svg, "model") == ["M: 20W0"] and texts(svg, "funding") == ["F: Title I"]
    assert texts(svg, "footer") == [FOOTER]
    assert b"ThinkPad T14" not in svg      # the Internal Name stands for the device
    symbols = decode(svg, tmp_path)
    assert f"QR-Code:{rt.url}/Asset/Display.html?id={asset_id}" in symbols and f"CODE-128:{tag}" in symbols
    # the page, and the same label by tag
    status, _, page = request(srv.port, "GET", f"/labels/asset/{asset_id}")
    assert status == 200 and f"<title>Label {tag}".encode() in page, page
    assert b"100 \xc3\x97 62 mm." in page and f'href="/labels/asset/{asset_id}?size=small"'.encode() in page
    status, _, by_tag = request(srv.port, "GET", f"/labels/{tag}.svg")
    assert status == 200 and by_tag == svg
    # the look-up page's Label link is the label by id
    status, _, lookup = request(srv.port, "GET", f"/assets?tag={tag}")
    assert status == 200 and f'href="/labels/asset/{asset_id}"'.encode() in lookup
    status, _, body = request(srv.port, "GET", "/labels/asset/99999999")
    assert status == 404 and b"Request Tracker has no asset #99999999." in body
    assert request(srv.port, "GET", "/labels/asset/abc")[0] == 400
    # the form by id goes to the label
    status, headers, _ = request(srv.port, "GET", f"/labels?asset={asset_id}&size=small")
    assert status == 303 and headers["location"] == f"/labels/asset/{asset_id}?size=small"


def test_district_funds_are_not_printed_and_no_footer_setting_prints_none(tmp_path, server_factory, rt):
    prepared(tmp_path)
    srv = server_factory(env=rt.env())
    _, _, asset_id = new_asset(rt, **{"Funding Source": "District Funds", "Model": "N/A"})
    status, _, svg = request(srv.port, "GET", f"/labels/asset/{asset_id}.svg")
    assert status == 200
    assert texts(svg, "funding") == [] and texts(svg, "model") == [] and texts(svg, "footer") == []
    assert texts(svg, "name") == ["ThinkPad T14"]      # no Internal Name: the description


def test_chargers_get_the_small_label_unless_the_url_says_large(tmp_path, server_factory, rt):
    prepared(tmp_path)
    srv = server_factory(env=rt.env(LABEL_FOOTER=FOOTER))
    tag, _, asset_id = new_asset(rt, **{"Internal Name": "Calm Heron", "Model": "65W USB-C", "Type": "Charger"})
    status, _, svg = request(srv.port, "GET", f"/labels/{tag}.svg")
    assert status == 200 and svg_size(svg) == (b"90.3", b"29")
    # the small label keeps the tag, the name line and the footer; serial and model are left out
    assert texts(svg, "internal-name") == ["N: Calm Heron"] and texts(svg, "footer") == [FOOTER]
    assert texts(svg, "serial") == [] and texts(svg, "model") == []
    assert f"CODE-128:{tag}" in decode(svg, tmp_path)
    status, _, svg = request(srv.port, "GET", f"/labels/asset/{asset_id}.svg?size=large")
    assert status == 200 and svg_size(svg) == (b"100", b"62") and texts(svg, "model") == ["M: 65W USB-C"]
    status, _, page = request(srv.port, "GET", f"/labels/asset/{asset_id}")
    assert status == 200 and b"90.3 \xc3\x97 29 mm." in page and b'data-size="small"' in page


def test_batch_of_tags_takes_each_labels_details_from_rt(tmp_path, server_factory, rt):
    prepared(tmp_path)
    srv = server_factory(env=rt.env())
    laptop, _, _ = new_asset(rt, **{"Internal Name": "Brave Otter", "Type": "Laptop"})
    charger, _, _ = new_asset(rt, **{"Internal Name": "Calm Heron", "Type": "Power Adapter"})
    status, _, page = request(srv.port, "GET", f"/labels?tags={laptop.lower()},{charger}%20W12-NO-SUCH")
    assert status == 200, page
    sizes = re.findall(rb'<div class="print-label" data-size="(\w+)">', page)
    assert sizes == [b"large", b"small", b"large"]
    assert b"N: Brave Otter" in page and b"N: Calm Heron" in page
    assert b"Request Tracker has no asset named W12-NO-SUCH" in page
    status, _, page = request(srv.port, "GET", f"/labels?tags={laptop},{charger}&size=small")
    assert status == 200 and re.findall(rb'<div class="print-label" data-size="(\w+)">', page) == [b"small", b"small"]
    assert b'<strong aria-current="true">Small</strong>' in page


def assert_rt_failure_pages(srv, tag, asset_id, status, cause, limit):
    for path in (f"/labels/{tag}", f"/labels/{tag}.svg", f"/labels/asset/{asset_id}", f"/labels?tags={tag},{tag}"):
        started = time.monotonic()
        got, _, body = request(srv.port, "GET", path)
        elapsed = time.monotonic() - started
        assert got == status, (path, got, body)
        assert elapsed < limit, (path, elapsed)
        assert b"Request Tracker could not answer: RT at " in body and cause in body, (path, body)


def test_rt_stopped_on_the_label_page_is_a_502(tmp_path, server_factory, rt):
    prepared(tmp_path)
    srv = server_factory(env=rt.env(RT_TIMEOUT="3"))
    tag, _, asset_id = new_asset(rt)
    workers = srv.worker_pids()
    with rt.stopped():
        assert_rt_failure_pages(srv, tag, asset_id, 502, b"connection refused", limit=3)
        # typed-in details and bare batches need no RT
        assert request(srv.port, "GET", f"/labels/{tag}?name=Dell")[0] == 200
        assert request(srv.port, "GET", "/labels?from=W12-0001&count=2")[0] == 200
        assert srv.worker_pids() == workers
    assert request(srv.port, "GET", f"/labels/asset/{asset_id}")[0] == 200
    assert "label: Request Tracker could not answer" in srv.log()


def test_silent_rt_on_the_label_page_is_a_504_and_the_worker_lives(tmp_path, server_factory):
    prepared(tmp_path)
    with socket.socket() as black_hole:   # accepts connections (backlog) and never answers
        black_hole.bind(("127.0.0.1", 0))
        black_hole.listen(16)
        port = black_hole.getsockname()[1]
        srv = server_factory(env={"RT_URL": f"http://127.0.0.1:{port}", "RT_TOKEN": "x", "RT_TIMEOUT": "2"})
        workers = srv.worker_pids()
        started = time.monotonic()
        status, _, body = request(srv.port, "GET", "/labels/W12-0001")
        elapsed = time.monotonic() - started
        assert status == 504, body
        assert 1.9 <= elapsed < 4, elapsed
        assert b"Request Tracker could not answer: RT at " in body and b"timed out after 2s" in body
        status, _, body = request(srv.port, "GET", "/labels/asset/5.svg")
        assert status == 504 and b"timed out after 2s" in body
        assert srv.worker_pids() == workers
        assert request(srv.port, "GET", "/healthz")[0] == 200
