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
