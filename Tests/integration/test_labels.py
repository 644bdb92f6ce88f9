"""Label pages from the real binary: the SVG carries a QR code and a Code 128 barcode, and a
real decoder (rsvg-convert + zbarimg) reads back the RT link and the tag."""
import re
import shutil
import subprocess

import pytest

from test_app import prepared, request

pytestmark = pytest.mark.usefixtures("backend")   # each test on SQLite and on PostgreSQL

RSVG = shutil.which("rsvg-convert")
ZBAR = shutil.which("zbarimg")


def decode(svg: bytes, tmp_path) -> list[str]:
    assert RSVG and ZBAR, "apt-get install librsvg2-bin zbar-tools (make deps does)"
    source, png = tmp_path / "label.svg", tmp_path / "label.png"
    source.write_bytes(svg)
    subprocess.run([RSVG, "--dpi-x", "300", "--dpi-y", "300", "--background-color", "white", "-o", str(png),
                    str(source)], check=True)
    done = subprocess.run([ZBAR, "-q", str(png)], capture_output=True, text=True)
    return done.stdout.splitlines()


@pytest.mark.parametrize("size", [("100", "62"), ("90.3", "29")])
def test_label_page_has_qr_and_barcode_that_decode(tmp_path, server_factory, size):
    prepared(tmp_path)
    width, height = size
    srv = server_factory(env={"LABEL_WIDTH_MM": width, "LABEL_HEIGHT_MM": height,
                              "RT_URL": "https://tickets.example.org", "RT_TOKEN": "not-used"})
    status, headers, body = request(srv.port, "GET", "/labels/W12-0042?name=ThinkPad%20X1&serial=SN-123&owner=Ann")
    assert status == 200 and headers["content-type"].startswith("text/html")
    page = body.decode()
    assert f'width="{width}mm" height="{height}mm"' in page
    assert 'class="qr"' in page and 'class="barcode"' in page
    assert "ThinkPad X1" in page and "SN-123" in page and "Ann" in page
    assert f"@page {{ size: {width}mm {height}mm" in page
    status, headers, svg = request(srv.port, "GET", "/labels/W12-0042.svg?name=ThinkPad%20X1&serial=SN-123&owner=Ann")
    assert status == 200 and headers["content-type"] == "image/svg+xml"
    symbols = decode(svg, tmp_path)
    assert "CODE-128:W12-0042" in symbols, symbols
    qr = [s for s in symbols if s.startswith("QR-Code:")]
    # the details came with the request, so RT was not asked: the QR searches RT for the tag
    assert qr == ["QR-Code:https://tickets.example.org/Search/Results.html?Class=RT::Assets&Query="
                  "Name%20%3D%20%27W12-0042%27"], symbols


def test_label_without_rt_url_encodes_the_tag(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory(env={"RT_URL": None})
    status, _, svg = request(srv.port, "GET", "/labels/W12-0001.svg")
    assert status == 200
    assert "QR-Code:W12-0001" in decode(svg, tmp_path)


def test_batch_of_labels_breaks_pages(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory()
    status, _, body = request(srv.port, "GET", "/labels?from=W12-0098&count=4")
    assert status == 200
    page = body.decode()
    for tag in ("W12-0098", "W12-0099", "W12-0100", "W12-0101"):
        assert f">{tag}<" in page, tag
    assert page.count('class="print-label"') == 4 and page.count('class="qr"') == 4
    css = re.search(r'href="/static/(labels\.[0-9a-f]{12}\.css)"', page).group(1)
    assert "break-after: page" in (tmp_path / "var" / "static" / css).read_text()
    status, _, body = request(srv.port, "GET", "/labels?tags=A-1,B-2")
    assert status == 200 and body.count(b'class="print-label"') == 2
    assert request(srv.port, "GET", "/labels?from=W12-0001&count=999")[0] == 400
    assert request(srv.port, "GET", "/labels?from=nodigits&count=2")[0] == 400


def test_label_form_redirects_to_the_label(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory()
    status, headers, _ = request(srv.port, "GET", "/labels?tag=w12-0005&name=Dell&serial=&owner=")
    assert status == 303 and headers["location"] == "/labels/W12-0005?name=Dell"
    assert request(srv.port, "GET", "/labels")[0] == 200


def svg_size(page: bytes):
    return re.search(rb'<svg [^>]*width="([\d.]+)mm" height="([\d.]+)mm"', page).groups()


def test_size_is_chosen_per_print(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory(env={"LABEL_FOOTER": "Western CUSD #12"})
    status, _, page = request(srv.port, "GET", "/labels/W12-0042?name=Dell%203100&serial=ab-1&size=small")
    assert status == 200 and svg_size(page) == (b"90.3", b"29")
    assert b"@page small { size: 90.3mm 29mm; margin: 0; }" in page and b"@page { size: 90.3mm 29mm;" in page
    assert b'<div class="print-label" data-size="small">' in page and b"90.3 \xc3\x97 29 mm." in page
    assert b">Dell 3100</text>" in page and b"AB-1" not in page      # the small label has no serial line
    assert b'class="footer"' in page and b">Western CUSD #12</text>" in page
    # the switch to the other size keeps the details
    assert b'href="/labels/W12-0042?name=Dell%203100&amp;serial=ab-1&amp;size=large"' in page
    status, _, page = request(srv.port, "GET", "/labels/W12-0042?name=Dell%203100&serial=ab-1")
    assert status == 200 and svg_size(page) == (b"100", b"62") and b">S: AB-1</text>" in page
    status, headers, svg = request(srv.port, "GET", "/labels/W12-0042.svg?size=SMALL")
    assert status == 200 and headers["content-type"] == "image/svg+xml" and svg_size(svg) == (b"90.3", b"29")
    status, _, page = request(srv.port, "GET", "/labels?from=W12-0001&count=3&size=small")
    assert status == 200 and page.count(b'data-size="small">') == 3 and page.count(b'<svg xmlns="http://www.w3.org/2000/svg" class="label"') == 3
    assert b'href="/labels?from=W12-0001&amp;count=3&amp;size=large"' in page
    status, _, page = request(srv.port, "GET", "/labels?tags=A-1,B-2&size=large")
    assert status == 200 and page.count(b'data-size="large">') == 2
    status, _, body = request(srv.port, "GET", "/labels/W12-0042?size=huge")
    assert status == 400 and b"size must be large or small, not huge" in body
    assert request(srv.port, "GET", "/labels?from=W12-0001&count=2&size=x")[0] == 400
    # the forms carry the size along
    status, headers, _ = request(srv.port, "GET", "/labels?tag=w12-0005&name=Dell&serial=&owner=&size=small")
    assert status == 303 and headers["location"] == "/labels/W12-0005?name=Dell&size=small"
    status, _, form = request(srv.port, "GET", "/labels")
    assert status == 200 and form.count(b'<option value="small">Small</option>') == 2
    assert b'name="asset"' not in form        # by RT asset id only when RT is configured


def test_default_size_setting_and_asset_ids_need_rt(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory(env={"LABEL_SIZE": "small", "LABEL_SMALL_WIDTH_MM": "62", "LABEL_SMALL_HEIGHT_MM": "29",
                              "RT_URL": None})
    status, _, page = request(srv.port, "GET", "/labels/W12-0042")
    assert status == 200 and svg_size(page) == (b"62", b"29") and b'class="footer"' not in page
    status, _, page = request(srv.port, "GET", "/labels/W12-0042?size=large")
    assert status == 200 and svg_size(page) == (b"100", b"62")
    status, _, body = request(srv.port, "GET", "/labels/asset/12")
    assert status == 503 and b"Labels by RT asset id need Request Tracker" in body
    from conftest import run_cli
    done = run_cli("check-config", env={"LABEL_SIZE": "medium"})
    assert done.returncode == 2 and "must be large or small, not medium" in done.stderr, done.stderr
